"""Loading a factory folder: typed resources, overrides, and errors that name the file and the fix."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.env_config.factory import factory_overrides
from offline.adf_runner.engine import PipelineEngine
from offline.adf_runner.errors import (
    DependencyError,
    DuplicateActivityError,
    DuplicateResourceError,
    MalformedJsonError,
    OverrideError,
    ResourceNameMismatchError,
    ResourceNotFoundError,
    ResourceShapeError,
    RunnerError,
    UnknownReferenceError,
    UnsupportedPolicyError,
)
from offline.adf_runner.factory import load_factory, parse_timespan
from offline.adf_runner.monitor import Monitor

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "tests" / "fixtures" / "adf_runner_flow"


def _write(root: Path, files: dict[str, Any]) -> Path:
    for relative, body in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body if isinstance(body, str) else json.dumps(body, indent=2))
    return root


def _pipeline(name: str, activities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"name": name, "properties": {"activities": activities or []}}


def _wait(name: str, *depends: str) -> dict[str, Any]:
    return {"name": name, "type": "Wait", "dependsOn": [{"activity": d, "dependencyConditions": ["Succeeded"]} for d in depends],
            "typeProperties": {"waitTimeInSeconds": 1}}


def test_when_committed_factory_is_loaded_with_local_config_then_overrides_and_globals_apply() -> None:
    config = load_config("local")

    factory = load_factory(REPO / "adf", factory_overrides(config), global_parameters(config))

    storage = factory.linked_service("Ls_Blob_Storage")
    assert storage.type_properties["serviceEndpoint"] == config.storage.blob_endpoint
    assert storage.raw["properties"]["typeProperties"]["serviceEndpoint"] == config.storage.blob_endpoint
    assert factory.global_parameters["rawContainer"] == "raw"
    assert set(factory.triggers) >= {"TR_Daily_Extract", "TR_Raw_Landed"}


def test_when_committed_factory_is_validated_then_every_activity_type_and_function_is_supported() -> None:
    factory = load_factory(REPO / "adf")
    engine = PipelineEngine(factory, Monitor(), services=None)

    refused = []
    for pipeline in factory.pipelines.values():
        try:
            engine.validate(pipeline)
        except RunnerError as exc:  # an unsupported activity type or function
            refused.append(f"{pipeline.name}: {exc}")

    assert refused == []
    assert {"PL_Extract_Spotify", "PL_Transform_Spotify", "PL_Load_Spotify"} <= set(factory.pipelines)


def test_when_fixture_factory_is_loaded_then_resources_are_typed_frozen_dataclasses() -> None:
    factory = load_factory(FLOW)

    pipeline = factory.pipeline("PL_Retry")
    activity = pipeline.activities[0]
    assert activity.name == "Flaky step" and activity.type == "Custom"
    assert activity.policy.retry == 2 and activity.policy.retry_interval_seconds == 30
    assert activity.policy.timeout == timedelta(minutes=1)
    assert set(pipeline.parameters) == {"scripts", "marker"}
    assert not pipeline.parameters["scripts"].has_default
    control = factory.pipeline("PL_Control")
    assert [a.name for a in control.activities[1].nested["activities"]] == ["Log item"]
    assert {a.name for a in control.all_activities()} >= {"Label long", "Label short", "Log item"}
    assert factory.trigger("TR_Landed").pipelines[0].pipeline == "PL_Child"
    assert factory.dataset("Ds_Things").linked_service_name.name == "Ls_Storage"
    with pytest.raises(dataclasses.FrozenInstanceError):
        activity.name = "other"  # type: ignore[misc]


def test_when_json_is_malformed_then_error_names_file_line_and_column(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": '{\n  "name": "PL_A",\n  "properties": {,}\n}'})

    with pytest.raises(MalformedJsonError) as caught:
        load_factory(root)

    assert caught.value.line == 3 and caught.value.column == 18
    assert str(caught.value).startswith(f"{root}/pipelines/PL_A.json:3:18: malformed JSON")


def test_when_name_is_missing_then_error_says_to_add_it(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": {"properties": {}}})

    with pytest.raises(ResourceShapeError, match=r'PL_A.json: missing `name`: add "name": "PL_A"'):
        load_factory(root)


def test_when_properties_are_missing_then_error_names_the_resource(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"datasets/Ds_A.json": {"name": "Ds_A"}})

    with pytest.raises(ResourceShapeError, match="dataset `Ds_A` has no `properties` object"):
        load_factory(root)


def test_when_file_name_differs_from_resource_name_then_error_gives_both_fixes(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_B")})

    with pytest.raises(ResourceNameMismatchError, match="rename the file to PL_B.json or the resource to `PL_A`"):
        load_factory(root)


def test_when_two_files_differ_only_by_case_then_duplicate_error(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A"), "pipelines/pl_a.json": _pipeline("pl_a")})

    with pytest.raises(DuplicateResourceError, match="Pipeline `pl_a` is defined more than once"):
        load_factory(root)


def test_when_trigger_references_missing_pipeline_then_error_names_both(tmp_path: Path) -> None:
    trigger = {
        "name": "TR_Y",
        "properties": {
            "type": "ScheduleTrigger",
            "typeProperties": {},
            "pipelines": [{"pipelineReference": {"referenceName": "PL_X", "type": "PipelineReference"}}],
        },
    }
    root = _write(tmp_path / "adf", {"triggers/TR_Y.json": trigger})

    with pytest.raises(UnknownReferenceError) as caught:
        load_factory(root)

    assert str(caught.value) == "Trigger `TR_Y` references pipeline `PL_X`, which is not in adf/pipelines"


def test_when_activity_references_missing_dataset_then_error_names_the_activity(tmp_path: Path) -> None:
    custom = {
        "name": "Run",
        "type": "Custom",
        "typeProperties": {"command": "x", "referenceObjects": {"datasets": [{"referenceName": "Ds_Nope", "type": "DatasetReference"}]}},
    }
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A", [custom])})

    with pytest.raises(
        UnknownReferenceError, match="Pipeline `PL_A` activity `Run` references dataset `Ds_Nope`, which is not in adf/datasets"
    ):
        load_factory(root)


def test_when_activity_names_repeat_in_nested_activities_then_error(tmp_path: Path) -> None:
    loop = {"name": "Loop", "type": "ForEach", "typeProperties": {"items": "@createArray(1)", "activities": [_wait("Pause")]}}
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A", [_wait("Pause"), loop])})

    with pytest.raises(DuplicateActivityError, match="activity name `Pause` is used more than once in pipeline `PL_A`"):
        load_factory(root)


def test_when_depends_on_names_no_sibling_then_error(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A", [_wait("B", "Nope")])})

    with pytest.raises(DependencyError, match="dependsOn `Nope`, which is not an activity at the same level"):
        load_factory(root)


def test_when_dependencies_form_a_cycle_then_error_shows_it(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A", [_wait("A", "B"), _wait("B", "A")])})

    with pytest.raises(DependencyError, match="cycle: A -> B -> A"):
        load_factory(root)


def test_when_override_names_unknown_resource_then_error(tmp_path: Path) -> None:
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A")})

    with pytest.raises(OverrideError, match="`Ls_Nope`: no resource of that name"):
        load_factory(root, overrides={"Ls_Nope": {"typeProperties.serviceEndpoint": "x"}})


def test_when_override_has_dotted_path_then_nested_value_is_set(tmp_path: Path) -> None:
    linked = {"name": "Ls_A", "properties": {"type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": "https://a/"}}}
    root = _write(tmp_path / "adf", {"linkedServices/Ls_A.json": linked})

    factory = load_factory(root, overrides={"Ls_A": {"typeProperties.serviceEndpoint": "file:///x"}})

    assert factory.linked_service("Ls_A").type_properties["serviceEndpoint"] == "file:///x"
    assert json.loads((root / "linkedServices/Ls_A.json").read_text())["properties"]["typeProperties"]["serviceEndpoint"] == "https://a/"


def test_when_override_names_a_key_the_resource_does_not_have_then_error_as_deploy_refuses_it(tmp_path: Path) -> None:
    linked = {"name": "Ls_A", "properties": {"type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": "https://a/"}}}
    root = _write(tmp_path / "adf", {"linkedServices/Ls_A.json": linked})

    with pytest.raises(OverrideError, match="`serviceEndpiont` does not exist"):
        load_factory(root, overrides={"Ls_A": {"typeProperties.serviceEndpiont": "file:///x"}})


def test_when_resource_is_looked_up_but_absent_then_error_names_folder(tmp_path: Path) -> None:
    factory = load_factory(_write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A")}))

    with pytest.raises(ResourceNotFoundError, match="Pipeline `PL_B` not found in adf/pipelines"):
        factory.pipeline("PL_B")


def test_when_policy_uses_an_expression_then_error_asks_for_a_literal(tmp_path: Path) -> None:
    activity = {**_wait("A"), "policy": {"retry": {"value": "@pipeline().parameters.r", "type": "Expression"}}}
    root = _write(tmp_path / "adf", {"pipelines/PL_A.json": _pipeline("PL_A", [activity])})

    with pytest.raises(UnsupportedPolicyError, match="policy.retry"):
        load_factory(root)


@pytest.mark.parametrize(
    "text,expected",
    [("0.02:00:00", timedelta(hours=2)), ("7.00:00:00", timedelta(days=7)), ("00:00:05", timedelta(seconds=5))],
)
def test_when_timespan_is_parsed_then_days_hours_minutes_seconds_are_read(text: str, expected: timedelta) -> None:
    assert parse_timespan(text) == expected
