"""What a 2026 Development Mode app receives, through the transform's parsers (issue 9).

Bodies are the Development Mode builders of tests/spotify_payloads.py (checked against the
OpenAPI description there): per-id lookups that answer ONE object, playlist items under ``item``,
playlists without items, removed fields absent. Also: several users (``user_id`` from the
manifest part), and the per-column access-mode annotation that docs/data-model.md shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from activities.sources import BY_ENTITY, DEVELOPMENT, EXTENDED
from activities.transform.parse import FULL, PARSERS, PRIMARY_TABLE
from activities.transform.schemas import SPECS, TABLES
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
    not_owned_playlist,
    owned_playlist,
    paging,
    play,
    playlist,
    private_user,
    simplified_track,
)
from tests.transform_parsing import parse

REPO = Path(__file__).resolve().parents[2]

# -- per-id lookups: one object, told apart from ids= by the request_url path ---------------------


def test_when_an_album_part_comes_from_get_album_by_id_then_its_one_object_is_parsed_like_an_ids_entry() -> None:
    album = full_album(A1["id"], "Global Warming", [simplified_track("t1", "One", [PITBULL, NEYO])])

    one = parse("albums", development(album), f"{API}/albums/{A1['id']}?market=US")
    several = parse("albums", {"albums": [album]}, f"{API}/albums?ids={A1['id']}&market=US")

    (dev,) = one.rows["albums"]
    (ext,) = several.rows["albums"]
    assert (dev["album_id"], dev["name"], dev["_richness"], dev["_artist_ids"]) == (
        ext["album_id"], ext["name"], FULL, ext["_artist_ids"])
    assert (dev["label"], dev["popularity"]) == (None, None)  # removed in Development Mode: read as null
    assert (ext["label"], ext["popularity"]) == ("Mr.305/Polo Grounds Music/J Records", 71)
    assert [t["track_id"] for t in one.rows["tracks"]] == ["t1"]
    assert one.bad == [] and one.drift == {}


def test_when_a_track_part_comes_from_get_track_by_id_then_isrc_stays_and_popularity_is_null() -> None:
    parsed = parse("tracks", DEV_T1, f"{API}/tracks/{T1['id']}")

    (track,) = parsed.rows["tracks"]
    assert (track["track_id"], track["isrc"], track["popularity"], track["album_id"]) == (
        T1["id"], T1["external_ids"]["isrc"], None, A1["id"])
    assert [a["album_id"] for a in parsed.rows["albums"]] == [A1["id"]]
    assert parsed.bad == [] and parsed.drift == {}


def test_when_an_artist_part_comes_from_get_artist_by_id_then_followers_popularity_and_genres_are_null() -> None:
    parsed = parse("artists", development(full_artist(PITBULL["id"], "Pitbull")), f"{API}/artists/{PITBULL['id']}")

    (artist,) = parsed.rows["artists"]
    assert (artist["artist_id"], artist["followers"], artist["popularity"], artist["genres"]) == (
        PITBULL["id"], None, None, None)
    assert artist["image_url"].endswith("-640")
    assert parsed.bad == [] and parsed.drift == {}


@pytest.mark.parametrize(("entity", "url"), [("albums", f"{API}/albums?ids=a,b"), ("tracks", f"{API}/tracks?ids=a"),
                                             ("artists", f"{API}/artists?ids=a"), ("albums", None)])
def test_when_an_ids_part_holds_one_object_instead_of_the_list_then_the_part_is_refused(
    entity: str, url: str | None
) -> None:
    from activities.transform.errors import PayloadShapeError

    with pytest.raises(PayloadShapeError, match=rf"\$\.{entity}"):
        parse(entity, development(full_artist("x", "X")), url)


def test_when_a_per_id_part_is_not_an_object_then_the_part_is_refused() -> None:
    from activities.transform.errors import PayloadShapeError

    with pytest.raises(PayloadShapeError, match="expected an object"):
        parse("tracks", [DEV_T1], f"{API}/tracks/{T1['id']}")


# -- playlists -------------------------------------------------------------------------------------


def test_when_items_come_from_playlists_items_under_item_then_entries_and_full_tracks_come_out() -> None:
    page = paging(f"{API}/playlists/p1/items?offset=50&limit=50", [items_entry(DEV_T1)], offset=50)

    parsed = parse("playlist_items", page, f"{API}/playlists/p1/items?offset=50&limit=50")

    (entry,) = parsed.rows["playlist_items"]
    assert (entry["playlist_id"], entry["position"], entry["item_type"], entry["track_id"]) == (
        "p1", 50, "track", T1["id"])
    assert parsed.rows["tracks"][0]["_richness"] == FULL
    assert parsed.bad == [] and parsed.drift == {}


def test_when_an_extended_entry_carries_item_and_track_then_item_is_read() -> None:
    entry = {**items_entry(DEV_T1), "track": full_track("other0000000000000000", "Other", A1, [PITBULL])}

    parsed = parse("playlist_items", paging(f"{API}/playlists/p1/items", [entry]), f"{API}/playlists/p1/items")

    assert [r["track_id"] for r in parsed.rows["playlist_items"]] == [T1["id"]]


def test_when_the_user_owns_the_playlist_then_its_embedded_items_come_out_and_others_have_none() -> None:
    owned = parse("playlists", owned_playlist("p1", "Mine", [items_entry(DEV_T1)]), f"{API}/playlists/p1")
    theirs = parse("playlists", not_owned_playlist("p2", "Theirs"), f"{API}/playlists/p2")

    assert [(r["playlist_id"], r["position"]) for r in owned.rows["playlist_items"]] == [("p1", 0)]
    assert [(r["playlist_id"], r["total_items"]) for r in theirs.rows["playlists"]] == [("p2", None)]
    assert "playlist_items" not in theirs.rows
    assert theirs.bad == [] and theirs.drift == {} and owned.bad == []


# -- /me and the user sources: several users --------------------------------------------------------


def test_when_me_omits_country_product_and_followers_then_the_user_row_has_them_null() -> None:
    parsed = parse("user_profile", development(private_user("listener")), f"{API}/me", user_id="listener")

    (user,) = parsed.rows["users"]
    assert (user["user_id"], user["display_name"], user["country"], user["product"], user["followers"]) == (
        "listener", "Listener", None, None, None)
    assert parsed.bad == [] and parsed.drift == {}


def test_when_user_parts_name_their_user_then_every_user_table_carries_that_user() -> None:
    recent = cursor_paging(f"{API}/me/player/recently-played", [play(DEV_T1, "2026-11-23T21:04:05Z")])
    parts = [
        ("user_top_tracks", paging(f"{API}/me/top/tracks", [DEV_T1]), f"{API}/me/top/tracks?time_range=short_term",
         "user_top_items"),
        ("recently_played", recent, f"{API}/me/player/recently-played?limit=50", "recently_played"),
        ("saved_tracks", paging(f"{API}/me/tracks", [{"added_at": "2026-10-01T08:00:00Z", "track": DEV_T1}]),
         f"{API}/me/tracks", "saved_tracks"),
        ("followed_artists", {"artists": cursor_paging(f"{API}/me/following?type=artist",
                                                       [development(full_artist(NEYO["id"], "Ne-Yo"))])},
         f"{API}/me/following?type=artist", "followed_artists"),
        ("user_playlists", paging(f"{API}/me/playlists", [playlist("p1", "P", [], full=False)]),
         f"{API}/me/playlists", "user_playlists"),
    ]

    for user_id in ("alice", "bob"):
        for entity, body, url, table in parts:
            parsed = parse(entity, body, url, user_id=user_id, profiles=("alice", "bob"))

            assert [row["user_id"] for row in parsed.rows[table]] == [user_id], entity
            assert parsed.bad == [], entity


def test_when_a_user_part_has_no_user_id_then_the_runs_only_user_owns_it_else_it_is_quarantined() -> None:
    body = paging(f"{API}/me/top/artists", [development(full_artist(NEYO["id"], "Ne-Yo"))])

    one = parse("user_top_artists", body, profiles=("listener",))
    several = parse("user_top_artists", body, profiles=("alice", "bob"))

    assert [r["user_id"] for r in one.rows["user_top_items"]] == ["listener"]
    assert [r["user_id"] for r in several.rows["user_top_items"]] == [None]  # the spill quarantines: missing user_id


def test_when_the_users_playlists_are_parsed_then_the_list_keeps_its_order_and_feeds_playlists() -> None:
    body = paging(f"{API}/me/playlists?offset=50", [playlist("p1", "P", [], full=False),
                                                    playlist("p2", "Q", [], full=False)], offset=50)

    parsed = parse("user_playlists", body, f"{API}/me/playlists?offset=50&limit=50", user_id="alice")

    assert [(r["user_id"], r["playlist_id"], r["list_position"]) for r in parsed.rows["user_playlists"]] == [
        ("alice", "p1", 51), ("alice", "p2", 52)]
    assert {r["playlist_id"] for r in parsed.rows["playlists"]} == {"p1", "p2"}


@pytest.mark.parametrize("table", ["user_top_items", "recently_played", "saved_tracks", "followed_artists",
                                   "user_playlists"])
def test_when_a_user_table_is_declared_then_user_id_is_its_first_key_column(table: str) -> None:
    assert SPECS[table].key[0] == "user_id"
    assert not TABLES[table].field("user_id").nullable


# -- real drift is still drift, real type changes still quarantine ----------------------------------


def test_when_a_development_body_has_a_new_field_or_a_wrong_type_then_drift_and_quarantine_are_unchanged() -> None:
    drifted = {**DEV_T1, "tempo": 128.0, "duration_ms": "long"}

    parsed = parse("tracks", drifted, f"{API}/tracks/{T1['id']}")

    assert parsed.drift == {"tracks": {"new_fields": ["TrackObject.tempo"]}}
    assert parsed.rows["tracks"][0]["duration_ms"] == "long"  # the spill's type check quarantines the row


# -- the sources' one declaration drives the dispatch ----------------------------------------------


def test_when_sources_are_declared_then_each_entity_parses_with_its_declared_parser_into_declared_tables() -> None:
    for entity, declared in BY_ENTITY.items():
        module, _, function = declared.parser.partition(":")

        assert (PARSERS[entity].__module__, PARSERS[entity].__name__) == (module, function)
        assert PRIMARY_TABLE[entity] == declared.tables[0]
        assert set(declared.tables) <= set(SPECS), entity


# -- access modes per column -----------------------------------------------------------------------


def test_when_columns_are_annotated_then_removed_fields_are_extended_only_and_the_rest_both() -> None:
    assert SPECS["tracks"].column_modes("popularity") == (EXTENDED,)
    assert SPECS["tracks"].column_modes("isrc") == (DEVELOPMENT, EXTENDED)
    assert SPECS["users"].column_modes("country") == (EXTENDED,)
    assert SPECS["new_releases"].column_modes("album_id") == (EXTENDED,)
    assert SPECS["recently_played"].column_modes("user_id") == (DEVELOPMENT, EXTENDED)
    with pytest.raises(KeyError, match="no column `tempo`"):
        SPECS["tracks"].column_modes("tempo")


@pytest.mark.parametrize("table", list(TABLES))
def test_when_data_model_page_is_read_then_every_column_says_the_modes_that_fill_it(table: str) -> None:
    text = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    section = re.search(rf"^## {table}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section is not None
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.group(1).splitlines() if line.startswith("|")]
    assert rows[0][:3] == ["column", "type", "filled in"]

    documented = {cells[0]: cells[2] for cells in rows[2:]}

    assert documented == {name: ", ".join(SPECS[table].column_modes(name))
                          for name in TABLES[table].names if name not in ("snapshot_date", "source_run_id",
                                                                          "source_blob")}
