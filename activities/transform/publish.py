"""Stage, then publish, so readers never see half of a run and a killed run leaves nothing half done.

1. **Stage**: every finished Parquet file is uploaded under ``<curated>/_staging/<run id>/<zone>/<table>/…``
   (zone ``curated`` or ``quarantine``). Nothing readers look at has changed yet.
2. **Publish** (only when every table is staged): delete the snapshot marker; per table partition:
   delete its ``_SUCCESS``, copy its staged files in (same names as a previous run's are
   overwritten), delete part files of the partition this run did not write, write ``_SUCCESS``
   last (JSON naming the run, rows and files); the same for quarantine partitions (a table
   without bad records this run has its old quarantine partition removed).
3. Write the **snapshot marker** ``_snapshots/snapshot_date=…/_SUCCESS`` last of all: the load
   pipeline fires on it. Then the **processed marker** (``_processed/<sha>.json``) that makes a
   duplicate storage event a no-op, then delete the staging prefix.

A run killed anywhere (kill -9) leaves either the previous complete snapshot or a partition
without ``_SUCCESS``, and no snapshot marker; rerunning the same manifest redoes every step
and ends with exactly what an uninterrupted run writes (staging is cleared first).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from activities.common.storage import Storage
from activities.transform.writer import LocalFile, part_file_name

SUCCESS_FILE = "_SUCCESS"
STAGING_ROOT = "_staging"
SNAPSHOTS_ROOT = "_snapshots"
PROCESSED_ROOT = "_processed"


@dataclass(frozen=True)
class StagedFile:
    """A file uploaded to staging: where it is, what it becomes in its partition, its rows."""

    staged_path: str
    name: str
    rows: int


@dataclass(frozen=True)
class PublishedPartition:
    """What one publish left in storage; ``files`` are ``<container>/<path>``."""

    table: str
    prefix: str
    rows: int
    files: tuple[str, ...]


def partition_prefix(table: str, snapshot_date: date) -> str:
    """``<table>/snapshot_date=YYYY-MM-DD`` inside its container."""
    return f"{table}/snapshot_date={snapshot_date.isoformat()}"


def staging_prefix(run_id: str) -> str:
    """``_staging/<run id>`` inside the curated container."""
    return f"{STAGING_ROOT}/{run_id}"


def snapshot_marker_path(snapshot_date: date) -> str:
    """``_snapshots/snapshot_date=YYYY-MM-DD/_SUCCESS`` inside the curated container."""
    return f"{SNAPSHOTS_ROOT}/snapshot_date={snapshot_date.isoformat()}/{SUCCESS_FILE}"


def processed_marker_path(key: str) -> str:
    """``_processed/<key>.json`` inside the curated container."""
    return f"{PROCESSED_ROOT}/{key}.json"


def delete_prefix(storage: Storage, container: str, prefix: str) -> int:
    """Delete every blob under ``prefix`` (listed in full first: deleting while paging could skip blobs)."""
    paths = [blob.path for blob in storage.list_blobs(container, prefix)]
    for path in paths:
        storage.delete(container, path)
    return len(paths)


def stage_files(
    storage: Storage, container: str, prefix: str, table: str, snapshot_date: date, files: Iterable[LocalFile]
) -> list[StagedFile]:
    """Upload a table's local files to ``<prefix>/<table>/snapshot_date=…/``, one file in memory at a time."""
    staged: list[StagedFile] = []
    for local in files:
        name = part_file_name(local.index)
        path = f"{prefix}/{partition_prefix(table, snapshot_date)}/{name}"
        storage.write_bytes(container, path, local.path.read_bytes())
        local.path.unlink()
        staged.append(StagedFile(path, name, local.rows))
    return staged


def _partition_files(storage: Storage, container: str, prefix: str) -> list[str]:
    # Only files directly in the partition folder; readers glob <partition>/*.parquet.
    return [
        blob.path
        for blob in storage.list_blobs(container, f"{prefix}/")
        if "/" not in blob.path[len(prefix) + 1 :]
    ]


def publish_partition(
    storage: Storage,
    *,
    staging_container: str,
    container: str,
    table: str,
    snapshot_date: date,
    files: list[StagedFile],
    run_id: str,
    manifest_blob: str,
    after_parts: Any = None,
) -> PublishedPartition:
    """Replace the partition of ``table`` for ``snapshot_date`` with the staged ``files`` (module docstring, 2.)."""
    prefix = partition_prefix(table, snapshot_date)
    success_path = f"{prefix}/{SUCCESS_FILE}"
    storage.delete(container, success_path)
    written: list[str] = []
    for staged in files:
        path = f"{prefix}/{staged.name}"
        storage.write_bytes(container, path, storage.read_bytes(staging_container, staged.staged_path))
        written.append(path)
    if after_parts is not None:
        after_parts()
    keep = set(written)
    for path in _partition_files(storage, container, prefix):
        if path.endswith(".parquet") and path not in keep:
            storage.delete(container, path)
    rows = sum(f.rows for f in files)
    files_out = tuple(f"{container}/{path}" for path in written)
    body = {
        "table": table,
        "snapshot_date": snapshot_date.isoformat(),
        "run_id": run_id,
        "manifest": manifest_blob,
        "rows": rows,
        "files": list(files_out),
    }
    storage.write_bytes(container, success_path, json.dumps(body, indent=2).encode("utf-8"))
    return PublishedPartition(table=table, prefix=prefix, rows=rows, files=files_out)


def clear_partition(storage: Storage, container: str, table: str, snapshot_date: date) -> int:
    """Remove a partition a previous run published and this run has nothing for (``_SUCCESS`` first)."""
    prefix = partition_prefix(table, snapshot_date)
    existing = _partition_files(storage, container, prefix)
    success = f"{prefix}/{SUCCESS_FILE}"
    if success in existing:
        storage.delete(container, success)
    for path in existing:
        if path != success and path.endswith(".parquet"):
            storage.delete(container, path)
    return len(existing)


def write_json(storage: Storage, container: str, path: str, body: Any) -> None:
    """A marker: deterministic JSON (sorted keys), so reruns write the same bytes."""
    storage.write_bytes(container, path, json.dumps(body, indent=2, sort_keys=True).encode("utf-8"))


__all__ = [
    "PROCESSED_ROOT",
    "SNAPSHOTS_ROOT",
    "STAGING_ROOT",
    "SUCCESS_FILE",
    "PublishedPartition",
    "StagedFile",
    "clear_partition",
    "delete_prefix",
    "partition_prefix",
    "processed_marker_path",
    "publish_partition",
    "snapshot_marker_path",
    "stage_files",
    "staging_prefix",
    "write_json",
]
