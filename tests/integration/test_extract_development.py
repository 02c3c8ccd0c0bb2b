"""Development-mode extraction against the twin in development mode (in process): the plan uses only what a
Development Mode app is served, state makes the next day ask only for what is new, the daily quota stops a run
cleanly with the rest deferred, a new run of an ingest date continues an earlier unpublished one, and user parts
carry the user's id."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from activities.common import LocalFolderStorage, SecureString
from activities.extract.config import ExtractConfig
from activities.extract.run import discover, extract_all, make_client
from activities.extract.state import read_prior_state
from activities.sources import DEVELOPMENT
from activities.sources import names as source_names
from offline.spotify_twin import TwinServer
from tests.extract_task import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

DAY = date(2026, 11, 24)
SCALE = 0.2
REFUSED_TO_NEW_APPS = ("/browse/", "/markets", "/top-tracks", "/recommendations", "/audio-")


def twin_server(**options: Any) -> TwinServer:
    return TwinServer(seed=42, scale=SCALE, faults="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                      refresh_token=REFRESH_TOKEN, access_mode="development", **options)


def config_for(twin: TwinServer, run_id: str, day: date = DAY, **changes: Any) -> ExtractConfig:
    truth = twin.truth()
    base = ExtractConfig(
        ingest_date=day, run_id=run_id, api_base_url=twin.api_base_url, token_url=twin.token_url,
        client_id=CLIENT_ID, client_secret_name="spotify-client-secret", markets=("US",), new_releases_limit=20,
        storage_linked_service="Ls", key_vault_linked_service="Kv", raw_container="raw",
        sources=source_names(mode=DEVELOPMENT), artist_ids=tuple(truth["artists"][:2]), search_queries=("night",),
        http_backoff_seconds=0.01, http_timeout_seconds=2.0, requests_per_second=0,
    )
    return replace(base, **changes)


def run(twin: TwinServer, storage: LocalFolderStorage, config: ExtractConfig) -> dict[str, Any]:
    with make_client(config, SecureString(CLIENT_SECRET), refresh_token=SecureString(REFRESH_TOKEN)) as client:
        return extract_all(config, client, storage).to_outputs()


def gets(twin: TwinServer, since: int = 0) -> list[tuple[str, int]]:
    return [(path, status) for method, path, status in twin.request_log[since:] if method == "GET"]


def manifest(storage: LocalFolderStorage, output: dict[str, Any]) -> dict[str, Any]:
    container, _, path = output["manifest"].partition("/")
    return json.loads(storage.read_bytes(container, path))  # type: ignore[no-any-return]


def test_when_a_development_run_extracts_then_it_asks_only_what_new_apps_are_served(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        # Act
        output = run(twin, storage, config_for(twin, "dev-1"))
        requests = gets(twin)

    # Assert: nothing refused, no several-ids lookups, search within its limit, user parts stamped with the user
    assert {status for _, status in requests} == {200}, Counter(status for _, status in requests)
    paths = [urlsplit(path).path for path, _ in requests]
    assert not any(marker in path for path in paths for marker in REFUSED_TO_NEW_APPS)
    assert not any(path.rstrip("/") in ("/v1/albums", "/v1/tracks", "/v1/artists") for path in paths)
    assert all("limit=10" in path for path, _ in requests if urlsplit(path).path == "/v1/search")
    assert any(urlsplit(path).path.startswith("/v1/albums/") for path in paths)
    parts = manifest(storage, output)["parts"]
    user_entities = {part["entity"] for part in parts if part.get("user_id")}
    assert {"user_profile", "recently_played", "saved_tracks", "user_top_tracks"} <= user_entities
    assert not any(part.get("user_id") for part in parts if part["entity"] in ("albums", "artists", "search"))
    assert output["accessMode"] == "development" and output["deferredTotal"] == 0 and output["state"]


def test_when_the_next_day_runs_then_it_asks_only_for_what_is_new(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        first = run(twin, storage, config_for(twin, "day-1"))
        before = len(twin.request_log)

        # Act
        second = run(twin, storage, config_for(twin, "day-2", day=DAY + timedelta(days=1)))
        requests = gets(twin, before)

    # Assert: no entity fetched whole on day 1 is looked up again; plays are asked `after` the newest one
    assert second["requests"] < first["requests"] * 0.25, (first["requests"], second["requests"])
    state = read_prior_state(storage, "raw", DAY + timedelta(days=1))
    looked_up = [urlsplit(path).path.rsplit("/", 1)[-1] for path, _ in requests
                 if urlsplit(path).path.startswith(("/v1/albums/", "/v1/artists/")) and path.count("/") == 3]
    assert not set(looked_up) & (set(state.entities["albums"]) | set(state.entities["artists"]))
    assert any("after=" in path for path, _ in requests if "recently-played" in path)


def test_when_the_daily_quota_runs_out_then_the_run_succeeds_and_defers_the_rest_to_the_next_day(
        tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server(daily_quota=60) as twin:
        # Act
        first = run(twin, storage, config_for(twin, "quota-1"))
    with twin_server() as twin:
        second = run(twin, storage, config_for(twin, "quota-2", day=DAY + timedelta(days=1)))
        looked_up = [urlsplit(path).path for path, _ in gets(twin) if urlsplit(path).path.startswith("/v1/albums/")]

    # Assert: day 1 stops cleanly with a manifest and deferrals; day 2 does the deferred lookups (first) and finishes
    assert first["quotaExceeded"] is True and first["stoppedBy"] == "quota"
    assert first["deferredTotal"] > 0 and manifest(storage, first)["parts"]
    deferred = read_prior_state(storage, "raw", DAY + timedelta(days=1)).deferred
    assert deferred and second["deferredTotal"] == 0 and second["quotaExceeded"] is False
    deferred_albums = {f"/v1/albums/{entity_id}" for kind, entity_id in deferred if kind == "albums"}
    assert deferred_albums <= set(looked_up)


def test_when_a_request_budget_is_set_then_lookups_beyond_it_are_deferred_not_lost(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        # Act
        output = run(twin, storage, config_for(twin, "budget-1", request_budget=40))

    # Assert
    assert output["requests"] <= 40 + 2  # a shard may finish the album page it started
    assert output["deferredTotal"] > 0 and output["quotaExceeded"] is False


def test_when_an_earlier_run_of_the_date_stopped_unpublished_then_a_new_run_continues_it(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        config = config_for(twin, "first-run")
        with make_client(config, SecureString(CLIENT_SECRET), refresh_token=SecureString(REFRESH_TOKEN)) as client:
            discover(config, client, storage)  # the run was killed after its discovery step
        discovery_requests = len(gets(twin))
        before = len(twin.request_log)

        # Act: the trigger fires again for the same ingest date: a new run id
        output = run(twin, storage, replace(config, run_id="second-run"))
        requests = gets(twin, before)

    # Assert: the discovery answers were taken over (copied into the new run's folder), not asked again
    assert not any(urlsplit(path).path.startswith("/v1/me") for path, _ in requests)
    assert len(requests) == output["requests"] and discovery_requests > 0
    parts = manifest(storage, output)["parts"]
    assert all("/run_id=second-run/" in part["path"] for part in parts)
    for part in parts[:5]:
        gzip.decompress(storage.read_bytes("raw", part["path"]))
    # Published: the killed run's folders are removed, and the manifest step says so
    assert output["removed"]["runs"] == ["first-run"] and output["removed"]["blobs"] > 0
    assert not [blob for blob in storage.list_blobs("raw", "spotify/") if "/run_id=first-run/" in blob.path]


def test_when_the_app_owners_premium_lapses_then_the_run_fails_with_that_message_and_no_manifest(
        tmp_path: Path) -> None:
    from activities.extract.errors import PremiumRequiredError

    storage = LocalFolderStorage(tmp_path)
    with TwinServer(seed=42, scale=SCALE, faults="premium_lapse_after=10", client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN, access_mode="development") as twin:
        # Act / Assert
        with pytest.raises(PremiumRequiredError, match="Active premium subscription required for the owner of the app"):
            run(twin, storage, config_for(twin, "lapsed"))
    assert not list(storage.list_blobs("raw", "spotify/manifests/"))


def test_when_a_listed_source_is_refused_to_new_apps_then_it_is_reported_not_asked(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        config = config_for(twin, "refused", sources=source_names(mode=DEVELOPMENT) + ("new_releases", "markets"))

        # Act
        output = run(twin, storage, config)
        paths = [urlsplit(path).path for path, _ in gets(twin)]

    # Assert
    assert output["unavailableSources"] == ["markets", "new_releases"]
    assert {entry["source"]: entry["status"] for entry in output["unavailable"]} == {"markets": 403, "new_releases": 403}
    assert "/v1/markets" not in paths and "/v1/browse/new-releases" not in paths


def test_when_known_entities_are_old_enough_then_the_oldest_are_refreshed_with_what_is_left_of_the_budget(
        tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        first = run(twin, storage, config_for(twin, "refresh-1"))
        before = len(twin.request_log)

        # Act: the next day, with everything fetched yesterday due for a refresh, and a budget that leaves room
        # for only a few refreshes after the user data
        second = run(twin, storage, config_for(twin, "refresh-2", day=DAY + timedelta(days=1), refresh_after_days=1,
                                               request_budget=first["requests"] // 4))
        paths = [urlsplit(path).path for path, _ in gets(twin, before)]

    # Assert: some known albums/artists/tracks were fetched again by id, within the budget; nothing is deferred
    # (refreshes wait, they are not owed), and the state dates the refreshed ones today
    refreshed = [path for path in paths if path.count("/") == 3 and path.startswith(("/v1/albums/", "/v1/artists/",
                                                                                       "/v1/tracks/"))]
    assert refreshed and second["requests"] <= first["requests"] // 4 + 2
    assert second["deferredTotal"] == 0
    state = read_prior_state(storage, "raw", DAY + timedelta(days=2))
    today = (DAY + timedelta(days=1)).isoformat()
    kind, entity_id = refreshed[0].split("/")[2:4]
    assert state.entities[kind][entity_id] == today
