"""The whole chain in the local runner: a schedule trigger runs a Custom activity (a real subprocess, its code
downloaded from local folder storage) that writes blobs; the `_ready.json` blob fires a BlobEventsTrigger whose
pipeline runs a second Custom activity; monitoring JSON records both runs."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import (
    LocalFactoryRunner,
    RunnerOptions,
    load_factory,
    publish_package,
)

CHAIN = Path(__file__).resolve().parents[1] / "fixtures" / "adf_runner_chain"


@pytest.fixture()
def runner(tmp_path: Path) -> LocalFactoryRunner:
    storage_root = tmp_path / "storage"
    storage = LocalFolderStorage(storage_root)
    # Uploaded as a tree; Batch stages folderPath flat, so the working directory gets chainlib.py, produce.py, ...
    publish_package(storage, CHAIN / "code" / "chainpkg", "code/batch")
    factory = load_factory(
        CHAIN,
        overrides={"Ls_Local": {"typeProperties.serviceEndpoint": storage_root.as_uri()}},
        global_parameters={"codeFolderPath": "code/batch", "outputContainer": "processed"},
    )
    return LocalFactoryRunner(factory, storage, tmp_path / "work", options=RunnerOptions(verbose=True, log=io.StringIO()))


def test_when_schedule_trigger_fires_then_blob_event_runs_the_second_pipeline(runner: LocalFactoryRunner, tmp_path: Path) -> None:
    result = runner.run_schedule_trigger("TR_Daily", date(2026, 11, 24))

    assert [(r.pipelineName, r.status) for r in result.runs] == [("PL_Produce", "Succeeded"), ("PL_Consume", "Succeeded")]
    produce, consume = result.runs
    assert produce.parameters == {"runDate": "2026-11-24"}
    assert produce.invokedBy["name"] == "TR_Daily" and produce.invokedBy["invokedByType"] == "ScheduleTrigger"
    # Only the non-empty marker under /landing/blobs/daily/ fired, once.
    assert consume.parameters == {"folderPath": "landing/daily/run_date=2026-11-24", "fileName": "_ready.json"}
    assert consume.invokedBy["name"] == "TR_Ready" and consume.invokedBy["invokedByType"] == "BlobEventsTrigger"
    assert json.loads((tmp_path / "storage" / "processed" / "daily" / "run_date=2026-11-24" / "summary.json").read_text()) == {"rows": 3}
    assert result.succeeded and result.exit_code == 0
    assert "[Summarise landed day] summarised 3 rows" in runner.options.log_stream.getvalue()  # type: ignore[attr-defined]


def test_when_chain_has_run_then_monitoring_json_holds_both_runs_and_custom_outputs(runner: LocalFactoryRunner, tmp_path: Path) -> None:
    result = runner.run_schedule_trigger("TR_Daily", date(2026, 11, 24))

    assert result.monitoring_json == tmp_path / "work" / "runs" / "2026-11-24-runs.json"
    saved = json.loads(result.monitoring_json.read_text())
    assert [(r["pipelineName"], r["status"], r["invokedBy"]["name"]) for r in saved["pipelineRuns"]] == [
        ("PL_Produce", "Succeeded", "TR_Daily"), ("PL_Consume", "Succeeded", "TR_Ready")
    ]
    activities = {a["activityName"]: a for a in saved["activityRuns"]}
    produce = activities["Produce landing files"]
    assert produce["status"] == "Succeeded" and produce["pipelineRunId"] == saved["pipelineRuns"][0]["runId"]
    assert produce["output"]["customOutput"]["runId"] == saved["pipelineRuns"][0]["runId"]
    assert produce["input"]["extendedProperties"]["runDate"] == "2026-11-24"
    assert activities["Summarise landed day"]["output"]["customOutput"] == {
        "rows": 3,
        "source": "landing/daily/run_date=2026-11-24/_ready.json",
        "summary": "processed/daily/run_date=2026-11-24/summary.json",
    }
    assert activities["Summarise landed day"]["output"]["exitcode"] == 0
    view = io.StringIO()
    runner.render_monitoring(view)
    assert "TR_Ready (BlobEventsTrigger)" in view.getvalue() and 'customOutput {"rows": 3' in view.getvalue()


def test_when_a_manual_run_follows_events_then_the_fired_pipeline_runs_too(runner: LocalFactoryRunner) -> None:
    result = runner.run_pipeline("PL_Produce", {"runDate": "2026-11-25"}, follow_events=True)

    assert [(r.pipelineName, r.invokedBy["invokedByType"]) for r in result.runs] == [
        ("PL_Produce", "Manual"), ("PL_Consume", "BlobEventsTrigger")
    ]
    assert result.succeeded


def test_when_the_second_activity_fails_then_the_run_result_fails_with_its_stderr(runner: LocalFactoryRunner) -> None:
    # A marker that lists a file without rows: the consumer exits 1 and says why on stderr.
    runner.storage.write_bytes("landing", "daily/run_date=2026-11-26/nothing.json", json.dumps({"rows": []}).encode())
    runner.storage.write_bytes("landing", "daily/run_date=2026-11-26/_ready.json", json.dumps({"files": ["nothing.json"]}).encode())

    result = runner.run_pipeline("PL_Consume", {"folderPath": "landing/daily/run_date=2026-11-26"})

    assert result.runs[0].status == "Failed" and result.exit_code == 1
    # ADF's own error for the task (2500); the reason stays in the task's stderr.txt under adfjobs.
    assert result.runs[0].message == (
        "Operation on target Summarise landed day failed: Hit unexpected exception and execution failed."
    )
    (failed,) = [a for a in runner.monitor.activity_runs(result.runs[0].runId) if a.status == "Failed"]
    stderr = Path(failed.output["outputs"][1].removeprefix("file://")).read_text()
    assert stderr.strip().endswith("ERROR consume: no rows under landing/daily/run_date=2026-11-26")
