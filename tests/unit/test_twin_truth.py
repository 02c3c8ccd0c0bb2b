"""Unit tests of the twin's ground truth export and first-slice expectation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from offline.spotify_twin.catalog import build_catalog
from offline.spotify_twin.truth import (
    expected_artist_albums,
    expected_first_slice,
    expected_search,
    export_truth,
    write_truth,
)


def _truth() -> dict[str, Any]:
    return {
        "seed": 1,
        "scale": 0.1,
        "artists": ["ar1", "ar2", "ar3", "ar4"],
        "albums": ["al1", "al2", "al3"],
        "tracks": ["t1", "t2", "t3", "t4"],
        "new_releases": ["al2", "al1", "al3"],
        "album_tracks": {"al1": ["t1"], "al2": ["t3", "t2"], "al3": ["t4"]},
        "album_artists": {"al1": ["ar1"], "al2": ["ar2"], "al3": ["ar4"]},
        "track_artists": {"t1": ["ar1"], "t2": ["ar2", "ar3"], "t3": ["ar2"], "t4": ["ar4"]},
    }


def test_when_limit_takes_first_two_releases_then_slice_holds_their_tracks_and_all_artists() -> None:
    result = expected_first_slice(_truth(), 2)

    assert result == {
        "albums": ["al1", "al2"],
        "tracks": ["t1", "t2", "t3"],
        "artists": ["ar1", "ar2", "ar3"],
        "track_artists": [["t1", "ar1", 0], ["t2", "ar2", 0], ["t2", "ar3", 1], ["t3", "ar2", 0]],
    }


def test_when_limit_is_zero_then_slice_is_empty() -> None:
    assert expected_first_slice(_truth(), 0) == {"albums": [], "tracks": [], "artists": [], "track_artists": []}


def test_when_limit_exceeds_new_releases_then_all_new_releases_are_taken() -> None:
    assert expected_first_slice(_truth(), 99)["albums"] == ["al1", "al2", "al3"]


def test_when_limit_is_negative_then_value_error() -> None:
    with pytest.raises(ValueError, match="new_releases_limit"):
        expected_first_slice(_truth(), -1)


def test_when_input_is_given_then_it_is_not_modified() -> None:
    truth = _truth()

    expected_first_slice(truth, 3)

    assert truth == _truth()


def test_when_exported_from_catalog_then_every_track_belongs_to_exactly_one_album() -> None:
    truth = export_truth(build_catalog(42, 0.3))

    tracks_from_albums = [t for a in truth["albums"] for t in truth["album_tracks"][a]]
    assert sorted(tracks_from_albums) == sorted(truth["tracks"])
    assert set(truth["album_artists"]) == set(truth["albums"])
    assert set(truth["track_artists"]) == set(truth["tracks"])
    assert set(truth["new_releases"]) <= set(truth["albums"])


def test_when_exported_then_it_round_trips_through_json(tmp_path: Path) -> None:
    truth = export_truth(build_catalog(42, 0.1))
    path = tmp_path / "nested" / "truth.json"

    write_truth(truth, path)

    assert json.loads(path.read_text(encoding="utf-8")) == truth
    assert expected_first_slice(json.loads(path.read_text(encoding="utf-8")), 5) == expected_first_slice(truth, 5)


# ---- further sources ------------------------------------------------------------------------------------------


def test_when_exported_then_every_source_key_references_ids_the_twin_serves() -> None:
    truth = export_truth(build_catalog(42, 0.3))
    albums, tracks, artists = set(truth["albums"]), set(truth["tracks"]), set(truth["artists"])

    assert set(truth["artist_albums"]) == artists
    assert all(set(ids) <= albums and len(ids) == len(set(ids)) for ids in truth["artist_albums"].values())
    assert set(truth["artist_top_tracks"]) == set(truth["markets"])
    for per_artist in truth["artist_top_tracks"].values():
        assert all(len(ids) <= 10 and set(ids) <= tracks for ids in per_artist.values())
    assert set(truth["playlist_items"]) == set(truth["playlists"])
    for rows in truth["playlist_items"].values():
        assert [r["position"] for r in rows] == list(range(len(rows)))
        assert all(r["track_id"] is None or r["track_id"] in tracks for r in rows)
        assert all(r["episode_id"] is None or r["episode_id"] in set(truth["episodes"]) for r in rows)
        assert all(not (r["is_local"] and (r["track_id"] or r["episode_id"])) for r in rows)
    user = truth["user"]
    assert set(user["top_artists"]) == set(user["top_tracks"]) == {"short_term", "medium_term", "long_term"}
    assert {t for _, ids in user["top_tracks"].items() for t in ids} <= tracks
    assert {t for t, _ in user["recently_played"]} <= tracks and set(user["saved_tracks"]) <= tracks
    assert set(user["followed_artists"]) <= artists and set(user["playlists"]) <= set(truth["playlists"])
    assert truth["categories"][0] == "toplists"


def test_when_search_is_expected_then_matches_are_cut_at_the_1000_reach_of_the_page_size() -> None:
    truth = export_truth(build_catalog(42, 0.3))

    everything = expected_search(truth, "e", "track", limit=10)
    by_sevens = expected_search(truth, "e", "track", limit=7)

    assert len(everything) == 1000 and by_sevens == everything[:994]
    assert expected_search(truth, "e", "track", "jp", limit=10) == expected_search(truth, "e", "track", "JP")
    with pytest.raises(ValueError, match="limit"):
        expected_search(truth, "e", "track", limit=11)


def test_when_artist_albums_are_expected_per_group_and_market_then_a_filtered_subsequence_of_truth() -> None:
    truth = export_truth(build_catalog(42, 0.3))
    artist_id = truth["artists"][0]

    singles_in_jp = expected_artist_albums(truth, artist_id, ("single",), "JP")

    assert expected_artist_albums(truth, artist_id) == truth["artist_albums"][artist_id]
    assert set(singles_in_jp) <= set(truth["artist_albums"][artist_id])
    with pytest.raises(ValueError, match="bootleg"):
        expected_artist_albums(truth, artist_id, ("bootleg",))
