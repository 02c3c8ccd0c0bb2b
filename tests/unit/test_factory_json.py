"""The committed factory must deserialize with the ADF SDK models and every reference must resolve."""

import json
import shutil
from pathlib import Path

import pytest

from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.graph import FactoryGraphError, check_references, load_resources, publish_order
from factory_deploy.sdk_models import check_factory, concrete_class
from offline.adf_runner import load_factory

ADF_DIR = Path(__file__).resolve().parents[2] / "adf"


def test_when_committed_factory_is_checked_then_sdk_models_accept_every_file() -> None:
    assert check_factory(ADF_DIR) == []


def test_when_committed_factory_is_checked_then_every_reference_resolves() -> None:
    resources = load_resources(ADF_DIR)

    problems = check_references(resources, set(global_parameters(load_config("dev"))))

    assert problems == []
    assert {folder for folder, _ in resources} >= {"pipelines", "datasets", "linkedServices", "triggers"}


def test_when_looking_up_custom_then_nested_discriminator_maps_find_the_concrete_class() -> None:
    from azure.mgmt.datafactory import models

    assert concrete_class(models.Activity, "Custom") is models.CustomActivity
    assert concrete_class(models.Activity, "ForEach") is models.ForEachActivity
    assert concrete_class(models.Trigger, "BlobEventsTrigger") is models.BlobEventsTrigger
    assert concrete_class(models.Activity, "NoSuchActivity") is None


@pytest.fixture()
def adf_copy(tmp_path: Path) -> Path:
    target = tmp_path / "adf"
    shutil.copytree(ADF_DIR, target)
    return target


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(path.read_text())
    change(body)
    path.write_text(json.dumps(body))


def test_when_type_properties_key_is_misspelled_then_check_names_file_and_key(adf_copy: Path) -> None:
    _edit(
        adf_copy / "pipelines" / "PL_Extract_Spotify.json",
        lambda b: b["properties"]["activities"][0]["typeProperties"].update(comand="x"),
    )

    problems = [str(p) for p in check_factory(adf_copy)]

    assert problems == [
        "adf/pipelines/PL_Extract_Spotify.json: activities[0] `Extract Spotify`.typeProperties: "
        "key `comand` is unknown to CustomActivityTypeProperties"
    ]


def test_when_trigger_key_is_misspelled_then_check_reports_it(adf_copy: Path) -> None:
    _edit(adf_copy / "triggers" / "TR_Raw_Landed.json", lambda b: b["properties"]["typeProperties"].update(blobPathEndWith="x"))

    problems = [str(p) for p in check_factory(adf_copy)]

    assert any("key `blobPathEndWith` is unknown to BlobEventsTriggerTypeProperties" in p for p in problems)


def test_when_linked_service_type_is_unknown_then_check_reports_it(adf_copy: Path) -> None:
    _edit(adf_copy / "linkedServices" / "Ls_KeyVault.json", lambda b: b["properties"].update(type="KeyVaultz"))

    problems = [str(p) for p in check_factory(adf_copy)]

    assert any("type `KeyVaultz` is not a LinkedService type" in p for p in problems)


def test_when_trigger_references_missing_pipeline_then_reference_check_names_it(adf_copy: Path) -> None:
    _edit(
        adf_copy / "triggers" / "TR_Daily_Extract.json",
        lambda b: b["properties"]["pipelines"][0]["pipelineReference"].update(referenceName="PL_Missing"),
    )

    problems = check_references(load_resources(adf_copy), set(global_parameters(load_config("dev"))))

    assert any(
        p.endswith("adf/triggers/TR_Daily_Extract.json: Trigger `TR_Daily_Extract` references pipeline `PL_Missing`, "
                   "which is not in adf/pipelines")
        for p in problems
    )


def test_when_activity_references_missing_dataset_then_reference_check_names_the_activity(adf_copy: Path) -> None:
    (adf_copy / "datasets" / "Ds_Raw_Zone.json").unlink()

    problems = check_references(load_resources(adf_copy), set(global_parameters(load_config("dev"))))

    assert any(
        p.endswith("Pipeline `PL_Extract_Spotify` activity `Extract Spotify shard` references dataset `Ds_Raw_Zone`, "
                   "which is not in adf/datasets")
        for p in problems
    )


def test_when_pipeline_uses_undeclared_parameter_then_reference_check_names_it(adf_copy: Path) -> None:
    _edit(adf_copy / "pipelines" / "PL_Extract_Spotify.json", lambda b: b["properties"]["parameters"].clear())

    problems = check_references(load_resources(adf_copy), set(global_parameters(load_config("dev"))))

    assert any("uses pipeline parameter `ingestDate`, which the pipeline does not declare" in p for p in problems)
    assert any("passes parameter `ingestDate` to `PL_Extract_Spotify`, which does not declare it" in p for p in problems)


def test_when_global_parameter_is_unknown_then_reference_check_names_it(adf_copy: Path) -> None:
    problems = check_references(load_resources(adf_copy), {"environment"})

    assert any("uses global parameter `spotifyApiBaseUrl`" in p for p in problems)


def test_when_file_name_differs_from_resource_name_then_loading_fails(adf_copy: Path) -> None:
    (adf_copy / "triggers" / "TR_Daily_Extract.json").rename(adf_copy / "triggers" / "TR_Daily.json")

    with pytest.raises(FactoryGraphError, match="requires file name = resource name: rename the file to TR_Daily_Extract.json"):
        load_resources(adf_copy)


def test_when_a_file_starts_with_a_bom_then_deploy_the_check_and_the_runner_all_read_it(adf_copy: Path) -> None:
    # ADF Studio exports sometimes carry a UTF-8 BOM; the one shared reader accepts it for every caller.
    path = adf_copy / "triggers" / "TR_Daily_Extract.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert ("triggers", "TR_Daily_Extract") in load_resources(adf_copy)
    assert check_factory(adf_copy) == []
    assert "TR_Daily_Extract" in load_factory(adf_copy).triggers


def test_when_ordering_for_publish_then_dependencies_come_first() -> None:
    order = [r.name for r in publish_order(load_resources(ADF_DIR))]

    assert order.index("Ls_KeyVault") < order.index("Ls_Batch")
    assert order.index("Ls_Blob_Storage") < order.index("Ds_Raw_Zone") < order.index("PL_Extract_Spotify")
    assert order.index("PL_Extract_Spotify") < order.index("TR_Daily_Extract")
    assert order.index("PL_Transform_Spotify") < order.index("TR_Raw_Landed")
