"""What Studio shows when a Custom activity fails: ADF's own 2500 on the activity (Microsoft Learn, "Troubleshoot
Azure Data Factory", Custom), and the activity's one-line reason on the pipeline run, through the Fail activity that
reads customOutput.error (written by activities.common.entrypoint)."""

from __future__ import annotations

from pathlib import Path

from activities.common.storage import LocalFolderStorage
from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.env_config.factory import factory_overrides
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory, publish_code_package

REPO = Path(__file__).resolve().parents[2]


def test_when_the_transform_fails_then_the_pipeline_fails_with_its_reason_and_the_activity_with_2500(
    tmp_path: Path,
) -> None:
    config = load_config("local")
    root = tmp_path / "storage"
    root.mkdir()
    storage = LocalFolderStorage(root)
    parameters = global_parameters(config)
    parameters["activitiesFolderPath"] = publish_code_package(storage, REPO / "activities", parameters["activitiesFolderPath"])
    overrides = factory_overrides(config) | {
        "Ls_Blob_Storage": {"typeProperties.serviceEndpoint": root.as_uri()},
        "Ls_Batch_Storage": {"typeProperties": {"serviceEndpoint": root.as_uri()}},
    }
    runner = LocalFactoryRunner(load_factory(REPO / "adf", overrides, parameters), storage, tmp_path / "work",
                                options=RunnerOptions(retry_interval_cap_seconds=0))
    folder = "raw/spotify/manifests/ingest_date=2026-11-24/run_id=missing"

    (run,) = runner.run_pipeline("PL_Transform_Spotify", {"folderPath": folder, "fileName": "_manifest.json"}).runs

    runs = {a.activityName: a for a in runner.monitor.activity_runs(run.runId)}
    transform, fail = runs["Transform raw run"], runs["Fail with the transform's reason"]
    assert (transform.error.errorCode, transform.error.message) == ("2500", "Hit unexpected exception and execution failed.")
    reason = transform.output["customOutput"]["error"]["message"]
    assert reason.startswith("transform: ") and "_manifest.json" in reason
    assert (fail.error.errorCode, fail.error.message) == ("TransformFailed", reason)
    assert (run.status, run.message) == ("Failed", f"Operation on target Fail with the transform's reason failed: {reason}")
    assert fail.userProperties == {"rawRun": folder}
