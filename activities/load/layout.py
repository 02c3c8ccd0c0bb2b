"""Where the load stage reads and writes, inside the serving container (see docs/architecture.md)."""

from __future__ import annotations

import re

STAGING_FOLDER = "_staging"
SCHEMAS_FOLDER = "_schemas"
LINEAGE_FOLDER = "lineage"
PARTITION_KEY = "snapshot_date"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def partition_prefix(table: str, snapshot_date: str) -> str:
    """``<table>/snapshot_date=YYYY-MM-DD``: a published serving partition."""
    return f"{table}/{PARTITION_KEY}={snapshot_date}"


def part_file_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def schema_path(table: str, snapshot_date: str) -> str:
    """``_schemas/<table>/<snapshot_date>.json``: the schema inferred when that snapshot was published."""
    return f"{SCHEMAS_FOLDER}/{table}/{snapshot_date}.json"


def schema_date(path: str) -> str | None:
    """The snapshot date of a ``_schemas/<table>/<date>.json`` path, None for any other blob."""
    name = path.rsplit("/", 1)[-1]
    stem = name[: -len(".json")] if name.endswith(".json") else ""
    return stem if _DATE.match(stem) else None


def staging_folder(run_id: str) -> str:
    """``_staging/run_id=<load run id>``: where the data flow writes before the schema check publishes."""
    return f"{STAGING_FOLDER}/run_id={run_id}"


def lineage_path(run_id: str) -> str:
    return f"{LINEAGE_FOLDER}/{run_id}.json"


def is_date(text: str) -> bool:
    return bool(_DATE.match(text))


__all__ = [
    "LINEAGE_FOLDER", "PARTITION_KEY", "SCHEMAS_FOLDER", "STAGING_FOLDER", "is_date", "lineage_path",
    "part_file_name", "partition_prefix", "schema_date", "schema_path", "staging_folder",
]
