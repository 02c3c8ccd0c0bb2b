"""What killed or failed loads leave in the serving container, and its safe removal.

Three kinds of leftovers:

- ``_staging/run_id=<other run>/``: a data flow's output that no schema check published (its run failed
  or was killed);
- partitions and stored schemas of a snapshot that is not in the published-snapshots pointer (a load
  stopped half-way through publishing it; the views never showed it);
- abandoned writes (locally ``.tmp-*`` files of a killed writer, e.g. beside ``_schemas/``).

Safe because PL_Load_Spotify runs with ``concurrency: 1``: while the schema check of one run executes, no
other load run is writing in the serving container (ADF queues further runs), so nothing removed here can
belong to an in-flight run. Called after this run's pointer is written: its own snapshot is published by then.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from activities.common.storage import Storage
from activities.load.layout import PARTITION_KEY, SCHEMAS_FOLDER, STAGING_FOLDER, schema_date

# Top-level folders of the serving container that are not tables.
_NOT_TABLES = frozenset({STAGING_FOLDER, SCHEMAS_FOLDER, "_published", "lineage"})


@dataclass(frozen=True)
class RemovedOrphans:
    staging: tuple[str, ...]  # <container>/_staging/run_id=<run> folders
    unpublished: tuple[str, ...]  # <container>/<table>/snapshot_date=<date> folders and their stored schemas
    abandoned_writes: tuple[str, ...]  # <container>/<path> of each removed temporary file

    def to_json(self) -> dict[str, list[str]]:
        return {"staging": list(self.staging), "unpublished": list(self.unpublished),
                "abandonedWrites": list(self.abandoned_writes)}


def remove_orphans(
    storage: Storage, container: str, *, own_staging: str, published: Collection[str], now: datetime
) -> RemovedOrphans:
    """Remove every leftover of other load runs (see the module doc); ``own_staging`` is this run's folder."""
    staging: set[str] = set()
    unpublished: set[str] = set()
    for blob in storage.list_blobs(container):
        parts = blob.path.split("/")
        if parts[0] == STAGING_FOLDER and len(parts) > 2:
            folder = "/".join(parts[:2])
            if folder != own_staging:
                storage.delete(container, blob.path)
                staging.add(f"{container}/{folder}")
        elif parts[0] == SCHEMAS_FOLDER and len(parts) == 3:
            day = schema_date(blob.path)
            if day is not None and day not in published:
                storage.delete(container, blob.path)
                unpublished.add(f"{container}/{blob.path}")
        elif parts[0] not in _NOT_TABLES and len(parts) > 2 and parts[1].startswith(f"{PARTITION_KEY}="):
            day = parts[1][len(PARTITION_KEY) + 1:]
            if day not in published:
                storage.delete(container, blob.path)
                unpublished.add(f"{container}/{parts[0]}/{parts[1]}")
    abandoned = storage.delete_abandoned_writes(container, "", before=now)
    return RemovedOrphans(
        tuple(sorted(staging)), tuple(sorted(unpublished)), tuple(f"{container}/{path}" for path in abandoned)
    )


__all__ = ["RemovedOrphans", "remove_orphans"]
