"""Every source end to end against the twin (in-process TwinServer): ground truth per source under
faults, batching and dedup counted in the twin's request log, shards, resume after a failed attempt,
restricted endpoints, and the secrets nowhere."""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from activities.common import LocalFolderStorage, SecureString
from activities.extract.checkpoint import progress_path, read_state
from activities.extract.config import RESTRICTED_SOURCES, SOURCES, ExtractConfig
from activities.extract.errors import RetriesExhaustedError
from activities.extract.run import (
    discover,
    extract_all,
    extract_shard,
    finalize,
    make_client,
)
from offline.spotify_twin import TwinServer
from offline.spotify_twin.truth import (
    expected_artist_albums,
    expected_first_slice,
    expected_search,
)
from tests.extract_task import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, make_workdir, run_extract

DAY = date(2026, 11, 24)
SCALE = 0.2
FAULTS = "429=0.05,500=0.02,reset=0.01,timeout=0.01,latency_ms=30,expire_token_after=200,timeout_s=1.5"
# Under FAULTS the client must give up before the twin's late answer (timeout_s=1.5). Other runs wait long, so a slow
# answer on a loaded machine is not retried and then counted as a second fetch by the request-count assertions.
FAULT_READ_TIMEOUT_S = 1.0
QUERIES = ("night", "love")
SEARCH_LIMIT = 20
NEW_RELEASES = 20
EVERY_SOURCE = tuple(source for source in SOURCES if source != "album_tracks")
MANIFEST = f"spotify/manifests/ingest_date={DAY.isoformat()}/run_id=%s/_manifest.json"


def config_for(twin: TwinServer, run_id: str, **changes: Any) -> ExtractConfig:
    truth = twin.truth()
    base = ExtractConfig(
        ingest_date=DAY, run_id=run_id, api_base_url=twin.api_base_url, token_url=twin.token_url, access_mode="extended",
        client_id=CLIENT_ID, client_secret_name="spotify-client-secret", markets=("US", "GB"),
        new_releases_limit=NEW_RELEASES, storage_linked_service="Ls_Storage", key_vault_linked_service="Ls_KeyVault",
        raw_container="raw", sources=EVERY_SOURCE, artist_ids=tuple(truth["artists"][:2]), search_queries=QUERIES,
        search_limit=SEARCH_LIMIT, playlist_ids=(truth["playlists"][0],), playlist_discovery=("search", "user_playlists"),
        http_backoff_seconds=0.05, http_timeout_seconds=30.0, max_concurrency=8, requests_per_second=0,
    )
    return replace(base, **changes)


def twin_server(faults: str = "", **options: Any) -> TwinServer:
    # The extraction still runs the extended plan; the extract engineer moves it to development mode.
    options.setdefault("access_mode", "extended")
    return TwinServer(seed=42, scale=SCALE, faults=faults, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                      refresh_token=REFRESH_TOKEN, **options)


def client_for(config: ExtractConfig) -> Any:
    return make_client(config, SecureString(CLIENT_SECRET), refresh_token=SecureString(REFRESH_TOKEN))


@dataclass
class Raw:
    """The parts a manifest lists, decoded, grouped by entity: (request URL, body)."""

    manifest: dict[str, Any]
    parts: dict[str, list[tuple[str, Any]]]

    @classmethod
    def read(cls, storage: LocalFolderStorage, run_id: str) -> Raw:
        manifest = json.loads(storage.read_bytes("raw", MANIFEST % run_id))
        parts: dict[str, list[tuple[str, Any]]] = {}
        for part in manifest["parts"]:
            body = json.loads(gzip.decompress(storage.read_bytes("raw", part["path"])))
            parts.setdefault(part["entity"], []).append((part["request_url"], body))
        return cls(manifest, parts)

    def ids(self, entity: str, key: str) -> Counter[str]:
        return Counter(obj["id"] for _, body in self.parts.get(entity, []) for obj in body[key] if obj)

    def page_ids(self, entity: str, where: Any = lambda url: True, key: str | None = None,
                 item: Any = lambda entry: entry) -> list[Any]:
        found = []
        # Parts are numbered as answers arrive (pages run in parallel): put them back in offset order.
        pages = sorted(self.parts.get(entity, []), key=lambda part: int(query(part[0]).get("offset", 0)))
        for url, body in pages:
            if where(url):
                page = body[key] if key else body
                found.extend(item(entry) for entry in page["items"])
        return found


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwinServer, ExtractConfig, Raw, Any]]:
    """Every non-restricted source, in one process, against a twin that fails on purpose."""
    storage = LocalFolderStorage(tmp_path_factory.mktemp("faulty"))
    with twin_server(FAULTS) as twin:
        config = config_for(twin, "faulty-run", http_timeout_seconds=FAULT_READ_TIMEOUT_S)
        with client_for(config) as client:
            summary = extract_all(config, client, storage)
        twin.wait_idle()  # a timeout fault's late answer is logged only when the twin is done with it
        yield twin, config, Raw.read(storage, config.run_id), summary


