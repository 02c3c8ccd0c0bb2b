"""Progress blobs: what each worker of a run (the discovery step, each shard) has already stored.

One small JSON blob per worker, ``spotify/_progress/ingest_date=<d>/run_id=<id>/<worker>.json``
(``discover.json``, ``shard=0.json`` …) in the raw container, listing:

- ``parts``: every completed request (its URL relative to the API base) and the part that holds its
  answer. A retry of the activity (ADF retries with the same ``@pipeline().RunId``) replays those
  answers from storage instead of asking the API again, so a retry costs only what is left;
- ``levels``: the ids a worker discovered per finished level, which the other shards read at the
  level barrier (the only way shards talk to each other);
- ``unavailable``: restricted sources the API refused; ``complete``: the worker finished.

The blob is saved every few parts and when the worker stops (success or failure), always after the
parts it lists, so it never lists a part that is not stored. Parts written after the last save are
orphans: the next attempt deletes them before it starts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from activities.common.errors import BlobNotFoundError
from activities.common.storage import Storage
from activities.extract.errors import BarrierTimeoutError, ProgressError
from activities.extract.raw_writer import SOURCE, PartRecord

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
            self._earlier_requests = state.requests
            self.complete = state.complete
            self.attempt = state.attempts + 1
        return True

    # -- recording ------------------------------------------------------------------------------

    def part_for(self, key: str) -> PartRecord | None:
        with self._lock:
            return self._parts.get(key)

    def add_part(self, key: str, record: PartRecord) -> None:
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
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProgressError(
            f"progress blob {container}/{path} is not a readable checkpoint ({type(exc).__name__}: {exc}); "
            "delete the run's _progress folder to start the run over"
        ) from exc


def wait_for_level(
    storage: Storage,
    container: str,
    ingest_date: date,
    run_id: str,
    shard_count: int,
    level: str,
    fingerprint: str,
    *,
    timeout_seconds: float,
    peer_attempts: int = 3,
    poll_seconds: float = 0.2,
    max_poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[dict[str, list[str]]]:
    """Block until every shard has published ``level``; return their discoveries (shard order).

    A shard whose attempt failed may still be retried by ADF, so the wait goes on, unless it failed its
    ``peer_attempts``-th attempt (the activity's retry policy is spent): then waiting is pointless.

    Raises:
        BarrierTimeoutError: naming the shards still missing after ``timeout_seconds``, or a shard
            that failed its last attempt.
        ProgressError: a shard's checkpoint was written with other settings.
    """
    started = monotonic()
    found: dict[int, dict[str, list[str]]] = {}
    delay = poll_seconds
    while True:
        for index in range(shard_count):
            if index in found:
                continue
            path = progress_path(ingest_date, run_id, shard_worker(index))
            state = read_state(storage, container, path)
            if state is None:
                continue
            if state.fingerprint != fingerprint:
                raise ProgressError(
                    f"shard {index}'s progress {container}/{path} was written with other extraction settings; "
                    "every shard of a run must get the same extended properties"
                )
            if level in state.levels:
                found[index] = {kind: list(ids) for kind, ids in state.levels[level].items()}
            elif state.failed is not None and state.attempts >= peer_attempts:
                raise BarrierTimeoutError(
                    f"shard {index} of {shard_count} failed its last attempt ({state.attempts} of {peer_attempts}) "
                    f"before finishing level {level}: {state.failed}"
                )
        if len(found) == shard_count:
            return [found[index] for index in range(shard_count)]
        waited = monotonic() - started
        if waited >= timeout_seconds:
            missing = ", ".join(str(i) for i in range(shard_count) if i not in found)
            raise BarrierTimeoutError(
                f"waited {waited:.0f} s for shard(s) {missing} of {shard_count} to finish level {level} "
                f"(their progress is in {container}/{progress_folder(ingest_date, run_id)}); a shard failed or "
                "never started: every shard must run at once (ForEach batchCount >= shardCount)"
            )
        sleep(min(delay, max(0.0, timeout_seconds - waited)))
        delay = min(max_poll_seconds, delay * 1.5)


__all__ = [
    "DISCOVER_WORKER",
    "Checkpoint",
    "WorkerState",
    "progress_folder",
    "progress_path",
    "read_state",
    "shard_worker",
    "wait_for_level",
]
