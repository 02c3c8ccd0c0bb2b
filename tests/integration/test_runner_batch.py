"""Custom activities as Azure Batch runs them: flat staging of folderPath, no shell, only `python3`, the pool's
task slots, the 2 MB customOutput limit. Real subprocesses on the pool's Python; only the clock is faked.

Sources: Microsoft Learn, "Use custom activities in an Azure Data Factory pipeline" (folderPath is flattened;
customOutput up to 2 MB; stdout/stderr in the adfjobs container) and "Azure Batch runtime environment variables"
(command lines don't run under a shell)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from activities.common.context import SecureString
from activities.common.secrets import FolderSecretStore
from activities.common.storage import LocalFolderStorage
from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.env_config.factory import factory_overrides
from factory_deploy.limits import CUSTOM_OUTPUT_MAX_BYTES
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory, publish_package
from offline.adf_runner.clock import SystemClock
from offline.adf_runner.monitor import ActivityRun, PipelineRun

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "tests" / "fixtures" / "adf_runner_flow"
SCRIPTS = FLOW / "scripts"


class FrozenClock(SystemClock):
    """Real monotonic time (tasks really run), a fixed wall clock, no real sleeping between retries."""

    def now(self) -> datetime:
        return datetime(2026, 11, 24, 5, 0, tzinfo=UTC)

    def sleep(self, seconds: float) -> None:
        return None


def _runner(tmp_path: Path, **options: Any) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    root.mkdir(exist_ok=True)
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", clock=FrozenClock(),
                              options=RunnerOptions(**options))


def _run(runner: LocalFactoryRunner, pipeline: str, parameters: dict[str, Any] | None = None) -> PipelineRun:
    (run,) = runner.run_pipeline(pipeline, parameters).runs
    return run


def _activity(runner: LocalFactoryRunner, run: PipelineRun, name: str) -> ActivityRun:
    return next(a for a in runner.monitor.activity_runs(run.runId) if a.activityName == name)


def _blob_text(url: str) -> str:
    """A task log by the URL ADF reports (here a file:// URL into the local Batch storage's adfjobs container)."""
    return Path(url2pathname(urlsplit(url).path)).read_text()


@pytest.mark.parametrize("slots", [1, 2])
def test_when_pool_has_n_slots_then_at_most_n_custom_activities_run_at_once(tmp_path: Path, slots: int) -> None:
    runner = _runner(tmp_path, batch_slots=slots)

    run = _run(runner, "PL_Batch_Slots", {"scripts": str(SCRIPTS), "dir": str(tmp_path / "probe")})

    assert run.status == "Succeeded", run.message
    probes = [a for a in runner.monitor.activity_runs(run.runId) if a.activityName == "Probe"]
    # batchCount 4 asks for four at once; the pool runs `slots` (ForEach batchCount is only an upper bound).
    assert max(a.output["customOutput"]["seenAtOnce"] for a in probes) == slots
    assert len(probes) == 4


def test_when_command_uses_shell_syntax_then_only_sh_expands_it(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    run = _run(runner, "PL_No_Shell")

    assert run.status == "Succeeded", run.message
    literal, through_sh = _activity(runner, run, "Literal"), _activity(runner, run, "Through sh")
    stdout = _blob_text(literal.output["outputs"][0])
    assert stdout == "$AZ_BATCH_TASK_ID\n"  # no shell: the argument arrives as written
    expanded = _blob_text(through_sh.output["outputs"][0])
    assert expanded == f"{through_sh.activityRunId}\n"


def test_when_command_says_python_then_it_fails_as_on_a_linux_pool(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    run = _run(runner, "PL_Python_Alias")

    error = _activity(runner, run, "Say python").error
    assert error.errorCode == "2500"  # ADF: 2500 when the command cannot launch
    assert error.message == (
        "activity `Say python`: `python` is not on the Batch node's PATH; Linux pool images ship `python3`, not "
        "`python` (the command runs without a shell; for shell features use /bin/sh -c \"...\")"
    )


def test_when_outputs_json_exceeds_2_mb_then_the_activity_fails_naming_the_limit(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    run = _run(runner, "PL_Big_Output", {"scripts": str(SCRIPTS), "size": CUSTOM_OUTPUT_MAX_BYTES + 1})
    at_limit = _run(runner, "PL_Big_Output", {"scripts": str(SCRIPTS), "size": CUSTOM_OUTPUT_MAX_BYTES})

    error = _activity(runner, run, "Too much output").error
    assert error.message == (
        f"activity `Too much output` wrote an outputs.json of {CUSTOM_OUTPUT_MAX_BYTES + 1} bytes; ADF's customOutput "
        "limit is 2097152 bytes (2 MB): write large results to storage and return their path"
    )
    assert at_limit.status == "Succeeded", at_limit.message


def test_when_folder_path_holds_a_package_tree_then_flat_staging_fails_with_adf_2508(tmp_path: Path) -> None:
    """The layout before the code package: the `activities` tree under folderPath, `python -m activities.<stage>`.
    ADF's code and text (Learn, "Troubleshoot Azure Data Factory", Custom, 2508); the clashing files go to the log."""
    config = load_config("local")
    root = tmp_path / "storage"
    storage = LocalFolderStorage(root)
    vault = FolderSecretStore(tmp_path / "keyvault")
    vault.set(config.spotify.client_secret_name, SecureString("unused"))
    parameters = global_parameters(config)
    publish_package(storage, REPO / "activities", parameters["activitiesFolderPath"])  # the tree, as before
    overrides = factory_overrides(config) | {
        "Ls_Blob_Storage": {"typeProperties.serviceEndpoint": root.as_uri()},
        "Ls_Batch_Storage": {"typeProperties": {"serviceEndpoint": root.as_uri()}},
        "Ls_KeyVault": {"typeProperties.baseUrl": vault.folder.as_uri() + "/"},
    }
    log = io.StringIO()
    runner = LocalFactoryRunner(load_factory(REPO / "adf", overrides, parameters), storage, tmp_path / "work",
                                clock=FrozenClock(), options=RunnerOptions(log=log))

    run = _run(runner, "PL_Extract_Spotify", {"ingestDate": "2026-11-24"})

    error = _activity(runner, run, "Extract Spotify").error
    assert (error.errorCode, error.message) == ("2508", "There are duplicate files in the resource folder.")
    logged = log.getvalue()
    assert "activity `Extract Spotify`: folderPath `batch-code/activities` holds 7 files named `__init__.py`" in logged
    assert "files named `__init__.py` (activities/activities/__init__.py, activities/activities/common/__init__.py" in logged
    assert "ship one archive instead (factory_deploy.code_package)" in logged


def test_when_the_batch_linked_service_url_is_not_a_uri_then_the_activity_fails_with_adf_2509(tmp_path: Path) -> None:
    root = tmp_path / "storage"
    root.mkdir()
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()},
                                            "Ls_Batch": {"typeProperties.batchUri": "mybatch.westeurope"}})
    runner = LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", clock=FrozenClock())

    run = _run(runner, "PL_Big_Output", {"scripts": str(SCRIPTS), "size": 1})

    error = _activity(runner, run, "Too much output").error
    assert (error.errorCode, error.message) == ("2509", "Batch url mybatch.westeurope is invalid; it must be in Uri format.")


def test_when_a_pipeline_has_concurrency_1_then_its_runs_queue(tmp_path: Path) -> None:
    runner = _runner(tmp_path, batch_slots=3)  # the pool would run all three: the pipeline's concurrency bounds them

    run = _run(runner, "PL_Queue_Parent", {"scripts": str(SCRIPTS), "dir": str(tmp_path / "probe")})

    assert run.status == "Succeeded", run.message
    children = [r for r in runner.monitor.pipeline_runs() if r.pipelineName == "PL_Queued_Child"]
    probes = [_activity(runner, child, "Probe") for child in children]
    assert len(probes) == 3 and [p.output["customOutput"]["seenAtOnce"] for p in probes] == [1, 1, 1]
