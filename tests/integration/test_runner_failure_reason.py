"""What Studio shows when a Custom activity fails: ADF's own 2500 on the activity (Microsoft Learn, "Troubleshoot
Azure Data Factory", Custom), and the activity's one-line reason on the pipeline run, through the Fail activity that
reads customOutput.error (written by activities.common.entrypoint).

Every Custom activity of the three pipelines has such a Fail activity in its own scope (inside a ForEach for the
shards), with its own error code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.common.secrets import FolderSecretStore
from activities.common.storage import LocalFolderStorage
from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.env_config.factory import factory_overrides
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory, publish_code_package

REPO = Path(__file__).resolve().parents[2]


def _runner(tmp_path: Path) -> LocalFactoryRunner:
    config = load_config("local")
    root = tmp_path / "storage"
    root.mkdir()
    storage = LocalFolderStorage(root)
    parameters = global_parameters(config)
    parameters["activitiesFolderPath"] = publish_code_package(storage, REPO / "activities", parameters["activitiesFolderPath"])
    # Nothing listens there: the extraction stops at the missing secret, before any request.
    parameters |= {"spotifyApiBaseUrl": "http://127.0.0.1:9/v1", "spotifyTokenUrl": "http://127.0.0.1:9/api/token"}
    overrides = factory_overrides(config) | {
        "Ls_Blob_Storage": {"typeProperties.serviceEndpoint": root.as_uri()},
        "Ls_Batch_Storage": {"typeProperties": {"serviceEndpoint": root.as_uri()}},
        # A vault without the Spotify client secret: the extraction cannot start.
        "Ls_KeyVault": {"typeProperties.baseUrl": FolderSecretStore(tmp_path / "keyvault").folder.as_uri() + "/"},
    }
    return LocalFactoryRunner(load_factory(REPO / "adf", overrides, parameters), storage, tmp_path / "work",
                              options=RunnerOptions(retry_interval_cap_seconds=0))


def test_when_the_transform_fails_then_the_pipeline_fails_with_its_reason_and_the_activity_with_2500(
    tmp_path: Path,
) -> None:
    runner = _runner(tmp_path)
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


def test_when_the_extraction_fails_then_the_pipeline_fails_with_its_reason_and_code(tmp_path: Path) -> None:
    runner = _runner(tmp_path)

    (run,) = runner.run_pipeline("PL_Extract_Spotify", {"ingestDate": "2026-11-24"}).runs

    runs = {a.activityName: a for a in runner.monitor.activity_runs(run.runId)}
    extract, fail = runs["Extract Spotify"], runs["Fail with the extract's reason"]
    assert (extract.error.errorCode, extract.error.message) == ("2500", "Hit unexpected exception and execution failed.")
    reason = extract.output["customOutput"]["error"]["message"]
    assert reason.startswith("extract: ") and "spotify-client-secret" in reason
    assert (fail.error.errorCode, fail.error.message) == ("ExtractFailed", reason)
    assert (run.status, run.message) == ("Failed", f"Operation on target Fail with the extract's reason failed: {reason}")
    assert fail.userProperties == {"ingestDate": "2026-11-24", "step": "plan"}
    assert runs["Extract shards"].status == "Skipped"  # its dependency (Succeeded) did not hold


def _activities(activities: list[dict[str, object]]) -> list[dict[str, object]]:
    found = []
    for activity in activities:
        found.append(activity)
        found += _activities(activity.get("typeProperties", {}).get("activities", []))  # type: ignore[union-attr, arg-type]
    return found


@pytest.mark.parametrize(("pipeline", "codes"), [
    ("PL_Extract_Spotify", {"Extract Spotify": "ExtractFailed", "Extract Spotify shard": "ExtractShardFailed",
                            "Extract Spotify shard level 2": "ExtractShardFailed",
                            "Extract Spotify shard level 3": "ExtractShardFailed", "Write manifest": "ManifestFailed"}),
    ("PL_Transform_Spotify", {"Transform raw run": "TransformFailed"}),
    ("PL_Load_Spotify", {"Check serving schemas": "SchemaCheckFailed", "Publish snapshot": "PublishFailed",
                         "Record lineage": "LineageFailed"}),
])
def test_when_a_custom_activity_fails_then_a_fail_activity_in_its_scope_reports_its_own_reason(
        pipeline: str, codes: dict[str, str]) -> None:
    properties = json.loads((REPO / "adf" / "pipelines" / f"{pipeline}.json").read_text())["properties"]

    scopes = [properties["activities"]] + [a["typeProperties"]["activities"] for a in _activities(properties["activities"])
                                           if a["type"] == "ForEach"]
    found = {}
    for scope in scopes:
        for custom in (a for a in scope if a["type"] == "Custom"):
            (fail,) = [a for a in scope if a["type"] == "Fail" and a["dependsOn"] == [
                {"activity": custom["name"], "dependencyConditions": ["Failed"]}]]
            name = custom["name"]
            assert fail["typeProperties"]["message"]["value"] == (
                f"@coalesce(activity('{name}').output?.customOutput?.error?.message, activity('{name}').error.message)")
            found[name] = fail["typeProperties"]["errorCode"]
    assert found == codes
