"""The extract activity end to end, as Azure Batch runs it: ``python -m activities.extract`` in a task
working directory holding the ``activities`` tree and the three context files, against the Spotify twin."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from activities.common import AzureBlobStorage, LocalFolderStorage, Storage
from offline.spotify_twin import TwinServer
from offline.spotify_twin.truth import expected_first_slice
from tests.azurite import azurite_connection_string, unique_container  # noqa: F401 - fixture
from tests.extract_task import CLIENT_ID, CLIENT_SECRET, INGEST_DATE, NEW_RELEASES_LIMIT, RUN_ID, make_workdir, run_extract

MANIFEST = f"spotify/manifests/ingest_date={INGEST_DATE}/run_id={RUN_ID}/_manifest.json"
# Scale 0.6 lists 60 new releases: a limit of 55 (NEW_RELEASES_LIMIT) needs two pages and cuts the second one short.
TWIN_SCALE = 0.6


@dataclass
class ActivityRun:
    workdir: Path
    storage: Storage
    container: str
    returncode: int
    stdout: str
    stderr: str
    twin: TwinServer

    def outputs(self) -> dict[str, Any]:
        return json.loads((self.workdir / "outputs.json").read_text())  # type: ignore[no-any-return]

    def manifest(self) -> dict[str, Any]:
        return json.loads(self.storage.read_bytes(self.container, MANIFEST))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActivityRun]:
    """One successful run against a fault-free twin, into local folder storage."""
    base = tmp_path_factory.mktemp("extract")
    storage_root = base / "storage"
    with TwinServer(seed=42, scale=TWIN_SCALE, faults="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    access_mode="extended") as twin:
        workdir = make_workdir(base, twin, {"serviceEndpoint": storage_root.as_uri()}, "raw")
        result = run_extract(workdir)
        yield ActivityRun(workdir, LocalFolderStorage(storage_root), "raw", result.returncode,
                          result.stdout, result.stderr, twin)


def ids_in_parts(run: ActivityRun, entity: str, key: str) -> set[str]:
    found: set[str] = set()
    for part in run.manifest()["parts"]:
        if part["entity"] == entity:
            payload = json.loads(gzip.decompress(run.storage.read_bytes(run.container, part["path"])))
            found |= {obj["id"] for obj in payload[key] if obj}
    return found


def test_when_the_twin_answers_then_the_activity_exits_0_with_custom_output(good_run: ActivityRun) -> None:
    # Assert
    assert good_run.returncode == 0, good_run.stderr
    outputs = good_run.outputs()
    manifest = good_run.manifest()
    assert set(outputs) == {"runId", "ingestDate", "manifest", "parts", "requests", "counts", "unavailable",
                            "missing", "durationSeconds", "accessMode", "quotaExceeded", "stoppedBy", "deferred",
                            "deferredTotal", "unavailableSources", "state", "removed"}
    assert outputs["unavailable"] == [] and outputs["missing"] == []
    assert (outputs["accessMode"], outputs["quotaExceeded"], outputs["deferredTotal"], outputs["state"]) == (
        "extended", False, 0, None)  # extended mode keeps no incremental state
    assert outputs["runId"] == RUN_ID and outputs["ingestDate"] == INGEST_DATE
    assert outputs["manifest"] == f"raw/{MANIFEST}"
    assert outputs["parts"] == len(manifest["parts"])
    assert outputs["counts"] == manifest["counts"]
    api_requests = [path for method, path, _ in good_run.twin.request_log if method == "GET"]
    assert outputs["requests"] == len(api_requests)
    assert "manifest raw/spotify/manifests" in good_run.stdout  # progress lines reach stdout.txt


def test_when_the_run_succeeds_then_the_manifest_lists_every_part_with_size_and_sha256(good_run: ActivityRun) -> None:
    # Arrange
    manifest = good_run.manifest()
    stored = {blob.path: blob for blob in good_run.storage.list_blobs("raw", "spotify/")
              if not blob.path.startswith("spotify/_progress/")}

    # Assert
    assert {part["path"] for part in manifest["parts"]} == set(stored) - {MANIFEST}
    for part in manifest["parts"]:
        data = good_run.storage.read_bytes("raw", part["path"])
        assert part["size"] == len(data) == stored[part["path"]].size
        assert part["sha256"] == hashlib.sha256(data).hexdigest()
        assert part["request_url"].startswith(good_run.twin.api_base_url)
        json.loads(gzip.decompress(data))  # the stored body is the API's JSON
    assert {part["entity"] for part in manifest["parts"]} == {"new_releases", "albums", "album_tracks", "tracks", "artists"}
    assert (manifest["manifest_version"], manifest["source"], manifest["container"]) == (1, "spotify", "raw")


def test_when_the_run_succeeds_then_raw_ids_equal_the_twins_first_slice(good_run: ActivityRun) -> None:
    # Arrange
    expected = expected_first_slice(good_run.twin.truth(), NEW_RELEASES_LIMIT)

    # Act
    albums = ids_in_parts(good_run, "albums", "albums")
    tracks = ids_in_parts(good_run, "tracks", "tracks")
    artists = ids_in_parts(good_run, "artists", "artists")

    # Assert
    assert sorted(albums) == expected["albums"]
    assert sorted(tracks) == expected["tracks"]
    assert sorted(artists) == expected["artists"]


def test_when_the_run_succeeds_then_requests_are_batched_to_the_endpoint_limits(good_run: ActivityRun) -> None:
    # Arrange
    expected = expected_first_slice(good_run.twin.truth(), NEW_RELEASES_LIMIT)
    gets = [urlsplit(path) for method, path, _ in good_run.twin.request_log if method == "GET"]

    def calls(api_path: str) -> list[dict[str, list[str]]]:
        return [parse_qs(url.query) for url in gets if url.path == api_path]

    # Assert
    assert len(calls("/v1/tracks")) == math.ceil(len(expected["tracks"]) / 50)
    assert len(calls("/v1/albums")) == math.ceil(len(expected["albums"]) / 20)
    assert len(calls("/v1/artists")) == math.ceil(len(expected["artists"]) / 50)
    assert len(calls("/v1/browse/new-releases")) == 2
    assert all(query["market"] == ["US"] for query in calls("/v1/albums"))
    assert max(len(query["ids"][0].split(",")) for query in calls("/v1/tracks")) == 50
    assert any(url.path.endswith("/tracks") and url.path.startswith("/v1/albums/") for url in gets)


def test_when_the_run_succeeds_then_the_secret_is_nowhere_on_disk_or_in_output(good_run: ActivityRun) -> None:
    # Arrange
    secret = CLIENT_SECRET.encode()
    files = [path for root in (good_run.workdir, good_run.workdir.parent / "storage")
             for path in root.rglob("*") if path.is_file()]

    # Act
    leaks = [str(path) for path in files
             if secret in path.read_bytes()
             or (path.suffix == ".gz" and secret in gzip.decompress(path.read_bytes()))]

    # Assert
    assert len(files) > 10
    assert leaks == []
    assert CLIENT_SECRET not in good_run.stdout and CLIENT_SECRET not in good_run.stderr


def test_when_every_api_call_fails_with_500_then_exit_1_with_one_error_line_and_no_manifest(tmp_path: Path) -> None:
    # Arrange
    storage_root = tmp_path / "storage"
    with TwinServer(seed=42, scale=0.2, faults="500=1.0", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    access_mode="extended") as twin:
        # A short retry budget keeps the test fast; the retry path itself is what is being exercised.
        workdir = make_workdir(tmp_path, twin, {"serviceEndpoint": storage_root.as_uri()}, "raw",
                               httpMaxAttempts=3, httpBackoffSeconds=0.01)

        # Act
        result = run_extract(workdir)

    # Assert
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert result.returncode == 1
    assert error_lines == [result.stderr.splitlines()[-1]]
    assert error_lines[0].startswith(
        "ERROR extract: GET /v1/browse/new-releases returned HTTP 500: Server error; gave up after 3 attempts")
    assert "Traceback" not in result.stderr
    assert not LocalFolderStorage(storage_root).exists("raw", MANIFEST)
    # Only the reason, for the pipeline's Fail activity (ADF shows 2500 for the task): no extraction outputs.
    error = json.loads((workdir / "outputs.json").read_text())["error"]
    assert f"ERROR {error['message']}" == error_lines[0]
    assert CLIENT_SECRET not in result.stdout + result.stderr


def test_when_the_secret_is_not_set_then_exit_1_naming_the_variable(tmp_path: Path) -> None:
    # Arrange
    with TwinServer(seed=42, scale=0.2, faults="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    access_mode="extended") as twin:
        workdir = make_workdir(tmp_path, twin, {"serviceEndpoint": (tmp_path / "s").as_uri()}, "raw")

        # Act
        result = run_extract(workdir, SPOTIFY_CLIENT_SECRET="")

    # Assert
    assert result.returncode == 1
    assert result.stderr.strip() == ("ERROR extract: secret `spotify-client-secret` not found: set SPOTIFY_CLIENT_SECRET "
                                     "in the environment (the Key Vault linked service is `env:`)")


def test_when_storage_is_azurite_via_a_key_vault_connection_string_then_the_run_lands_there(
    tmp_path: Path, azurite_connection_string: str,  # noqa: F811
) -> None:
    # Arrange
    container = unique_container("raw")
    storage_service = {"connectionString": {
        "type": "AzureKeyVaultSecret", "secretName": "storage-connection-string",
        "store": {"referenceName": "Ls_KeyVault", "type": "LinkedServiceReference"}}}
    with TwinServer(seed=42, scale=0.2, faults="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    access_mode="extended") as twin:
        workdir = make_workdir(tmp_path, twin, storage_service, container, newReleasesLimit=5)

        # Act
        result = run_extract(workdir, STORAGE_CONNECTION_STRING=azurite_connection_string)

    # Assert
    assert result.returncode == 0, result.stderr
    storage = AzureBlobStorage.from_connection_string(azurite_connection_string)
    manifest = json.loads(storage.read_bytes(container, MANIFEST))
    assert manifest["container"] == container
    assert all(storage.exists(container, part["path"]) for part in manifest["parts"])
    assert manifest["counts"]["albums"] == 5
