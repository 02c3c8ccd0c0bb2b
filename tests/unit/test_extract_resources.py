"""The pure ``ids_from_*`` parses of activities.extract.resources (payload in, ids out)."""

from __future__ import annotations

from typing import Any

import pytest

from activities.extract.errors import PayloadError
from activities.extract.resources import batched, unique
from activities.extract.resources.albums import ids_from_album_tracks, ids_from_albums
from activities.extract.resources.artists import ids_from_artists
from activities.extract.resources.new_releases import (
    ids_from_new_releases,
    next_from_new_releases,
)
from activities.extract.resources.tracks import ids_from_tracks


def artist(artist_id: str) -> dict[str, Any]:
    return {"id": artist_id, "name": artist_id.upper(), "type": "artist"}


def test_when_a_new_releases_page_is_parsed_then_album_ids_come_in_page_order() -> None:
    # Arrange
    payload = {"albums": {"items": [{"id": "a2"}, {"id": "a1"}, None], "next": "https://x/v1/browse/new-releases?offset=2",
                          "limit": 3, "offset": 0, "total": 9}}

    # Act
    ids = ids_from_new_releases(payload)

    # Assert
    assert ids == ["a2", "a1"]
    assert next_from_new_releases(payload) == "https://x/v1/browse/new-releases?offset=2"
    assert next_from_new_releases({"albums": {"items": [], "next": None}}) is None


def test_when_an_albums_answer_is_parsed_then_tracks_artists_and_next_links_are_found() -> None:
    # Arrange
    payload = {"albums": [
        {"id": "al1", "artists": [artist("ar1"), artist("ar2")],
         "tracks": {"items": [{"id": "t1", "artists": [artist("ar9")]}, {"id": "t2"}], "next": None}},
        None,  # an unknown id answers null
        {"id": "al2", "artists": [artist("ar1")],
         "tracks": {"items": [{"id": "t3"}], "next": "https://x/v1/albums/al2/tracks?offset=1&limit=1"}},
    ]}

    # Act
    parsed = ids_from_albums(payload)

    # Assert
    assert parsed.album_ids == ["al1", "al2"]
    assert parsed.track_ids == ["t1", "t2", "t3"]
    assert parsed.artist_ids == ["ar1", "ar2", "ar1"]  # albums' artists only; deduplication is the caller's
    assert parsed.tracks_next == ["https://x/v1/albums/al2/tracks?offset=1&limit=1"]


def test_when_an_album_tracks_page_is_parsed_then_track_ids_and_next_come_back() -> None:
    # Act
    parsed = ids_from_album_tracks({"items": [{"id": "t4"}, {"id": "t5"}], "next": None, "offset": 1})

    # Assert
    assert parsed.track_ids == ["t4", "t5"]
    assert parsed.next is None


def test_when_a_tracks_answer_is_parsed_then_track_and_artist_ids_come_back() -> None:
    # Act
    parsed = ids_from_tracks({"tracks": [{"id": "t1", "artists": [artist("ar1"), artist("ar3")]}, None,
                                         {"id": "t2", "artists": [artist("ar3")]}]})

    # Assert
    assert parsed.track_ids == ["t1", "t2"]
    assert parsed.artist_ids == ["ar1", "ar3", "ar3"]


def test_when_an_artists_answer_is_parsed_then_found_artist_ids_come_back() -> None:
    # Act
    ids = ids_from_artists({"artists": [artist("ar1"), None, artist("ar2")]})

    # Assert
    assert ids == ["ar1", "ar2"]


@pytest.mark.parametrize(
    ("parse", "payload", "message"),
    [
        (ids_from_new_releases, {"albums": {"items": "nope"}}, "expected an array `items`"),
        (ids_from_new_releases, [], "expected a JSON object"),
        (ids_from_albums, {"error": {"status": 500}}, "expected an array `albums`"),
        (ids_from_tracks, {"tracks": None}, "expected an array `tracks`"),
        (ids_from_artists, {}, "expected an array `artists`"),
    ],
)
def test_when_a_payload_has_the_wrong_shape_then_payload_error_names_what_is_missing(
    parse: Any, payload: Any, message: str
) -> None:
    # Act / Assert
    with pytest.raises(PayloadError, match=message):
        parse(payload)


def test_when_ids_repeat_then_unique_keeps_the_first_of_each_in_order() -> None:
    # Act / Assert
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_when_ids_are_batched_then_each_batch_holds_at_most_the_limit() -> None:
    # Act
    batches = list(batched([str(n) for n in range(45)], 20))

    # Assert
    assert [len(batch) for batch in batches] == [20, 20, 5]
    assert list(batched([], 20)) == []