def test_when_faults_are_injected_then_every_ground_truth_id_is_in_the_raw_zone_exactly_once_per_source(
    faulty_run: tuple[TwinServer, ExtractConfig, Raw, Any],
) -> None:
    # Arrange
    twin, config, raw, _ = faulty_run
    truth = twin.truth()
    first = expected_first_slice(truth, NEW_RELEASES)
    user = truth["user"]

    # Assert: the lookups (first slice: lookupSources is new_releases only)
    for entity, key in (("albums", "albums"), ("tracks", "tracks"), ("artists", "artists")):
        counted = raw.ids(entity, key)
        assert sorted(counted) == first[entity] and set(counted.values()) == {1}, entity
    assert raw.page_ids("new_releases", key="albums", item=lambda a: a["id"]) == truth["new_releases"][:NEW_RELEASES]
    # catalog sources
    for artist in config.artist_ids:
        albums = raw.page_ids("artist_albums", lambda url, a=artist: f"/artists/{a}/albums" in url, item=lambda a: a["id"])
        assert albums == expected_artist_albums(truth, artist, config.include_groups.split(","), "US")
        for market in config.markets:
            top = [track["id"] for url, body in raw.parts["artist_top_tracks"]
                   if f"/artists/{artist}/" in url and query(url)["market"] == market for track in body["tracks"]]
            assert top == truth["artist_top_tracks"][market][artist]
    for q in QUERIES:
        for kind in ("track", "album", "artist", "playlist"):
            hits = [entry["id"] for url, body in raw.parts["search"] if query(url)["q"] == q
                    for entry in body[kind + "s"]["items"] if entry]
            assert sorted(hits) == sorted(expected_search(truth, q, kind, "US")[:SEARCH_LIMIT]), (q, kind)
            assert len(hits) == len(set(hits))
    assert sorted(raw.page_ids("categories", key="categories", item=lambda c: c["id"])) == sorted(truth["categories"])
    assert [body["markets"] for _, body in raw.parts["markets"]] == [truth["markets"]]  # one request
    crawled = sorted(body["id"] for _, body in raw.parts["playlists"])
    expected_playlists = {truth["playlists"][0], *user["playlists"],
                          *(p for q in QUERIES for p in expected_search(truth, q, "playlist", "US")[:SEARCH_LIMIT])}
    assert crawled == sorted(expected_playlists)
    for playlist in expected_playlists:
        entries = raw.page_ids("playlist_items", lambda url, p=playlist: f"/playlists/{p}/items" in url)
        ids = [(entry["item"] or {}).get("id") if entry.get("item") is not None else None for entry in entries]
        want = [item["track_id"] or item["episode_id"] for item in truth["playlist_items"][playlist]]
        assert ids == [None if w is None or item["is_local"] else w
                       for w, item in zip(want, truth["playlist_items"][playlist], strict=True)], playlist
    # user sources
    for time_range, ids in user["top_artists"].items():
        assert raw.page_ids("user_top_artists", lambda url, r=time_range: f"time_range={r}" in url,
                            item=lambda a: a["id"]) == ids
    for time_range, ids in user["top_tracks"].items():
        assert raw.page_ids("user_top_tracks", lambda url, r=time_range: f"time_range={r}" in url,
                            item=lambda t: t["id"]) == ids
    played = Counter((entry["track"]["id"], entry["played_at"]) for entry in raw.page_ids("recently_played"))
    assert sorted(played) == sorted((track, at) for track, at in user["recently_played"])
    assert set(played.values()) == {1}
    assert sorted(raw.page_ids("saved_tracks", item=lambda e: e["track"]["id"])) == sorted(user["saved_tracks"])
    assert sorted(raw.page_ids("followed_artists", key="artists", item=lambda a: a["id"])) == sorted(
        user["followed_artists"])
    assert sorted(raw.page_ids("user_playlists", item=lambda p: p["id"])) == sorted(user["playlists"])
    assert [body["id"] for _, body in raw.parts["user_profile"]] == [user["id"]]


