"""The work queue of one extraction stage and the one place a request becomes a raw part.

A *task* is a small function (one request, or one page of a chain) returning a :class:`Step`: the ids
it discovered and the follow-up tasks it revealed (the next pages, an album's further track pages).
:func:`run_tasks` runs tasks on a thread pool until none are left; the client's shared rate limiter
keeps the pool within the API's budget. The first failure stops new work, lets running requests
finish, and is raised.

:class:`Fetcher.get` is the only way a task talks to the API: if an earlier attempt of the run already
stored the answer (the checkpoint lists its request URL), the answer is read back from the raw zone;
otherwise it is fetched, stored as the entity's next part and added to the checkpoint.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from activities.common.errors import ActivityError
from activities.common.logs import get_logger, one_line, redact
from activities.common.storage import Storage
from activities.extract.checkpoint import Checkpoint
from activities.extract.client import SpotifyClient
from activities.extract.errors import (
    ApiError,
    BudgetExhaustedError,
    FatalError,
    PayloadError,
    PremiumRequiredError,
    QuotaExceededError,
)
from activities.extract.progress import Progress
from activities.extract.raw_writer import RawWriter
from activities.sources import BY_ENTITY

_log = get_logger("activities.extract")

# full_*: ids whose full object a response already gave (development mode looks up only the others).
KINDS = ("albums", "tracks", "artists", "categories", "playlists", "full_artists", "full_tracks")


@dataclass
class Found:
    """Ids discovered by a task (or a stage): what later stages look up."""

    albums: set[str] = field(default_factory=set)
    tracks: set[str] = field(default_factory=set)
    artists: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    playlists: set[str] = field(default_factory=set)
    full_artists: set[str] = field(default_factory=set)
    full_tracks: set[str] = field(default_factory=set)

    def merge(self, other: Found) -> Found:
        for kind in KINDS:
            getattr(self, kind).update(getattr(other, kind))
        return self

    def to_json(self) -> dict[str, list[str]]:
        return {kind: sorted(getattr(self, kind)) for kind in KINDS}

    @classmethod
    def from_json(cls, raw: Mapping[str, Iterable[str]]) -> Found:
        return cls(**{kind: set(raw.get(kind, ())) for kind in KINDS})


@dataclass
class Step:
    found: Found = field(default_factory=Found)
    more: list[Task] = field(default_factory=list)


Task = Callable[[], Step]


class Cancelled(Exception):
    """Raised in a worker thread when another task already failed: no new requests after a failure."""


class RequestBudget:
    """The requests one worker may still send (``limit`` 0: no limit); thread-safe. Replays are free."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    def spend(self) -> None:
        with self._lock:
            if self.limit and self.spent >= self.limit:
                raise BudgetExhaustedError(f"the request budget of this worker ({self.limit}) is spent")
            self.spent += 1

    @property
    def left(self) -> int | None:
        with self._lock:
            return None if not self.limit else max(0, self.limit - self.spent)


@dataclass(frozen=True)
class UserSession:
    """One allow-listed user: the client holding that user's token, and the Spotify user id once /me told it."""

    key: str  # the configured user name: prefixes the checkpoint keys of this user's requests
    client: SpotifyClient
    user_id: str | None = None


