"""ExecuteDataFlow and Script in the local runner: a mapping data flow's script run on DuckDB over the
storage folder (tests/fixtures/adf_dataflow), and T-SQL batches on an offline.synapse_duckdb pool."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from activities.load.ddl import view_ddl
from activities.load.published import write_published
from activities.load.schema import Column, TableSchema
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.dataflow.script import parse_script
from offline.adf_runner.errors import (
    RunnerError,
    UnsupportedDataFlowFeatureError,
    UnsupportedLinkedServiceError,
)
from offline.adf_runner.monitor import ActivityRun, PipelineRun
from offline.synapse_duckdb import LocalServerlessPool

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adf_dataflow"
DAY = "2026-11-24"


def _runner(tmp_path: Path, pool: LocalServerlessPool | None = None) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    root.mkdir(exist_ok=True)
    factory = load_factory(FIXTURES, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    opener = (lambda linked_service, factory: pool) if pool is not None else None
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", sql_opener=opener,
                              options=RunnerOptions(), watched_containers=())


def _run(runner: LocalFactoryRunner, name: str, parameters: dict[str, Any] | None = None) -> tuple[PipelineRun, dict[str, ActivityRun]]:
    (run,) = runner.run_pipeline(name, parameters).runs
    return run, {a.activityName: a for a in runner.monitor.activity_runs(run.runId)}


def _write_input_tracks(root: Path) -> None:
    folder = root / "storage" / "input" / "tracks" / f"day={DAY}"
    folder.mkdir(parents=True)
    table = pa.table({
        "track_id": ["t1", "t2", "t3", None],
        "name": [" One ", None, "three", "no key"],
        "popularity": pa.array([50, 30, 5, 90], pa.int16()),
        "dropped": ["x", None, "y", "z"],
        "tempo": [1.0, 2.0, 3.0, 4.0],
    })
    pq.write_table(table, folder / "part-00000.parquet")
    stale = root / "storage" / "output" / "tracks" / f"day={DAY}"
    stale.mkdir(parents=True)
    (stale / "old.parquet").write_bytes(b"stale")


def test_when_the_data_flow_runs_then_filter_derive_select_shape_the_rows_the_sink_writes(tmp_path: Path) -> None:
    _write_input_tracks(tmp_path)
    runner = _runner(tmp_path)

    run, activities = _run(runner, "PL_Shape_Tracks", {"day": DAY})

    assert run.status == "Succeeded", run.message
    out = tmp_path / "storage" / "output" / "tracks" / f"day={DAY}"
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]  # truncate removed old.parquet
    table = pq.read_table(out / "part-00000.parquet")
    assert table.to_pylist() == [
        {"id": "t1", "popularity": 50, "name": "ONE", "tempo": 1.0, "source": "local/50"},
        {"id": "t2", "popularity": 30, "name": "n/a", "tempo": 2.0, "source": "local/30"},
    ]
    assert table.schema.field("popularity").type == pa.int32()  # the projection's `integer`
    assert all(field.nullable for field in table.schema)  # as Spark writes Parquet
    metrics = activities["Run data flow"].output["runStatus"]["metrics"]
    assert (metrics["Output"]["rowsWritten"], metrics["Output"]["sources"]) == (2, {"Tracks": {"rowsRead": 4}})


def test_when_the_machine_is_not_on_utc_then_timestamps_keep_their_utc_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_input_tracks(tmp_path)
    folder = tmp_path / "storage" / "input" / "tracks" / f"day={DAY}"
    table = pq.read_table(folder / "part-00000.parquet")
    stamps = pa.array([datetime(2026, 11, 24, 5, tzinfo=UTC)] * table.num_rows, pa.timestamp("us", tz="UTC"))
    pq.write_table(table.append_column("played_at", stamps), folder / "part-00000.parquet")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        run, _ = _run(_runner(tmp_path), "PL_Shape_Tracks", {"day": DAY})
    finally:
        monkeypatch.undo()
        time.tzset()

    assert run.status == "Succeeded", run.message
    out = pq.read_table(tmp_path / "storage" / "output" / "tracks" / f"day={DAY}" / "part-00000.parquet")
    assert out.schema.field("played_at").type == pa.timestamp("us", tz="UTC")
    assert out.column("played_at")[0].as_py() == datetime(2026, 11, 24, 5, tzinfo=UTC)


def test_when_a_source_finds_no_files_and_may_not_then_the_activity_fails_naming_the_path(tmp_path: Path) -> None:
    run, activities = _run(_runner(tmp_path), "PL_Missing_Files")

    assert run.status == "Failed"
    error = activities["Run data flow"].error
    assert error is not None and error.errorCode == "DFExecutorUserError"
    assert "transformation `Nothing`: no files found at input/nothing/*.parquet" in error.message


def test_when_a_transformation_is_not_implemented_then_the_runner_refuses_the_pipeline_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDataFlowFeatureError) as raised:
        _runner(tmp_path).run_pipeline("PL_Aggregate")

    assert str(raised.value) == (
        "data flow `Df_Aggregate` (transformation `PerAlbum`): transformation `aggregate` (Aggregate) is not supported by "
        "the local runner; supported: source, select, derive, filter, sink"
    )


def test_when_a_function_is_not_implemented_then_the_runner_refuses_the_pipeline_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedDataFlowFeatureError, match=r"transformation `Hashed`\): function `sha2` is not supported"):
        _runner(tmp_path).run_pipeline("PL_Unknown_Function")


def test_when_parsing_a_script_then_parameters_options_and_assignments_are_read() -> None:
    script = parse_script(
        "parameters{\n\td as string ('x'),\n\tn as decimal(10,2)\n}\n"
        "source(output({odd name} as string[]), wildcardPaths:['a/*.parquet']) ~> S\n"
        "S derive(b = $d + {odd name}[1]) ~> T",
        "test",
    )

    assert [(p.name, str(p.type)) for p in script.parameters] == [("d", "string"), ("n", "decimal(10,2)")]
    (source, derive) = script.transformations
    assert (source.kind, source.inputs, sorted(source.options())) == ("source", (), ["wildcardPaths"])
    assert (derive.kind, derive.inputs, derive.name) == ("derive", ("S",), "T")


def _serving_pool(tmp_path: Path) -> LocalServerlessPool:
    folder = tmp_path / "storage" / "serving" / "tracks" / f"snapshot_date={DAY}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"track_id": ["t1", "t2"]}), folder / "part-00000.parquet")
    # The views show only the snapshots the load's pointer lists (activities.load.published).
    write_published(LocalFolderStorage(tmp_path / "storage"), "serving", {DAY: "load-1"}, datetime(2026, 11, 24, tzinfo=UTC))
    pool = LocalServerlessPool(tmp_path / "storage", {"spotify_serving": "serving"}, database=tmp_path / "sql" / "db.duckdb")
    pool.apply_setup("EXEC ('CREATE SCHEMA spotify')")
    return pool


def test_when_a_script_activity_creates_a_view_then_a_later_script_queries_it(tmp_path: Path) -> None:
    pool = _serving_pool(tmp_path)
    ddl = view_ddl(TableSchema("tracks", (Column("track_id", "string"),)))

    run, activities = _run(_runner(tmp_path, pool), "PL_Script_Views", {"views": [ddl]})

    assert run.status == "Succeeded", run.message
    assert activities["Count tracks"].output["resultSets"] == [{"rowCount": 1, "rows": [{"tracks": 2}]}]


def test_when_a_script_fails_on_the_sql_engine_then_the_activity_fails_with_its_message(tmp_path: Path) -> None:
    run, activities = _run(_runner(tmp_path, _serving_pool(tmp_path)), "PL_Script_Broken")

    assert run.status == "Failed"
    error = activities["Broken query"].error
    assert error is not None and "scripts[0] failed on `Ls_Synapse`" in error.message and "missing" in error.message


def test_when_a_script_targets_another_linked_service_type_then_the_runner_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedLinkedServiceError, match=r"linked service `Ls_Sql_Database` is of type `AzureSqlDatabase`"):
        _runner(tmp_path).run_pipeline("PL_Script_Sql_Database")


def test_when_no_sql_engine_is_wired_then_the_runner_says_how_to_wire_one(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    with pytest.raises(RunnerError, match="pass sql_opener to LocalFactoryRunner"):
        runner.run_pipeline("PL_Script_Broken")
    # The refusal is in the monitoring record too: nothing stays InProgress once the runner has returned.
    (run,) = runner.monitor.pipeline_runs()
    assert run.status == "Failed" and "sql_opener" in run.message
    assert {a.status for a in runner.monitor.activity_runs(run.runId)} == {"Failed"}


# --- schema drift (Microsoft Learn, "Schema drift in mapping data flow") ---------------------------------------


def _drift_runner(tmp_path: Path, replace: dict[str, str]) -> LocalFactoryRunner:
    """The fixture factory with Df_Shape_Tracks's script edited (old line fragment -> new)."""
    factory = tmp_path / "factory"
    shutil.copytree(FIXTURES, factory)
    path = factory / "dataflows" / "Df_Shape_Tracks.json"
    document = json.loads(path.read_text())
    lines = document["properties"]["typeProperties"]["scriptLines"]
    for old, new in replace.items():
        assert any(old in line for line in lines), old
        lines[:] = [line.replace(old, new) for line in lines]
    path.write_text(json.dumps(document))
    root = tmp_path / "storage"
    loaded = load_factory(factory, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    return LocalFactoryRunner(loaded, LocalFolderStorage(root), tmp_path / "work", watched_containers=())


def test_when_an_expression_names_a_drifted_column_bare_then_the_data_flow_fails_as_adf_would(tmp_path: Path) -> None:
    _write_input_tracks(tmp_path)
    runner = _drift_runner(tmp_path, {"upper(trim(toString(byName('name'))))": "upper(trim(name))"})

    run, activities = _run(runner, "PL_Shape_Tracks", {"day": DAY})

    error = activities["Run data flow"].error
    assert run.status == "Failed" and error is not None
    assert error.message == (
        "Job failed due to reason: data flow `Df_Shape_Tracks`, transformation `Shaped`: column `name` is a drifted "
        "column (not in the source's projection): ADF reaches it only through byName('name') or byPosition(), a "
        "column pattern or rule-based mapping, not by its bare name"
    )


def test_when_a_select_maps_a_drifted_column_by_name_then_it_is_refused(tmp_path: Path) -> None:
    _write_input_tracks(tmp_path)
    runner = _drift_runner(tmp_path, {"id = track_id,": "id = track_id, speed = tempo,"})

    run, activities = _run(runner, "PL_Shape_Tracks", {"day": DAY})

    error = activities["Run data flow"].error
    assert run.status == "Failed" and error is not None
    assert "transformation `Columns`: column `tempo` is a drifted column" in error.message


def test_when_drifted_types_are_not_inferred_then_drifted_columns_arrive_as_strings(tmp_path: Path) -> None:
    _write_input_tracks(tmp_path)
    runner = _drift_runner(tmp_path, {"inferDriftedColumnTypes: true": "inferDriftedColumnTypes: false",
                                      "source = $label": "position = byPosition(5),\n\t\tsource = $label"})

    run, _ = _run(runner, "PL_Shape_Tracks", {"day": DAY})

    assert run.status == "Succeeded", run.message
    table = pq.read_table(tmp_path / "storage" / "output" / "tracks" / f"day={DAY}" / "part-00000.parquet")
    assert table.schema.field("tempo").type == pa.string()  # drifted: "arrive as a string data type"
    assert table.schema.field("popularity").type == pa.int32()  # in the projection: its declared type
    assert table.column("tempo").to_pylist() == ["1.0", "2.0"]
    assert table.column("position").to_pylist() == ["1.0", "2.0"]  # byPosition(5): the fifth column, tempo
