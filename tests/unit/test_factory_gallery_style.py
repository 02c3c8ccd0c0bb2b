"""Factories written as ADF writes them (tests/fixtures/adf_gallery_style): the runner and the deploy check accept
what ADF accepts. Rules: ADF reads JSON property names case-insensitively (`typeProperties.dataflow` on
https://learn.microsoft.com/azure/data-factory/control-flow-execute-data-flow-activity), resource names are
case-insensitive (https://learn.microsoft.com/azure/data-factory/naming-rules), and git integration writes
singular folders (https://learn.microsoft.com/azure/data-factory/source-control)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from factory_deploy.graph import FactoryGraphError, check_references, load_resources, publish_order
from factory_deploy.json_keys import get_property
from factory_deploy.sdk_models import check_factory
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.datasets import UnsupportedDatasetError
from offline.adf_runner.errors import (
    DuplicateResourceError,
    EmptyFactoryFolderError,
    ResourceNotFoundError,
    UnknownReferenceError,
)
from offline.adf_runner.factory import find_resource
from tests.gallery_style import GALLERY, copy_gallery, edit_gallery


def _runner(tmp_path: Path, factory_dir: Path = GALLERY) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    (root / "input" / "rows").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a", "b"], "n": [1, 2]}), root / "input" / "rows" / "part-00000.parquet")
    factory = load_factory(factory_dir, overrides={"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()}})
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions(), watched_containers=())


def test_when_a_property_name_differs_in_case_then_it_is_read_as_the_property() -> None:
    assert get_property({"dataflow": 1}, "dataFlow") == 1
    assert get_property({"dataFlow": 1, "dataflow": 2}, "dataFlow") == 1  # the exact spelling wins
    assert get_property({"dataflows": 1}, "dataFlow", "none") == "none"


def test_when_the_git_layout_factory_runs_then_lowercase_dataflow_and_miscased_names_resolve(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    (parent,) = runner.run_pipeline("PL_Parent").runs

    assert parent.status == "Succeeded", parent.message
    copied = pq.read_table(tmp_path / "storage" / "output" / "rows")
    assert sorted(copied.column("id").to_pylist()) == ["a", "b"]
    child_names = {run.pipelineName for run in runner.monitor.pipeline_runs()}
    assert child_names == {"PL_Parent", "PL_Copy_Rows"}  # the child is recorded under its own spelling


def test_when_the_lowercase_dataflow_names_a_missing_data_flow_then_validation_names_it(tmp_path: Path) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Copy_Rows.json", '"DF_Copy_Rows"', '"Df_Not_There"')

    with pytest.raises(UnknownReferenceError, match="Df_Not_There"):  # the lowercase key was read
        load_factory(factory)


def test_when_the_git_layout_factory_is_checked_for_deploy_then_nothing_is_reported() -> None:
    assert check_factory(GALLERY) == []
    resources = load_resources(GALLERY)
    assert check_references(resources, set()) == []
    order = [f"{r.folder}/{r.name}" for r in publish_order(resources)]
    # Miscased references still order what is referenced first.
    assert order.index("linkedServices/Ls_Lake") < order.index("dataflows/Df_Copy_Rows") < order.index("pipelines/PL_Copy_Rows")
    assert order.index("pipelines/PL_Copy_Rows") < order.index("pipelines/PL_Parent") < order.index("triggers/TR_Nightly")


def test_when_a_miscased_reference_names_nothing_then_both_refuse_it(tmp_path: Path) -> None:
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Inspect.json", '"SourceDataSet"', '"SourceDataSets"')

    with pytest.raises(UnknownReferenceError, match="SourceDataSets"):
        load_factory(factory)
    (problem,) = check_references(load_resources(factory), set())
    assert "dataset `SourceDataSets`" in problem


def test_when_both_layouts_define_one_name_then_both_refuse_the_duplicate(tmp_path: Path) -> None:
    factory = copy_gallery(tmp_path)
    (factory / "pipelines").mkdir()
    document = json.loads((factory / "pipeline" / "PL_Parent.json").read_text(encoding="utf-8"))
    document["name"] = "pl_parent"
    (factory / "pipelines" / "pl_parent.json").write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(DuplicateResourceError):
        load_factory(factory)
    with pytest.raises(FactoryGraphError, match="pl_parent"):
        load_resources(factory)


def test_when_the_folder_holds_no_factory_layout_then_loading_names_the_folders_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()

    with pytest.raises(EmptyFactoryFolderError, match="pipeline/"):
        load_factory(tmp_path)


def test_when_a_run_asks_for_a_pipeline_in_another_case_then_it_runs_the_pipeline(tmp_path: Path) -> None:
    factory = load_factory(GALLERY)
    assert factory.pipeline("pl_parent").name == "PL_Parent"
    # The payload-size check finds a miscased dataset reference's body the same way.
    dataset = find_resource(factory.datasets, "SourceDataSet")
    assert dataset is not None and dataset.name == "SourceDataset"
    with pytest.raises(ResourceNotFoundError, match="PL_Nothing"):
        factory.pipeline("PL_Nothing")


def test_when_a_copy_source_is_a_nested_subtype_then_the_check_knows_its_keys_and_still_finds_typos(tmp_path: Path) -> None:
    # AzureSqlSource sits under CopySource -> TabularSource in azure-mgmt-datafactory's discriminator maps;
    # `lastPublishTime` is what Studio writes (pipeline definition on
    # https://learn.microsoft.com/azure/data-factory/how-to-use-trigger-parameterization).
    assert check_factory(GALLERY) == []
    factory = copy_gallery(tmp_path)
    edit_gallery(factory, "pipeline/PL_Copy_Sales.json", '"queryTimeout"', '"queryTimout"')
    edit_gallery(factory, "pipeline/PL_Copy_Sales.json", '"lastPublishTime": "2026', '"lastPublishedTime": "2026')

    problems = sorted(str(p) for p in check_factory(factory))

    assert problems == [
        "factory/pipeline/PL_Copy_Sales.json: activities[0] `Copy sales to the lake`.typeProperties.source: "
        "key `queryTimout` is unknown to AzureSqlSource",
        "factory/pipeline/PL_Copy_Sales.json: properties: key `lastPublishedTime` is unknown to Pipeline",
    ]


def test_when_a_called_pipeline_cannot_run_locally_then_the_caller_is_refused_before_anything_runs(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    # Copy runs between file datasets; its Azure SQL source has no local stand-in, named with the pipeline.
    with pytest.raises(UnsupportedDatasetError, match="`SalesTable`.*PL_Copy_Sales.*`AzureSqlTable`"):
        runner.run_pipeline("PL_Call_Sales_Copy")
    assert runner.monitor.pipeline_runs() == []  # validated as one call graph: not even SetVariable ran


@pytest.mark.parametrize("child", ["PL_Copy_Sales", "PL_Not_There"])
def test_when_a_child_named_at_run_time_is_refused_then_the_parent_fails_and_no_run_stays_in_progress(
    tmp_path: Path, child: str
) -> None:
    # A name known only at run time (the runner resolves it then; deploy refuses it, as ADF's publish does).
    factory = copy_gallery(tmp_path)
    call = {"name": "Run the named pipeline", "type": "ExecutePipeline", "dependsOn": [], "typeProperties": {
        "pipeline": {"referenceName": "@pipeline().parameters.child", "type": "PipelineReference"}, "waitOnCompletion": True}}
    document = {"name": "PL_Call_By_Name", "properties": {"activities": [call], "parameters": {"child": {"type": "string"}}}}
    (factory / "pipeline" / "PL_Call_By_Name.json").write_text(json.dumps(document), encoding="utf-8")
    runner = _runner(tmp_path, factory)

    (parent,) = runner.run_pipeline("PL_Call_By_Name", {"child": child}).runs

    assert parent.status == "Failed"
    assert child in parent.message and "\n" not in parent.message
    (call,) = runner.monitor.activity_runs(parent.runId)
    assert call.error is not None and (call.status, call.error.errorCode) == ("Failed", "PipelineRunFailed")
    assert [r.status for r in runner.monitor.pipeline_runs() if r.status == "InProgress"] == []
