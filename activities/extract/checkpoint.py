"""Progress blobs: what each worker of a run (the discovery step, each shard) has already stored.

One small JSON blob per worker, ``spotify/_progress/ingest_date=<d>/run_id=<id>/<worker>.json``
(``discover.json``, ``shard=0.json`` …) in the raw container, listing:

- ``parts``: every completed request (its URL relative to the API base) and the part that holds its
  answer. A retry of the activity (ADF retries with the same ``@pipeline().RunId``) replays those
  answers from storage instead of asking the API again, so a retry costs only what is left;
- ``levels``: the ids a worker discovered per finished level, which the next level's shards read (the
  only way shards talk to each other; the next level's ForEach starts after this one finished);
- ``unavailable``: sources the API refused (403: endpoint, Spotify's message, how many calls), with
  ``answers`` (calls answered per source) so a source refused on every call can be named;
- ``update``: what the run adds to the incremental state (state.py), applied only once the manifest is
  published; ``stopped``: ``quota`` or ``budget`` when the worker stopped early and deferred the rest;
- ``complete``: the worker finished.

Resume is keyed on the ingest date: a new run of a date (a trigger rerun gets a new run id) takes over the
parts an earlier, unpublished run of that date stored (copied into its own folder), so it asks the API
only for what is missing.

The blob is saved every few parts and when the worker stops (success or failure), always after the
parts it lists, so it never lists a part that is not stored. Parts written after the last save are
orphans: the next attempt deletes them before it starts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from activities.common.errors import BlobNotFoundError
from activities.common.storage import Storage
from activities.extract.errors import ProgressError
from activities.extract.raw_writer import SOURCE, PartRecord, manifest_path
from activities.extract.state import StateUpdate

CHECKPOINT_VERSION = 1
DISCOVER_WORKER = "discover"


def shard_worker(index: int) -> str:
    return f"shard={index}"


def progress_folder(ingest_date: date, run_id: str) -> str:
    return f"{SOURCE}/_progress/ingest_date={ingest_date.isoformat()}/run_id={run_id}/"


def progress_path(ingest_date: date, run_id: str, worker: str) -> str:
    return f"{progress_folder(ingest_date, run_id)}{worker}.json"


@dataclass(frozen=True)
class WorkerState:
    """A checkpoint as read back (the discovery step's or another shard's)."""

    worker: str
    fingerprint: str
    complete: bool
    requests: int
    attempts: int
    parts: Mapping[str, PartRecord]  # relative request URL -> part
    levels: Mapping[str, Mapping[str, list[str]]]
    unavailable: tuple[Mapping[str, Any], ...]
    missing: tuple[Mapping[str, Any], ...] = ()
    failed: str | None = None  # why the worker's last attempt stopped, None while it runs or after success
    answers: Mapping[str, int] = field(default_factory=dict)
    update: StateUpdate = field(default_factory=StateUpdate)
    stopped: str | None = None


class Checkpoint:
    """This worker's progress; thread-safe. Saved by :meth:`save` (periodically and at the end)."""

    def __init__(
        self,
        storage: Storage,
        container: str,
        ingest_date: date,
        run_id: str,
        worker: str,
        fingerprint: str,
        *,
        save_every_parts: int = 25,
        save_every_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self.container = container
        self.path = progress_path(ingest_date, run_id, worker)
        self.worker = worker
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._parts: dict[str, PartRecord] = {}
        self._levels: dict[str, dict[str, list[str]]] = {}
        self._unavailable: list[dict[str, Any]] = []
        self._missing: list[dict[str, Any]] = []
        self._answers: dict[str, int] = {}
        self.update = StateUpdate()  # mutated by the worker; saved with the checkpoint
        self.stopped: str | None = None
        self._earlier_requests = 0
        self.attempt = 1
        self.complete = False
        self.failed: str | None = None
        self._unsaved = 0
        self._save_every_parts = save_every_parts
        self._save_every_seconds = save_every_seconds
        self._monotonic = monotonic
        self._last_save = monotonic()
        self.requests_now: Callable[[], int] = lambda: 0  # this attempt's GETs, read at save time

    # -- loading --------------------------------------------------------------------------------

    def load(self) -> bool:
        """Read an earlier attempt's checkpoint; True if there was one."""
        state = read_state(self._storage, self.container, self.path)
        if state is None:
            return False
        if state.fingerprint != self.fingerprint:
            raise ProgressError(
                f"{self.container}/{self.path} was written by an attempt with other extraction settings "
                "(sources, seeds, markets, limits or shard count); a run id cannot change its settings: "
                "start a new pipeline run, or delete the run's _progress folder to start this one over"
            )
        with self._lock:
            self._parts = dict(state.parts)
            self._levels = {level: {k: list(v) for k, v in found.items()} for level, found in state.levels.items()}
            self._unavailable = [dict(entry) for entry in state.unavailable]
            self._missing = [dict(entry) for entry in state.missing]
            self._answers = dict(state.answers)
            self._earlier_requests = state.requests
            self.complete = state.complete
            self.attempt = state.attempts + 1
        return True

    def earlier_unpublished(self, run_id: str, ingest_date: date) -> dict[str, PartRecord]:
        """The parts an earlier run of this ingest date stored for this worker and never published (no
        manifest), with the same settings, by request key: the fullest such run's."""
        folder = f"{SOURCE}/_progress/ingest_date={ingest_date.isoformat()}/"
        best: WorkerState | None = None
        for blob in self._storage.list_blobs(self.container, folder):
            if not blob.path.endswith(f"/{self.worker}.json") or f"/run_id={run_id}/" in blob.path:
                continue
            earlier_run = blob.path[len(folder):].split("/", 1)[0].removeprefix("run_id=")
            if self._storage.exists(self.container, manifest_path(ingest_date, earlier_run)):
                continue  # published: its parts are in its own manifest, a rerun starts from the state
            state = read_state(self._storage, self.container, blob.path)
            if state is not None and state.fingerprint == self.fingerprint and (
                    best is None or len(state.parts) > len(best.parts)):
                best = state
        return {} if best is None else dict(best.parts)

    # -- recording ------------------------------------------------------------------------------

    def part_for(self, key: str) -> PartRecord | None:
        with self._lock:
            return self._parts.get(key)

    def add_part(self, key: str, record: PartRecord) -> None:
        """Record a stored answer (saved every few parts, so a retry replays it instead of asking again)."""
        with self._lock:
            self._parts[key] = record
            self._unsaved += 1
            due = self._unsaved >= self._save_every_parts or (
                self._monotonic() - self._last_save >= self._save_every_seconds
            )
        if due:
            self.save()

    def add_unavailable(self, entry: Mapping[str, Any]) -> bool:
        """Record a refused restricted source once; False if it was already recorded."""
        with self._lock:
            if any(known["source"] == entry["source"] for known in self._unavailable):
                return False
            self._unavailable.append(dict(entry))
            return True

    def add_refusal(self, entry: Mapping[str, Any]) -> bool:
        """Record a 403 of a source (the first one's endpoint and message, then a count); True the first time."""
        with self._lock:
            for known in self._unavailable:
                if known["source"] == entry["source"]:
                    known["refused"] = int(known.get("refused", 1)) + 1
                    return False
            self._unavailable.append({**entry, "refused": 1})
            return True

    def note_answer(self, source: str) -> None:
        with self._lock:
            self._answers[source] = self._answers.get(source, 0) + 1

    def add_note(self, kind: str, entry: Mapping[str, Any]) -> None:
        """Record a configured id the API does not know (``missing``), once per endpoint."""
        with self._lock:
            if all(known["endpoint"] != entry["endpoint"] for known in self._missing):
                self._missing.append(dict(entry))

    @property
    def missing(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._missing]

    def is_unavailable(self, source: str) -> bool:
        with self._lock:
            return any(known["source"] == source for known in self._unavailable)

    def level(self, level: str) -> dict[str, list[str]] | None:
        with self._lock:
            found = self._levels.get(level)
            return {k: list(v) for k, v in found.items()} if found is not None else None

    def finish_level(self, level: str, found: Mapping[str, list[str]]) -> None:
        with self._lock:
            self._levels[level] = {k: sorted(set(v)) for k, v in found.items()}
        self.save()

    @property
    def parts(self) -> list[PartRecord]:
        with self._lock:
            return list(self._parts.values())

    @property
    def unavailable(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._unavailable]

    @property
    def requests(self) -> int:
        """GETs sent for this worker over every attempt."""
        return self._earlier_requests + self.requests_now()

    def save(self, *, complete: bool | None = None, failed: str | None = None) -> None:
        """Write the checkpoint blob (atomic per blob: readers see the old or the new one).

        ``failed`` marks the attempt as stopped (the other shards then know it will not publish more
        unless ADF retries it)."""
        with self._save_lock:
            with self._lock:
                if complete is not None:
                    self.complete = complete
                self.failed = failed
                document = {
                    "checkpoint_version": CHECKPOINT_VERSION,
                    "worker": self.worker,
                    "fingerprint": self.fingerprint,
                    "attempts": self.attempt,
                    "requests": self.requests,
                    "complete": self.complete,
                    "failed": self.failed,
                    "levels": self._levels,
                    "unavailable": self._unavailable,
                    "missing": self._missing,
                    "answers": self._answers,
                    "update": self.update.to_json(),
                    "stopped": self.stopped,
                    "parts": [{"key": key, **part.to_json()} for key, part in self._parts.items()],
                }
                self._unsaved = 0
                self._last_save = self._monotonic()
            data = json.dumps(document, separators=(",", ":")).encode("utf-8")
            self._storage.write_bytes(self.container, self.path, data, metadata={"worker": self.worker})


def read_state(storage: Storage, container: str, path: str) -> WorkerState | None:
    """A worker's checkpoint, or None if it has not saved one yet."""
    try:
        raw = storage.read_bytes(container, path)
    except BlobNotFoundError:
        return None
    try:
        document = json.loads(raw)
        parts = {str(entry["key"]): PartRecord.from_json(entry) for entry in document["parts"]}
        return WorkerState(
            worker=str(document["worker"]),
            fingerprint=str(document["fingerprint"]),
            complete=bool(document["complete"]),
            requests=int(document["requests"]),
            attempts=int(document["attempts"]),
            parts=parts,
            levels={str(k): {str(kind): list(ids) for kind, ids in v.items()} for k, v in document["levels"].items()},
            unavailable=tuple(dict(entry) for entry in document["unavailable"]),
            missing=tuple(dict(entry) for entry in document.get("missing", [])),
            failed=document.get("failed"),
            answers={str(k): int(v) for k, v in document.get("answers", {}).items()},
            update=StateUpdate.from_json(document.get("update", {})),
            stopped=document.get("stopped"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProgressError(
            f"progress blob {container}/{path} is not a readable checkpoint ({type(exc).__name__}: {exc}); "
            "delete the run's _progress folder to start the run over"
        ) from exc


__all__ = [
    "DISCOVER_WORKER",
    "Checkpoint",
    "WorkerState",
    "progress_folder",
    "progress_path",
    "read_state",
    "shard_worker",
]
