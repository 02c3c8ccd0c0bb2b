"""Unit tests of the twin's ground truth export and first-slice expectation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spotify_twin.catalog import build_catalog
from spotify_twin.truth import expected_first_slice, export_truth, write_truth


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
