"""Orchestration of the Spotify extraction: discovery, sharded lookups, the manifest.

Modes (extended property ``mode``; the pipeline runs them as activities):

- ``discover`` ("Extract Spotify"): the user sources (each allow-listed user's, with that user's token)
  and the configured catalog sources (search, artist albums, playlists; in extended mode also new
  releases, categories, markets, artist top tracks, restricted ones); the ids they reveal are its
  published result. In development mode it also plans the lookups: deferred ones first, then ids never
  fetched whole, then refreshes of the oldest known, cut to what is left of the request budget;
- ``shard`` ("Extract Spotify shard", one per ForEach item): the lookups of the ids it owns
  (``hash(id) % shardCount``) at one ``level``. Development mode has one level (per-id lookups);
  extended mode three (albums, tracks, artists), one ForEach each, so a level reads what every shard
  published at the level before, which is complete because its ForEach has finished: no shard ever
  waits for another, and any number of them may run at once (1 … shardCount);
- ``manifest`` ("Write manifest", or ``python -m activities.extract.finalize``): once every worker
  has completed, the run manifest listing every worker's parts, written last; then (development mode)
  the incremental state of the ingest date (state.py);
- ``all`` (default): everything in one process, for small runs and tests.

Every response body is stored as a raw part as soon as it arrives; the manifest is written only when
every worker has completed, so a failing run leaves no manifest (and the transform never sees it).
A retry resumes from the workers' progress blobs, and a new run of the same ingest date from an earlier
unpublished run's (checkpoint.py). The daily quota (429 ``QUOTA_EXCEEDED``) or the request budget ends
the extraction cleanly: what was fetched is published, the rest is deferred to the next run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from activities.common.context import ActivityContext, SecureString
from activities.common.errors import ActivityError, SecretNotFoundError, StorageError
from activities.common.logs import get_logger, register_secret
from activities.common.retry import RetryBudget, RetryPolicy
from activities.common.secrets import SecretStore, open_secret_store
from activities.common.storage import Storage, open_storage
from activities.extract.checkpoint import (
    DISCOVER_WORKER,
    Checkpoint,
    WorkerState,
    progress_path,
    read_state,
    shard_worker,
)
from activities.extract.cleanup import remove_unpublished_runs
from activities.extract.client import SpotifyClient
from activities.extract.config import ExtractConfig, UserConfig
from activities.extract.errors import ProgressError
from activities.extract.fetcher import Fetcher, Found, RequestBudget, Step, Task, UserSession, describe, run_tasks
from activities.extract.plan import Plan
from activities.extract.progress import Progress
from activities.extract.ratelimit import RateLimiter
from activities.extract.raw_writer import (
    DISCOVER_WRITER,
    PartRecord,
    RawWriter,
    count_items,
    manifest_path,
    shard_writer,
    write_manifest,
)
from activities.extract.resources import catalog, restricted
from activities.extract.sharding import owned, shard_of
from activities.extract.state import ENTITY_KINDS, RunState, StateUpdate, read_prior_state, write_state
from activities.sources import DISCOVERY, EXTENDED, SOURCES, USER, resolve, source
from activities.sources import names as source_names

_log = get_logger("activities.extract")

DISCOVERY_LEVEL = "0"
PLAN_LEVEL = "plan"  # development mode: the lookups the discovery step planned


@dataclass(kw_only=True)
class _Summary:
    """What a step of the run did: the fields every extract customOutput shares (the contract's names)."""

    run_id: str
    ingest_date: str
    parts: int
    requests: int
    counts: dict[str, int] = field(default_factory=dict)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)

    def _own_outputs(self) -> dict[str, Any]:
        return {}

    def to_outputs(self) -> dict[str, Any]:
        """customOutput per the contract (the entrypoint adds durationSeconds)."""
        return {
            "runId": self.run_id,
            "ingestDate": self.ingest_date,
            **self._own_outputs(),
            "parts": self.parts,
            "requests": self.requests,
            "counts": dict(self.counts),
            "unavailable": list(self.unavailable),
            "missing": list(self.missing),
        }


@dataclass(kw_only=True)
class WorkerSummary(_Summary):
    """What one worker (the discovery step or a shard) did, over every attempt."""

    worker: str
    resumed_parts: int

    def _own_outputs(self) -> dict[str, Any]:
        return {"worker": self.worker, "resumedParts": self.resumed_parts}


