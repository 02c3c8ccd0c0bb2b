"""The transform activity over every raw source, with bad records, drift, duplicate events and a kill -9.

Raw parts are built by hand from OpenAPI-shaped payloads (tests/spotify_payloads.py),
so these tests do not depend on which sources the twin serves; test_transform_twin.py checks the
same tables against the twin's ground truth.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.spotify_payloads import (
    A1,
    API,
    NEYO,
    PITBULL,
    T1,
    category,
    cursor_paging,
    episode,
    full_album,
    full_artist,
    full_track,
    local_track,
    paging,
    play,
    playlist,
    playlist_entry,
    private_user,
    simplified_album,
    simplified_track,
)

REPO = Path(__file__).resolve().parents[2]
INGEST_DATE = "2026-11-24"
RUN_ID = "run-all-sources-0001"
MANIFEST_DIR = f"spotify/manifests/ingest_date={INGEST_DATE}/run_id={RUN_ID}"

T2 = full_track("2iblMMIgSznA464mNov7A8", "Don't Stop the Party", A1, [PITBULL], popularity=62)
BAD_POPULARITY = {**copy.deepcopy(T2), "id": "3badPopularity00000000", "popularity": "85"}
DRIFTED = {**copy.deepcopy(T1), "tempo": 128.0}


def raw_parts() -> list[tuple[str, str, Any]]:
    """(entity, request_url, body): one or more parts of every source, a bad record or two among them."""
    entries = [playlist_entry(T1), playlist_entry(episode("e1", "Episode one")),
               playlist_entry(local_track("Demo"), is_local=True)]
    return [
        ("new_releases", f"{API}/browse/new-releases?limit=20&offset=0",
         {"albums": paging(f"{API}/browse/new-releases?offset=0&limit=20", [A1])}),
        ("albums", f"{API}/albums?ids={A1['id']}&market=US",
         {"albums": [full_album(A1["id"], "Global Warming", [simplified_track(T1["id"], "Global Warming",
                                                                               [PITBULL, NEYO])])]}),
        ("tracks", f"{API}/tracks?ids={T1['id']},{T2['id']}", {"tracks": [DRIFTED, T2, BAD_POPULARITY]}),
        ("artists", f"{API}/artists?ids={PITBULL['id']},{NEYO['id']}",
         {"artists": [full_artist(PITBULL["id"], "Pitbull"), full_artist(NEYO["id"], "Ne-Yo", genres=["r&b"])]}),
        ("artist_albums", f"{API}/artists/{PITBULL['id']}/albums?include_groups=album&limit=10",
         paging(f"{API}/artists/{PITBULL['id']}/albums", [{**simplified_album("a2", "Other"), "album_group": "album"}])),
        ("artist_top_tracks", f"{API}/artists/{PITBULL['id']}/top-tracks?market=US", {"tracks": [T2, T1]}),
        ("search", f"{API}/search?q=pitbull&type=track,artist&limit=10&offset=0",
         {"tracks": paging(f"{API}/search?q=pitbull&type=track", [T1]),
          "artists": paging(f"{API}/search?q=pitbull&type=artist", [full_artist(PITBULL["id"], "Pitbull")])}),
        ("playlists", f"{API}/playlists/p1", playlist("p1", "Road trip", entries)),
        ("playlist_items", f"{API}/playlists/p1/items?offset=3&limit=100",
         paging(f"{API}/playlists/p1/items?offset=3&limit=100", [playlist_entry(T2)], offset=3)),
        ("categories", f"{API}/browse/categories?limit=50",
         {"categories": paging(f"{API}/browse/categories", [category("pop", "Pop"), category("rock", "Rock")])}),
        ("markets", f"{API}/markets", {"markets": ["GB", "se"]}),  # a code not as Spotify writes them
        ("user_profile", f"{API}/me", private_user("listener")),
        ("user_top_artists", f"{API}/me/top/artists?time_range=long_term&limit=50",
         paging(f"{API}/me/top/artists", [full_artist(NEYO["id"], "Ne-Yo")])),
        ("user_top_tracks", f"{API}/me/top/tracks?time_range=short_term&limit=50",
         paging(f"{API}/me/top/tracks", [T2, T1])),
        ("recently_played", f"{API}/me/player/recently-played?limit=50",
         cursor_paging(f"{API}/me/player/recently-played", [play(T1, "2026-11-23T21:04:05.123Z"),
                                                             play(T2, "23 Nov 2026 20:00")])),
        ("saved_tracks", f"{API}/me/tracks?limit=50", paging(f"{API}/me/tracks", [
            {"added_at": "2026-10-01T08:00:00Z", "track": T2}])),
        ("followed_artists", f"{API}/me/following?type=artist&limit=50",
         {"artists": cursor_paging(f"{API}/me/following?type=artist", [full_artist(NEYO["id"], "Ne-Yo")])}),
        ("user_playlists", f"{API}/me/playlists?limit=50", paging(f"{API}/me/playlists", [
            playlist("p1", "Road trip", [], full=False), playlist("p2", "Other", [], full=False)])),
        ("tracks", f"{API}/tracks?ids=x", {"tracks": {"items": []}}),  # an envelope that is not the documented one
        ("podcasts", f"{API}/shows?ids=s1", {"shows": []}),  # an entity this version does not model
    ]


def write_raw_zone(root: Path, parts: list[tuple[str, str, Any]]) -> None:
    """Parts first (named as a sharded extract would), the manifest last."""
    entries = []
    for index, (entity, url, body) in enumerate(parts):
        path = f"spotify/{entity}/ingest_date={INGEST_DATE}/run_id={RUN_ID}/part-s0-{index:05d}.json.gz"
        stored = gzip.compress(json.dumps(body, indent=2).encode(), mtime=0)
        (root / "raw" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "raw" / path).write_bytes(stored)
        entries.append({"entity": entity, "path": path, "size": len(stored), "sha256": hashlib.sha256(stored).hexdigest(),
                        "request_url": url, "fetched_at": f"2026-11-24T05:00:{index:02d}.000000Z", "items": 1})
    manifest = {"manifest_version": 1, "source": "spotify", "ingest_date": INGEST_DATE, "run_id": RUN_ID,
                "created_at": "2026-11-24T05:01:00Z", "container": "raw", "parts": entries, "counts": {}}
    (root / "raw" / MANIFEST_DIR).mkdir(parents=True, exist_ok=True)
    (root / "raw" / MANIFEST_DIR / "_manifest.json").write_text(json.dumps(manifest))


def make_task(root: Path, storage_root: Path, **extended: Any) -> Path:
    task = root / "task"
    shutil.rmtree(task, ignore_errors=True)
    task.mkdir(parents=True)
    shutil.copytree(REPO / "activities", task / "activities", ignore=shutil.ignore_patterns("__pycache__"))
    activity = {"name": "Transform raw run", "type": "Custom", "typeProperties": {
        "command": "python -m activities.transform", "folderPath": "batch-code/activities",
        "extendedProperties": {"manifestFolderPath": f"raw/{MANIFEST_DIR}", "manifestFileName": "_manifest.json",
                               "curatedContainer": "curated", "storageLinkedService": "Ls_Blob_Storage",
                               "quarantineContainer": "bad-records", **extended},
        "referenceObjects": {"linkedServices": [], "datasets": []}}}
    linked = [{"name": "Ls_Blob_Storage", "properties": {
        "type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": storage_root.as_uri()}}}]
    (task / "activity.json").write_text(json.dumps(activity))
    (task / "linkedServices.json").write_text(json.dumps(linked))
    (task / "datasets.json").write_text("[]")
    return task


def _env(task: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "TRANSFORM_TEST_PAUSE_AT")}
    env.update({"AZ_BATCH_TASK_WORKING_DIR": str(task), "AZ_BATCH_TASK_ID": "transform-1", **extra})
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    stderr: str
    outputs: dict[str, Any] | None
    seconds: float


def run(task: Path) -> Run:
    (task / "outputs.json").unlink(missing_ok=True)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "activities.transform"], cwd=task, env=_env(task),
                          capture_output=True, text=True, timeout=60, check=False)
    outputs = json.loads((task / "outputs.json").read_text()) if (task / "outputs.json").exists() else None
    return Run(done.returncode, done.stderr, outputs, time.monotonic() - started)


def files(storage_root: Path, *containers: str) -> dict[str, bytes]:
    return {p.relative_to(storage_root).as_posix(): p.read_bytes()
            for c in containers if (storage_root / c).exists()
            for p in sorted((storage_root / c).rglob("*")) if p.is_file()}


def table(storage_root: Path, name: str, container: str = "curated") -> list[dict[str, Any]]:
    folder = storage_root / container / name / f"snapshot_date={INGEST_DATE}"
    return [row for part in sorted(folder.glob("*.parquet")) for row in pq.read_table(part).to_pylist()]


@dataclass(frozen=True)
class Zone:
    root: Path
    storage_root: Path
    task: Path
    first: Run


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    root = tmp_path_factory.mktemp("all-sources")
    storage_root = root / "storage"
    write_raw_zone(storage_root, raw_parts())
    task = make_task(root, storage_root)
    return Zone(root, storage_root, task, run(task))


def test_when_every_source_is_transformed_then_each_table_gets_its_rows(zone: Zone) -> None:
    outputs = zone.first.outputs
    assert zone.first.returncode == 0, zone.first.stderr
    assert outputs is not None
    rows = {name: t["rows"] for name, t in outputs["tables"].items()}

    assert rows == {"albums": 2, "tracks": 2, "artists": 2, "track_artists": 3, "album_artists": 2,
                    "artist_genres": 4, "playlists": 2, "users": 2, "categories": 2, "markets": 2, "new_releases": 1,
                    "artist_top_tracks": 2, "search_results": 2, "user_top_items": 3, "recently_played": 1,
                    "saved_tracks": 1, "playlist_items": 4, "followed_artists": 1, "user_playlists": 2}
    assert outputs["ignoredParts"] == {"podcasts": 1}
    tracks = {r["track_id"]: r for r in table(zone.storage_root, "tracks")}
    assert (tracks[T1["id"]]["popularity"], tracks[T1["id"]]["isrc"]) == (64, T1["external_ids"]["isrc"])  # full won
    assert tracks[T2["id"]]["duration_bucket"] == "3-4 min"
    items = [(r["position"], r["item_type"], r["track_id"], r["is_local"]) for r in table(zone.storage_root,
                                                                                        "playlist_items")]
    assert items == [(0, "track", T1["id"], False), (1, "episode", None, False), (2, "track", None, True),
                     (3, "track", T2["id"], False)]
    playlists = {r["playlist_id"]: r for r in table(zone.storage_root, "playlists")}
    assert (playlists["p1"]["followers"], playlists["p2"]["followers"]) == (321, None)  # full over simplified
    markets = [(r["market"], r["country_name"], r["is_spotify_market"]) for r in table(zone.storage_root, "markets")]
    assert markets == [("GB", "United Kingdom", True), ("US", "United States", None)]  # US: from artist top tracks
    marker = json.loads((zone.storage_root / "curated" / "_snapshots" / f"snapshot_date={INGEST_DATE}"
                         / "_SUCCESS").read_text())
    assert (marker["run_id"], marker["tables"]) == (RUN_ID, outputs["tables"])


def test_when_records_are_bad_then_they_go_to_quarantine_with_reason_and_blob_and_the_run_succeeds(
    zone: Zone,
) -> None:
    outputs = zone.first.outputs
    assert outputs is not None
    quarantined = sorted(
        (r["table"], r["reason"], r["natural_key"], r["source_blob"].split("/")[2])
        for name in ("tracks", "recently_played", "markets") for r in table(zone.storage_root, name, "bad-records"))

    assert quarantined == [
        ("markets", "'se' is not an ISO 3166-1 alpha-2 market code (two upper-case letters)", None, "markets"),
        ("recently_played", "'23 Nov 2026 20:00' is not an ISO 8601 timestamp", None, "recently_played"),
        ("tracks", "type change: expected an integer, got str '85'", BAD_POPULARITY["id"], "tracks"),
        ("tracks", "unexpected response shape at $.tracks: expected an array, got dict", None, "tracks"),
    ]
    assert outputs["quarantinedRows"] == 4
    assert set(outputs["quarantine"]) == {"tracks", "recently_played", "markets"}
    assert outputs["schemaDrift"] == {"tracks": {"new_fields": ["TrackObject.tempo"]}}
    assert BAD_POPULARITY["id"] not in {r["track_id"] for r in table(zone.storage_root, "tracks")}


def test_when_the_same_manifest_event_comes_again_then_it_exits_0_quickly_and_changes_nothing(zone: Zone) -> None:
    before = {path: (zone.storage_root / path).stat().st_mtime_ns for path in files(zone.storage_root, "curated")}

    again = run(zone.task)

    assert again.returncode == 0, again.stderr
    assert again.outputs is not None
    assert again.outputs["skipped"] == "already processed"
    assert zone.first.outputs is not None
    assert again.outputs["tables"] == zone.first.outputs["tables"]
    assert {p: (zone.storage_root / p).stat().st_mtime_ns for p in files(zone.storage_root, "curated")} == before


def test_when_a_processed_manifest_comes_again_with_its_staging_left_then_the_staging_is_removed(zone: Zone) -> None:
    # A run killed after its processed marker, before it removed its own staging folder, left that folder.
    assert zone.first.outputs is not None
    staging = f"_staging/{zone.first.outputs['runId']}/"
    leftover = zone.storage_root / "curated" / staging / "albums" / "part-00000.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"left by a killed run")

    again = run(zone.task)

    assert again.returncode == 0, again.stderr
    assert again.outputs is not None and again.outputs["skipped"] == "already processed"
    assert again.outputs["removedStaging"] == [staging]
    assert not leftover.exists()


def test_when_a_run_is_killed_while_publishing_and_rerun_then_output_equals_a_clean_run(
    zone: Zone, tmp_path: Path
) -> None:
    # Arrange: a snapshot published by an earlier run of another manifest for the same date, with more
    # bad records than now, so a half-done publish would mix two runs.
    storage_root = tmp_path / "storage"
    older = raw_parts()
    older[1] = ("albums", older[1][1], {"albums": [{**full_album(A1["id"], "Old", []), "popularity": "x"}]})
    write_raw_zone(storage_root, older)
    task = make_task(tmp_path, storage_root)
    assert run(task).returncode == 0
    write_raw_zone(storage_root, raw_parts())

    # Act: kill -9 in the middle of publishing, then run again.
    child = subprocess.Popen([sys.executable, "-m", "activities.transform"], cwd=task, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True,
                             env=_env(task, TRANSFORM_TEST_PAUSE_AT="publish", TRANSFORM_TEST_PAUSE_SECONDS="30"))
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("PAUSED AT publish"):
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    partial = files(storage_root, "curated")
    rerun = run(task)

    # Assert: no snapshot marker while half published; after the rerun, exactly the clean run's files
    # (besides the processed marker the earlier manifest left, which names that manifest).
    assert not any(p.startswith("curated/_snapshots/") for p in partial)
    assert any(p.startswith("curated/_staging/") for p in partial)
    assert rerun.returncode == 0, rerun.stderr
    after = files(storage_root, "curated", "bad-records")
    clean = files(zone.storage_root, "curated", "bad-records")
    assert set(clean) <= set(after)
    assert {p for p in set(after) - set(clean)} == {p for p in after if p.startswith("curated/_processed/")} - set(clean)
    assert {p: after[p] for p in clean} == clean
