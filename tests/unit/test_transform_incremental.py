"""Incremental snapshots: each curated snapshot is the earlier one plus what the run brought (issue 9).

The transform activity runs in-process (its ``main`` on a Batch-shaped task folder) against a
local folder standing in for Blob Storage, for two consecutive dates; bodies are the Development
Mode builders of tests/spotify_payloads.py, each user part naming its user as the extract does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.context import load_context
from activities.common.storage import LocalFolderStorage
from activities.transform.errors import PreviousSnapshotError
from activities.transform.incremental import previous_snapshot
from activities.transform.run import transform
from tests.spotify_payloads import (
    A1,
    API,
    DEV_T1,
    NEYO,
    PITBULL,
    T1,
    cursor_paging,
    development,
    full_album,
    full_artist,
    full_track,
    items_entry,
    paging,
    play,
    private_user,
    simplified_album,
    simplified_track,
)

DAY1, DAY2 = "2026-11-24", "2026-11-25"
# A part: (entity, request_url, body, user_id or None)
Part = tuple[str, str, Any, "str | None"]

T2 = development(full_track("2iblMMIgSznA464mNov7A8", "Don't Stop the Party", A1, [PITBULL]))
T3 = development(full_track("3newTrackOnDay2000000a", "Day Two", simplified_album("a2", "Second"), [NEYO]))


class Zone:
    """A local storage root and a Batch task folder; ``run`` writes one extract run's raw zone and transforms it."""

    def __init__(self, root: Path) -> None:
        self.storage_root = root / "storage"
        self.storage = LocalFolderStorage(self.storage_root)
        self.task = root / "task"
        self.task.mkdir(parents=True)

    def run(self, day: str, run_id: str, parts: list[Part], *, force: bool = False) -> dict[str, Any]:
        entries = []
        for index, (entity, url, body, user_id) in enumerate(parts):
            path = f"spotify/{entity}/ingest_date={day}/run_id={run_id}/part-{index:05d}.json.gz"
            stored = gzip.compress(json.dumps(body).encode(), mtime=0)
            self.storage.write_bytes("raw", path, stored)
            entry = {"entity": entity, "path": path, "size": len(stored),
                     "sha256": hashlib.sha256(stored).hexdigest(), "request_url": url,
                     "fetched_at": f"{day}T05:00:{index:02d}.000000Z"}
            if user_id is not None:
                entry["user_id"] = user_id
            entries.append(entry)
        folder = f"spotify/manifests/ingest_date={day}/run_id={run_id}"
        manifest = {"manifest_version": 1, "source": "spotify", "ingest_date": day, "run_id": run_id,
                    "container": "raw", "parts": entries}
        self.storage.write_bytes("raw", f"{folder}/_manifest.json", json.dumps(manifest).encode())
        activity = {"name": "Transform raw run", "type": "Custom", "typeProperties": {
            "command": "python -m activities.transform", "extendedProperties": {
                "manifestFolderPath": f"raw/{folder}", "manifestFileName": "_manifest.json",
                "curatedContainer": "curated", "storageLinkedService": "Ls_Blob_Storage", "force": force}}}
        linked = [{"name": "Ls_Blob_Storage", "properties": {
            "type": "AzureBlobStorage", "typeProperties": {"serviceEndpoint": self.storage_root.as_uri()}}}]
        (self.task / "activity.json").write_text(json.dumps(activity))
        (self.task / "linkedServices.json").write_text(json.dumps(linked))
        (self.task / "datasets.json").write_text("[]")
        return transform(load_context(self.task))

    def table(self, name: str, day: str) -> list[dict[str, Any]]:
        folder = self.storage_root / "curated" / name / f"snapshot_date={day}"
        return [row for part in sorted(folder.glob("*.parquet")) for row in pq.read_table(part).to_pylist()]

    def snapshot_bytes(self, day: str) -> dict[str, bytes]:
        curated = self.storage_root / "curated"
        return {p.relative_to(curated).as_posix(): p.read_bytes() for p in sorted(curated.rglob("*.parquet"))
                if f"snapshot_date={day}" in p.as_posix() and "_staging" not in p.as_posix()}


def _recent(*plays: tuple[dict[str, Any], str]) -> dict[str, Any]:
    return cursor_paging(f"{API}/me/player/recently-played", [play(track, at) for track, at in plays])