def test_when_faults_are_injected_then_every_request_succeeded_once_and_retries_did_happen(
    faulty_run: tuple[TwinServer, ExtractConfig, Raw, Any],
) -> None:
    # Arrange
    twin, _, raw, summary = faulty_run
    log = [(path, status) for method, path, status in twin.request_log if method == "GET"]
    succeeded = Counter(path for path, status in log if status == 200)

    stored = [part["request_url"] for part in raw.manifest["parts"]]

    # Assert
    assert len(set(stored)) == len(stored) == summary.parts  # nothing stored twice
    assert {url.split("/v1", 1)[0] and "/v1" + url.split("/v1", 1)[1] for url in stored} == set(succeeded)
    # A `timeout` fault answers 200 after the client gave up and asked again: the only repeats allowed.
    assert sum(succeeded.values()) - len(succeeded) <= 3
    assert {status for _, status in log} - {200} >= {429, 500, 0}  # the faults really happened (0: reset)
    assert summary.requests == len(log)
    assert summary.unavailable == [] and summary.missing == []


def test_when_ids_come_from_every_source_then_each_lookup_is_one_call_per_full_batch(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    with twin_server("expire_token_after=25") as twin:  # tokens die often: every thread sees 401s
        lookup = ("new_releases", "search", "artist_albums", "artist_top_tracks", "playlist_items", "saved_tracks",
                  "user_top_tracks", "recently_played", "user_top_artists", "followed_artists")
        config = config_for(twin, "dedup-run", lookup_sources=lookup)

        # Act
        with client_for(config) as client:
            extract_all(config, client, storage)
        gets = [urlsplit(path) for method, path, status in twin.request_log if method == "GET" and status == 200]
        refused = [path for method, path, status in twin.request_log if method == "GET" and status == 401]
    raw = Raw.read(storage, config.run_id)

    # Assert
    for entity, path, batch in (("albums", "/v1/albums", 20), ("tracks", "/v1/tracks", 50),
                                ("artists", "/v1/artists", 50)):
        counted = raw.ids(entity, entity)
        calls = [url for url in gets if url.path == path]
        sizes = [len(parse_qs(url.query)["ids"][0].split(",")) for url in calls]
        assert set(counted.values()) == {1}, entity  # deduplicated before fetching
        assert len(calls) == math.ceil(sum(sizes) / batch), entity  # every batch full but the last
        assert sum(sizes) >= len(counted)
    assert refused  # and each was refreshed and retried: every batch above succeeded
    searched_tracks = {entry["id"] for _, body in raw.parts["search"] for entry in body["tracks"]["items"] if entry}
    top = {track["id"] for _, body in raw.parts["artist_top_tracks"] for track in body["tracks"]}
    assert searched_tracks | top <= set(raw.ids("tracks", "tracks"))


@pytest.mark.parametrize("slots", [1, 3])
def test_when_the_lookups_run_in_three_shards_then_each_id_is_fetched_once_by_one_shard(tmp_path: Path,
                                                                                        slots: int) -> None:
    """Any concurrency from 1 to the shard count (issue 10: batchCount is an upper bound, the pool's task slots
    bound it further): one ForEach per level, shards run ``slots`` at a time, none waits for another."""
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    with twin_server() as twin:
        config = config_for(twin, "sharded-run", shard_count=3, mode="shard")
        with client_for(config) as client:
            discover(config, client, storage)
        errors: list[BaseException] = []

        def shard(index: int, level: int) -> None:
            try:
                shard_config = replace(config, shard_index=index, level=level)
                with client_for(shard_config) as client:
                    extract_shard(shard_config, client, storage)
            except BaseException as exc:
                errors.append(exc)

        # Act: each level's ForEach finishes before the next starts, with at most `slots` shards at once
        for level in (1, 2, 3):
            with ThreadPoolExecutor(max_workers=slots) as pool:
                list(pool.map(lambda index, level=level: shard(index, level), range(3)))  # type: ignore[misc]
        summary = finalize(config, storage)
        truth = twin.truth()
        gets = Counter(path for method, path, status in twin.request_log if method == "GET" and status == 200)

    # Assert
    assert errors == []
    raw = Raw.read(storage, config.run_id)
    first = expected_first_slice(truth, NEW_RELEASES)
    for entity in ("albums", "tracks", "artists"):
        counted = raw.ids(entity, entity)
        assert sorted(counted) == first[entity] and set(counted.values()) == {1}
    writers = {part["path"].rsplit("/", 1)[-1][5:8] for part in raw.manifest["parts"] if part["entity"] == "tracks"}
    assert writers == {"000", "001", "002"}
    assert max(gets.values()) == 1 and summary.parts == len(raw.manifest["parts"])


def test_when_a_run_fails_then_no_manifest_and_its_retry_resumes_without_refetching(tmp_path: Path) -> None:
    # Arrange: one attempt per request, so the 500s end the first attempt part way
    storage = LocalFolderStorage(tmp_path)
    with twin_server("500=0.15", fault_seed=7) as twin:
        config = config_for(twin, "retried-run", http_max_attempts=1)
        with client_for(config) as client, pytest.raises(RetriesExhaustedError):
            extract_all(config, client, storage)
        first_gets = [path for method, path, status in twin.request_log if method == "GET" and status == 200]
    stored_after_failure = {blob.path for blob in storage.list_blobs("raw", "spotify/")}

    # Act: ADF retries the activity with the same run id
    with twin_server() as twin:
        config = config_for(twin, "retried-run")
        with client_for(config) as client:
            summary = extract_all(config, client, storage)
        second_gets = [path for method, path, status in twin.request_log if method == "GET" and status == 200]
        truth = twin.truth()

    # Assert
    assert not any(path.endswith("_manifest.json") for path in stored_after_failure)
    assert first_gets and not set(first_gets) & set(second_gets)  # stored answers were not asked again
    raw = Raw.read(storage, config.run_id)
    assert len(raw.manifest["parts"]) == len(first_gets) + len(second_gets) == summary.parts
    first = expected_first_slice(truth, NEW_RELEASES)
    for entity in ("albums", "tracks", "artists"):
        counted = raw.ids(entity, entity)
        assert sorted(counted) == first[entity] and set(counted.values()) == {1}
    listed = {part["path"] for part in raw.manifest["parts"]}
    on_disk = {blob.path for blob in storage.list_blobs("raw", "spotify/")
               if not blob.path.startswith(("spotify/_progress/", "spotify/manifests/"))}
    assert listed == on_disk  # parts stored after the last checkpoint of the failed attempt were removed


def test_when_a_run_under_the_fault_profile_fails_then_no_manifest_and_its_retry_stores_each_id_once(
    tmp_path: Path,
) -> None:
    # Arrange: the fault profile with a single attempt per request: the first fault ends the run
    storage = LocalFolderStorage(tmp_path)
    run_id = "faulty-retried-run"
    with twin_server(FAULTS) as twin:
        config = config_for(twin, run_id, http_max_attempts=1, http_timeout_seconds=FAULT_READ_TIMEOUT_S)
        with client_for(config) as client, pytest.raises(RetriesExhaustedError):
            extract_all(config, client, storage)
    manifest_after_failure = storage.exists("raw", MANIFEST % run_id)
    kept = {key for worker in ("discover", "shard=0")
            if (state := read_state(storage, "raw", progress_path(DAY, run_id, worker))) is not None
            for key in state.parts}

    # Act: the retry (same run id), under the same faults, with the usual retry budget
    with twin_server(FAULTS) as twin:
        config = config_for(twin, run_id, http_timeout_seconds=FAULT_READ_TIMEOUT_S)
        with client_for(config) as client:
            extract_all(config, client, storage)
        asked = {path for method, path, _ in twin.request_log if method == "GET"}
        truth = twin.truth()

    # Assert
    assert not manifest_after_failure
    assert kept and not {"/v1" + key for key in kept} & asked  # what the failed attempt stored was not asked again
    raw = Raw.read(storage, run_id)
    stored = [part["request_url"] for part in raw.manifest["parts"]]
    assert len(stored) == len(set(stored))
    first = expected_first_slice(truth, NEW_RELEASES)
    for entity in ("albums", "tracks", "artists"):
        counted = raw.ids(entity, entity)
        assert sorted(counted) == first[entity] and set(counted.values()) == {1}, entity
    played = Counter(entry["played_at"] for entry in raw.page_ids("recently_played"))
    assert len(played) == len(truth["user"]["recently_played"]) and set(played.values()) == {1}


def test_when_restricted_sources_are_configured_then_refusals_are_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    # Arrange
    with twin_server() as twin:
        config = config_for(twin, "restricted-run", sources=("new_releases", "albums", "tracks", "artists", "categories"),
                            restricted_sources=RESTRICTED_SOURCES, new_releases_limit=5)

        # Act
        with client_for(config) as client:
            summary = extract_all(config, client, LocalFolderStorage(tmp_path))

    # Assert
    assert sorted(entry["source"] for entry in summary.unavailable) == sorted(RESTRICTED_SOURCES)
    assert all(entry["status"] in (403, 404) and entry["endpoint"].startswith("GET /v1/")
               for entry in summary.unavailable)
    assert summary.counts["albums"] == 5


def test_when_the_app_is_a_legacy_one_then_restricted_sources_are_stored(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    with twin_server(legacy_app=True) as twin:
        config = config_for(twin, "legacy-run", sources=("new_releases", "albums", "tracks", "artists", "categories"),
                            restricted_sources=("related_artists", "recommendations", "audio_features",
                                                "featured_playlists", "category_playlists"), new_releases_limit=3)

        # Act
        with client_for(config) as client:
            summary = extract_all(config, client, storage)

    # Assert
    assert summary.unavailable == []
    assert {"related_artists", "recommendations", "audio_features", "featured_playlists",
            "category_playlists"} <= set(summary.counts)


def test_when_user_sources_run_as_a_batch_task_then_neither_secret_is_anywhere(tmp_path: Path) -> None:
    # Arrange
    storage_root = tmp_path / "storage"
    with twin_server(FAULTS) as twin:
        workdir = make_workdir(tmp_path, twin, {"serviceEndpoint": storage_root.as_uri()}, "raw",
                               sources=list(EVERY_SOURCE), artistIds=twin.truth()["artists"][:1],
                               searchQueries=["love"], playlistDiscovery=["user_playlists"], newReleasesLimit=10,
                               httpBackoffSeconds=0.05, httpTimeoutSeconds=1.0)

        # Act
        result = run_extract(workdir, SPOTIFY_REFRESH_TOKEN=REFRESH_TOKEN)

    # Assert
    assert result.returncode == 0, result.stderr
    files = [path for root in (workdir, storage_root) for path in root.rglob("*") if path.is_file()]
    for secret in (CLIENT_SECRET, REFRESH_TOKEN):
        data = secret.encode()
        leaks = [str(path) for path in files if data in path.read_bytes()
                 or (path.suffix == ".gz" and data in gzip.decompress(path.read_bytes()))]
        assert leaks == [] and secret not in result.stdout + result.stderr
    assert json.loads((workdir / "outputs.json").read_text())["counts"]["user_profile"] == 1


def test_when_the_refresh_token_is_not_provisioned_then_user_sources_are_reported_unavailable(tmp_path: Path) -> None:
    # Arrange
    with twin_server() as twin:
        workdir = make_workdir(tmp_path, twin, {"serviceEndpoint": (tmp_path / "s").as_uri()}, "raw",
                               sources=["new_releases", "albums", "tracks", "artists", "user_profile", "saved_tracks"],
                               newReleasesLimit=3)

        # Act
        result = run_extract(workdir, SPOTIFY_REFRESH_TOKEN="")

    # Assert
    assert result.returncode == 0, result.stderr
    outputs = json.loads((workdir / "outputs.json").read_text())
    assert outputs["unavailable"] == [
        {"source": "saved_tracks", "status": None, "endpoint": "secret `spotify-refresh-token`"},
        {"source": "user_profile", "status": None, "endpoint": "secret `spotify-refresh-token`"},
    ]
    assert "set SPOTIFY_REFRESH_TOKEN" in result.stderr and outputs["counts"]["albums"] == 3


def test_when_requests_per_second_is_set_then_the_whole_run_keeps_to_it(tmp_path: Path) -> None:
    # Arrange
    import time

    with twin_server() as twin:
        config = config_for(twin, "paced-run", requests_per_second=25.0, max_concurrency=8,
                            sources=("new_releases", "albums", "tracks", "artists", "categories", "artist_top_tracks",
                                     "search", "artist_albums"))

        # Act
        with client_for(config) as client:
            started = time.monotonic()
            extract_all(config, client, LocalFolderStorage(tmp_path))
            elapsed = time.monotonic() - started
            sent = client.request_count

    # Assert: a burst of maxConcurrency, then 25 a second
    assert sent >= 20
    assert elapsed >= (sent - config.max_concurrency) / 25.0 * 0.95
