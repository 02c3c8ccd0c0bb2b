"""Gallery-style data flows (tests/fixtures/adf_gallery_style/dataflow, written for these tests in the style of
Microsoft's template gallery, not copied from it): every one is valid data flow script, so none may be refused as
malformed; what the local engine does not run is refused at load, naming the transformation (with the name Learn
gives it) or the construct, before any activity of the pipeline runs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.dataflow import load_dataflow
from offline.adf_runner.dataflow.engine import KIND_LABELS, SUPPORTED_KINDS
from offline.adf_runner.dataflow.script import parse_script
from offline.adf_runner.errors import DataFlowScriptError, UnsupportedDataFlowFeatureError
from tests.gallery_style import GALLERY, copy_gallery, edit_gallery

# Data flow -> (the stream refused, what the refusal names). Each data flow uses more than it is refused for (see its
# script): the first unsupported transformation in script order is the one named.
REFUSED = {
    "Df_Reseller_Sales": ("ResellerSales", "transformation `join` (Join)"),
    "Df_Profile_Columns": ("Profiled", "transformation `aggregate` (Aggregate)"),
    "Df_Known_Customers": ("KnownOnly", "transformation `exists` (Exists)"),
    "Df_Route_Rows": ("AllRows", "transformation `union` (Union)"),
    "Df_Moving_Average": ("Keyed", "transformation `keyGenerate` (Surrogate key)"),
    "Df_Sales_By_Region": ("ByRegion", "transformation `pivot` (Pivot)"),
    "Df_Events_Flat": ("Items", "transformation `foldDown` (Flatten)"),
    "Df_Checked_Orders": ("Asserted", "transformation `assert` (Assert)"),
    "Df_Nested_Names": ("Deep", "member `.z` of a complex column"),
}


def _runner(tmp_path: Path) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    (root / "input" / "rows").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a", None], "n": [1, 2], "extra": [True, False]}), root / "input" / "rows" / "part-0.parquet")
    factory = load_factory(GALLERY, overrides={"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()}})
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions(), watched_containers=())


def _script(name: str) -> str:
    document = json.loads((GALLERY / "dataflow" / f"{name}.json").read_text(encoding="utf-8"))
    return "\n".join(document["properties"]["typeProperties"].get("scriptLines", []))  # [] in the first format


def test_when_a_source_goes_straight_to_a_sink_then_the_rows_land_unchanged(tmp_path: Path) -> None:
    # The source's row count used to leave a half-read DuckDB result behind, which the sink's reader then refused
    # ("connection has an unfinished result"); a transformation in between hid it.
    runner = _runner(tmp_path)

    (run,) = runner.run_pipeline("PL_Rows_As_Is").runs

    assert run.status == "Succeeded", run.message
    landed = pq.read_table(tmp_path / "storage" / "output" / "as-is")
    assert landed.to_pylist() == [{"id": "a", "n": 1, "extra": "true"}, {"id": None, "n": 2, "extra": "false"}]
    (activity,) = runner.monitor.activity_runs(run.runId)
    metrics = activity.output["runStatus"]["metrics"]["Landed"]
    assert (metrics["rowsWritten"], metrics["sources"]) == (2, {"Rows": {"rowsRead": 2}})


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_when_a_data_flow_uses_what_the_runner_lacks_then_load_names_it(name: str) -> None:
    stream, feature = REFUSED[name]

    with pytest.raises(UnsupportedDataFlowFeatureError) as raised:
        load_dataflow(load_factory(GALLERY).dataflow(name))

    assert (raised.value.dataflow, raised.value.transformation) == (name, stream)
    assert raised.value.feature.startswith(feature)


def test_when_any_corpus_data_flow_is_loaded_then_it_is_never_refused_as_malformed_script() -> None:
    factory = load_factory(GALLERY)
    outcomes = {}
    for name, dataflow in sorted(factory.dataflows.items()):
        try:
            load_dataflow(dataflow)
            outcomes[name] = "runs"
        except DataFlowScriptError as exc:  # ADF accepts every script of the corpus
            pytest.fail(f"valid data flow script refused as malformed: {exc}")
        except UnsupportedDataFlowFeatureError as exc:
            outcomes[name] = exc.feature
    assert outcomes["Df_Rows_As_Is"] == "runs"
    assert set(REFUSED) <= set(outcomes)


def test_when_the_corpus_is_read_then_it_exercises_every_transformation_of_the_script_language() -> None:
    kinds = {
        t.kind
        for name in (p.stem for p in (GALLERY / "dataflow").glob("*.json"))
        for t in parse_script(_script(name), name).transformations
    }

    assert set(KIND_LABELS) | set(SUPPORTED_KINDS) <= kinds


def test_when_a_pipeline_runs_a_refused_data_flow_then_nothing_of_it_runs(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    with pytest.raises(UnsupportedDataFlowFeatureError, match=r"Df_Reseller_Sales.*transformation `join` \(Join\)"):
        runner.run_pipeline("PL_Reseller_Sales")

    ran = [a.activityName for run in runner.monitor.pipeline_runs() for a in runner.monitor.activity_runs(run.runId)
           if a.status == "Succeeded"]
    assert ran == []  # the SetVariable before the data flow did not run either


def test_when_a_projection_declares_a_complex_type_then_load_names_the_type_and_column(tmp_path: Path) -> None:
    factory_dir = copy_gallery(tmp_path)
    edit_gallery(factory_dir, "dataflow/Df_Rows_As_Is.json", '"\\t\\tn as integer"', '"\\t\\tn as (a as integer, b as string[])"')

    with pytest.raises(UnsupportedDataFlowFeatureError, match=r"\(transformation `Rows`\): type `\(a as integer, b as string\[\]\)` "
                       r"\(column `n`\) is not supported by the local runner; supported: string, "):
        load_dataflow(load_factory(factory_dir).dataflow("Df_Rows_As_Is"))


def test_when_a_data_flow_is_in_the_first_format_then_its_per_transformation_lines_are_its_script(tmp_path: Path) -> None:
    # Df_Keyed_Rows_First_Format has no typeProperties.script: each source, transformation and sink carries its line
    # (as Microsoft's gallery template "Slowly Changing Dimension Type 2" does).
    runner = _runner(tmp_path)

    (run,) = runner.run_pipeline("PL_Keyed_Rows_First_Format").runs

    assert run.status == "Succeeded", run.message
    assert pq.read_table(tmp_path / "storage" / "output" / "keyed").to_pylist() == [{"id": "a", "n": 1}]
