"""Unit tests of activities.transform.parse: Spotify response bodies in, row tuples out.

Bodies come from the builders in tests/spotify_payloads.py (checked against the OpenAPI
description there). ``parse()`` (tests/transform_parsing.py) runs one parser with an emitter that collects rows per table.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from activities.transform.errors import PayloadShapeError
from activities.transform.parse import (
    FULL,
    PARSERS,
    PRIMARY_TABLE,
    SIMPLIFIED,
    ItemError,
    parse_release_date,
)
from activities.transform.schemas import SPECS
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
from tests.transform_parsing import parse

# -- catalog sources -------------------------------------------------------------------------------


def test_when_albums_body_is_parsed_then_full_albums_their_tracks_and_credited_artists_come_out() -> None:
    tracks = [simplified_track("t1", "One", [PITBULL, NEYO], number=1), simplified_track("t2", "Two", [PITBULL])]
    body = {"albums": [full_album(A1["id"], "Global Warming", tracks, release_date="2012-11", precision="month"),
                       None]}

    parsed = parse("albums", body, f"{API}/albums?ids={A1['id']},unknown&market=US")

    (album,) = parsed.rows["albums"]
    assert (album["album_id"], album["label"], album["popularity"], album["_richness"]) == (
        A1["id"], "Mr.305/Polo Grounds Music/J Records", 71, FULL)
    assert (album["release_date"], album["release_year"], album["release_date_raw"]) == (date(2012, 11, 1), 2012,
                                                                                          "2012-11")
    assert album["image_url"].endswith("-640")  # the widest, though listed last
    assert (album["primary_artist_name"], album["_artist_ids"]) == ("Pitbull", [PITBULL["id"]])
    assert [(t["track_id"], t["album_id"], t["_artist_ids"], t["_richness"]) for t in parsed.rows["tracks"]] == [
        ("t1", A1["id"], [PITBULL["id"], NEYO["id"]], SIMPLIFIED), ("t2", A1["id"], [PITBULL["id"]], SIMPLIFIED)]
    assert [(a["artist_id"], a["name"], a["followers"]) for a in parsed.rows["artists"]] == [
        (PITBULL["id"], "Pitbull", None), (NEYO["id"], "Ne-Yo", None)]  # credits: once per part, names only


def test_when_new_releases_page_is_parsed_then_simplified_albums_and_list_positions_come_out() -> None:
    body = {"albums": paging(f"{API}/browse/new-releases?offset=20&limit=20",
                             [A1, simplified_album("a2", "Two")], offset=20)}

    parsed = parse("new_releases", body, f"{API}/browse/new-releases?limit=20&offset=20")

    assert [(a["album_id"], a["label"], a["_richness"]) for a in parsed.rows["albums"]] == [
        (A1["id"], None, SIMPLIFIED), ("a2", None, SIMPLIFIED)]
    assert [(r["album_id"], r["market"], r["list_position"]) for r in parsed.rows["new_releases"]] == [
        (A1["id"], None, 21), ("a2", None, 22)]


def test_when_album_tracks_page_names_its_album_in_href_or_request_url_then_tracks_carry_it() -> None:
    page = paging(f"{API}/albums/{A1['id']}/tracks?offset=2&limit=2", [simplified_track("t3", "Three", [PITBULL])])
    no_href = {**page, "href": None}

    from_href = parse("album_tracks", page)
    from_url = parse("album_tracks", no_href, f"{API}/albums/{A1['id']}/tracks?offset=2")

    assert from_href.rows["tracks"][0]["album_id"] == from_url.rows["tracks"][0]["album_id"] == A1["id"]
    with pytest.raises(PayloadShapeError, match="no /albums/"):
        parse("album_tracks", no_href, None)


def test_when_tracks_body_is_parsed_then_full_tracks_their_album_and_credits_come_out() -> None:
    other = full_track("t2", "Two", A1, [PITBULL])

    parsed = parse("tracks", {"tracks": [T1, None, other]})

    assert [(t["track_id"], t["isrc"], t["popularity"], t["primary_artist_name"], t["_richness"])
            for t in parsed.rows["tracks"]] == [
        (T1["id"], T1["external_ids"]["isrc"], 64, "Pitbull", FULL), ("t2", "UST2", 64, "Pitbull", FULL)]
    assert [(a["album_id"], a["_richness"]) for a in parsed.rows["albums"]] == [(A1["id"], SIMPLIFIED)]  # once


def test_when_artists_body_is_parsed_then_followers_genres_and_the_widest_image_come_out() -> None:
    parsed = parse("artists", {"artists": [full_artist(PITBULL["id"], "Pitbull", followers=10, images=[]), None]})

    (artist,) = parsed.rows["artists"]
    assert (artist["followers"], artist["genres"], artist["image_url"], artist["_richness"]) == (
        10, ["dance pop", "miami hip hop"], None, FULL)


def test_when_artist_top_tracks_are_parsed_then_artist_and_market_come_from_the_request_url() -> None:
    url = f"{API}/artists/{PITBULL['id']}/top-tracks?market=SE"

    parsed = parse("artist_top_tracks", {"tracks": [T1, full_track("t2", "Two", A1, [PITBULL])]}, url)

    assert [(r["artist_id"], r["market"], r["rank"], r["track_id"]) for r in parsed.rows["artist_top_tracks"]] == [
        (PITBULL["id"], "SE", 1, T1["id"]), (PITBULL["id"], "SE", 2, "t2")]
    with pytest.raises(PayloadShapeError, match="market"):
        parse("artist_top_tracks", {"tracks": [T1]}, f"{API}/artists/{PITBULL['id']}/top-tracks")


def test_when_a_search_page_is_parsed_then_every_result_is_ranked_and_feeds_its_dimension() -> None:
    body = {
        "tracks": paging(f"{API}/search?q=pit&type=track&offset=10", [T1], offset=10, total=57),
        "artists": paging(f"{API}/search?q=pit&type=artist", [full_artist(PITBULL["id"], "Pitbull"), None]),
        "albums": paging(f"{API}/search?q=pit&type=album", [A1]),
        "playlists": paging(f"{API}/search?q=pit&type=playlist", [None, playlist("p1", "P", [], full=False)]),
    }

    parsed = parse("search", body, f"{API}/search?q=pit&type=track,artist,album,playlist&market=US&offset=10")

    assert [(r["query"], r["item_type"], r["rank"], r["item_id"], r["market"], r["total_results"])
            for r in parsed.rows["search_results"]] == [
        ("pit", "track", 11, T1["id"], "US", 57),
        ("pit", "artist", 1, PITBULL["id"], "US", 2),
        ("pit", "album", 1, A1["id"], "US", 1),
        ("pit", "playlist", 2, "p1", "US", 2),  # a null result keeps its rank
    ]
    assert {(a["artist_id"], a["_richness"]) for a in parsed.rows["artists"]} >= {(PITBULL["id"], FULL)}
    assert [(p["playlist_id"], p["total_items"], p["_richness"]) for p in parsed.rows["playlists"]] == [
        ("p1", 0, SIMPLIFIED)]


def test_when_a_playlist_is_parsed_then_its_items_keep_episodes_and_local_files_with_a_null_track_id() -> None:
    entries = [playlist_entry(T1), playlist_entry(episode("e1", "Episode")),
               playlist_entry(local_track("My Demo"), is_local=True)]

    parsed = parse("playlists", playlist("p1", "Road trip", entries), f"{API}/playlists/p1?market=US")

    (row,) = parsed.rows["playlists"]
    assert (row["owner_id"], row["owner_display_name"], row["followers"], row["total_items"], row["_richness"]) == (
        "curator", "The Curator", 321, 4, FULL)
    items = [(r["playlist_id"], r["position"], r["item_type"], r["track_id"], r["episode_id"], r["is_local"],
              r["added_by_id"]) for r in parsed.rows["playlist_items"]]
    assert items == [("p1", 0, "track", T1["id"], None, False, "curator"),
                     ("p1", 1, "episode", None, "e1", False, "curator"),
                     ("p1", 2, "track", None, None, True, "curator")]
    assert parsed.rows["playlist_items"][0]["added_at"] == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert [t["track_id"] for t in parsed.rows["tracks"]] == [T1["id"]]  # no dimension row for the local file
    assert {u["user_id"] for u in parsed.rows["users"]} == {"curator"}


def test_when_playlist_items_pages_are_parsed_then_positions_continue_from_the_page_offset() -> None:
    url = f"{API}/playlists/p1/items?offset=100&limit=100"

    parsed = parse("playlist_items", paging(url, [playlist_entry(T1)], offset=100), url)

    assert [(r["playlist_id"], r["position"]) for r in parsed.rows["playlist_items"]] == [("p1", 100)]


def test_when_categories_are_parsed_then_id_name_and_icon_come_out() -> None:
    parsed = parse("categories", {"categories": paging(f"{API}/browse/categories", [category("pop", "Pop")])})

    assert [(c["category_id"], c["name"], c["icon_url"]) for c in parsed.rows["categories"]] == [
        ("pop", "Pop", "https://t.scdn.co/pop.jpg")]


# -- user sources ----------------------------------------------------------------------------------


def test_when_user_sources_are_parsed_then_facts_carry_ranks_times_and_tracks() -> None:
    profile = parse("user_profile", private_user("listener"))
    top = parse("user_top_tracks", paging(f"{API}/me/top/tracks?offset=20", [T1], offset=20),
                f"{API}/me/top/tracks?time_range=short_term&limit=20&offset=20")
    top_artists = parse("user_top_artists", paging(f"{API}/me/top/artists", [full_artist(NEYO["id"], "Ne-Yo")]))
    recent = parse("recently_played", cursor_paging(f"{API}/me/player/recently-played?limit=50",
                                                    [play(T1, "2026-11-23T21:04:05.123Z")]))
    saved = parse("saved_tracks", paging(f"{API}/me/tracks", [{"added_at": "2026-10-01T08:00:00Z", "track": T1}]))
    followed = parse("followed_artists", {"artists": cursor_paging(f"{API}/me/following?type=artist",
                                                                   [full_artist(NEYO["id"], "Ne-Yo")])})

    (user,) = profile.rows["users"]
    assert (user["user_id"], user["country"], user["product"], user["followers"]) == ("listener", "SE", "premium", 12)
    assert "email" not in user
    assert [(r["item_type"], r["time_range"], r["rank"], r["item_id"]) for r in top.rows["user_top_items"]] == [
        ("track", "short_term", 21, T1["id"])]
    assert [(r["time_range"], r["rank"]) for r in top_artists.rows["user_top_items"]] == [("medium_term", 1)]
    (played,) = recent.rows["recently_played"]
    assert (played["played_at"], played["track_id"], played["context_type"], played["context_uri"]) == (
        datetime(2026, 11, 23, 21, 4, 5, 123000, tzinfo=UTC), T1["id"], "playlist", "spotify:playlist:p1")
    assert [(r["track_id"], r["added_at"].month) for r in saved.rows["saved_tracks"]] == [(T1["id"], 10)]
    assert [r["artist_id"] for r in followed.rows["followed_artists"]] == [NEYO["id"]]
    assert recent.rows["tracks"][0]["_richness"] == FULL


# -- bad records, drift ----------------------------------------------------------------------------


def test_when_an_item_has_a_nested_type_change_then_only_that_item_is_quarantined() -> None:
    broken = copy.deepcopy(T1)
    broken["artists"] = "Pitbull"  # a string where an array of objects belongs

    parsed = parse("tracks", {"tracks": [broken, full_track("t2", "Two", A1, [NEYO])]})

    assert [t["track_id"] for t in parsed.rows["tracks"]] == ["t2"]
    ((table, reason, _, record),) = parsed.bad
    assert (table, record["id"]) == ("tracks", T1["id"])
    assert reason.startswith("unexpected shape: AttributeError")


def test_when_an_embedded_album_date_does_not_parse_then_the_album_is_quarantined_and_the_track_kept() -> None:
    track = full_track("t1", "One", simplified_album("a9", "Bad date", release_date="2021-02-30"), [PITBULL])

    parsed = parse("tracks", {"tracks": [track]})

    assert [t["track_id"] for t in parsed.rows["tracks"]] == ["t1"]
    assert "albums" not in parsed.rows
    assert [(b[0], b[2], b[3]["id"]) for b in parsed.bad] == [("albums", "release_date", "a9")]
    assert "not a real date" in parsed.bad[0][1]


def test_when_a_timestamp_does_not_parse_then_the_entry_is_quarantined() -> None:
    body = paging(f"{API}/me/tracks", [{"added_at": "yesterday", "track": T1},
                                       {"added_at": "2026-10-01T08:00:00Z", "track": None}])

    parsed = parse("saved_tracks", body)

    assert "saved_tracks" not in parsed.rows
    assert [(b[0], b[2]) for b in parsed.bad] == [("saved_tracks", "added_at"), ("saved_tracks", "track")]


def test_when_a_page_is_not_the_documented_envelope_then_payload_shape_error_names_the_path() -> None:
    with pytest.raises(PayloadShapeError, match=r"\$\.tracks: expected an array, got dict"):
        parse("tracks", {"tracks": {"items": []}})


def test_when_objects_carry_fields_the_model_does_not_know_then_drift_reports_them_and_rows_still_come_out() -> None:
    drifted = copy.deepcopy(T1)
    drifted["tempo"] = 128.0
    drifted["album"]["mood"] = "sunny"
    drifted.pop("popularity")  # a missing optional field is simply null

    parsed = parse("tracks", {"tracks": [drifted]})

    assert parsed.drift == {"tracks": {"new_fields": ["SimplifiedAlbumObject.mood", "TrackObject.tempo"]}}
    assert parsed.rows["tracks"][0]["popularity"] is None
    assert parse("tracks", {"tracks": [T1]}).drift == {}


@pytest.mark.parametrize(
    ("raw", "precision", "expected"),
    [
        ("2012", "year", (date(2012, 1, 1), 2012)),
        ("2012-11", "month", (date(2012, 11, 1), 2012)),
        ("2012-11-16", "day", (date(2012, 11, 16), 2012)),
        ("0000", "year", (None, None)),  # Spotify's placeholder: unknown, not an error
        (None, "day", (None, None)),
    ],
)
def test_when_release_date_matches_its_precision_then_it_is_the_first_day_it_allows(
    raw: str | None, precision: str, expected: tuple[date | None, int | None]
) -> None:
    assert parse_release_date(raw, precision) == expected


@pytest.mark.parametrize(("raw", "precision"), [("2012-11", "day"), ("2021-02-30", "day"), ("2012", None),
                                                 ("2012", "decade"), (2012, "year")])
def test_when_release_date_is_bad_then_item_error_names_release_date(raw: Any, precision: Any) -> None:
    with pytest.raises(ItemError) as caught:
        parse_release_date(raw, precision)

    assert caught.value.field == "release_date"


def test_when_the_registry_is_read_then_every_raw_entity_of_the_contract_has_a_parser_and_a_table() -> None:
    entities = {"new_releases", "albums", "album_tracks", "tracks", "artists", "artist_albums", "artist_top_tracks",
                "search", "playlists", "playlist_items", "categories", "markets", "user_profile", "user_top_artists",
                "user_top_tracks", "recently_played", "saved_tracks", "followed_artists", "user_playlists"}

    assert set(PARSERS) == entities
    assert set(PRIMARY_TABLE) == entities
    assert set(PRIMARY_TABLE.values()) <= set(SPECS)


def test_when_drift_field_sets_are_compared_with_the_openapi_description_then_they_are_its_properties() -> None:
    from activities.transform.parse.drift import KNOWN_FIELDS
    from tests.spotify_payloads import openapi

    schemas = openapi()["components"]["schemas"]

    def properties(name: str) -> set[str]:
        found: set[str] = set()
        stack = [schemas[name]]
        while stack:
            node = stack.pop()
            if "$ref" in node:
                stack.append(schemas[node["$ref"].rsplit("/", 1)[-1]])
            stack.extend(node.get("allOf", []))
            found.update(node.get("properties", {}))
        return found

    assert {kind: set(fields) for kind, fields in KNOWN_FIELDS.items()} == {kind: properties(kind) for kind in KNOWN_FIELDS}