class Fetcher:
    """Requests through the shared client, answers stored (or replayed) as raw parts."""

    def __init__(
        self,
        client: SpotifyClient,
        writer: RawWriter,
        checkpoint: Checkpoint,
        storage: Storage,
        progress: Progress,
    ) -> None:
        self.client = client
        self.writer = writer
        self.checkpoint = checkpoint
        self._storage = storage
        self.progress = progress
        self.stop = threading.Event()
        self.budget = RequestBudget(0)
        self.stopped: str | None = None  # why the work stopped early (quota, budget): the rest is deferred
        self._stop_lock = threading.Lock()

    def get(
        self,
        entity: str,
        path_or_url: str,
        params: Mapping[str, str | int] | None = None,
        *,
        count: Callable[[Any], int],
        user: bool | UserSession = False,
    ) -> Any:
        """The decoded answer of one GET; stored as a part of ``entity`` unless an earlier attempt did.

        ``count`` tells how many items the answer holds (the manifest's ``items``); it also checks the
        shape, so a body that is not what the entity promises fails before it is stored. ``user``: a
        :class:`UserSession` sends that user's token and stamps the part with the user's id (``True``:
        the client's own user token, extended mode's single user).
        """
        if self.stop.is_set():
            raise Cancelled()
        session = user if isinstance(user, UserSession) else None
        client = session.client if session is not None else self.client
        url = client.url_for(path_or_url, params)
        key = client.relative(url) if session is None else f"{session.key}|{client.relative(url)}"
        stored = self.checkpoint.part_for(key)
        if stored is not None:
            payload = json.loads(gzip.decompress(self._storage.read_bytes(self.writer.container, stored.path)))
            self.progress.record(items=stored.items, replayed=True)
            self.checkpoint.note_answer(entity)
            return payload
        self.budget.spend()
        response = client.get(url, user=bool(user))
        payload = response.json()
        items = count(payload)
        user_id = None
        if session is not None and entity in BY_ENTITY and BY_ENTITY[entity].user_scoped:
            # /me names the user: its own part carries the id it reveals. Catalog parts fetched with a user's
            # token (the items of the user's own playlists) are the catalog's, without a user id.
            user_id = session.user_id or (str(payload.get("id")) if entity == "user_profile" else None)
        record = self.writer.write_part(entity, response, items, user_id=user_id)
        self.checkpoint.add_part(key, record)
        self.checkpoint.note_answer(entity)
        self.progress.record(items=items, replayed=False)
        return payload

    def halt(self, exc: QuotaExceededError | BudgetExhaustedError) -> None:
        """Stop asking the API (the daily quota or the run's budget is spent); the caller defers the rest."""
        with self._stop_lock:
            if self.stopped is None:
                self.stopped = "quota" if isinstance(exc, QuotaExceededError) else "budget"
                _log.warning("stopping early, the rest is deferred to the next run: %s", describe(exc))
        self.stop.set()

    def refusable(self, source: str, task: Task) -> Task:
        """Wrap a development-mode task: a 403 is recorded under ``unavailable`` (endpoint and Spotify's
        message) and the run goes on; a Premium-lapse 403 fails the run (nothing else can work)."""

        def run() -> Step:
            try:
                step = task()
            except PremiumRequiredError:
                raise
            except FatalError as exc:
                if exc.status != 403:
                    raise
                entry = {"source": source, "status": 403, "endpoint": f"GET {exc.path}", "message": exc.detail}
                if self.checkpoint.add_refusal(entry):
                    _log.warning("%s: GET %s answered 403 (%s); recorded as unavailable", source, exc.path,
                                 exc.detail or "no message")
                return Step()
            return Step(step.found, [self.refusable(source, more) for more in step.more])

        return run

    def optional(self, source: str, task: Task) -> Task:
        """Wrap a task about one configured id (a playlist, an artist): a 404 (the id does not exist,
        or no longer) is recorded under ``missing`` in customOutput and the run goes on."""

        def run() -> Step:
            try:
                step = task()
            except FatalError as exc:
                if exc.status != 404:
                    raise
                entry = {"source": source, "status": exc.status, "endpoint": f"GET {exc.path}"}
                self.checkpoint.add_note("missing", entry)
                _log.warning("%s: GET %s answered 404; the id is recorded as missing", source, exc.path)
                return Step()
            return Step(step.found, [self.optional(source, more) for more in step.more])

        return run

    def restricted(self, source: str, task: Task) -> Task:
        """Wrap a restricted source's task: a 403/404 marks the source unavailable (recorded once, in
        customOutput) and its remaining requests are skipped; the run goes on."""

        def run() -> Step:
            if self.checkpoint.is_unavailable(source):
                return Step()
            try:
                step = task()
            except FatalError as exc:
                if exc.status not in (403, 404):
                    raise
                entry = {"source": source, "status": exc.status, "endpoint": f"GET {exc.path}"}
                if self.checkpoint.add_unavailable(entry):
                    _log.warning("%s is unavailable to this app (HTTP %s from GET %s); skipping it", source,
                                 exc.status, exc.path)
                return Step()
            return Step(step.found, [self.restricted(source, more) for more in step.more])

        return run


def run_tasks(tasks: list[Task], workers: int, fetcher: Fetcher) -> Found:
    """Run ``tasks`` and every follow-up they reveal; return the union of what they found."""
    found = Found()
    if not tasks:
        return found
    fetcher.progress.add_planned(0)
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="extract") as pool:
        pending: set[Future[Step]] = {pool.submit(task) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                if future.cancelled():
                    continue
                try:
                    step = future.result()
                except Cancelled:
                    continue
                except (QuotaExceededError, BudgetExhaustedError) as exc:
                    fetcher.halt(exc)
                    continue
                except BaseException as exc:
                    if error is None:
                        error = exc
                        fetcher.stop.set()
                        for other in pending:
                            other.cancel()
                    continue
                found.merge(step.found)
                if error is None and step.more:
                    fetcher.progress.add_planned(len(step.more))
                    pending |= {pool.submit(task) for task in step.more}
    if error is not None:
        raise error
    return found


def describe(exc: BaseException) -> str:
    """A one-line description of why a stage stopped (for the checkpoint and logs)."""
    if isinstance(exc, (ApiError, PayloadError, ActivityError)):
        return redact(one_line(str(exc)))[:500]
    return type(exc).__name__


__all__ = ["KINDS", "Cancelled", "Fetcher", "Found", "RequestBudget", "Step", "Task", "UserSession", "describe",
           "run_tasks"]
