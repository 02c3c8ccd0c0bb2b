"""``python -m activities.load.check``: infer, classify and publish the serving schemas of one snapshot.

The data flow has written every table of the snapshot to ``<stagingFolder>/<table>/snapshot_date=<date>/``
in the serving container. For each staged table this activity

1. infers the schema from the staged Parquet footers (every file must agree);
2. compares it with the schema stored when the table was last published (the latest
   ``_schemas/<table>/<date>.json`` with date <= this snapshot) and classifies it (activities.load.classify);

then, only if no table is ``breaking``, publishes every table: staged files become
``<table>/snapshot_date=<date>/part-NNNNN.parquet`` (a previous run's extra parts deleted), the schema is
stored as ``_schemas/<table>/<date>.json``, and the staging folder is emptied. On a breaking change it fails
naming each table and column, and publishes nothing, so serving and its views keep the last good snapshot.

It does not publish the snapshot to analysts: that is the pointer (activities.load.published), written by the
next step, ``python -m activities.load.publish``, once the views below exist. A failure anywhere before leaves
analysts on the previous whole snapshot. "Previous schema" means that of the latest *published* snapshot: a
half-published one never defines a view.

customOutput ``views`` holds the DDL (activities.load.ddl) of every table whose all-snapshots view must be
created or altered: new tables and additive changes in the newest snapshot, and tables whose previous load
stopped before recording its lineage (its view refresh may have failed). ``latestViews`` holds the
``<table>_latest`` view of every table when this snapshot is at least as new as every published one: it shows the
table's previous snapshot until the pointer names this one, so the pipeline creates them all before the pointer
is written and the pointer switches them together. The pipeline's Script activities run both.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from activities.common.context import ActivityContext
from activities.common.entrypoint import run_activity
from activities.common.logs import get_logger
from activities.common.storage import Storage
from activities.load.arrow_types import parquet_footer, schema_from_arrow
from activities.load.classify import BREAKING, Classification, classify
from activities.load.config import LoadConfig
from activities.load.ddl import latest_view_ddl, latest_view_name, view_ddl, view_name
from activities.load.errors import (
    BreakingSchemaChangeError,
    SchemaHistoryError,
    StagingError,
)
from activities.load.generate import DATAFLOW_NAME
from activities.load.layout import (
    PARTITION_KEY,
    SCHEMAS_FOLDER,
    lineage_path,
    part_file_name,
    partition_prefix,
    schema_date,
    schema_path,
)
from activities.load.published import ensure_published
from activities.load.schema import SchemaFormatError, TableSchema
from activities.load.storage_io import marker_tables, open_load_storage, read_marker

log = get_logger("activities.load.check")


@dataclass(frozen=True)
class StagedTable:
    table: str
    files: tuple[str, ...]  # paths in the serving container
    schema: TableSchema
    rows: int


@dataclass(frozen=True)
class PreviousSchema:
    schema: TableSchema | None
    path: str | None  # serving-container path of the stored schema compared with
    newer_exists: bool  # a later snapshot has been published: it, not this one, defines the view
    load_run_id: str | None = None  # the load that stored it


def staged_files(storage: Storage, config: LoadConfig) -> dict[str, list[str]]:
    """Parquet files the data flow staged, by table (``<staging>/<table>/snapshot_date=<date>/<file>``)."""
    prefix = f"{config.staging_folder}/"
    partition = f"{PARTITION_KEY}={config.snapshot_date}"
    found: dict[str, list[str]] = defaultdict(list)
    for blob in storage.list_blobs(config.serving_container, prefix):
        parts = blob.path[len(prefix):].split("/")
        name = parts[-1]
        if name.startswith(("_", ".")) or not name.endswith(".parquet"):
            continue  # Spark's _SUCCESS / .crc files
        if len(parts) != 3 or parts[1] != partition:
            raise StagingError(
                f"unexpected staged file {config.serving_container}/{blob.path}: the data flow must write "
                f"<stagingFolder>/<table>/{partition}/<file>.parquet"
            )
        found[parts[0]].append(blob.path)
    return {table: sorted(paths) for table, paths in sorted(found.items())}


def infer_table(storage: Storage, container: str, table: str, files: list[str]) -> StagedTable:
    """The table's schema from its files' footers, and its row count."""
    schema: TableSchema | None = None
    first = ""
    rows = 0
    for path in files:
        arrow_schema, count = parquet_footer(storage.read_bytes(container, path))
        current = schema_from_arrow(table, arrow_schema)
        rows += count
        if schema is None:
            schema, first = current, path
        elif current != schema:
            raise StagingError(
                f"staged files of table `{table}` disagree on the schema: {container}/{first} has "
                f"{_columns(schema)}, {container}/{path} has {_columns(current)}"
            )
    assert schema is not None
    return StagedTable(table, tuple(files), schema, rows)


def previous_schema(
    storage: Storage, container: str, table: str, snapshot_date: str, published: Collection[str]
) -> PreviousSchema:
    """The schema stored with the latest published snapshot <= ``snapshot_date`` that has this table."""
    dates = sorted(
        date for blob in storage.list_blobs(container, f"{SCHEMAS_FOLDER}/{table}/")
        if (date := schema_date(blob.path)) is not None and date in published
    )
    older = [date for date in dates if date <= snapshot_date]
    newer = any(date > snapshot_date for date in dates)
    if not older:
        return PreviousSchema(None, None, newer)
    path = schema_path(table, older[-1])
    where = f"{container}/{path}"
    try:
        document = json.loads(storage.read_bytes(container, path).decode("utf-8"))
        run_id = document.get("load_run_id") if isinstance(document, dict) else None
        return PreviousSchema(TableSchema.from_json(document, where), path, newer, run_id if isinstance(run_id, str) else None)
    except (UnicodeDecodeError, json.JSONDecodeError, SchemaFormatError) as exc:
        raise SchemaHistoryError(f"stored schema {where} cannot be read: {exc}; fix or delete it") from exc


def publish_table(
    storage: Storage, config: LoadConfig, staged: StagedTable, classification: Classification, compared_with: str | None
) -> dict[str, Any]:
    """Move a staged table into its serving partition and store its schema; return its customOutput entry."""
    container = config.serving_container
    prefix = partition_prefix(staged.table, config.snapshot_date)
    written = []
    for index, path in enumerate(staged.files):
        target = f"{prefix}/{part_file_name(index)}"
        storage.write_bytes(container, target, storage.read_bytes(container, path))
        written.append(target)
    keep = set(written)
    stale = [
        blob.path for blob in storage.list_blobs(container, f"{prefix}/")
        if "/" not in blob.path[len(prefix) + 1:] and blob.path.endswith(".parquet") and blob.path not in keep
    ]
    for path in stale:
        storage.delete(container, path)
    files = [f"{container}/{path}" for path in written]
    stored = schema_path(staged.table, config.snapshot_date)
    document = staged.schema.to_json(
        snapshot_date=config.snapshot_date,
        rows=staged.rows,
        files=files,
        load_run_id=config.run_id,
        compared_with=f"{container}/{compared_with}" if compared_with else None,
        classification=classification.kind,
        changes=[change.to_json() for change in classification.changes],
    )
    storage.write_bytes(container, stored, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    for path in staged.files:
        storage.delete(container, path)
    return {
        "classification": classification.kind,
        "changes": [change.to_json() for change in classification.changes],
        "rows": staged.rows,
        "files": files,
        "schema": f"{container}/{stored}",
        "comparedWith": f"{container}/{compared_with}" if compared_with else None,
    }


def check_and_publish(context: ActivityContext) -> dict[str, Any]:
    """The activity's ``main``; returns the customOutput."""
    config = LoadConfig.from_context(context)
    storage = open_load_storage(context, config)
    listed = marker_tables(read_marker(storage, config))
    staged_paths = staged_files(storage, config)
    missing = sorted(set(listed) - set(staged_paths))
    if missing:
        raise StagingError(
            f"the curated snapshot marker {config.marker_blob} lists table(s) {', '.join(missing)} but the data flow "
            f"staged no file for them under {config.staging_blob}: add them to {DATAFLOW_NAME} "
            "(python -m activities.load.generate)"
        )
    if not staged_paths:
        raise StagingError(f"the data flow staged nothing under {config.staging_blob} for snapshot {config.snapshot_date}")

    published = ensure_published(storage, config.serving_container, datetime.now(UTC))
    checked: list[tuple[StagedTable, Classification, PreviousSchema]] = []
    for table, paths in staged_paths.items():
        staged = infer_table(storage, config.serving_container, table, paths)
        previous = previous_schema(storage, config.serving_container, table, config.snapshot_date, published)
        classification = classify(previous.schema, staged.schema)
        log.info("table %s: %d rows, schema %s", table, staged.rows, classification.describe())
        checked.append((staged, classification, previous))

    breaking = [classification for _, classification, _ in checked if classification.kind == BREAKING]
    if breaking:
        raise BreakingSchemaChangeError(config.snapshot_date, breaking, config.staging_blob)

    tables: dict[str, Any] = {}
    views: list[dict[str, str]] = []
    for staged, classification, previous in checked:
        tables[staged.table] = publish_table(storage, config, staged, classification, previous.path)
        if (classification.regenerates_view or _unfinished(storage, config, previous)) and not previous.newer_exists:
            views.append({
                "table": staged.table,
                "view": view_name(staged.table, config.view_schema),
                "classification": classification.kind,
                "ddl": view_ddl(staged.schema, view_schema=config.view_schema, data_source=config.view_data_source),
            })
        log.info("published %s/%s (%s)", config.serving_container,
                 partition_prefix(staged.table, config.snapshot_date), classification.kind)

    # Not published yet: activities.load.publish adds the snapshot to the pointer once these views exist.
    newest = all(day <= config.snapshot_date for day in published)
    latest_views = [
        {
            "table": staged.table,
            "view": latest_view_name(staged.table, config.view_schema),
            "snapshotDate": config.snapshot_date,
            "ddl": latest_view_ddl(staged.schema, config.snapshot_date, _shown_until_now(previous),
                                   view_schema=config.view_schema, data_source=config.view_data_source),
        }
        for staged, _, previous in checked
    ] if newest else []
    return {
        "snapshotDate": config.snapshot_date,
        "stagingFolder": config.staging_blob,
        "tables": tables,
        "views": views,
        "latestViews": latest_views,
    }


def _shown_until_now(previous: PreviousSchema) -> str | None:
    """The snapshot the table's ``_latest`` view shows before this load: its latest published one."""
    return schema_date(previous.path) if previous.path else None


def _unfinished(storage: Storage, config: LoadConfig, previous: PreviousSchema) -> bool:
    """Whether the load that stored the previous schema stopped before its lineage (written after the views were
    refreshed): its views may never have been created or altered, so this load regenerates them."""
    if previous.schema is None or previous.load_run_id is None:
        return False
    return not storage.exists(config.serving_container, lineage_path(previous.load_run_id))


def _columns(schema: TableSchema) -> str:
    return "(" + ", ".join(f"{c.name} {c.type}" for c in schema.columns) + ")"


__all__ = ["check_and_publish", "infer_table", "previous_schema", "publish_table", "staged_files"]

if __name__ == "__main__":
    run_activity("check serving schemas", check_and_publish)
