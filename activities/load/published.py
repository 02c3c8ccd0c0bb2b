"""The published-snapshots pointer: which serving snapshots analysts may see.

``_published/snapshots.parquet`` in the serving container lists every snapshot whose tables were all
published (``snapshot_date``, the ``load_run_id`` that published it, ``published_at``). The load rewrites
it (activities.load.publish) after every table of the snapshot is in place and the views are created; a blob is
replaced in one step (Put Blob on Azure, a rename locally), so a failure at any earlier point leaves the previous
list. The all-snapshots views keep only the listed dates and the ``_latest`` views the newest listed one
(activities.load.ddl): writing the pointer switches them all at once.

Before the first pointer existed, the load published table by table with no list: then every date with a
stored schema (``_schemas/<table>/<date>.json``) counts as published.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from activities.common.errors import BlobNotFoundError
from activities.common.storage import Storage
from activities.load.ddl import PUBLISHED_POINTER
from activities.load.errors import SchemaHistoryError
from activities.load.layout import SCHEMAS_FOLDER, schema_date

POINTER_SCHEMA = pa.schema([
    pa.field("snapshot_date", pa.date32(), nullable=False),
    pa.field("load_run_id", pa.string()),
    pa.field("published_at", pa.timestamp("us", tz="UTC")),
])


def read_published(storage: Storage, container: str) -> dict[str, str]:
    """Published snapshot date -> the load run that published it (legacy dates: "")."""
    try:
        data = storage.read_bytes(container, PUBLISHED_POINTER)
    except BlobNotFoundError:
        return dict.fromkeys(_legacy_dates(storage, container), "")
    try:
        table = pq.read_table(io.BytesIO(data), columns=["snapshot_date", "load_run_id"])
    except (pa.ArrowException, OSError, KeyError) as exc:
        raise SchemaHistoryError(
            f"published-snapshots pointer {container}/{PUBLISHED_POINTER} cannot be read: {exc}; restore it from a "
            "previous blob version, or delete it to fall back to the dates under _schemas/"
        ) from exc
    dates = table.column("snapshot_date").to_pylist()
    runs = table.column("load_run_id").to_pylist()
    return {day.isoformat(): run or "" for day, run in zip(dates, runs)}


def pointer_bytes(published: Mapping[str, str], now: datetime) -> bytes:
    """The pointer's Parquet bytes for ``published`` (date -> load run id), sorted by date."""
    dates = sorted(published)
    table = pa.table(
        {
            "snapshot_date": [date.fromisoformat(day) for day in dates],
            "load_run_id": [published[day] or None for day in dates],
            "published_at": [now.astimezone(UTC)] * len(dates),
        },
        schema=POINTER_SCHEMA,
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def write_published(storage: Storage, container: str, published: Mapping[str, str], now: datetime) -> str:
    """Replace the pointer in one write; returns its ``<container>/<path>``."""
    storage.write_bytes(container, PUBLISHED_POINTER, pointer_bytes(published, now))
    return f"{container}/{PUBLISHED_POINTER}"


def ensure_published(storage: Storage, container: str, now: datetime) -> dict[str, str]:
    """``read_published``, first writing the pointer if there is none yet (listing what is published already:
    nothing on a first load, the legacy dates otherwise), so the views created before this load publishes can
    read it. Changes nothing analysts see."""
    published = read_published(storage, container)
    if not storage.exists(container, PUBLISHED_POINTER):
        write_published(storage, container, published, now)
    return published


def _legacy_dates(storage: Storage, container: str) -> set[str]:
    return {
        day for blob in storage.list_blobs(container, f"{SCHEMAS_FOLDER}/")
        if (day := schema_date(blob.path)) is not None
    }


__all__ = ["POINTER_SCHEMA", "ensure_published", "pointer_bytes", "read_published", "write_published"]