@dataclass(kw_only=True)
class ExtractSummary(_Summary):
    """The whole run, as the manifest step reports it."""

    manifest: str  # "<container>/<path>"
    access_mode: str
    stopped_by: str | None = None  # "quota" (429 QUOTA_EXCEEDED) or "budget": the rest is deferred
    deferred: dict[str, int] = field(default_factory=dict)  # lookups left for the next run, per kind
    unavailable_sources: list[str] = field(default_factory=list)  # sources every call of which was refused
    state: str | None = None  # "<container>/<path>" of the incremental state written (development mode)
    removed: dict[str, Any] = field(default_factory=dict)  # what unpublished runs of the date left (cleanup.py)

    def _own_outputs(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "accessMode": self.access_mode,
            "quotaExceeded": self.stopped_by == "quota",
            "stoppedBy": self.stopped_by,
            "deferred": dict(self.deferred),
            "deferredTotal": sum(self.deferred.values()),
            "unavailableSources": list(self.unavailable_sources),
            "state": self.state,
            "removed": dict(self.removed),
        }


def main(context: ActivityContext) -> dict[str, Any]:
    """Entry for :func:`activities.common.run_activity`: resolve config, secrets and storage, then run the mode."""
    config = ExtractConfig.from_context(context)
    secrets = open_secret_store(context.linked_service(config.key_vault_linked_service))
    storage = open_storage(context.linked_service(config.storage_linked_service), secrets)
    if config.mode == "manifest":
        return finalize(config, storage).to_outputs()
    client_secret = secrets.get(config.client_secret_name)
    register_secret(client_secret)  # stores register on read; repeated here so no store can forget
    tokens: list[tuple[UserConfig, SecureString]] = []
    if config.needs_user_token and config.mode in ("all", "discover"):
        for user_config in config.user_list:
            try:
                token = secrets.get(user_config.refresh_token_secret_name)
            except SecretNotFoundError as exc:
                # Not provisioned (yet): the catalog still runs; this user's sources are reported unavailable.
                _log.warning("%s; the sources of user %s are skipped and reported as unavailable", exc, user_config.name)
            else:
                register_secret(token)
                tokens.append((user_config, token))
    retry = RetryBudget(config.retry_budget) if config.retry_budget else None
    limiter = RateLimiter(config.requests_per_second or None, burst=max(1.0, config.max_concurrency))
    shared = {"retry_budget": retry, "rate_limiter": limiter}
    first = tokens[0] if tokens and not config.development else None  # extended mode: one user, on the app client
    with make_client(config, client_secret, refresh_token=first[1] if first else None,
                     on_refresh_token=_write_back(secrets, first[0]) if first else None, **shared) as client:
        user_clients = [] if first else [
            (user_config, make_client(config, client_secret, refresh_token=token,
                                      on_refresh_token=_write_back(secrets, user_config), **shared))
            for user_config, token in tokens]
        sessions = [UserSession(user_config.name, user_client) for user_config, user_client in user_clients]
        try:
            if config.mode == "discover":
                return discover(config, client, storage, sessions=sessions).to_outputs()
            if config.mode == "shard":
                return extract_shard(config, client, storage).to_outputs()
            return extract_all(config, client, storage, sessions=sessions).to_outputs()
        finally:
            for _, user_client in user_clients:
                user_client.close()


def _write_back(secrets: SecretStore, user_config: UserConfig) -> Callable[[SecureString], None]:
    """Store a rotated refresh token under the user's secret name before the old one stops working."""

    def store(token: SecureString) -> None:
        secrets.set(user_config.refresh_token_secret_name, token)
        _log.info("the refresh token of user %s was rotated; stored as secret `%s`", user_config.name,
                  user_config.refresh_token_secret_name)

    return store


def make_client(config: ExtractConfig, client_secret: SecureString, **overrides: Any) -> SpotifyClient:
    timeout = config.http_timeout_seconds
    options: dict[str, Any] = {
        "api_base_url": config.api_base_url,
        "token_url": config.token_url,
        "client_id": config.client_id,
        "client_secret": client_secret,
        "retry": RetryPolicy(config.http_max_attempts, config.http_backoff_seconds,
                             max_wait_seconds=config.http_max_wait_seconds),
        "timeout": (min(5.0, timeout), timeout),
        "rate_limiter": RateLimiter(config.requests_per_second or None, burst=max(1.0, config.max_concurrency)),
        "max_connections": config.max_concurrency,
    }
    options.update({key: value for key, value in overrides.items() if value is not None or key == "refresh_token"})
    return SpotifyClient(**options)


def final_level(config: ExtractConfig) -> int:
    """The last lookup level: one in development mode (per-id lookups), three in extended mode."""
    return 1 if config.development else 3


