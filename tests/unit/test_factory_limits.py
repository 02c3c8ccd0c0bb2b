"""ADF's limits and nesting rules, one factory that breaks each (factory_deploy.limits; sources in its docstring:
Microsoft Learn "Azure Data Factory limits", "ForEach activity", "Nested activities", "Pipelines and activities",
"Use custom activities"). Load-time rules are checked by the runner's loader (one line naming resource and limit)
and by deploy; run-time ones (payload, ForEach items) by the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activities.common.storage import LocalFolderStorage
from factory_deploy.limits import check_factory_limits
from offline.adf_runner import LocalFactoryRunner, load_factory
from offline.adf_runner.clock import SystemClock
from offline.adf_runner.errors import FactoryLimitError

REPO = Path(__file__).resolve().parents[2]


def _wait(name: str = "Pause", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "Wait", "dependsOn": [], "typeProperties": {"waitTimeInSeconds": 1}, **extra}


def _loop(kind: str, name: str, inner: list[dict[str, Any]]) -> dict[str, Any]:
    key = {"IfCondition": "ifTrueActivities"}.get(kind, "activities")
    properties: dict[str, Any] = {key: inner}
    if kind == "ForEach":
        properties["items"] = {"value": "@createArray(1)", "type": "Expression"}
    elif kind in ("IfCondition", "Until"):
        properties["expression"] = {"value": "@true()", "type": "Expression"}
    elif kind == "Switch":
        properties = {"on": {"value": "a", "type": "Expression"}, "cases": [{"value": "a", "activities": inner}]}
    return {"name": name, "type": kind, "dependsOn": [], "typeProperties": properties}


def _pipeline(activities: list[dict[str, Any]], **properties: Any) -> tuple[str, dict[str, Any]]:
    return "pipelines", {"name": "PL_Test", "properties": {"activities": activities, **properties}}


def _problems(*resources: tuple[str, dict[str, Any]]) -> list[str]:
    return check_factory_limits(resources)


def test_the_committed_factory_breaks_no_limit() -> None:
    resources = [(folder, json.loads(path.read_text())) for folder in ("pipelines", "datasets", "linkedServices",
                 "dataflows", "triggers") for path in sorted((REPO / "adf" / folder).glob("*.json"))]

    assert check_factory_limits(resources) == []


@pytest.mark.parametrize("batch_count", [0, 51, "50"])
def test_when_batch_count_is_outside_1_to_50_then_it_is_refused(batch_count: Any) -> None:
    loop = _loop("ForEach", "Each", [_wait()])
    loop["typeProperties"]["batchCount"] = batch_count

    assert _problems(_pipeline([loop])) == [
        f"ForEach activity `Each` in pipeline `PL_Test`: batchCount {batch_count!r} must be 1..50"
    ]


def test_when_batch_count_is_50_then_it_is_accepted() -> None:
    loop = _loop("ForEach", "Each", [_wait()])
    loop["typeProperties"]["batchCount"] = 50

    assert _problems(_pipeline([loop])) == []


@pytest.mark.parametrize(("outer", "inner", "expected"), [
    ("ForEach", "ForEach", "a ForEach cannot be nested in a ForEach or Until"),
    ("ForEach", "Until", "a Until cannot be nested in a ForEach or Until"),
    ("Until", "ForEach", "a ForEach cannot be nested in a ForEach or Until"),
    ("IfCondition", "IfCondition", "a IfCondition cannot be nested in an If Condition or Switch"),
    ("IfCondition", "Switch", "a Switch cannot be nested in an If Condition or Switch"),
    ("Switch", "IfCondition", "a IfCondition cannot be nested in an If Condition or Switch"),
])
def test_when_containers_nest_as_adf_forbids_then_the_inner_one_is_named(outer: str, inner: str, expected: str) -> None:
    problems = _problems(_pipeline([_loop(outer, "Outer", [_loop(inner, "Inner", [_wait()])])]))

    assert len(problems) == 1 and problems[0].startswith(f"activity `Inner` in pipeline `PL_Test`: {expected}")


def test_when_a_loop_hides_inside_an_if_inside_a_loop_then_it_is_still_refused() -> None:
    nested = _loop("ForEach", "Outer", [_loop("IfCondition", "Branch", [_loop("ForEach", "Inner", [_wait()])])])

    assert [p.split(":")[0] for p in _problems(_pipeline([nested]))] == ["activity `Inner` in pipeline `PL_Test`"]


@pytest.mark.parametrize(("outer", "inner"), [("ForEach", "IfCondition"), ("Until", "Switch"), ("IfCondition", "ForEach")])
def test_when_nesting_is_one_adf_allows_then_it_is_accepted(outer: str, inner: str) -> None:
    assert _problems(_pipeline([_loop(outer, "Outer", [_loop(inner, "Inner", [_wait()])])])) == []


def test_when_a_validation_activity_is_nested_then_it_is_refused() -> None:
    validation = {"name": "Check", "type": "Validation", "dependsOn": [], "typeProperties": {}}

    assert _problems(_pipeline([_loop("ForEach", "Each", [validation])])) == [
        "activity `Check` in pipeline `PL_Test`: a Validation activity cannot be nested in a ForEach"
    ]


def test_when_a_pipeline_has_121_activities_counting_inner_ones_then_it_is_refused() -> None:
    activities = [_wait(f"Pause {i}") for i in range(100)] + [_loop("ForEach", "Each", [_wait(f"Inner {i}") for i in range(20)])]

    assert _problems(_pipeline(activities)) == [
        "pipeline `PL_Test` has 121 activities (inner activities included); ADF's limit is 120"
    ]
    assert _problems(_pipeline(activities[1:])) == []


def test_when_a_pipeline_has_51_parameters_then_it_is_refused() -> None:
    parameters = {f"p{i}": {"type": "string"} for i in range(51)}

    assert _problems(_pipeline([_wait()], parameters=parameters)) == [
        "pipeline `PL_Test` has 51 parameters; ADF's limit is 50"
    ]


def test_when_an_expression_is_longer_than_8192_characters_then_it_is_refused() -> None:
    long = "@concat('" + "x" * 8200 + "')"
    activity = {"name": "Set it", "type": "SetVariable", "dependsOn": [],
                "typeProperties": {"variableName": "v", "value": {"value": long, "type": "Expression"}}}

    assert _problems(_pipeline([activity], variables={"v": {"type": "String"}})) == [
        f"pipeline `PL_Test`: the expression at properties.activities[0].typeProperties.value.value has {len(long)} "
        "characters; ADF's limit is 8192"
    ]


def test_when_objects_exceed_their_byte_limits_then_they_are_refused() -> None:
    big_pipeline = _pipeline([_wait(description="x" * 205_000)])
    big_linked_service = ("linkedServices", {"name": "Ls_Big", "properties": {
        "type": "AzureKeyVault", "description": "x" * 103_000, "typeProperties": {"baseUrl": "https://v.vault.azure.net/"}}})

    problems = _problems(big_pipeline, big_linked_service)

    assert [p.split(" is ")[0] for p in problems] == ["pipeline `PL_Test`", "linked service `Ls_Big`"]
    assert problems[0].endswith("ADF's limit per pipeline object is 204800")
    assert problems[1].endswith("ADF's limit per linked service object is 102400")


@pytest.mark.parametrize(("timeout", "problem"), [
    ("1:00:00", "policy.timeout '1:00:00' is not a d.hh:mm:ss timespan (e.g. 0.02:00:00)"),
    ("two hours", "policy.timeout 'two hours' is not a d.hh:mm:ss timespan (e.g. 0.02:00:00)"),
    ("7.00:00:01", "policy.timeout 7.00:00:01 is beyond ADF's maximum of 7.00:00:00 (hours at most 23)"),
    ("0.24:00:00", "policy.timeout 0.24:00:00 is beyond ADF's maximum of 7.00:00:00 (hours at most 23)"),
])
@pytest.mark.parametrize("kind", ["Lookup", "Custom", "ExecuteDataFlow", "Script"])
def test_when_policy_timeout_is_malformed_or_too_long_then_every_activity_type_is_refused(
    kind: str, timeout: str, problem: str
) -> None:
    activity = {"name": "Step", "type": kind, "dependsOn": [], "policy": {"timeout": timeout}, "typeProperties": {}}

    assert _problems(_pipeline([activity])) == [f"activity `Step` in pipeline `PL_Test`: {problem}"]


@pytest.mark.parametrize("name", ["A" * 56, "Load.tables", "Step: one", "-dash first"])
def test_when_an_activity_name_breaks_adf_naming_rules_then_it_is_refused(name: str) -> None:
    problems = _problems(_pipeline([_wait(name)]))

    assert len(problems) == 1 and problems[0].startswith(f"activity `{name}` in pipeline `PL_Test`: ")


def test_when_batch_storage_uses_managed_identity_only_then_batch_and_custom_activities_are_refused() -> None:
    storage = ("linkedServices", {"name": "Ls_Lake", "properties": {
        "type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": "https://lake.blob.core.windows.net/"}}})
    batch = ("linkedServices", {"name": "Ls_Batch", "properties": {"type": "AzureBatch", "typeProperties": {
        "linkedServiceName": {"referenceName": "Ls_Lake", "type": "LinkedServiceReference"}}}})
    custom = {"name": "Run code", "type": "Custom", "dependsOn": [], "typeProperties": {
        "command": "python3 activities.pyz activities.extract", "folderPath": "code/v1",
        "resourceLinkedService": {"referenceName": "Ls_Lake", "type": "LinkedServiceReference"}}}

    problems = _problems(storage, batch, _pipeline([custom]))

    assert [p.split(": ")[0] for p in problems] == [
        "AzureBatch linked service `Ls_Batch`", "activity `Run code` in pipeline `PL_Test`"]
    assert all("authenticates without an account key or SAS" in p for p in problems)


def test_when_the_runner_loads_a_factory_breaking_a_limit_then_it_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    folder, body = _pipeline([_loop("ForEach", "Outer", [_loop("ForEach", "Inner", [_wait()])])],
                             parameters={f"p{i}": {"type": "string"} for i in range(51)})
    (tmp_path / "pipelines" / "PL_Test.json").write_text(json.dumps(body))

    with pytest.raises(FactoryLimitError) as caught:
        load_factory(tmp_path)

    assert str(caught.value) == "pipeline `PL_Test` has 51 parameters; ADF's limit is 50 (and 1 more)"
    assert "\n" not in str(caught.value)


def _runtime_runner(tmp_path: Path, activities: list[dict[str, Any]], parameters: dict[str, Any]) -> LocalFactoryRunner:
    (tmp_path / "adf" / "pipelines").mkdir(parents=True)
    _, body = _pipeline(activities, parameters=parameters, variables={"v": {"type": "String"}, "a": {"type": "Array"}})
    (tmp_path / "adf" / "pipelines" / "PL_Test.json").write_text(json.dumps(body))
    return LocalFactoryRunner(load_factory(tmp_path / "adf"), LocalFolderStorage(tmp_path / "storage"), tmp_path / "work")


def test_when_an_activity_run_payload_exceeds_896_kb_then_the_activity_fails(tmp_path: Path) -> None:
    keep = {"name": "Keep", "type": "SetVariable", "dependsOn": [],
            "typeProperties": {"variableName": "v", "value": {"value": "@pipeline().parameters.big", "type": "Expression"}}}
    runner = _runtime_runner(tmp_path, [keep], {"big": {"type": "string"}})

    (run,) = runner.run_pipeline("PL_Test", {"big": "x" * (896 * 1024)}).runs

    (activity,) = runner.monitor.activity_runs(run.runId)
    assert activity.error.errorCode == "PayloadTooLarge"
    assert activity.error.message.startswith("activity `Keep`: the activity-run payload is ")
    assert activity.error.message.endswith("bytes; ADF's limit is 917504 (896 KB): pass large values through storage")


def test_when_foreach_gets_more_than_100000_items_then_it_fails(tmp_path: Path) -> None:
    loop = _loop("ForEach", "Each", [_wait()])
    # range() itself stops at 100000 items in ADF (tests/integration/test_expression_differential.py), so two ranges.
    loop["typeProperties"]["items"] = {"value": "@union(range(0, 100000), range(100000, 1))", "type": "Expression"}
    runner = _runtime_runner(tmp_path, [loop], {})

    (run,) = runner.run_pipeline("PL_Test").runs

    (activity,) = runner.monitor.activity_runs(run.runId)
    assert activity.error.message == "ForEach `Each`: 100001 items; ADF's limit is 100000 items per ForEach"


class _SlowClock(SystemClock):
    """Every duration reading is an hour later: whatever runs takes an hour."""

    def __init__(self) -> None:
        self.ticks = 0.0

    def monotonic(self) -> float:
        self.ticks += 3600
        return self.ticks


def test_when_any_activity_type_outlives_policy_timeout_then_it_fails_with_activity_timeout(tmp_path: Path) -> None:
    keep = {"name": "Keep", "type": "SetVariable", "dependsOn": [], "policy": {"timeout": "0.00:30:00"},
            "typeProperties": {"variableName": "v", "value": "x"}}
    (tmp_path / "adf" / "pipelines").mkdir(parents=True)
    _, body = _pipeline([keep], variables={"v": {"type": "String"}})
    (tmp_path / "adf" / "pipelines" / "PL_Test.json").write_text(json.dumps(body))
    runner = LocalFactoryRunner(load_factory(tmp_path / "adf"), LocalFolderStorage(tmp_path / "storage"),
                                tmp_path / "work", clock=_SlowClock())

    (run,) = runner.run_pipeline("PL_Test").runs

    (activity,) = runner.monitor.activity_runs(run.runId)
    assert (activity.status, activity.error.errorCode) == ("Failed", "ActivityTimeout")
    assert activity.error.message == "activity `Keep` ran 3600s, beyond its policy.timeout 0:30:00"


def _user_properties(count: int) -> list[dict[str, Any]]:
    return [{"name": f"p{i}", "value": {"value": f"@string({i})", "type": "Expression"}} for i in range(count)]


def test_when_an_activity_has_a_sixth_user_property_then_it_is_refused_naming_pipeline_and_activity() -> None:
    # Microsoft Learn, "Visually monitor Azure Data Factory": "You can only promote up to five pipeline activity
    # properties as user properties."
    assert _problems(_pipeline([_wait(userProperties=_user_properties(5))])) == []
    problems = _problems(_pipeline([_loop("ForEach", "Each", [_wait("Inner", userProperties=_user_properties(6))])]))

    assert problems == ["activity `Inner` in pipeline `PL_Test` has 6 userProperties; ADF promotes at most 5 (remove 1)"]


@pytest.mark.parametrize(("properties", "expected"), [
    ({"name": "p"}, 'every user property needs a non-empty "name" and a "value"'),
    ({"name": "p", "value": 3}, "user property `p` must be a string or an expression (resultType string)"),
])
def test_when_a_user_property_is_malformed_then_it_is_refused(properties: dict[str, Any], expected: str) -> None:
    assert _problems(_pipeline([_wait(userProperties=[properties])])) == [
        f"activity `Pause` in pipeline `PL_Test`: {expected}"
    ]


def test_the_runner_records_user_properties_evaluated_where_the_activity_runs(tmp_path: Path) -> None:
    keep = {"name": "Keep", "type": "SetVariable", "dependsOn": [],
            "userProperties": [{"name": "day", "value": {"value": "@pipeline().parameters.day", "type": "Expression"}},
                               {"name": "kind", "value": "fixed"}],
            "typeProperties": {"variableName": "v", "value": "x"}}
    runner = _runtime_runner(tmp_path, [keep], {"day": {"type": "string"}})

    (run,) = runner.run_pipeline("PL_Test", {"day": "2026-11-21"}).runs

    (activity,) = runner.monitor.activity_runs(run.runId)
    assert activity.userProperties == {"day": "2026-11-21", "kind": "fixed"}


def test_when_a_user_property_is_not_a_string_then_the_activity_fails(tmp_path: Path) -> None:
    keep = {"name": "Keep", "type": "SetVariable", "dependsOn": [],
            "userProperties": [{"name": "n", "value": {"value": "@length(pipeline().parameters.day)", "type": "Expression"}}],
            "typeProperties": {"variableName": "v", "value": "x"}}
    runner = _runtime_runner(tmp_path, [keep], {"day": {"type": "string"}})

    (run,) = runner.run_pipeline("PL_Test", {"day": "2026-11-21"}).runs

    (activity,) = runner.monitor.activity_runs(run.runId)
    assert activity.status == "Failed"
    assert activity.error.message == ("activity `Keep`: user property `n` evaluated to int, not a string: wrap the "
                                      "expression in string()")
