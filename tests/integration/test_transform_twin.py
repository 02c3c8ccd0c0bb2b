"""Transform of a real extract run against the Spotify twin, compared with the twin's ground truth table by table.

The twin serves every non-restricted source; the extract activity (a subprocess, as Batch runs it)
fetches them all into local folder storage; the transform activity (a subprocess) curates them.
Each curated table is then checked against ``twin.truth()``: the ids and bridges the twin served.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from offline.spotify_twin import TwinServer
from offline.spotify_twin.truth import expected_first_slice

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "transform-twin-client"
CLIENT_SECRET = "tw1n-transform-5ecret"
REFRESH_TOKEN = "tw1n-refresh-7c1d"
INGEST_DATE = "2026-11-24"
RUN_ID = "7d3f0c52-8a51-4b8e-9c43-2f1b5e6a7777"
NEW_RELEASES_LIMIT = 20
SOURCES = ["new_releases", "albums", "album_tracks", "tracks", "artists", "artist_albums", "artist_top_tracks",
           "search", "playlists", "playlist_items", "categories", "markets", "user_profile", "user_top_artists",
           "user_top_tracks", "recently_played", "saved_tracks", "followed_artists", "user_playlists"]


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"SPOTIFY_CLIENT_SECRET": CLIENT_SECRET, "SPOTIFY_REFRESH_TOKEN": REFRESH_TOKEN,
                "AZ_BATCH_TASK_WORKING_DIR": str(workdir), "AZ_BATCH_TASK_ID": "task-1",
                "AZ_BATCH_JOB_ID": "job-1", "AZ_BATCH_NODE_ID": "node-1"})
    return env


def _task(workdir: Path, name: str, command: str, extended: dict[str, Any], storage_root: Path) -> Path:
    shutil.copytree(REPO / "activities", workdir / "activities", ignore=shutil.ignore_patterns("__pycache__"))
    activity = {"name": name, "type": "Custom", "typeProperties": {
        "command": command, "folderPath": "batch-code/activities", "extendedProperties": extended,
        "referenceObjects": {"linkedServices": [], "datasets": []}}}
    linked = [
        {"name": "Ls_Storage", "properties": {"type": "AzureBlobStorage",
                                              "typeProperties": {"serviceEndpoint": storage_root.as_uri()}}},
        {"name": "Ls_KeyVault", "properties": {"type": "AzureKeyVault", "typeProperties": {"baseUrl": "env:"}}},
    ]
    (workdir / "activity.json").write_text(json.dumps(activity))
    (workdir / "linkedServices.json").write_text(json.dumps(linked))
    (workdir / "datasets.json").write_text("[]")
    return workdir


@dataclass(frozen=True)
class TwinRun:
    storage_root: Path
    truth: dict[str, Any]
    outputs: dict[str, Any]
    artist_ids: list[str]

    def table(self, name: str) -> list[dict[str, Any]]:
        folder = self.storage_root / "curated" / name / f"snapshot_date={INGEST_DATE}"
        assert (folder / "_SUCCESS").exists(), name
        return [row for part in sorted(folder.glob("*.parquet")) for row in pq.read_table(part).to_pylist()]


@pytest.fixture(scope="module")
def twin_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwinRun]:
    base = tmp_path_factory.mktemp("transform-twin")
    storage_root = base / "storage"
    with TwinServer(seed=42, scale=0.3, faults="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    refresh_token=REFRESH_TOKEN, access_mode="extended") as twin:
        truth = twin.truth()
        artist_ids = truth["artists"][:2]
        extract = _task(base / "extract", "Extract Spotify", "python -m activities.extract", {
            "ingestDate": INGEST_DATE, "runId": RUN_ID, "apiBaseUrl": twin.api_base_url, "tokenUrl": twin.token_url,
            "clientId": CLIENT_ID, "clientSecretName": "spotify-client-secret", "markets": ["US", "GB"],
            "newReleasesLimit": NEW_RELEASES_LIMIT, "storageLinkedService": "Ls_Storage",
            "keyVaultLinkedService": "Ls_KeyVault", "rawContainer": "raw", "sources": SOURCES,
            "lookupSources": ["new_releases", "search", "playlists", "playlist_items", "artist_albums",
                              "artist_top_tracks", "user_top_artists", "user_top_tracks", "recently_played",
                              "saved_tracks", "followed_artists"],
            "artistIds": artist_ids, "searchQueries": ["night"], "playlistDiscovery": ["user_playlists"],
            "requestsPerSecond": 0, "accessMode": "extended",
        }, storage_root)
        result = subprocess.run([sys.executable, "-m", "activities.extract"], cwd=extract, env=_env(extract),
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((extract / "outputs.json").read_text())["manifest"]
    folder, _, file_name = manifest.rpartition("/")
    transform = _task(base / "transform", "Transform raw run", "python -m activities.transform", {
        "manifestFolderPath": folder, "manifestFileName": file_name, "curatedContainer": "curated",
        "storageLinkedService": "Ls_Storage"}, storage_root)
    result = subprocess.run([sys.executable, "-m", "activities.transform"], cwd=transform, env=_env(transform),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    yield TwinRun(storage_root, truth, json.loads((transform / "outputs.json").read_text()), artist_ids)


def test_when_a_twin_run_is_transformed_then_nothing_is_quarantined_and_every_source_was_read(
    twin_run: TwinRun,
) -> None:
    assert twin_run.outputs["quarantinedRows"] == 0
    assert twin_run.outputs["ignoredParts"] == {}
    assert all(twin_run.outputs["tables"][t]["rows"] > 0 for t in twin_run.outputs["tables"]), twin_run.outputs


def test_when_a_twin_run_is_transformed_then_the_dimensions_hold_what_the_twin_served(twin_run: TwinRun) -> None:
    truth = twin_run.truth
    first = expected_first_slice(truth, NEW_RELEASES_LIMIT)
    tracks = {r["track_id"]: r for r in twin_run.table("tracks")}
    albums = {r["album_id"] for r in twin_run.table("albums")}
    artists = {r["artist_id"] for r in twin_run.table("artists")}

    assert set(first["tracks"]) <= set(tracks) <= set(truth["tracks"])
    assert set(first["albums"]) <= albums <= set(truth["albums"])
    assert set(first["artists"]) <= artists <= set(truth["artists"])
    assert {r["playlist_id"] for r in twin_run.table("playlists")} <= set(truth["playlists"])
    assert [r["category_id"] for r in twin_run.table("categories")] == sorted(truth["categories"])
    assert truth["user"]["id"] in {r["user_id"] for r in twin_run.table("users")}
    assert all(row["primary_artist_id"] == truth["track_artists"][tid][0] for tid, row in tracks.items())


def test_when_a_twin_run_is_transformed_then_markets_are_the_twins_list_plus_every_market_a_fact_used(
    twin_run: TwinRun,
) -> None:
    from activities.transform.countries import country_name

    listed = twin_run.truth["markets"]
    used = {r["market"] for table in ("new_releases", "artist_top_tracks", "search_results")
            for r in twin_run.table(table) if r["market"] is not None}
    markets = {r["market"]: r for r in twin_run.table("markets")}

    assert used == {"US", "GB"}  # top tracks per configured market, search in the first one
    assert sorted(markets) == sorted(set(listed) | used)
    assert all(markets[code]["is_spotify_market"] is True for code in listed)
    assert all(markets[code]["is_spotify_market"] is None for code in used - set(listed))
    assert all(row["country_name"] == country_name(code) and row["country_name"] for code, row in markets.items())
    assert all(row["source_blob"].startswith("raw/spotify/markets/") for code, row in markets.items() if code in listed)


def test_when_a_twin_run_is_transformed_then_the_bridges_match_the_twins_credits(twin_run: TwinRun) -> None:
    truth = twin_run.truth
    track_artists = sorted([r["track_id"], r["artist_id"], r["artist_position"]] for r in twin_run.table("track_artists"))
    album_artists = sorted([r["album_id"], r["artist_id"], r["artist_position"]] for r in twin_run.table("album_artists"))
    tracks = {r["track_id"] for r in twin_run.table("tracks")}
    albums = {r["album_id"] for r in twin_run.table("albums")}

    assert track_artists == sorted([t, a, p] for t in tracks for p, a in enumerate(truth["track_artists"][t]))
    assert album_artists == sorted([al, a, p] for al in albums for p, a in enumerate(truth["album_artists"][al]))


def test_when_a_twin_run_is_transformed_then_the_catalog_facts_match_the_truth(twin_run: TwinRun) -> None:
    truth = twin_run.truth
    new_releases = sorted((r["list_position"], r["album_id"]) for r in twin_run.table("new_releases"))
    top = {}
    for row in sorted(twin_run.table("artist_top_tracks"), key=lambda r: (r["market"], r["artist_id"], r["rank"])):
        top.setdefault((row["market"], row["artist_id"]), []).append(row["track_id"])
    items: dict[str, list[dict[str, Any]]] = {}
    for row in twin_run.table("playlist_items"):
        items.setdefault(row["playlist_id"], []).append(
            {"position": row["position"], "is_local": row["is_local"], "track_id": row["track_id"],
             "episode_id": row["episode_id"]})

    assert [a for _, a in new_releases] == truth["new_releases"][:NEW_RELEASES_LIMIT]
    assert top == {(m, a): truth["artist_top_tracks"][m][a] for m in ("US", "GB") for a in twin_run.artist_ids}
    assert items  # the listener's playlists were read
    for playlist_id, rows in items.items():
        assert sorted(rows, key=lambda r: r["position"]) == truth["playlist_items"][playlist_id], playlist_id
    assert {r["query"] for r in twin_run.table("search_results")} == {"night"}


def test_when_a_twin_run_is_transformed_then_the_listeners_facts_match_the_truth(twin_run: TwinRun) -> None:
    user = twin_run.truth["user"]
    top: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for row in twin_run.table("user_top_items"):
        top.setdefault((row["item_type"], row["time_range"]), []).append((row["rank"], row["item_id"]))
    played = sorted(twin_run.table("recently_played"), key=lambda r: r["played_at"], reverse=True)
    saved = {r["track_id"] for r in twin_run.table("saved_tracks")}

    for time_range, ids in user["top_tracks"].items():
        assert [i for _, i in sorted(top[("track", time_range)])] == ids
    for time_range, ids in user["top_artists"].items():
        assert [i for _, i in sorted(top[("artist", time_range)])] == ids
    assert [[r["track_id"], r["played_at"]] for r in played] == [
        [t, datetime.fromisoformat(at)] for t, at in user["recently_played"]]
    assert saved == set(user["saved_tracks"])
    assert {r["artist_id"] for r in twin_run.table("followed_artists")} == set(user["followed_artists"])
