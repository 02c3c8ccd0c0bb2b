"""Unit tests of the twin's deterministic search rules (no HTTP)."""

from __future__ import annotations

import pytest

from offline.spotify_twin.catalog import build_catalog
from offline.spotify_twin.search import SearchQuery, parse_query, reachable, search_ids

CATALOG = build_catalog(42, 0.3)


def test_when_query_mixes_words_filters_and_phrases_then_each_is_parsed() -> None:
    query = parse_query('Night artist:"Ava Quinn" GENRE:rock year:1990-1999 foo:bar "two words"')

    assert query == SearchQuery(
        words=("night", "foo:bar", "two words"),
        filters=(("artist", "ava quinn"), ("genre", "rock"), ("year", "1990-1999")),
    )


def test_when_words_are_given_then_every_track_found_contains_each_word_case_insensitively() -> None:
    found = search_ids(CATALOG, "THE night", "track")

    assert found
    for track_id in found:
        track = CATALOG.track_by_id[track_id]
        text = " ".join(
            [track.name, CATALOG.album_by_id[track.album_id].name]
            + [CATALOG.artist_by_id[a].name for a in track.artist_ids]
        ).lower()
        assert "the" in text and "night" in text


def test_when_results_come_back_then_most_popular_first_ties_by_id() -> None:
    found = [CATALOG.track_by_id[t] for t in search_ids(CATALOG, "a", "track")]

    assert [(-t.popularity, t.id) for t in found] == sorted((-t.popularity, t.id) for t in found)


def test_when_genre_filter_is_given_then_artists_have_it_and_tracks_have_an_artist_with_it() -> None:
    artists = search_ids(CATALOG, 'genre:"indie"', "artist")
    tracks = search_ids(CATALOG, 'genre:"indie"', "track")

    assert artists and tracks
    assert all(any("indie" in g for g in CATALOG.artist_by_id[a].genres) for a in artists)
    for track_id in tracks:
        genres = [g for a in CATALOG.track_by_id[track_id].artist_ids for g in CATALOG.artist_by_id[a].genres]
        assert any("indie" in g for g in genres)


def test_when_filter_does_not_apply_to_a_type_then_that_type_finds_nothing() -> None:
    assert search_ids(CATALOG, 'genre:"rock"', "album") == []
    assert search_ids(CATALOG, 'artist:"a"', "playlist") == []
    assert search_ids(CATALOG, "tag:new", "track") == []
    assert search_ids(CATALOG, "a", "audiobook") == []


def test_when_artist_and_year_filters_are_given_then_albums_match_both() -> None:
    album = CATALOG.albums[0]
    artist = CATALOG.artist_by_id[album.artist_ids[0]]
    year = album.release_date.year

    found = search_ids(CATALOG, f'artist:"{artist.name}" year:{year - 1}-{year + 1}', "album")

    assert album.id in found
    for album_id in found:
        row = CATALOG.album_by_id[album_id]
        assert year - 1 <= row.release_date.year <= year + 1
        assert any(artist.name.lower() in CATALOG.artist_by_id[a].name.lower() for a in row.artist_ids)


def test_when_isrc_or_upc_is_given_then_exactly_that_track_or_album() -> None:
    track = CATALOG.tracks[5]
    album = CATALOG.albums[5]

    assert search_ids(CATALOG, f"isrc:{track.isrc.lower()}", "track") == [track.id]
    assert search_ids(CATALOG, f"upc:{album.upc}", "album") == [album.id]


def test_when_market_is_given_then_unavailable_albums_and_tracks_are_left_out() -> None:
    everywhere = search_ids(CATALOG, "e", "album")
    in_japan = search_ids(CATALOG, "e", "album", "JP")

    assert set(in_japan) < set(everywhere)
    assert all("JP" in CATALOG.album_by_id[a].available_markets for a in in_japan)
    assert [a for a in everywhere if "JP" in CATALOG.album_by_id[a].available_markets] == in_japan


def test_when_type_is_unknown_then_value_error() -> None:
    with pytest.raises(ValueError, match="podcast"):
        search_ids(CATALOG, "a", "podcast")


@pytest.mark.parametrize(
    ("total", "limit", "expected"),
    [(30, 10, 30), (5000, 10, 1000), (5000, 7, 994), (5000, 1, 1000), (999, 10, 999), (1000, 3, 999)],
)
def test_when_results_pass_1000_then_reach_stops_where_offset_plus_limit_would_pass_it(
    total: int, limit: int, expected: int
) -> None:
    assert reachable(total, limit) == expected