def extract_all(
    config: ExtractConfig, client: SpotifyClient, storage: Storage, *, sessions: Sequence[UserSession] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ExtractSummary:
    """Discovery, every level of the only shard, then the manifest, in this process."""
    started = monotonic()
    discover(config, client, storage, sessions=sessions)
    for level in range(1, final_level(config) + 1):
        extract_shard(replace(config, level=level), client, storage)
    summary = finalize(config, storage)
    _log.info("extract run %s done in %.1f s", config.run_id, monotonic() - started)
    return summary


# -- one worker -------------------------------------------------------------------------------------


class _Worker:
    """The discovery step or one shard: its writer, checkpoint, progress and fetcher."""

    def __init__(self, config: ExtractConfig, clients: Sequence[SpotifyClient], storage: Storage, worker: str,
                 writer: str):
        self.config = config
        self.client = clients[0]
        self.storage = storage
        self.name = worker
        self.writer = RawWriter(storage, config.raw_container, config.ingest_date, config.run_id, writer=writer)
        self.checkpoint = Checkpoint(storage, config.raw_container, config.ingest_date, config.run_id, worker,
                                     config.fingerprint)
        resumed = self.checkpoint.load()
        earlier = self.checkpoint.parts
        deleted = self.writer.remove_orphans(part.path for part in earlier)
        self.writer.adopt(earlier)
        taken_over = 0
        if not resumed:
            # A new run of an ingest date continues what an earlier, unpublished run of it stored.
            for key, record in self.checkpoint.earlier_unpublished(config.run_id, config.ingest_date).items():
                self.checkpoint.add_part(key, self.writer.copy_part(record))
                taken_over += 1
            if taken_over:
                self.checkpoint.save()
        self.resumed_parts = len(earlier) + taken_over
        baselines = [(client, client.request_count) for client in clients]
        self.checkpoint.requests_now = lambda: sum(client.request_count - base for client, base in baselines)
        self.progress = Progress(f"{config.run_id[:8]} {worker}")
        self.fetcher = Fetcher(self.client, self.writer, self.checkpoint, storage, self.progress)
        if resumed:
            _log.info(
                "%s resumes attempt %d: %d parts already stored%s", worker, self.checkpoint.attempt, len(earlier),
                f", {deleted} unlisted parts of the earlier attempt deleted" if deleted else "",
            )
        elif taken_over:
            _log.info("%s takes over %d parts an earlier, unpublished run of %s stored", worker, taken_over,
                      config.ingest_date.isoformat())
        elif deleted:
            _log.info("%s: deleted %d parts an earlier attempt stored before its first checkpoint", worker, deleted)

    def tasks(self, tasks: list[Task]) -> Found:
        """Run tasks; in extended mode a quota or budget stop fails the worker (there is no state to defer to)."""
        found = run_tasks(tasks, self.config.max_concurrency, self.fetcher)
        if self.fetcher.stopped is not None and not self.config.development:
            raise ActivityError(f"{self.name} stopped early ({self.fetcher.stopped}); extended mode has no deferral: "
                                "rerun the pipeline once the quota is back")
        return found

    def level(self, name: str, describe_level: str, build: Callable[[], list[Task]]) -> Found:
        """Run one level's tasks unless an earlier attempt finished it; publish what it found."""
        done = self.checkpoint.level(name)
        if done is not None:
            _log.info("%s level %s (%s): done in an earlier attempt", self.name, name, describe_level)
            return Found.from_json(done)
        tasks = build()
        self.progress.start_stage(f"level {name}", len(tasks))
        before = self.checkpoint.requests_now()
        found = self.tasks(tasks)
        self.checkpoint.finish_level(name, found.to_json())
        _log.info(
            "%s level %s (%s): %d tasks, %d requests; found %d albums, %d tracks, %d artists",
            self.name, name, describe_level, len(tasks), self.checkpoint.requests_now() - before,
            len(found.albums), len(found.tracks), len(found.artists),
        )
        return found

    def run(self, body: Callable[[], None], *, complete: bool = True) -> WorkerSummary:
        try:
            body()
        except BaseException as exc:
            self.progress.finish()
            try:
                self.checkpoint.save(failed=describe(exc))  # what is stored so far is what the retry skips
            except StorageError as save_error:
                _log.warning("%s could not save its progress after failing: %s", self.name, save_error)
            _log.warning("%s stopped: %s", self.name, describe(exc))
            raise
        self.checkpoint.stopped = self.checkpoint.stopped or self.fetcher.stopped
        self.checkpoint.save(complete=complete)
        self.progress.finish()
        parts = self.writer.parts
        return WorkerSummary(
            run_id=self.config.run_id,
            ingest_date=self.config.ingest_date.isoformat(),
            worker=self.name,
            parts=len(parts),
            requests=self.checkpoint.requests,
            resumed_parts=self.resumed_parts,
            counts=count_items(parts),
            unavailable=self.checkpoint.unavailable,
            missing=self.checkpoint.missing,
        )


def _ids_only_if(keep: bool, task: Task) -> Task:
    """A discovery source not in lookupSources still stores its pages, but the album, track and artist
    ids it reveals are not looked up (categories and playlists pass: they are not batch lookups)."""
    if keep:
        return task

    def run() -> Step:
        step = task()
        kept = Found(categories=step.found.categories, playlists=step.found.playlists)
        return Step(kept, [_ids_only_if(False, more) for more in step.more])

    return run


class _PlaylistCrawl:
    """Extended mode: playlists (GET /playlists/{id}) and their items, each playlist once: the configured ids
    and the playlists that the sources in ``playlistDiscovery`` (search hits, the user's playlists) list."""

    def __init__(self, config: ExtractConfig, fetcher: Fetcher) -> None:
        self._config = config
        self._fetcher = fetcher
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def tasks(self, playlist_ids: Iterable[str]) -> list[Task]:
        with self._lock:
            new = [playlist for playlist in sorted(set(playlist_ids)) if playlist not in self._claimed]
            self._claimed.update(new)
        config, fetcher, market = self._config, self._fetcher, self._config.market
        tasks: list[Task] = []
        for name in ("playlists", "playlist_items"):
            if config.runs(name):
                build = catalog.playlists if name == "playlists" else catalog.playlist_items
                keep = name in config.lookup_sources
                tasks += [_ids_only_if(keep, fetcher.optional(name, task)) for task in build(fetcher, new, market)]
        return tasks

    def following(self, task: Task) -> Task:
        """Wrap a search or user-playlists task: the playlists its pages list are crawled too."""

        def run() -> Step:
            step = task()
            return Step(step.found, [self.following(more) for more in step.more] + self.tasks(step.found.playlists))

        return run


# Extended mode only, when configured (restrictedSources): refused to apps created after 2024-11-27.
_RESTRICTED_DISCOVERY: dict[str, Callable[[ExtractConfig, Fetcher], list[Task]]] = {
    "related_artists": lambda config, fetcher: restricted.related_artists(fetcher, config.artist_ids),
    "recommendations": lambda config, fetcher: restricted.recommendations(fetcher, config.artist_ids, config.market)
    if config.artist_ids else [],
    "featured_playlists": lambda config, fetcher: restricted.featured_playlists(fetcher),
}


def discovery_tasks(config: ExtractConfig, fetcher: Fetcher) -> list[Task]:
    """Extended mode's level 0: every configured user and discovery source, as ``activities.sources`` declares
    them, plus the configured restricted ones."""
    crawl = _PlaylistCrawl(config, fetcher)
    plan = Plan(config, fetcher, crawl=crawl)
    wrapped: list[Task] = []
    for name in source_names(role=USER, mode=config.access_mode) + source_names(role=DISCOVERY,
                                                                               mode=config.access_mode):
        if not config.runs(name):
            continue
        if source(name).user_scoped and not fetcher.client.has_user_token:
            fetcher.checkpoint.add_unavailable(
                {"source": name, "status": None, "endpoint": f"secret `{config.refresh_token_secret_name}`"})
            continue
        for task in resolve(source(name).fetch)(plan):
            task = _ids_only_if(name in config.lookup_sources, task)
            wrapped.append(crawl.following(task) if name in config.playlist_discovery else task)
    for name, build in _RESTRICTED_DISCOVERY.items():
        if config.runs(name):
            wrapped += build(config, fetcher)
    return wrapped


def discover(config: ExtractConfig, client: SpotifyClient, storage: Storage, *,
             sessions: Sequence[UserSession] | None = None) -> WorkerSummary:
    """The discovery step, in this one task (mode ``discover``).

    ``sessions``: one per allow-listed user whose token was found (development mode); by default the
    client's own user token, if it has one.
    """
    if sessions is None:
        sessions = [UserSession("default", client)] if client.has_user_token else []
    worker = _Worker(config, [client] + [s.client for s in sessions if s.client is not client], storage,
                     DISCOVER_WORKER, DISCOVER_WRITER)
    _log.info(
        "extract run %s for %s (%s mode): discovery of %s%s", config.run_id, config.ingest_date.isoformat(),
        config.access_mode,
        ", ".join(s for s in config.sources if s not in ("albums", "album_tracks", "tracks", "artists")) or "nothing",
        f" (restricted, if allowed: {', '.join(config.restricted_sources)})" if config.restricted_sources else "",
    )

    def body() -> None:
        if config.development:
            _discover_development(config, worker, storage, sessions)
        else:
            worker.level(DISCOVERY_LEVEL, "discovery", lambda: discovery_tasks(config, worker.fetcher))

    return worker.run(body)


# -- development mode --------------------------------------------------------------------------------


def _discover_development(config: ExtractConfig, worker: _Worker, storage: Storage,
                          sessions: Sequence[UserSession]) -> None:
    """User data first (each user's /me, then their sources), then the catalog sources; then plan the lookups."""
    if worker.checkpoint.level(PLAN_LEVEL) is not None:
        _log.info("discovery was done by an earlier attempt")
        return
    fetcher, checkpoint = worker.fetcher, worker.checkpoint
    checkpoint.update = StateUpdate()
    prior = read_prior_state(storage, config.raw_container, config.ingest_date)
    fetcher.budget = RequestBudget(config.request_budget)
    base = Plan(config, fetcher, prior, checkpoint.update)
    if config.needs_user_token:
        _report_users_without_session(config, sessions, checkpoint)
    known_users: dict[str, str] = {}

    def profile(session: UserSession) -> Task:
        def run() -> Step:
            me = fetcher.get("user_profile", "/me", count=lambda body: 1 if isinstance(body, dict) else 0,
                             user=session)
            if not isinstance(me, dict) or not isinstance(me.get("id"), str):
                raise ProgressError(f"GET /me for user {session.key} answered without an `id`")
            known_users[session.key] = me["id"]
            return Step()

        return fetcher.refusable("user_profile", run)

    found = Found()
    if config.needs_user_token:
        worker.tasks([profile(session) for session in sessions])
    tasks = _user_tasks(config, base, sessions, known_users) + _catalog_tasks(config, base)
    _report_not_served(config, checkpoint)
    if fetcher.stopped is None:
        found = worker.tasks(tasks)
    if fetcher.stopped is not None:
        # Stopped midway: the users' marks could skip what was not fetched; the next run asks again from the old ones.
        checkpoint.update.users.clear()
    _finish_discovery(config, worker, prior, found)


def _report_users_without_session(config: ExtractConfig, sessions: Sequence[UserSession], checkpoint: Checkpoint) -> None:
    """A configured user whose refresh token could not be read is reported unavailable (the run goes on without them)."""
    for user_config in config.user_list:
        if not any(s.key == user_config.name for s in sessions):
            checkpoint.add_unavailable({"source": f"user {user_config.name}", "status": None,
                                        "endpoint": f"secret `{user_config.refresh_token_secret_name}`"})


def _user_tasks(config: ExtractConfig, base: Plan, sessions: Sequence[UserSession],
                known_users: Mapping[str, str]) -> list[Task]:
    """Each user's sources (except /me, already asked), for the users whose /me answered: their Spotify id is needed."""
    user_names = [name for name in source_names(role=USER, mode=config.access_mode)
                  if config.runs(name) and name != "user_profile"]
    tasks: list[Task] = []
    for session in sessions:
        if session.key not in known_users:
            continue
        plan = replace(base, session=replace(session, user_id=known_users[session.key]))
        tasks += [base.fetcher.refusable(name, task) for name in user_names for task in resolve(source(name).fetch)(plan)]
    return tasks


def _catalog_tasks(config: ExtractConfig, base: Plan) -> list[Task]:
    tasks: list[Task] = []
    for name in source_names(role=DISCOVERY, mode=config.access_mode):
        if config.runs(name):
            tasks += [base.fetcher.refusable(name, task) for task in resolve(source(name).fetch)(base)]
    return tasks


def _report_not_served(config: ExtractConfig, checkpoint: Checkpoint) -> None:
    for name in config.sources:
        if name in source_names() and not source(name).served_in(config.access_mode):
            # Configured, but Spotify answers 403 to a Development Mode app: not asked, reported as refused.
            (request, *_) = source(name).requests.get(EXTENDED, ())
            checkpoint.add_refusal({"source": name, "status": 403, "endpoint": f"GET {request.path}",
                                    "message": "not served to a Development Mode app (skipped, not asked)"})


def _finish_discovery(config: ExtractConfig, worker: _Worker, prior: RunState, found: Found) -> None:
    """Plans the lookups and records discovery and the plan, with the budget left for the shards to share."""
    fetcher, checkpoint = worker.fetcher, worker.checkpoint
    lookups, refresh = _plan_lookups(config, prior, found, checkpoint.update, fetcher)
    checkpoint.finish_level(DISCOVERY_LEVEL, found.to_json())
    checkpoint.finish_level(PLAN_LEVEL, {"lookups": lookups, "refresh": refresh,
                                         "budget": [str(fetcher.budget.left if fetcher.budget.left is not None
                                                        else 0)]})
    _log.info("discovery: %d requests; %d lookups planned (%d refreshes), %d deferred%s", fetcher.budget.spent,
              len(lookups), len(refresh), len(checkpoint.update.deferred),
              f", stopped by the {fetcher.stopped}" if fetcher.stopped else "")


def _plan_lookups(config: ExtractConfig, prior: RunState, found: Found, update: StateUpdate,
                  fetcher: Fetcher) -> tuple[list[str], list[str]]:
    """The lookups this run does, as ``kind:id``: deferred ones, then ids never fetched whole, then refreshes
    of the oldest known; cut to the budget left. What does not fit is deferred (refreshes simply wait)."""
    full = {"artists": found.full_artists, "tracks": found.full_tracks, "albums": set()}
    update.add_fetched("artists", found.full_artists)
    update.add_fetched("tracks", found.full_tracks)
    kinds = [kind for kind in ENTITY_KINDS if config.runs(kind)]
    work = [f"{kind}:{entity_id}" for kind, entity_id in prior.deferred if kind in kinds and entity_id not in full[kind]]
    for kind, ids in (("albums", found.albums), ("artists", found.artists)):
        if kind in kinds:
            work += [f"{kind}:{entity_id}" for entity_id in sorted(ids - full[kind]) if not prior.known(kind, entity_id)]
    work = list(dict.fromkeys(work))
    cutoff = (config.ingest_date - timedelta(days=config.refresh_after_days)).isoformat()
    planned = set(work)
    oldest = sorted((day, kind, entity_id) for kind in kinds for entity_id, day in prior.entities.get(kind, {}).items()
                    if day <= cutoff and entity_id not in full[kind])
    refresh = [f"{kind}:{entity_id}" for _, kind, entity_id in oldest if f"{kind}:{entity_id}" not in planned]
    left = fetcher.budget.left
    if fetcher.stopped == "quota":
        left = 0
    if left is not None:
        update.deferred = [tuple(item.split(":", 1)) for item in work[left:]]  # type: ignore[misc]
        work = work[:left]
        refresh = refresh[:max(0, left - len(work))]
    return work, refresh


def _lookup_tasks(plan: Plan, items: Sequence[str]) -> list[Task]:
    """One task per ``kind:id``, in priority order, through the kind's declared fetch."""
    tasks: list[Task] = []
    for item in items:
        kind, entity_id = item.split(":", 1)
        tasks += [plan.fetcher.refusable(kind, task) for task in resolve(source(kind).fetch)(plan, [entity_id])]
    return tasks


def _shard_development(config: ExtractConfig, worker: _Worker, discovered: WorkerState) -> None:
    planned = discovered.levels[PLAN_LEVEL]
    index, count = config.shard_index, config.shard_count
    mine = [item for item in planned.get("lookups", []) if shard_of(item, count) == index]
    refresh = [item for item in planned.get("refresh", []) if shard_of(item, count) == index]
    fetcher, checkpoint = worker.fetcher, worker.checkpoint
    if worker.checkpoint.level("1") is not None:
        return
    share = _budget_share(config, planned, len(mine) + len(refresh))
    fetcher.budget = RequestBudget(share if config.request_budget else 0)
    checkpoint.update = StateUpdate()
    if discovered.stopped == "quota" or (config.request_budget and not share and (mine or refresh)):
        checkpoint.update.deferred = [tuple(item.split(":", 1)) for item in mine]  # type: ignore[misc]
        checkpoint.finish_level("1", {})
        return
    plan = Plan(config, fetcher, RunState(), checkpoint.update)
    worker.level("1", "lookups", lambda: _lookup_tasks(plan, mine + refresh))
    checkpoint.update.deferred = _not_looked_up(checkpoint, mine)
    if checkpoint.update.deferred:
        _log.info("%s: %d lookups deferred to the next run (%s)", worker.name, len(checkpoint.update.deferred),
                  fetcher.stopped or "not fetched")


def _budget_share(config: ExtractConfig, planned: Mapping[str, Any], mine: int) -> int:
    """Each shard gets the share of the budget left after discovery that its lookups are of all lookups (rounded up);
    0 when the run has no budget."""
    every = len(planned.get("lookups", [])) + len(planned.get("refresh", []))
    left = int((planned.get("budget") or ["0"])[0])
    return -(-left * mine // every) if config.request_budget and every else 0


def _not_looked_up(checkpoint: Checkpoint, mine: Sequence[str]) -> list[tuple[str, str]]:
    """This shard's planned lookups (not refreshes: they simply wait) that neither answered nor were gone, to defer to
    the next run; a kind reported unavailable is not deferred, it would only be refused again."""
    done = {f"{kind}:{entity_id}" for kind, ids in checkpoint.update.fetched.items() for entity_id in ids}
    done |= {f"{kind}:{entity_id}" for kind, ids in checkpoint.update.gone.items() for entity_id in ids}
    refused = {str(entry["source"]) for entry in checkpoint.unavailable}
    return [tuple(item.split(":", 1)) for item in mine  # type: ignore[misc]
            if item not in done and item.split(":", 1)[0] not in refused]


# -- shards -------------------------------------------------------------------------------------------


def _discovery_state(config: ExtractConfig, storage: Storage) -> WorkerState:
    state = read_state(storage, config.raw_container, _progress(config, DISCOVER_WORKER))
    if state is None or not state.complete or DISCOVERY_LEVEL not in state.levels:
        raise ProgressError(
            f"the discovery step of run {config.run_id} has not completed "
            f"({config.raw_container}/{_progress(config, DISCOVER_WORKER)} is missing or incomplete); "
            "shards run after the `discover` mode activity succeeded"
        )
    if state.fingerprint != config.fingerprint:
        raise ProgressError(
            f"the discovery step of run {config.run_id} ran with other extraction settings; every activity of "
            "a run must get the same extended properties"
        )
    return state


def published(config: ExtractConfig, storage: Storage, level: int) -> Found:
    """What every shard found at ``level`` (its ForEach has finished, so each has published it)."""
    everyone = Found()
    for index in range(config.shard_count):
        path = _progress(config, shard_worker(index))
        state = read_state(storage, config.raw_container, path)
        if state is None or str(level) not in state.levels:
            raise ProgressError(
                f"shard {index} of run {config.run_id} has not finished level {level} ({config.raw_container}/{path}); "
                f"level {level + 1} runs after every shard of level {level} succeeded"
            )
        if state.fingerprint != config.fingerprint:
            raise ProgressError(f"shard {index}'s progress {config.raw_container}/{path} was written with other "
                                "extraction settings; every shard of a run must get the same extended properties")
        everyone.merge(Found.from_json(state.levels[str(level)]))
    return everyone


def extract_shard(config: ExtractConfig, client: SpotifyClient, storage: Storage) -> WorkerSummary:
    """One shard's lookups at ``config.level`` (mode ``shard``): the ids it owns; never waits for another shard."""
    discovered_state = _discovery_state(config, storage)
    discovered = Found.from_json(discovered_state.levels[DISCOVERY_LEVEL])
    index, count, level = config.shard_index, config.shard_count, config.level
    worker = _Worker(config, [client], storage, shard_worker(index), shard_writer(index))
    fetcher = worker.fetcher
    last = level == final_level(config)

    def body() -> None:
        if config.development:
            _shard_development(config, worker, discovered_state)
            return
        if level == 1:
            def level_1() -> list[Task]:
                tasks: list[Task] = []
                if config.runs("albums"):
                    tasks += resolve(source("albums").fetch)(Plan(config, fetcher),
                                                             owned(discovered.albums, index, count))
                if config.runs("category_playlists"):
                    tasks += restricted.category_playlists(fetcher, owned(discovered.categories, index, count))
                return tasks

            worker.level("1", "albums", level_1)
        elif level == 2:
            track_ids = owned(discovered.tracks | published(config, storage, 1).tracks, index, count)

            def level_2() -> list[Task]:
                tasks: list[Task] = []
                if config.runs("tracks"):
                    tasks += resolve(source("tracks").fetch)(Plan(config, fetcher), track_ids)
                if config.runs("audio_features"):
                    tasks += restricted.audio_features(fetcher, track_ids)
                if config.runs("audio_analysis"):
                    tasks += restricted.audio_analysis(fetcher, track_ids)
                return tasks

            worker.level("2", "tracks", level_2)
        else:
            earlier = published(config, storage, 1).merge(published(config, storage, 2))
            artist_ids = owned(discovered.artists | earlier.artists, index, count)
            worker.level("3", "artists", lambda: resolve(source("artists").fetch)(Plan(config, fetcher), artist_ids)
                         if config.runs("artists") else [])

    return worker.run(body, complete=last)


# -- the manifest ------------------------------------------------------------------------------------


def _progress(config: ExtractConfig, worker: str) -> str:
    return progress_path(config.ingest_date, config.run_id, worker)


@dataclass
class _Workers:
    """What the discovery step and the shards recorded in their progress files, summed for the manifest."""

    parts: list[PartRecord] = field(default_factory=list)
    requests: int = 0
    unavailable: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)
    updates: list[StateUpdate] = field(default_factory=list)
    stopped: str | None = None

    def add(self, state: WorkerState) -> None:
        self.parts.extend(state.parts.values())
        self.requests += state.requests
        for entry in state.unavailable:
            name = str(entry["source"])
            if name not in self.unavailable:
                self.unavailable[name] = dict(entry)
            elif "refused" in entry:
                self.unavailable[name]["refused"] = int(self.unavailable[name].get("refused", 0)) + int(entry["refused"])
        for entry in state.missing:
            self.missing.setdefault(str(entry["endpoint"]), dict(entry))
        for name, answered in state.answers.items():
            self.answers[name] = self.answers.get(name, 0) + answered
        self.updates.append(state.update)
        self.stopped = "quota" if "quota" in (self.stopped, state.stopped) else self.stopped or state.stopped


def _completed_workers(config: ExtractConfig, storage: Storage, workers: list[str]) -> _Workers:
    """Every worker's progress, refused unless each completed with this run's settings."""
    container = config.raw_container
    summed = _Workers()
    for worker in workers:
        path = _progress(config, worker)
        state = read_state(storage, container, path)
        if state is None or not state.complete:
            raise ProgressError(
                f"cannot write the manifest of run {config.run_id}: {worker} has "
                f"{'not started' if state is None else 'not completed'} ({container}/{path}); "
                "the manifest step runs after the discovery step and every shard succeeded"
            )
        if state.fingerprint != config.fingerprint:
            raise ProgressError(f"{worker} of run {config.run_id} ran with other extraction settings ({container}/{path})")
        summed.add(state)
    return summed


def _advance_state(config: ExtractConfig, storage: Storage, updates: list[StateUpdate]) -> tuple[str, dict[str, int]]:
    """Development mode: merge the workers' updates into the date's incremental state and write it; returns the
    blob and the lookups deferred to a later day, per kind."""
    container = config.raw_container
    run_state = read_prior_state(storage, container, config.ingest_date)
    for update in updates:
        run_state.merge(update, config.ingest_date)
    fetched = {(kind, entity_id) for update in updates for kind, ids in update.fetched.items() for entity_id in ids}
    run_state.deferred = [item for item in dict.fromkeys(item for update in updates for item in update.deferred)
                          if item not in fetched]
    state_blob = f"{container}/{write_state(storage, container, run_state, config.ingest_date)}"
    deferred: dict[str, int] = {}
    for kind, _ in run_state.deferred:
        deferred[kind] = deferred.get(kind, 0) + 1
    return state_blob, deferred


def finalize(config: ExtractConfig, storage: Storage) -> ExtractSummary:
    """Write the run manifest once the discovery step and every shard have completed (mode ``manifest``),
    then (development mode) the incremental state of the ingest date.

    An existing manifest of the run is kept (a retry must not fire the transform a second time); the state
    is written again (same content), so a retry after a failure between the two still advances it.
    """
    container = config.raw_container
    workers = [DISCOVER_WORKER] + [shard_worker(index) for index in range(config.shard_count)]
    done = _completed_workers(config, storage, workers)
    path = manifest_path(config.ingest_date, config.run_id)
    if storage.exists(container, path):
        _log.info("manifest %s/%s already written by an earlier attempt; kept", container, path)
    else:
        path = write_manifest(storage, container, config.ingest_date, config.run_id, done.parts)
    manifest = f"{container}/{path}"
    state_blob, deferred = _advance_state(config, storage, done.updates) if config.development else (None, {})
    # Published: what killed or failed runs of this date left is no longer read by anyone.
    cleanup = remove_unpublished_runs(storage, container, config.ingest_date, config.run_id,
                                      (item.entity for item in SOURCES))
    if cleanup.runs or cleanup.abandoned_writes:
        _log.info("removed %d blobs of unpublished runs %s and %d abandoned writes", cleanup.blobs,
                  ", ".join(cleanup.runs) or "-", len(cleanup.abandoned_writes))
    refused_everywhere = sorted(name for name, entry in done.unavailable.items()
                                if entry.get("status") == 403 and not done.answers.get(name))
    _log.info("manifest %s: %d parts, %d requests, %d workers%s", manifest, len(done.parts), done.requests, len(workers),
              f"; stopped by the {done.stopped}, {sum(deferred.values())} lookups deferred" if done.stopped else "")
    return ExtractSummary(
        run_id=config.run_id,
        ingest_date=config.ingest_date.isoformat(),
        manifest=manifest,
        parts=len(done.parts),
        requests=done.requests,
        counts=count_items(done.parts),
        unavailable=sorted(done.unavailable.values(), key=lambda entry: str(entry["source"])),
        missing=sorted(done.missing.values(), key=lambda entry: str(entry["endpoint"])),
        access_mode=config.access_mode,
        stopped_by=done.stopped,
        deferred=deferred,
        unavailable_sources=refused_everywhere,
        state=state_blob,
        removed=cleanup.to_outputs(),
    )


__all__ = ["ExtractSummary", "WorkerSummary", "discover", "extract_all", "extract_shard", "finalize", "main",
           "make_client", "published"]
