"""The ``markets`` source (GET /markets) end to end in one process, against a scripted API (no sleeping)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from activities.common import LocalFolderStorage
from activities.extract.config import ExtractConfig
from activities.extract.errors import PayloadError
from activities.extract.run import extract_all
from tests.scripted_api import FakeClock, ScriptedServer, api_paths, error, make_client, ok, server  # noqa: F401 - server is a fixture

DAY = date(2026, 11, 24)
BODY = b'{"markets": ["AD", "AE", "XK"]}'


def _config(server: ScriptedServer, run_id: str) -> ExtractConfig:
    port = server.server_address[1]
    return ExtractConfig(
        ingest_date=DAY, run_id=run_id, api_base_url=f"http://127.0.0.1:{port}/v1", access_mode="extended",
        token_url=f"http://127.0.0.1:{port}/api/token", client_id="cid", client_secret_name="spotify-client-secret",
        markets=("US",), new_releases_limit=1, storage_linked_service="Ls", key_vault_linked_service="Kv",
        raw_container="raw", sources=("markets",), requests_per_second=0,
    )


def _manifest(storage: LocalFolderStorage, run_id: str) -> dict:  # type: ignore[type-arg]
    return json.loads(storage.read_bytes("raw", f"spotify/manifests/ingest_date={DAY}/run_id={run_id}/_manifest.json"))


def test_when_markets_runs_then_one_request_is_stored_as_one_part_with_its_count(
    server: ScriptedServer, tmp_path: Path
) -> None:
    # Arrange
    server.script.answers["/v1/markets"] = [ok(BODY)]
    storage = LocalFolderStorage(tmp_path)
    config = _config(server, "markets-run")

    # Act
    with make_client(server, FakeClock()) as client:
        summary = extract_all(config, client, storage)

    # Assert
    manifest = _manifest(storage, "markets-run")
    (part,) = manifest["parts"]
    assert (part["entity"], part["items"], part["request_url"].rsplit("/v1", 1)[1]) == ("markets", 3, "/markets")
    assert part["path"].startswith(f"spotify/markets/ingest_date={DAY}/run_id=markets-run/part-d-")
    assert gzip.decompress(storage.read_bytes("raw", part["path"])) == BODY  # exactly as the API answered
    assert manifest["counts"] == summary.counts == {"markets": 3}
    assert api_paths(server) == ["/v1/markets"]


@pytest.mark.parametrize("status", [403, 404])
def test_when_get_markets_is_refused_then_it_is_recorded_unavailable_and_the_run_goes_on(
    server: ScriptedServer, tmp_path: Path, status: int
) -> None:
    # Arrange: the endpoint is deprecated in Spotify's description; a refusal must not end the run
    server.script.answers["/v1/markets"] = [error(status, message="gone")]
    storage = LocalFolderStorage(tmp_path)

    # Act
    with make_client(server, FakeClock()) as client:
        summary = extract_all(_config(server, "refused-run"), client, storage)

    # Assert
    assert summary.unavailable == [{"source": "markets", "status": status, "endpoint": "GET /v1/markets"}]
    assert _manifest(storage, "refused-run")["parts"] == [] and summary.counts == {}


def test_when_get_markets_answers_another_shape_then_the_run_fails_naming_the_endpoint_and_stores_nothing(
    server: ScriptedServer, tmp_path: Path
) -> None:
    # Arrange
    server.script.answers["/v1/markets"] = [ok(b'{"countries": ["AD"]}')]
    storage = LocalFolderStorage(tmp_path)

    # Act
    with make_client(server, FakeClock()) as client, pytest.raises(PayloadError) as caught:
        extract_all(_config(server, "bad-run"), client, storage)

    # Assert
    assert str(caught.value) == "GET /markets: expected an array `markets`, got NoneType"
    assert not [blob for blob in storage.list_blobs("raw", "spotify/markets/")]
    assert not storage.exists("raw", f"spotify/manifests/ingest_date={DAY}/run_id=bad-run/_manifest.json")
