"""Writes API response bodies to the raw zone, then the run manifest (last).

Layout (docs/architecture.md): ``spotify/<entity>/ingest_date=<d>/run_id=<id>/part-<writer>-NNNNN.json.gz``
(``<writer>`` is ``d`` for the discovery step or the shard number ``SSS``, so parallel shards never pick
the same name); manifest ``spotify/manifests/ingest_date=<d>/run_id=<id>/_manifest.json``. A body is
stored exactly as received (gzip of those bytes); the manifest's ``sha256`` is of the stored (gzipped)
bytes, so a reader can verify a part without decompressing it. Writers are safe to share between threads.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from activities.common.storage import Storage
from activities.extract.client import ApiResponse

SOURCE = "spotify"
MANIFEST_VERSION = 1
MANIFEST_FILE = "_manifest.json"
ENTITIES = (
    # first slice
    "new_releases", "albums", "album_tracks", "tracks", "artists",
    # further catalog sources (app token)
    "artist_albums", "artist_top_tracks", "search", "playlists", "playlist_items", "categories", "markets",
    # user sources (user token)
    "user_profile", "user_top_artists", "user_top_tracks", "recently_played", "saved_tracks",
    "followed_artists", "user_playlists",
    # restricted for new apps: only when configured, recorded as unavailable when refused
    "related_artists", "audio_features", "audio_analysis", "recommendations", "featured_playlists",
    "category_playlists",
)
DISCOVER_WRITER = "d"


def shard_writer(index: int) -> str:
    return f"{index:03d}"


def format_timestamp(moment: datetime) -> str:
    """``2026-11-24T05:00:12.345678Z``: UTC, microseconds, ``Z`` as in the manifest example."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def part_folder(entity: str, ingest_date: date, run_id: str) -> str:
    return f"{SOURCE}/{entity}/ingest_date={ingest_date.isoformat()}/run_id={run_id}/"


def manifest_path(ingest_date: date, run_id: str) -> str:
    return f"{SOURCE}/manifests/ingest_date={ingest_date.isoformat()}/run_id={run_id}/{MANIFEST_FILE}"


@dataclass(frozen=True)
class PartRecord:
    """One manifest ``parts`` entry."""

    entity: str
    path: str
    size: int
    sha256: str
    request_url: str
    fetched_at: str
    items: int
    user_id: str | None = None  # the Spotify user whose token fetched it (user sources only; board contract)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "entity": self.entity,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "request_url": self.request_url,
            "fetched_at": self.fetched_at,
            "items": self.items,
        }
        if self.user_id is not None:
            document["user_id"] = self.user_id
        return document

    @classmethod
    def from_json(cls, raw: Any) -> PartRecord:
        return cls(
            entity=str(raw["entity"]),
            path=str(raw["path"]),
            size=int(raw["size"]),
            sha256=str(raw["sha256"]),
            request_url=str(raw["request_url"]),
            fetched_at=str(raw["fetched_at"]),
            items=int(raw["items"]),
            user_id=str(raw["user_id"]) if raw.get("user_id") is not None else None,
        )


