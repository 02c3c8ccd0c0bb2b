"""The committed factory in the local runner: TR_Daily_Extract runs `python -m activities.extract` against the
Spotify twin, the manifest it writes last fires TR_Raw_Landed, which runs `python -m activities.transform`.

This checks the runner against the real contract (activity.json, linkedServices.json, folderPath layout);
the activities' own behaviour is tested in their packages."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from activities.common.storage import LocalFolderStorage
from env_config import global_parameters, load_config
from env_config.factory import factory_overrides
from local_adf_runner import (
    LocalFactoryRunner,
    RunnerOptions,
    load_factory,
    publish_package,
)
from spotify_twin.server import TwinServer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECRET = "runner-test-secret"


def test_when_daily_trigger_fires_then_extract_and_transform_run_as_a_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config("local")
    storage_root = tmp_path / "storage"
    storage_root.mkdir()
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", SECRET)  # the `env:` Key Vault of the local config
    with TwinServer(seed=7, scale=0.1, client_id=config.spotify.client_id, client_secret=SECRET) as twin:
        overrides = factory_overrides(config)
        overrides["Ls_Blob_Storage"] = {"typeProperties.serviceEndpoint": storage_root.as_uri()}
        parameters = {**global_parameters(config), "spotifyApiBaseUrl": twin.api_base_url, "spotifyTokenUrl": twin.token_url}
        factory = load_factory(REPO / "adf", overrides, parameters)
        storage = LocalFolderStorage(storage_root)
        publish_package(storage, REPO / "activities", parameters["activitiesFolderPath"])
        runner = LocalFactoryRunner(factory, storage, tmp_path / "work", options=RunnerOptions(retry_interval_cap_seconds=0))

        result = runner.run_schedule_trigger("TR_Daily_Extract", date(2026, 11, 24))

    assert [(r.pipelineName, r.status) for r in result.runs] == [
        ("PL_Extract_Spotify", "Succeeded"), ("PL_Transform_Spotify", "Succeeded")
    ], [r.message for r in result.runs]
    extract, transform = result.runs
    assert transform.parameters["folderPath"] == f"raw/spotify/manifests/ingest_date=2026-11-24/run_id={extract.runId}"
    assert transform.parameters["fileName"] == "_manifest.json"
    assert any(storage.list_blobs("curated", "tracks/snapshot_date=2026-11-24/_SUCCESS"))
