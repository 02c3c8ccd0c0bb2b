"""Storage events without Event Grid: snapshot the watched containers before a pipeline run, diff after it.

A blob that is new, or whose size or last-modified time changed, is one BlobCreated event (Azure raises
BlobCreated for overwrites too). Events come in (container, path) order and each is reported once: the
watcher remembers (container, path, size, last_modified) of every event it has reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from activities.common.storage import Storage

__all__ = ["BLOB_CREATED", "BlobEvent", "StorageWatcher"]

BLOB_CREATED = "Microsoft.Storage.BlobCreated"


@dataclass(frozen=True)
class BlobEvent:
    container: str
    path: str
    size: int
    last_modified: datetime
    event_type: str = BLOB_CREATED

    @property
    def key(self) -> tuple[str, str, int, datetime]:
        return (self.container, self.path, self.size, self.last_modified)


class StorageWatcher:
    def __init__(self, storage: Storage, containers: Iterable[str]) -> None:
        self.storage = storage
        self.containers = tuple(sorted(set(containers)))
        self._known: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._reported: set[tuple[str, str, int, datetime]] = set()

    def _listing(self) -> dict[tuple[str, str], tuple[int, datetime]]:
        return {
            (blob.container, blob.path): (blob.size, blob.last_modified)
            for container in self.containers
            for blob in self.storage.list_blobs(container)
        }

    def snapshot(self) -> None:
        """Remember what exists now; only later changes become events."""
        self._known = self._listing()

    def changes(self) -> list[BlobEvent]:
        """BlobCreated events for blobs created or changed since the last snapshot/changes call."""
        current = self._listing()
        events = []
        for (container, path), (size, modified) in sorted(current.items()):
            if self._known.get((container, path)) == (size, modified):
                continue
            event = BlobEvent(container, path, size, modified)
            if event.key in self._reported:
                continue
            self._reported.add(event.key)
            events.append(event)
        self._known = current
        return events