class RawWriter:
    """Stores one writer's parts (the discovery step's or one shard's) for one run; thread-safe."""

    def __init__(
        self,
        storage: Storage,
        container: str,
        ingest_date: date,
        run_id: str,
        *,
        writer: str = DISCOVER_WRITER,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._storage = storage
        self.container = container
        self.ingest_date = ingest_date
        self.run_id = run_id
        self.writer = writer
        self._now = now
        self._lock = threading.Lock()
        self._parts: list[PartRecord] = []
        self._next_index: dict[str, int] = {}
        self._counts: dict[str, int] = {}

    @property
    def parts(self) -> tuple[PartRecord, ...]:
        with self._lock:
            return tuple(self._parts)

    @property
    def counts(self) -> dict[str, int]:
        """Items stored per entity (in first-written order)."""
        with self._lock:
            return dict(self._counts)

    def part_path(self, entity: str, index: int) -> str:
        return f"{part_folder(entity, self.ingest_date, self.run_id)}part-{self.writer}-{index:05d}.json.gz"

    def adopt(self, records: Iterable[PartRecord]) -> None:
        """Take over parts an earlier attempt stored (listed in its checkpoint): they count, and new
        parts are numbered after them."""
        prefix = f"part-{self.writer}-"
        with self._lock:
            for record in records:
                self._parts.append(record)
                self._counts[record.entity] = self._counts.get(record.entity, 0) + record.items
                name = record.path.rsplit("/", 1)[-1]
                if name.startswith(prefix):
                    index = int(name[len(prefix):].split(".", 1)[0])
                    self._next_index[record.entity] = max(self._next_index.get(record.entity, 0), index + 1)

    def remove_orphans(self, keep: Iterable[str]) -> int:
        """Delete this writer's parts of this run that ``keep`` (the checkpoint) does not list: an
        earlier attempt stored them after its last checkpoint save. Returns how many were deleted."""
        kept = set(keep)
        deleted = 0
        for entity in ENTITIES:
            folder = part_folder(entity, self.ingest_date, self.run_id)
            for blob in list(self._storage.list_blobs(self.container, f"{folder}part-{self.writer}-")):
                if blob.path not in kept:
                    self._storage.delete(self.container, blob.path)
                    deleted += 1
        return deleted

    def _next_path(self, entity: str) -> str:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        with self._lock:
            index = self._next_index.get(entity, 0)
            self._next_index[entity] = index + 1
        return self.part_path(entity, index)

    def _store(self, record: PartRecord, stored: bytes) -> PartRecord:
        self._storage.write_bytes(
            self.container,
            record.path,
            stored,
            metadata={"entity": record.entity, "items": str(record.items), "run_id": self.run_id},
        )
        with self._lock:
            self._parts.append(record)
            self._counts[record.entity] = self._counts.get(record.entity, 0) + record.items
        return record

    def write_part(self, entity: str, response: ApiResponse, items: int, user_id: str | None = None) -> PartRecord:
        """Store ``response.body`` gzip-compressed as the entity's next part and record it."""
        path = self._next_path(entity)
        # mtime=0: the same body always gives the same bytes (and sha256), whenever it is stored.
        stored = gzip.compress(response.body, compresslevel=6, mtime=0)
        record = PartRecord(
            entity=entity,
            path=path,
            size=len(stored),
            sha256=hashlib.sha256(stored).hexdigest(),
            request_url=response.url,
            fetched_at=format_timestamp(response.fetched_at),
            items=items,
            user_id=user_id,
        )
        return self._store(record, stored)

    def copy_part(self, record: PartRecord) -> PartRecord:
        """Take over a part an earlier, unpublished run of the same ingest date stored: the same bytes,
        under this run's folder (so each manifest lists only its own run's parts)."""
        stored = self._storage.read_bytes(self.container, record.path)
        if hashlib.sha256(stored).hexdigest() != record.sha256:
            raise ValueError(f"part {self.container}/{record.path} does not match its checksum")
        return self._store(replace(record, path=self._next_path(record.entity)), stored)


def count_items(parts: Iterable[PartRecord]) -> dict[str, int]:
    """Items per entity, in the order of ENTITIES."""
    counts: dict[str, int] = {}
    for part in parts:
        counts[part.entity] = counts.get(part.entity, 0) + part.items
    return {entity: counts[entity] for entity in ENTITIES if entity in counts}


def write_manifest(
    storage: Storage,
    container: str,
    ingest_date: date,
    run_id: str,
    parts: Iterable[PartRecord],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> str:
    """Write ``_manifest.json`` (after every part: its presence means the run is complete); return its path.

    Parts are listed sorted by path (entity folder, then writer, then number), so the manifest of a
    run does not depend on which thread or shard finished first.
    """
    ordered = sorted(parts, key=lambda part: part.path)
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "source": SOURCE,
        "ingest_date": ingest_date.isoformat(),
        "run_id": run_id,
        "created_at": format_timestamp(now()),
        "container": container,
        "parts": [part.to_json() for part in ordered],
        "counts": count_items(ordered),
    }
    data = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    path = manifest_path(ingest_date, run_id)
    storage.write_bytes(container, path, data, metadata={"run_id": run_id})
    return path


__all__ = [
    "DISCOVER_WRITER",
    "ENTITIES",
    "MANIFEST_FILE",
    "PartRecord",
    "RawWriter",
    "count_items",
    "format_timestamp",
    "manifest_path",
    "part_folder",
    "shard_writer",
    "write_manifest",
]
