"""Writes API response bodies to the raw zone, then the run manifest (last).

Layout (docs/architecture.md): ``spotify/<entity>/ingest_date=<d>/run_id=<id>/part-NNNNN.json.gz``;
manifest ``spotify/manifests/ingest_date=<d>/run_id=<id>/_manifest.json``. A body is stored exactly
as received (gzip of those bytes); the manifest's ``sha256`` is of the stored (gzipped) bytes, so a
reader can verify a part without decompressing it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from activities.common.storage import Storage
from activities.extract.client import ApiResponse

SOURCE = "spotify"
MANIFEST_VERSION = 1
MANIFEST_FILE = "_manifest.json"
ENTITIES = ("new_releases", "albums", "album_tracks", "tracks", "artists")


def format_timestamp(moment: datetime) -> str:
    """``2026-11-24T05:00:12.345678Z``: UTC, microseconds, ``Z`` as in the manifest example."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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

    def to_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "request_url": self.request_url,
            "fetched_at": self.fetched_at,
            "items": self.items,
        }


class RawWriter:
    """Stores parts for one run and, once every part is stored, the manifest."""

    def __init__(
        self,
        storage: Storage,
        container: str,
        ingest_date: date,
        run_id: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._storage = storage
        self.container = container
        self.ingest_date = ingest_date
        self.run_id = run_id
        self._now = now
        self._parts: list[PartRecord] = []
        self._next_index: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._manifest_written = False

    @property
    def parts(self) -> tuple[PartRecord, ...]:
        return tuple(self._parts)

    @property
    def counts(self) -> dict[str, int]:
        """Items stored per entity (in first-written order)."""
        return dict(self._counts)

    @property
    def manifest_path(self) -> str:
        return manifest_path(self.ingest_date, self.run_id)

    def clear_previous_attempt(self) -> int:
        """Delete this run's manifest and parts left by an earlier attempt of the same run id.

        ADF retries an activity with the same run id; a shorter retry would otherwise leave parts
        that no manifest lists. The manifest goes first so it never points at parts being replaced.
        Returns how many blobs were deleted.
        """
        deleted = 0
        if self._storage.exists(self.container, self.manifest_path):
            self._storage.delete(self.container, self.manifest_path)
            deleted += 1
        for entity in ENTITIES:
            folder = part_folder(entity, self.ingest_date, self.run_id)
            for blob in list(self._storage.list_blobs(self.container, folder)):
                self._storage.delete(self.container, blob.path)
                deleted += 1
        return deleted

    def write_part(self, entity: str, response: ApiResponse, items: int) -> PartRecord:
        """Store ``response.body`` gzip-compressed as the entity's next part and record it."""
        if self._manifest_written:
            raise RuntimeError("the manifest is already written; parts after it would not be listed")
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        index = self._next_index.get(entity, 0)
        self._next_index[entity] = index + 1
        path = f"{part_folder(entity, self.ingest_date, self.run_id)}part-{index:05d}.json.gz"
        # mtime=0: the same body always gives the same bytes (and sha256), whenever it is stored.
        stored = gzip.compress(response.body, compresslevel=6, mtime=0)
        self._storage.write_bytes(
            self.container,
            path,
            stored,
            metadata={"entity": entity, "items": str(items), "run_id": self.run_id},
        )
        record = PartRecord(
            entity=entity,
            path=path,
            size=len(stored),
            sha256=hashlib.sha256(stored).hexdigest(),
            request_url=response.url,
            fetched_at=format_timestamp(response.fetched_at),
            items=items,
        )
        self._parts.append(record)
        self._counts[entity] = self._counts.get(entity, 0) + items
        return record

    def write_manifest(self) -> str:
        """Write ``_manifest.json`` (after every part: its presence means the run is complete); return its path."""
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "source": SOURCE,
            "ingest_date": self.ingest_date.isoformat(),
            "run_id": self.run_id,
            "created_at": format_timestamp(self._now()),
            "container": self.container,
            "parts": [part.to_json() for part in self._parts],
            "counts": self.counts,
        }
        data = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
        self._storage.write_bytes(self.container, self.manifest_path, data, metadata={"run_id": self.run_id})
        self._manifest_written = True
        return self.manifest_path


__all__ = [
    "ENTITIES",
    "MANIFEST_FILE",
    "PartRecord",
    "RawWriter",
    "format_timestamp",
    "manifest_path",
    "part_folder",
]