def day1_parts() -> list[Part]:
    album = development(full_album(A1["id"], "Global Warming", [simplified_track(T1["id"], "Global Warming",
                                                                                 [PITBULL, NEYO])]))
    return [
        ("user_profile", f"{API}/me", development(private_user("alice")), "alice"),
        ("user_profile", f"{API}/me", development(private_user("bob")), "bob"),
        ("recently_played", f"{API}/me/player/recently-played?limit=50",
         _recent((DEV_T1, "2026-11-23T21:00:00Z"), (T2, "2026-11-23T20:00:00Z")), "alice"),
        ("recently_played", f"{API}/me/player/recently-played?limit=50",
         _recent((DEV_T1, "2026-11-23T21:00:00Z")), "bob"),  # the same moment, another user: another play
        ("user_top_tracks", f"{API}/me/top/tracks?time_range=short_term&limit=50",
         paging(f"{API}/me/top/tracks", [DEV_T1, T2]), "alice"),
        ("user_top_tracks", f"{API}/me/top/tracks?time_range=long_term&limit=50",
         paging(f"{API}/me/top/tracks", [T2]), "alice"),
        ("saved_tracks", f"{API}/me/tracks?limit=50",
         paging(f"{API}/me/tracks", [{"added_at": "2026-10-01T08:00:00Z", "track": DEV_T1}]), "alice"),
        ("albums", f"{API}/albums/{A1['id']}", album, None),
        ("artists", f"{API}/artists/{PITBULL['id']}", development(full_artist(PITBULL["id"], "Pitbull")), None),
        ("playlist_items", f"{API}/playlists/p1/items?offset=0&limit=50",
         paging(f"{API}/playlists/p1/items", [items_entry(DEV_T1), items_entry(T2)]), None),
    ]


def day2_parts() -> list[Part]:
    renamed = {**DEV_T1, "name": "Global Warming (Remastered)"}
    return [
        ("recently_played", f"{API}/me/player/recently-played?limit=50&after=1763931600000",
         _recent((T3, "2026-11-24T09:00:00Z"), (DEV_T1, "2026-11-23T21:00:00Z")), "alice"),  # one play seen again
        ("user_top_tracks", f"{API}/me/top/tracks?time_range=short_term&limit=50",
         paging(f"{API}/me/top/tracks", [T3]), "alice"),  # a shorter list than day 1's
        ("tracks", f"{API}/tracks/{T1['id']}", renamed, None),  # a refresh: the key updated on day 2
        ("playlist_items", f"{API}/playlists/p1/items?offset=0&limit=50",
         paging(f"{API}/playlists/p1/items", [items_entry(T3)]), None),
    ]


@pytest.fixture
def zone(tmp_path: Path) -> Zone:
    return Zone(tmp_path)


def test_when_day_two_brings_only_what_is_new_then_its_snapshot_is_day_one_plus_the_new_rows(zone: Zone) -> None:
    first = zone.run(DAY1, "run-day1", day1_parts())
    second = zone.run(DAY2, "run-day2", day2_parts())

    assert (first["previousSnapshot"], second["previousSnapshot"]) == (None, DAY1)
    assert second["quarantinedRows"] == 0
    plays = [(r["user_id"], r["played_at"], r["track_id"]) for r in zone.table("recently_played", DAY2)]
    assert plays == [  # accumulated, one row per user and played_at, sorted by the key
        ("alice", datetime(2026, 11, 23, 20, tzinfo=UTC), T2["id"]),
        ("alice", datetime(2026, 11, 23, 21, tzinfo=UTC), T1["id"]),
        ("alice", datetime(2026, 11, 24, 9, tzinfo=UTC), T3["id"]),
        ("bob", datetime(2026, 11, 23, 21, tzinfo=UTC), T1["id"]),
    ]
    top = [(r["user_id"], r["time_range"], r["rank"], r["item_id"]) for r in zone.table("user_top_items", DAY2)]
    assert top == [("alice", "long_term", 1, T2["id"]), ("alice", "short_term", 1, T3["id"])]  # list replaced
    assert [(r["position"], r["track_id"]) for r in zone.table("playlist_items", DAY2)] == [(0, T3["id"])]
    tracks = {r["track_id"]: r for r in zone.table("tracks", DAY2)}
    assert set(tracks) == {T1["id"], T2["id"], T3["id"]}
    assert tracks[T1["id"]]["name"] == "Global Warming (Remastered)"  # newer wins by key
    assert tracks[T1["id"]]["source_run_id"] == "run-day2"
    assert tracks[T2["id"]]["source_run_id"] == "run-day1"  # carried over with its lineage
    assert tracks[T2["id"]]["source_blob"].startswith("raw/spotify/") and "run_id=run-day1" in tracks[T2["id"]][
        "source_blob"]
    assert {r["snapshot_date"] for r in zone.table("tracks", DAY2)} == {date(2026, 11, 25)}
    assert [r["user_id"] for r in zone.table("users", DAY2)] == ["alice", "bob", "curator"]  # curator: added_by
    assert [(r["user_id"], r["track_id"]) for r in zone.table("saved_tracks", DAY2)] == [("alice", T1["id"])]
    credits = {(r["track_id"], r["artist_position"], r["artist_id"]) for r in zone.table("track_artists", DAY2)}
    assert credits == {(T1["id"], 0, PITBULL["id"]), (T1["id"], 1, NEYO["id"]), (T2["id"], 0, PITBULL["id"]),
                       (T3["id"], 0, NEYO["id"])}
    assert {r["track_id"]: r["primary_artist_id"] for r in zone.table("tracks", DAY2)}[T2["id"]] == PITBULL["id"]
    assert second["carriedRows"]["recently_played"] == 3


