"""A curated snapshot as the transform publishes it (every table of activities.transform.schemas, then the
snapshot marker), and the committed factory in the local runner with a persistent local Synapse pool."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from activities.common.storage import LocalFolderStorage
from activities.transform.schemas import TABLES
from factory_deploy.env_config import factory_overrides, global_parameters, load_config, sql_variables
from offline.adf_runner import (
    LocalFactoryRunner,
    RunnerOptions,
    load_factory,
    publish_code_package,
)
from offline.adf_runner.monitor import PipelineRun
from offline.adf_runner.storage_events import StorageWatcher
from offline.synapse_duckdb import LocalServerlessPool
from offline.synapse_duckdb.engine import data_sources_from_setup

REPO = Path(__file__).resolve().parents[2]
SETUP = "\n".join(p.read_text() for p in sorted((REPO / "synapse" / "setup").glob("*.sql")))
ROWS = 3


def value(field: pa.Field, index: int) -> Any:
    """A deterministic value of the field's type for row ``index``."""
    kind = field.type
    types = pa.types
    if types.is_string(kind) or types.is_large_string(kind):
        return f"{field.name}-{index}"
    if types.is_boolean(kind):
        return index % 2 == 0
    if types.is_integer(kind):
        return index
    if types.is_floating(kind):
        return index * 1.5
    if types.is_decimal(kind):
        return Decimal(index)
    if types.is_date(kind):
        return date(2026, 1, 1) + timedelta(days=index)
    if types.is_timestamp(kind):
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=index)
    if types.is_list(kind):
        return [value(pa.field("item", kind.value_type), index)]
    raise ValueError(f"no test value for {field.name} of type {kind}")


def table_rows(table: str, snapshot: str, rows: int = ROWS) -> list[dict[str, Any]]:
    schema = TABLES[table]
    records = [{f.name: value(f, i) for f in schema} for i in range(rows)]
    for record in records:
        record["snapshot_date"] = date.fromisoformat(snapshot)
    return records


@dataclass
class Lake:
    root: Path  # storage root: <root>/<container>/<path>
    storage: LocalFolderStorage

    def write_table(self, table: str, snapshot: str, schema: pa.Schema | None = None,
                    change: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        records = table_rows(table, snapshot)
        if change is not None:
            change(records)
        folder = self.root / "curated" / table / f"snapshot_date={snapshot}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(records, schema=schema or TABLES[table]), folder / "part-00000.parquet",
                       compression="zstd")
        (folder / "_SUCCESS").write_text(json.dumps({"table": table, "rows": len(records)}))

    def write_snapshot(
        self, snapshot: str, overrides: Mapping[str, tuple[pa.Schema, Callable[[list[dict[str, Any]]], None]]] | None = None
    ) -> None:
        """Every curated table (``overrides``: table -> (schema, change of the rows)), then the marker."""
        overrides = overrides or {}
        for table in TABLES:
            schema, change = overrides.get(table, (None, None))
            self.write_table(table, snapshot, schema, change)

    def write_marker(self, snapshot: str) -> None:
        marker = {
            "run_id": f"transform-{snapshot}",
            "manifest": f"raw/spotify/manifests/ingest_date={snapshot}/_manifest.json",
            "snapshot_date": snapshot,
            "tables": {t: {"rows": ROWS, "files": []} for t in TABLES},
        }
        self.storage.write_bytes("curated", f"_snapshots/snapshot_date={snapshot}/_SUCCESS", json.dumps(marker).encode())


@dataclass
class LoadHarness:
    lake: Lake
    runner: LocalFactoryRunner
    pool: LocalServerlessPool

    def land(self, snapshot: str, overrides: Any = None) -> list[PipelineRun]:
        """Publish a curated snapshot, then its marker; run what the storage events fire."""
        self.lake.write_snapshot(snapshot, overrides)
        watcher = StorageWatcher(self.lake.storage, ["curated"])
        watcher.snapshot()
        self.lake.write_marker(snapshot)
        return self.runner.fire_blob_events(watcher.changes())

    def query(self, sql: str) -> list[dict[str, Any]]:
        (rows,) = self.pool.execute_script(sql).result_sets
        return rows


def load_harness(tmp_path: Path, parameters: Mapping[str, Any] | None = None) -> LoadHarness:
    """The committed factory with the local config; ``parameters`` overrides global parameters (e.g. purviewEndpoint)."""
    config = load_config("local")
    root = tmp_path / "storage"
    root.mkdir()
    storage = LocalFolderStorage(root)
    overrides = factory_overrides(config)
    overrides["Ls_Blob_Storage"] = {"typeProperties.serviceEndpoint": root.as_uri()}
    overrides["Ls_Batch_Storage"] = {"typeProperties": {"serviceEndpoint": root.as_uri()}}
    parameters = {**global_parameters(config), **(parameters or {})}
    parameters["activitiesFolderPath"] = publish_code_package(storage, REPO / "activities", parameters["activitiesFolderPath"])
    factory = load_factory(REPO / "adf", overrides, parameters)
    pool = LocalServerlessPool(
        root, data_sources_from_setup(SETUP, sql_variables(config)), database=tmp_path / "work" / "synapse" / "spotify.duckdb"
    )
    pool.apply_setup(SETUP)
    runner = LocalFactoryRunner(
        factory, storage, tmp_path / "work", sql_opener=lambda ls, f: pool, options=RunnerOptions(retry_interval_cap_seconds=0)
    )
    return LoadHarness(Lake(root, storage), runner, pool)
