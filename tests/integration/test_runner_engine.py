"""Pipeline runs in the local runner: dependency conditions, ADF's result rule, control flow, Custom activities
as Batch tasks (real subprocesses), retry, timeout, secure input/output, unsupported types and functions.

The pipelines are real ADF JSON in tests/fixtures/adf_runner_flow; only the clock and sleeping are faked.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import (
    LocalFactoryRunner,
    RunnerOptions,
    load_factory,
    publish_package,
)
from offline.adf_runner.errors import (
    PipelineParameterError,
    UnsupportedActivityTypeError,
    UnsupportedFunctionError,
)
from offline.adf_runner.monitor import SECURE, ActivityRun, PipelineRun
from tests.fake_clock import FakeClock

FLOW = Path(__file__).resolve().parents[1] / "fixtures" / "adf_runner_flow"
SCRIPTS = FLOW / "scripts"


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


def _runner(tmp_path: Path, clock: FakeClock, **options: Any) -> LocalFactoryRunner:
    storage_root = tmp_path / "storage"
    storage_root.mkdir(exist_ok=True)
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": storage_root.as_uri()}})
    return LocalFactoryRunner(
        factory, LocalFolderStorage(storage_root), tmp_path / "work", clock=clock, options=RunnerOptions(**options)
    )


def _run(runner: LocalFactoryRunner, pipeline: str, parameters: dict[str, Any] | None = None) -> PipelineRun:
    result = runner.run_pipeline(pipeline, parameters)
    assert len(result.runs) == 1
    return result.runs[0]


def _activities(runner: LocalFactoryRunner, run: PipelineRun) -> dict[str, ActivityRun]:
    """The last attempt of each activity of a run, by name."""
    found: dict[str, ActivityRun] = {}
    for activity in runner.monitor.activity_runs(run.runId):
        found[activity.activityName] = activity
    return found


def _statuses(runner: LocalFactoryRunner, run: PipelineRun) -> dict[str, str]:
    return {name: a.status for name, a in _activities(runner, run).items()}


# --- dependency conditions and the pipeline result -----------------------------------------------------------


def test_when_dependency_conditions_are_mixed_then_each_activity_runs_or_skips_as_adf(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Conditions")

    assert _statuses(runner, run) == {
        "Ok": "Succeeded",
        "Boom": "Failed",
        "On Ok succeeded": "Succeeded",
        "On Ok failed": "Skipped",
        "On Ok completed": "Succeeded",
        "On Boom failed": "Succeeded",
        "On Boom completed": "Succeeded",
        "On Boom succeeded or failed": "Succeeded",
        "On Ok succeeded and Boom succeeded": "Skipped",
        "On skipped": "Succeeded",
        "On skipped completed": "Skipped",
    }
    # The skipped leaf "On Ok succeeded and Boom succeeded" is evaluated as its parents: Boom failed.
    assert run.status == "Failed"
    assert run.message == "Operation on target Boom failed: boom"
    assert _activities(runner, run)["Boom"].error.errorCode == "E42"


def test_when_failure_is_handled_on_the_failed_path_then_pipeline_succeeds(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Try_Catch")

    assert _statuses(runner, run) == {"Try": "Failed", "Catch": "Succeeded"}
    assert run.status == "Succeeded"


def test_when_success_path_is_skipped_after_a_failure_then_pipeline_fails(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Do_If_Else")

    assert _statuses(runner, run) == {"Do": "Failed", "If ok": "Skipped", "Else": "Succeeded"}
    assert (run.status, run.message) == ("Failed", "Operation on target Do failed: do failed")


def test_when_expression_fails_at_run_time_then_activity_fails_with_invalid_template(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Runtime_Expression_Error")

    bad = _activities(runner, run)["Bad property"]
    assert bad.status == "Failed" and bad.error.errorCode == "InvalidTemplate"
    assert "property `missing` doesn't exist" in bad.error.message
    assert "(in activity `Bad property` property `typeProperties.value`)" in bad.error.message
    assert _statuses(runner, run)["After bad"] == "Succeeded"
    assert run.status == "Succeeded"


# --- control flow -----------------------------------------------------------------------------------------


def test_when_control_pipeline_runs_then_filter_foreach_if_and_child_pipeline_chain(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Control")

    assert run.status == "Succeeded", run.message
    activities = _activities(runner, run)
    assert activities["Keep big"].output == {"ItemsCount": 5, "FilteredItemsCount": 3, "Value": [3, 4, 5]}
    logged = [a for a in runner.monitor.activity_runs(run.runId) if a.activityName == "Log item"]
    assert [(a.iteration, a.input["value"]) for a in logged] == [(0, "3-3"), (1, "4-3"), (2, "5-3")]
    assert activities["Label long"].status == "Succeeded" and "Label short" not in activities
    call = activities["Call child"].output
    assert call["pipelineName"] == "PL_Child" and call["pipelineReturnValue"] == {"echo": "long!"}
    child = runner.monitor.pipeline_run(call["pipelineRunId"])
    assert child.parameters == {"greeting": "long", "fail": False}
    assert child.invokedBy["invokedByType"] == "PipelineActivity" and child.parentRunId == run.runId
    assert clock.sleeps == [5]  # the Wait activity, through the clock


def test_when_child_pipeline_fails_then_execute_pipeline_fails_with_its_message(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Call_Failing_Child")

    call = _activities(runner, run)["Call child"]
    assert call.status == "Failed" and run.status == "Failed"
    assert "child says no" in call.error.message
    child = runner.monitor.pipeline_run(call.output["pipelineRunId"])
    assert child.status == "Failed"
    assert child.message.startswith("Operation on target Maybe fail failed: Activity failed because an inner activity failed")


def test_when_foreach_is_not_sequential_then_iterations_run_in_parallel_threads(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock, batch_slots=4)  # the four items meet at a barrier: all must run at once
    barrier = tmp_path / "barrier"

    run = _run(runner, "PL_ForEach_Parallel", {"scripts": str(SCRIPTS), "barrier": str(barrier)})

    assert run.status == "Succeeded", run.message
    inner = [a for a in runner.monitor.activity_runs(run.runId) if a.activityName == "Meet at barrier"]
    assert sorted(a.output["customOutput"]["item"] for a in inner) == ["a", "b", "c", "d"]
    assert sorted(a.iteration for a in inner) == [0, 1, 2, 3]
    for index in range(4):
        assert (tmp_path / "work" / "batch" / run.runId / f"meet-at-barrier-{index}" / "attempt-1" / "stdout.txt").is_file()


def test_when_activity_output_is_secure_then_monitoring_hides_input_and_output(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Secure_Output")

    hidden = _activities(runner, run)["Hidden"]
    assert (hidden.input, hidden.output, hidden.status) == (SECURE, SECURE, "Succeeded")
    assert "secret-value" not in json.dumps(runner.monitor.to_json(), default=str)


# --- Custom activity as a Batch task ----------------------------------------------------------------------


def test_when_custom_activity_runs_then_task_gets_batch_context_files_and_env(tmp_path: Path, clock: FakeClock) -> None:
    log = io.StringIO()
    runner = _runner(tmp_path, clock, verbose=True, log=log)
    publish_package(runner.storage, SCRIPTS, "code")  # -> code/scripts/*.py, the activity's folderPath

    run = _run(runner, "PL_Custom_Context")

    assert run.status == "Succeeded", run.message
    activity = _activities(runner, run)["Show context"]
    output = activity.output
    task_dir = tmp_path / "work" / "batch" / run.runId / "show-context" / "attempt-1"
    working_dir = task_dir / "wd"
    custom = output["customOutput"]
    assert custom["activityName"] == "Show context" and custom["activityType"] == "Custom"
    assert custom["extendedProperties"] == {
        "runId": run.runId,
        "fail": False,
        "token": {"type": "SecureString", "value": "s3cret"},
        "literal": "@not-an-expression",
    }
    assert custom["linkedServices"] == ["Ls_Storage"] and custom["datasets"] == ["Ds_Things"]
    assert custom["linkedServiceEndpoint"] == (tmp_path / "storage").as_uri()  # overrides reach linkedServices.json
    node = tmp_path / "work" / "batch" / "node"
    # Only what Batch sets (Microsoft Learn, "Azure Batch runtime environment variables"): nothing of the runner's.
    custom["env"].pop("LC_CTYPE", None)  # set by Python itself in a C locale (PEP 538), not by the runner
    assert custom["env"] == {
        "PATH": custom["env"]["PATH"],
        "AZ_BATCH_ACCOUNT_NAME": "example",
        "AZ_BATCH_ACCOUNT_URL": "https://example.westeurope.batch.azure.com",
        "AZ_BATCH_POOL_ID": "fixture-pool",
        "AZ_BATCH_JOB_ID": "adfv2-fixture-pool",
        "AZ_BATCH_TASK_ID": activity.activityRunId,
        "AZ_BATCH_NODE_ID": custom["env"]["AZ_BATCH_NODE_ID"],
        "AZ_BATCH_NODE_IS_DEDICATED": "true",
        "AZ_BATCH_NODE_ROOT_DIR": str(node),
        "AZ_BATCH_NODE_SHARED_DIR": str(node / "shared"),
        "AZ_BATCH_NODE_STARTUP_DIR": str(node / "startup"),
        "AZ_BATCH_TASK_DIR": str(task_dir),
        "AZ_BATCH_TASK_WORKING_DIR": str(working_dir),
    }
    # python3 is the pool's interpreter (prepared from activities/requirements.txt), first on PATH; no `python`.
    pool_bin = Path(custom["env"]["PATH"].split(":")[0])
    assert custom["python"] == str(pool_bin / "python3") and not (pool_bin / "python").exists()
    assert custom["cwd"] == str(working_dir)
    # folderPath staged flat: the scripts sit next to the context files, no scripts/ subfolder.
    assert {"activity.json", "linkedServices.json", "datasets.json", "context.py", "flaky.py"} <= set(custom["files"])
    assert "scripts" not in custom["files"]
    assert output["exitcode"] == 0
    # stdout/stderr are blobs in the adfjobs container of the Batch linked service's storage, as ADF reports them.
    jobs = tmp_path / "storage" / "adfjobs" / activity.activityRunId
    assert output["outputs"] == [(jobs / "output" / "stdout.txt").as_uri(), (jobs / "output" / "stderr.txt").as_uri()]
    assert (jobs / "output" / "stdout.txt").read_text() == "hello from the task\n"
    assert json.loads((jobs / "runtime" / "activity.json").read_text())["name"] == "Show context"
    assert output["effectiveIntegrationRuntime"] == "local (Azure Batch emulation)"
    assert isinstance(output["executionDuration"], float)
    assert (task_dir / "stdout.txt").read_text() == "hello from the task\n"
    assert "[Show context] hello from the task" in log.getvalue()
    assert activity.input == SECURE  # secureInput: the SecureString does not reach monitoring


def test_when_custom_command_exits_non_zero_then_adf_code_2500_and_the_reason_stays_in_stderr(
    tmp_path: Path, clock: FakeClock
) -> None:
    # Microsoft Learn, "Troubleshoot Azure Data Factory", Custom: error code 2500, "Hit unexpected exception and
    # execution failed." (Cause: "Can't launch command, or the program returned an error code.")
    runner = _runner(tmp_path, clock)
    publish_package(runner.storage, SCRIPTS, "code")

    run = _run(runner, "PL_Custom_Context", {"fail": True})

    activity = _activities(runner, run)["Show context"]
    assert activity.status == "Failed" and run.status == "Failed"
    assert (activity.error.errorCode, activity.error.message) == ("2500", "Hit unexpected exception and execution failed.")
    assert activity.output["exitcode"] == 1
    assert run.message == "Operation on target Show context failed: Hit unexpected exception and execution failed."
    stderr_url = activity.output["outputs"][1]
    assert Path(stderr_url.removeprefix("file://")).read_text().strip().endswith("ERROR Show context: asked to fail")


def test_when_folder_path_holds_no_files_then_custom_activity_fails_naming_it(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Custom_Context")

    error = _activities(runner, run)["Show context"].error
    # Microsoft Learn, "Troubleshoot Azure Data Factory", Custom: error code 2507.
    assert (error.errorCode, error.message) == ("2507", "The folder path does not exist or is empty: code/scripts")


def test_when_custom_activity_fails_once_then_retry_runs_it_again_after_the_interval(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)
    marker = tmp_path / "flaky.marker"

    run = _run(runner, "PL_Retry", {"scripts": str(SCRIPTS), "marker": str(marker)})

    attempts = [a for a in runner.monitor.activity_runs(run.runId) if a.activityName == "Flaky step"]
    assert [(a.attempt, a.status) for a in attempts] == [(1, "Failed"), (2, "Succeeded")]
    assert attempts[0].error.message == "Hit unexpected exception and execution failed."
    assert attempts[1].output["customOutput"] == {"attempt": "second"}
    assert clock.sleeps == [30]
    assert run.status == "Succeeded"
    attempt_dirs = sorted(p.name for p in (tmp_path / "work" / "batch" / run.runId / "flaky-step").iterdir())
    assert attempt_dirs == ["attempt-1", "attempt-2"]


def test_when_retry_interval_is_capped_then_runner_waits_the_cap(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock, retry_interval_cap_seconds=0.5)

    _run(runner, "PL_Retry", {"scripts": str(SCRIPTS), "marker": str(tmp_path / "m")})

    assert clock.sleeps == [0.5]


def test_when_custom_activity_outlives_its_timeout_then_it_is_killed_and_fails(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)
    started = time.monotonic()

    run = _run(runner, "PL_Timeout", {"scripts": str(SCRIPTS)})

    assert time.monotonic() - started < 10  # killed at ~1 s, not after the script's 30 s
    slow = _activities(runner, run)["Slow step"]
    assert slow.status == "Failed" and slow.error.errorCode == "ActivityTimeout"
    assert "timed out after 0:00:01" in slow.error.message
    assert _activities(runner, run)["After timeout"].input["value"] == "ActivityTimeout"


# --- what the runner refuses -----------------------------------------------------------------------------


def test_when_pipeline_has_unsupported_activity_type_then_run_stops_before_any_activity(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    with pytest.raises(UnsupportedActivityTypeError) as caught:
        runner.run_pipeline("PL_Unknown_Type")

    assert str(caught.value) == (
        "Activity type `HDInsightHive` (activity `Run a Hive script` in pipeline `PL_Unknown_Type`) is not supported by the local runner"
    )
    assert runner.monitor.pipeline_runs() == []


def test_when_pipeline_uses_unsupported_function_then_error_names_function_and_property(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    with pytest.raises(UnsupportedFunctionError) as caught:
        runner.run_pipeline("PL_Unknown_Function")

    assert str(caught.value) == (
        "function `foo` is not supported by the local runner (in activity `Odd expression` property `typeProperties.command`)"
    )


def test_when_required_parameter_is_missing_then_error_names_it(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    with pytest.raises(PipelineParameterError, match="pipeline `PL_Retry` parameter `marker`: has no default value"):
        runner.run_pipeline("PL_Retry", {"scripts": "x"})
    with pytest.raises(PipelineParameterError, match="parameter `typo`: is not declared"):
        runner.run_pipeline("PL_Try_Catch", {"typo": 1})


# --- monitoring -------------------------------------------------------------------------------------------


def test_when_runs_finish_then_monitoring_view_and_json_show_them(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    result = runner.run_pipeline("PL_Do_If_Else")
    view = io.StringIO()
    runner.render_monitoring(view)

    text = view.getvalue()
    assert "Pipeline runs" in text and "PL_Do_If_Else" in text and "Manual (Manual)" in text
    assert "E1: do failed" in text and "Skipped" in text
    assert result.monitoring_json is not None and result.monitoring_json.parent == tmp_path / "work" / "runs"
    saved = json.loads(result.monitoring_json.read_text())
    assert saved["pipelineRuns"][0]["status"] == "Failed"
    assert {a["activityName"]: a["status"] for a in saved["activityRuns"]} == {"Do": "Failed", "If ok": "Skipped", "Else": "Succeeded"}
    assert saved["pipelineRuns"][0]["runStart"].endswith("Z") and saved["pipelineRuns"][0]["durationInMs"] >= 0
    assert result.exit_code == 1


def test_when_input_holds_a_secure_string_then_monitoring_masks_its_value(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Secure_String")

    keep = _activities(runner, run)["Keep token"]
    assert keep.status == "Succeeded"
    assert keep.input == {"variableName": "log", "value": {"type": "SecureString", "value": "***"}}
    assert "pa55word" not in json.dumps(runner.monitor.to_json(), default=str)


def test_when_activities_are_independent_then_they_run_at_the_same_time(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Parallel_Siblings", {"scripts": str(SCRIPTS), "barrier": str(tmp_path / "barrier")})

    assert _statuses(runner, run) == {"Left": "Succeeded", "Right": "Succeeded", "After both": "Succeeded"}
    assert run.status == "Succeeded"


def test_when_runner_runs_twice_then_each_monitoring_file_holds_its_own_runs(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    first = runner.run_pipeline("PL_Try_Catch")
    second = runner.run_pipeline("PL_Control")

    assert first.monitoring_json != second.monitoring_json
    saved = json.loads(second.monitoring_json.read_text())  # type: ignore[union-attr]
    assert [r["pipelineName"] for r in saved["pipelineRuns"]] == ["PL_Control", "PL_Child"]
    assert "Try" not in {a["activityName"] for a in saved["activityRuns"]}


def test_when_execute_pipeline_does_not_wait_then_it_succeeds_and_the_child_still_runs(tmp_path: Path, clock: FakeClock) -> None:
    runner = _runner(tmp_path, clock)

    run = _run(runner, "PL_Fire_And_Forget")  # run_pipeline joins children started without waiting

    start = _activities(runner, run)["Start child"]
    assert start.status == "Succeeded" and set(start.output) == {"pipelineName", "pipelineRunId"}
    child = runner.monitor.pipeline_run(start.output["pipelineRunId"])
    assert (child.pipelineName, child.status, child.parameters["greeting"]) == ("PL_Child", "Succeeded", "later")
