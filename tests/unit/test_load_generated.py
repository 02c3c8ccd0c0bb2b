"""The committed files generated from the curated schemas (python -m activities.load.generate) are up to date:
one view per curated table in synapse/views, and the data flow Df_Load_Serving covering every curated table."""

from __future__ import annotations

import json
from pathlib import Path

from activities.load.arrow_types import curated_tables
from activities.load.generate import DATAFLOW_NAME, expected_files, stale_views
from offline.synapse_duckdb.translate import translate_view

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run `python -m activities.load.generate` and commit the files it writes"


def test_when_the_committed_views_are_compared_then_they_equal_the_generator_output_for_the_curated_schemas() -> None:
    expected = {path: text for path, text in expected_files(ROOT).items() if path.suffix == ".sql"}

    differing = [path.name for path, text in expected.items() if not path.exists() or path.read_text() != text]

    assert differing == [], f"synapse/views out of date for {differing}: {REGENERATE}"
    assert stale_views(ROOT, expected) == [], f"views of tables that no longer exist: {REGENERATE}"
    assert {path.name for path in expected} == {f"spotify.{name}.sql" for name in curated_tables()}


def test_when_the_committed_data_flow_is_compared_then_it_equals_the_generator_output() -> None:
    path = ROOT / "adf" / "dataflows" / f"{DATAFLOW_NAME}.json"

    expected = expected_files(ROOT)[path]

    assert path.read_text() == expected, f"{path.name} out of date: {REGENERATE}"
    assert json.loads(expected)["name"] == DATAFLOW_NAME


def test_when_each_committed_view_is_translated_for_duckdb_then_it_reads_the_serving_table() -> None:
    for path in sorted((ROOT / "synapse" / "views").glob("*.sql")):
        located: list[tuple[str | None, str]] = []

        def locate(data_source: str | None, bulk: str, located: list[tuple[str | None, str]] = located) -> str:
            located.append((data_source, bulk))
            return f"/s/{bulk}"

        view = translate_view(path.read_text(), locate)

        assert view.name == path.stem
        assert sorted(located) == [("spotify_serving", "_published/snapshots.parquet"),
                                   ("spotify_serving", f"{path.stem.split('.', 1)[1]}/snapshot_date=*/*.parquet")]


def test_when_the_committed_data_flow_is_parsed_then_it_loads_every_curated_table_and_runs_locally() -> None:
    from offline.adf_runner import load_factory
    from offline.adf_runner.dataflow import load_dataflow
    from offline.adf_runner.dataflow.script import Call, Literal

    definition = load_dataflow(load_factory(ROOT / "adf").dataflow(DATAFLOW_NAME))  # refuses what cannot run

    sinks = [t for t in definition.script.transformations if t.kind == "sink"]
    folders = []
    for sink in sinks:
        folder = sink.options()["folderPath"]
        assert isinstance(folder, Call) and folder.name == "concat"
        folders.append(next(a.value for a in folder.args if isinstance(a, Literal)))
    assert sorted(folders) == sorted(f"/{table}/snapshot_date=" for table in curated_tables())
    sources = [t for t in definition.script.transformations if t.kind == "source"]
    assert all(s.options()["allowSchemaDrift"] == Literal(True) and s.options()["inferDriftedColumnTypes"] == Literal(True)
               for s in sources)
