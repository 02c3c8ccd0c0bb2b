"""Publish one table partition so readers never see a half-written one.

Order (readers trust a partition only while its ``_SUCCESS`` exists):

1. delete ``_SUCCESS``: the partition is now "being written";
2. write this run's part files (same names as a previous run's are overwritten in place);
3. delete ``*.parquet`` files of the partition this run did not write (a previous, larger run's
   extra parts), so the partition holds exactly this run's rows;
4. write ``_SUCCESS`` last, naming the run, the row count and the files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from activities.common.storage import Storage
from activities.transform.writer import ParquetFile

SUCCESS_FILE = "_SUCCESS"


@dataclass(frozen=True)
class PublishedPartition:
    """What one publish left in storage; ``files`` are ``<container>/<path>``."""

    table: str
    prefix: str
    rows: int
    files: tuple[str, ...]


def partition_prefix(table: str, snapshot_date: date) -> str:
    """``<table>/snapshot_date=YYYY-MM-DD`` inside the curated container."""
    return f"{table}/snapshot_date={snapshot_date.isoformat()}"


def part_file_name(index: int) -> str:
    """``part-00000.parquet`` for the first file of a partition."""
    return f"part-{index:05d}.parquet"


def publish_partition(
    storage: Storage,
    container: str,
    *,
    table: str,
    snapshot_date: date,
    files: Iterable[ParquetFile],
    run_id: str,
    manifest_blob: str,
) -> PublishedPartition:
    """Replace the partition of ``table`` for ``snapshot_date`` with ``files`` (see module docstring).

    ``files`` may be a lazy iterator: each file is uploaded as soon as it is finished, so only
    one file's bytes are held at a time.
    """
    prefix = partition_prefix(table, snapshot_date)
    success_path = f"{prefix}/{SUCCESS_FILE}"
    storage.delete(container, success_path)

    written: list[str] = []
    rows = 0
    for parquet_file in files:
        path = f"{prefix}/{part_file_name(parquet_file.index)}"
        storage.write_bytes(container, path, parquet_file.data)
        written.append(path)
        rows += parquet_file.rows

    keep = set(written)
    # Listed in full before deleting: deleting while a listing is paged could skip blobs.
    stale = [
        blob.path
        for blob in storage.list_blobs(container, f"{prefix}/")
        # Only files directly in the partition folder; readers glob <partition>/*.parquet.
        if "/" not in blob.path[len(prefix) + 1 :] and blob.path.endswith(".parquet") and blob.path not in keep
    ]
    for path in stale:
        storage.delete(container, path)

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


__all__ = ["SUCCESS_FILE", "PublishedPartition", "part_file_name", "partition_prefix", "publish_partition"]