def test_when_a_full_object_met_a_simplified_copy_on_a_later_day_then_the_full_one_is_kept(zone: Zone) -> None:
    # Day 1 (extended mode): the full album with its label; day 2 sees it only inside a track.
    zone.run(DAY1, "run-day1", [("albums", f"{API}/albums?ids={A1['id']}", {"albums": [
        full_album(A1["id"], "Global Warming", [])]}, None)])
    zone.run(DAY2, "run-day2", [("tracks", f"{API}/tracks/{T1['id']}", DEV_T1, None)])

    (album,) = zone.table("albums", DAY2)
    assert (album["label"], album["popularity"], album["source_run_id"]) == (
        "Mr.305/Polo Grounds Music/J Records", 71, "run-day1")
    assert [r["artist_id"] for r in zone.table("album_artists", DAY2)] == [PITBULL["id"]]


def test_when_a_date_is_rerun_then_it_reproduces_the_same_snapshot_even_after_a_later_one(zone: Zone) -> None:
    zone.run(DAY1, "run-day1", day1_parts())
    day1 = zone.snapshot_bytes(DAY1)
    zone.run(DAY2, "run-day2", day2_parts())
    day2 = zone.snapshot_bytes(DAY2)

    again1 = zone.run(DAY1, "run-day1", day1_parts(), force=True)
    assert again1["previousSnapshot"] is None
    assert zone.snapshot_bytes(DAY1) == day1
    again2 = zone.run(DAY2, "run-day2", day2_parts(), force=True)
    assert again2["previousSnapshot"] == DAY1
    assert zone.snapshot_bytes(DAY2) == day2


def test_when_an_earlier_snapshot_lacks_its_marker_then_the_run_builds_on_the_one_before(zone: Zone) -> None:
    zone.run(DAY1, "run-day1", day1_parts())
    zone.run(DAY2, "run-day2", day2_parts())
    zone.storage.delete("curated", f"_snapshots/snapshot_date={DAY2}/_SUCCESS")  # e.g. killed while publishing

    assert previous_snapshot(zone.storage, "curated", date(2026, 11, 26)) == date(2026, 11, 24)
    assert previous_snapshot(zone.storage, "curated", date(2026, 11, 24)) is None


def test_when_an_earlier_snapshot_file_is_not_parquet_then_the_run_fails_naming_it_and_writes_nothing(
    zone: Zone
) -> None:
    zone.run(DAY1, "run-day1", day1_parts())
    bad = f"tracks/snapshot_date={DAY1}/part-00000.parquet"
    zone.storage.write_bytes("curated", bad, b"not parquet")

    with pytest.raises(PreviousSnapshotError, match=rf"curated/{bad}"):
        zone.run(DAY2, "run-day2", day2_parts())

    assert not (zone.storage_root / "curated" / "tracks" / f"snapshot_date={DAY2}").exists()
    assert not (zone.storage_root / "curated" / "_snapshots" / f"snapshot_date={DAY2}").exists()


def test_when_a_run_brings_one_of_several_lists_then_only_that_list_is_replaced(zone: Zone) -> None:
    def search(query: str, tracks: list[dict[str, Any]]) -> Part:
        return ("search", f"{API}/search?q={query}&type=track&limit=10",
                {"tracks": paging(f"{API}/search?q={query}&type=track", tracks, limit=10)}, None)

    def new_releases(albums: list[dict[str, Any]]) -> Part:  # extended mode only
        return ("new_releases", f"{API}/browse/new-releases?limit=20",
                {"albums": paging(f"{API}/browse/new-releases", albums)}, None)

    zone.run(DAY1, "run-day1", [search("summer", [DEV_T1, T2]), search("winter", [T2]),
                                new_releases([A1, simplified_album("a2", "Second")])])
    zone.run(DAY2, "run-day2", [search("summer", [T3]), new_releases([simplified_album("a3", "Third")])])

    results = [(r["query"], r["rank"], r["item_id"]) for r in zone.table("search_results", DAY2)]
    assert results == [("summer", 1, T3["id"]), ("winter", 1, T2["id"])]
    assert [(r["album_id"], r["list_position"]) for r in zone.table("new_releases", DAY2)] == [("a3", 1)]
    assert {r["album_id"] for r in zone.table("albums", DAY2)} >= {A1["id"], "a2", "a3"}  # dimensions accumulate


def test_when_an_earlier_snapshot_column_cannot_take_its_declared_type_then_the_run_fails_naming_the_table(
    zone: Zone
) -> None:
    zone.run(DAY1, "run-day1", day1_parts())
    path = zone.storage_root / "curated" / "tracks" / f"snapshot_date={DAY1}" / "part-00000.parquet"
    tracks = pq.read_table(path)
    retyped = tracks.set_column(tracks.schema.get_field_index("duration_ms"), "duration_ms",
                                pa.array(["long"] * tracks.num_rows))
    pq.write_table(retyped, path)

    with pytest.raises(PreviousSnapshotError, match=rf"curated/tracks/snapshot_date={DAY1} cannot be carried.*long"):
        zone.run(DAY2, "run-day2", day2_parts())
