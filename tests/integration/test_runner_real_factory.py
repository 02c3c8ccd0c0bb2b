"""The committed factory in the local runner: TR_Daily_Extract runs `python3 activities.pyz activities.extract` (the
code package staged flat, as ADF stages folderPath) against the Spotify twin, the manifest it writes last fires
TR_Raw_Landed, which runs `python3 activities.pyz activities.transform`; the
curated snapshot marker the transform writes last fires TR_Curated_Landed, which runs PL_Load_Spotify (data flow,
schema check, views on a local Synapse pool, lineage).

This checks the runner against the real contract (activity.json, linkedServices.json, flat folderPath, Batch's
minimal environment);
the activities' own behaviour is tested in their packages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from activities.common.context import SecureString
from activities.common.secrets import FolderSecretStore
from activities.common.storage import LocalFolderStorage
from factory_deploy.env_config import global_parameters, load_config
from factory_deploy.env_config.factory import factory_overrides
from offline.adf_runner import (
    LocalFactoryRunner,
    RunnerOptions,
    load_factory,
    publish_code_package,
)
from offline.spotify_twin.server import TwinServer
from offline.synapse_duckdb import LocalServerlessPool

REPO = Path(__file__).resolve().parents[2]
SECRET = "runner-test-secret"


def test_when_daily_trigger_fires_then_extract_transform_and_load_run_as_a_chain(tmp_path: Path) -> None:
    config = load_config("local")
    storage_root = tmp_path / "storage"
    storage_root.mkdir()
    # The Key Vault stand-in is a folder the linked service names: tasks get no environment to read secrets from.
    vault = FolderSecretStore(tmp_path / "keyvault")
    vault.set(config.spotify.client_secret_name, SecureString(SECRET))
    with TwinServer(seed=7, scale=0.1, client_id=config.spotify.client_id, client_secret=SECRET) as twin:
        storage = LocalFolderStorage(storage_root)
        parameters = {**global_parameters(config), "spotifyApiBaseUrl": twin.api_base_url, "spotifyTokenUrl": twin.token_url}
        parameters["activitiesFolderPath"] = publish_code_package(storage, REPO / "activities", parameters["activitiesFolderPath"])
        overrides = factory_overrides(config)
        overrides["Ls_Blob_Storage"] = {"typeProperties.serviceEndpoint": storage_root.as_uri()}
        overrides["Ls_Batch_Storage"] = {"typeProperties": {"serviceEndpoint": storage_root.as_uri()}}
        overrides["Ls_KeyVault"] = {"typeProperties.baseUrl": vault.folder.as_uri() + "/"}
        factory = load_factory(REPO / "adf", overrides, parameters)
        pool = LocalServerlessPool(storage_root, {"spotify_serving": "serving"}, database=tmp_path / "work" / "synapse.duckdb")
        pool.apply_setup("EXEC ('CREATE SCHEMA spotify')")
        runner = LocalFactoryRunner(factory, storage, tmp_path / "work", sql_opener=lambda ls, f: pool,
                                    options=RunnerOptions(retry_interval_cap_seconds=0))

        result = runner.run_schedule_trigger("TR_Daily_Extract", date(2026, 11, 24))

    # The load runs once the transform writes the curated snapshot marker (docs/architecture.md).
    assert any(storage.list_blobs("curated", "_snapshots/snapshot_date=2026-11-24/_SUCCESS"))
    assert [(r.pipelineName, r.status) for r in result.runs] == [
        ("PL_Extract_Spotify", "Succeeded"), ("PL_Transform_Spotify", "Succeeded"), ("PL_Load_Spotify", "Succeeded")
    ], [r.message for r in result.runs]
    extract, transform = result.runs[:2]
    assert transform.parameters["folderPath"] == f"raw/spotify/manifests/ingest_date=2026-11-24/run_id={extract.runId}"
    assert transform.parameters["fileName"] == "_manifest.json"
    assert any(storage.list_blobs("curated", "tracks/snapshot_date=2026-11-24/_SUCCESS"))
    assert any(storage.list_blobs("serving", "tracks/snapshot_date=2026-11-24/part-"))
    assert pool.execute_script("SELECT COUNT(*) AS n FROM spotify.tracks").result_sets[0][0]["n"] > 0
    # Monitor tells the shard runs and the view runs apart by their user properties (issue 15).
    shard_runs = [a for a in runner.monitor.activity_runs(extract.runId) if a.activityName == "Extract Spotify shard"]
    assert sorted(int(a.userProperties["shard"]) for a in shard_runs) == list(range(parameters["extractShards"]))
    assert {a.userProperties["ingestDate"] for a in shard_runs} == {"2026-11-24"}
    ran = [a for r in result.runs for a in runner.monitor.activity_runs(r.runId) if a.status != "Skipped"]
    assert all(a.userProperties for a in ran), [a.activityName for a in ran if not a.userProperties]
    views = [a.userProperties["view"] for a in ran if a.activityName == "Create or alter view"]
    assert len(views) == len(set(views)) > 0
