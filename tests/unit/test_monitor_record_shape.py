"""The local monitoring record (`<workdir>/runs/*-runs.json`) has the shape of the 2018-06-01 REST API's answers:
every pipeline run, activity run and trigger run carries exactly the keys of Microsoft's examples
PipelineRuns_QueryByFactory.json, ActivityRuns_QueryByPipelineRun.json and TriggerRuns_QueryByFactory.json
(Azure/azure-rest-api-specs, specification/datafactory/resource-manager/Microsoft.DataFactory/stable/2018-06-01/
examples/, vendored in tests/arm_specs/examples/), plus the spec's PipelineRun properties runGroupId and isLatest,
and nothing ADF does not return."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, load_factory

EXAMPLES = Path(__file__).resolve().parents[1] / "arm_specs" / "examples"
# PipelineRun properties of the 2018-06-01 spec that the example leaves out; runDimension(s) only when the pipeline
# declares runDimensions (none of ours does).
SPEC_ONLY = {"runGroupId", "isLatest"}
INVOKED_BY = {"id", "name", "invokedByType", "pipelineName", "pipelineRunId"}  # spec: PipelineRunInvokedBy


def _example_items(name: str) -> list[dict[str, Any]]:
    document = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return document["responses"]["200"]["body"]["value"]  # type: ignore[no-any-return]


def _keys(name: str) -> set[str]:
    (keys,) = {frozenset(item) for item in _example_items(name)}
    return set(keys)


def _factory(tmp_path: Path) -> Path:
    adf = tmp_path / "adf"
    for folder in ("pipelines", "triggers"):
        (adf / folder).mkdir(parents=True)
    wait = {"name": "Pause", "type": "Wait", "dependsOn": [], "typeProperties": {"waitTimeInSeconds": 0},
            "userProperties": [{"name": "day", "value": {"value": "@pipeline().parameters.day", "type": "Expression"}}]}
    flaky = {"name": "Check", "type": "Fail", "dependsOn": [{"activity": "Pause", "dependencyConditions": ["Succeeded"]}],
             "policy": {"retry": 1, "retryIntervalInSeconds": 0},
             "typeProperties": {"message": "on purpose", "errorCode": "Demo"}}
    pipeline = {"name": "PL_Demo", "properties": {"parameters": {"day": {"type": "string"}}, "annotations": ["demo"],
                                                   "activities": [wait, flaky]}}
    trigger = {"name": "TR_Daily", "properties": {
        "type": "ScheduleTrigger", "runtimeState": "Started",
        "pipelines": [{"pipelineReference": {"referenceName": "PL_Demo", "type": "PipelineReference"},
                       "parameters": {"day": "@formatDateTime(trigger().scheduledTime, 'yyyy-MM-dd')"}}],
        "typeProperties": {"recurrence": {"frequency": "Day", "interval": 1, "startTime": "2026-11-01T05:00:00Z",
                                          "timeZone": "UTC"}}}}
    (adf / "pipelines" / "PL_Demo.json").write_text(json.dumps(pipeline))
    (adf / "triggers" / "TR_Daily.json").write_text(json.dumps(trigger))
    return adf


def test_the_vendored_examples_agree_on_their_key_sets() -> None:
    assert _keys("PipelineRuns_QueryByFactory.json") >= {"runId", "lastUpdated", "annotations", "invokedBy"}
    assert _keys("ActivityRuns_QueryByPipelineRun.json") >= {"retryAttempt", "userProperties", "linkedServiceName", "error"}
    assert _keys("TriggerRuns_QueryByFactory.json") >= {"triggerRunId", "triggeredPipelines", "properties"}


def test_the_runs_record_has_the_keys_of_the_rest_examples_and_nothing_else(tmp_path: Path) -> None:
    runner = LocalFactoryRunner(load_factory(_factory(tmp_path)), LocalFolderStorage(tmp_path / "storage"),
                                tmp_path / "work")

    result = runner.run_schedule_trigger("TR_Daily", date(2026, 11, 24))
    record = json.loads(result.monitoring_json.read_text(encoding="utf-8"))

    assert set(record) == {"pipelineRuns", "activityRuns", "triggerRuns"}
    (pipeline,) = record["pipelineRuns"]
    assert set(pipeline) == _keys("PipelineRuns_QueryByFactory.json") - {"runDimension"} | SPEC_ONLY
    assert {"id", "name", "invokedByType"} <= set(pipeline["invokedBy"]) <= INVOKED_BY
    assert (pipeline["runGroupId"], pipeline["isLatest"], pipeline["annotations"]) == (pipeline["runId"], True, ["demo"])
    assert pipeline["parameters"] == {"day": "2026-11-24"} and pipeline["lastUpdated"] == pipeline["runEnd"]
    activity_keys = _keys("ActivityRuns_QueryByPipelineRun.json")
    assert all(set(a) == activity_keys for a in record["activityRuns"])
    runs = {(a["activityName"], a["retryAttempt"]): a for a in record["activityRuns"]}
    assert set(runs) == {("Pause", None), ("Check", None), ("Check", 1)}
    # On success `error` is ADF's empty error naming the activity; on failure the failure.
    assert runs["Pause", None]["error"] == {"errorCode": "", "message": "", "failureType": "", "target": "Pause"}
    assert runs["Pause", None]["userProperties"] == {"day": "2026-11-24"}
    assert runs["Check", 1]["error"] == {"errorCode": "Demo", "message": "on purpose", "failureType": "UserError",
                                         "target": "Check"}
    (trigger,) = record["triggerRuns"]
    assert set(trigger) == _keys("TriggerRuns_QueryByFactory.json")
    assert trigger["triggeredPipelines"] == {"PL_Demo": pipeline["runId"]}
    assert pipeline["invokedBy"]["id"] == trigger["triggerRunId"]
    assert trigger["properties"] == {"TriggerTime": trigger["properties"]["TriggerTime"],
                                     "ScheduleTime": "11/24/2026 5:00:00 AM"}
