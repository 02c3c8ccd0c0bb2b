"""Integration tests: the twin's further catalog sources over real HTTP (artist albums, top tracks, search,
playlists and their items, categories, markets), checked against the OpenAPI description and the truth."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from offline.spotify_twin import TwinServer
from offline.spotify_twin.truth import expected_artist_albums, expected_search
from tests.twin_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    HTTP_TIMEOUT_S,
    assert_matches_schema,
    assert_spotify_error,
    named_response_schema,
    response_schema,
    twin,
    twin_api,
    walk_pages,
)

# Pins the extended-quota behaviour (the pre-2026 endpoints and fields); development mode: test_twin_development.py.
TWIN_ACCESS_MODE = "extended"

UNKNOWN_ID = "0000000000000000000000"


def _get(session: requests.Session, url: str, **params: Any) -> requests.Response:
    return session.get(url, params=params or None, timeout=HTTP_TIMEOUT_S)


def _artist_with_groups(truth: dict[str, Any], twin: TwinServer) -> str:  # noqa: F811
    """An artist with more than 10 albums (so paging happens) and an appears_on album."""
    catalog = twin.catalog
    artist_id: str = max(
        (a for a in truth["artists"] if any(g == "appears_on" for _, g in catalog.artist_albums(a))),
        key=lambda a: len(truth["artist_albums"][a]),
    )
    return artist_id


# ---- artist albums ----------------------------------------------------------------------------------------


def test_when_artist_albums_are_paged_then_bodies_match_schema_and_equal_truth(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    artist_id = _artist_with_groups(truth, twin)

    pages = walk_pages(twin_api, f"{twin.api_base_url}/artists/{artist_id}/albums?limit=3")

    for page in pages:
        assert_matches_schema(page, response_schema("/artists/{id}/albums", 200))
    seen = [album["id"] for page in pages for album in page["items"]]
    assert seen == truth["artist_albums"][artist_id]
    assert len(truth["artist_albums"][artist_id]) > 3
    assert {album["album_group"] for page in pages for album in page["items"]} >= {"appears_on"}


def test_when_include_groups_and_market_are_given_then_only_those_albums_and_links_keep_them(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    catalog = twin.catalog
    artist_id, market = next(
        (a, m) for a in truth["artists"] for m in ("JP", "SE", "US")
        if len(catalog.artist_albums(a, ("album", "single"), m)) < len(catalog.artist_albums(a, ("album", "single")))
    )

    pages = walk_pages(
        twin_api, f"{twin.api_base_url}/artists/{artist_id}/albums?include_groups=album,single&market={market}&limit=2"
    )

    albums = [album for page in pages for album in page["items"]]
    assert [a["id"] for a in albums] == expected_artist_albums(truth, artist_id, ("album", "single"), market)
    assert all(a["album_group"] in ("album", "single") and a["is_playable"] for a in albums)
    assert all(market in a["available_markets"] for a in albums)
    if len(pages) > 1:
        assert parse_qs(urlsplit(pages[0]["next"]).query)["include_groups"] == ["album,single"]


def test_when_artist_albums_limit_exceeds_10_or_group_is_unknown_then_400(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    artist_id = twin.truth()["artists"][0]
    url = f"{twin.api_base_url}/artists/{artist_id}/albums"

    for params in ({"limit": 11}, {"include_groups": "album,bootleg"}, {"market": "XYZ"}):
        response = _get(twin_api, url, **params)
        assert_spotify_error(response, 400)
    assert_spotify_error(_get(twin_api, f"{twin.api_base_url}/artists/{UNKNOWN_ID}/albums"), 404)


# ---- top tracks ---------------------------------------------------------------------------------------------


def test_when_top_tracks_are_asked_per_market_then_schema_holds_and_ids_equal_truth(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    artists = truth["artists"][:8]

    for market in ("SE", "JP"):
        for artist_id in artists:
            response = _get(twin_api, f"{twin.api_base_url}/artists/{artist_id}/top-tracks", market=market)
            assert response.status_code == 200
            body = response.json()
            assert_matches_schema(body, response_schema("/artists/{id}/top-tracks", 200))
            assert [t["id"] for t in body["tracks"]] == truth["artist_top_tracks"][market][artist_id]
            assert len(body["tracks"]) <= 10
            assert all(t["is_playable"] and market in t["available_markets"] for t in body["tracks"])


def test_when_market_filters_top_tracks_then_unavailable_tracks_are_left_out(twin: TwinServer) -> None:  # noqa: F811
    truth = twin.truth()
    catalog = twin.catalog

    differing = [
        a for a in truth["artists"] if truth["artist_top_tracks"]["SE"][a] != truth["artist_top_tracks"]["JP"][a]
    ]

    assert differing, "the catalog should hold region-limited albums"
    for artist_id in differing:
        for market in ("SE", "JP"):
            top = truth["artist_top_tracks"][market][artist_id]
            assert all(market in catalog.track_by_id[t].available_markets for t in top)


def test_when_top_tracks_has_no_market_then_400(twin: TwinServer, twin_api: requests.Session) -> None:  # noqa: F811
    url = f"{twin.api_base_url}/artists/{twin.truth()['artists'][0]}/top-tracks"

    missing = _get(twin_api, url)
    from_token = _get(twin_api, url, market="from_token")  # an app token has no country

    for response in (missing, from_token):
        assert_spotify_error(response, 400)
        assert_matches_schema(response.json(), named_response_schema("BadRequest"))


# ---- search -------------------------------------------------------------------------------------------------


def test_when_search_asks_every_type_then_one_schema_valid_paging_object_per_type(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    response = _get(
        twin_api, f"{twin.api_base_url}/search", q="the", type="track,artist,album,playlist,show,episode,audiobook",
        limit=10,
    )

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, response_schema("/search", 200))
    assert list(body) == ["tracks", "artists", "albums", "playlists", "shows", "episodes", "audiobooks"]
    assert body["audiobooks"]["total"] == 0
    for kind in ("tracks", "artists", "albums", "playlists"):
        assert body[kind]["limit"] == 10 and body[kind]["items"], kind


@pytest.mark.parametrize(
    ("q", "kind", "market"),
    [
        ('genre:"rock"', "track", None),
        ('genre:"rock"', "artist", None),
        ("the", "album", "JP"),
        ("s", "playlist", None),
    ],
)
def test_when_search_next_links_are_walked_then_ids_equal_expected_search(
    twin: TwinServer, twin_api: requests.Session, q: str, kind: str, market: str | None  # noqa: F811
) -> None:
    truth = twin.truth()
    params = {"q": q, "type": kind, "limit": 10, **({"market": market} if market else {})}
    first = _get(twin_api, f"{twin.api_base_url}/search", **params)

    key = kind + "s"
    pages = [first.json()[key], *walk_pages(twin_api, first.json()[key]["next"], key)]

    seen = [item["id"] for page in pages for item in page["items"]]
    assert seen == expected_search(truth, q, kind, market, limit=10)
    assert seen, "the query should match something"
    assert len(seen) == len(set(seen))
    for page in (pages[0], pages[-1]):  # schema checks are slow; the first and last page stand for all
        assert_matches_schema({key: page}, response_schema("/search", 200))
    if market:
        assert all(item["is_playable"] for page in pages for item in page["items"])


def test_when_search_matches_more_than_1000_then_walk_stops_where_offset_plus_limit_reaches_1000(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    first = _get(twin_api, f"{twin.api_base_url}/search", q="e", type="track", limit=7).json()["tracks"]

    pages = [first, *walk_pages(twin_api, first["next"], "tracks")]

    assert first["total"] > 1000
    assert pages[-1]["offset"] + pages[-1]["limit"] <= 1000 and pages[-1]["next"] is None
    assert [t["id"] for p in pages for t in p["items"]] == expected_search(twin.truth(), "e", "track", limit=7)
    assert_spotify_error(_get(twin_api, f"{twin.api_base_url}/search", q="e", type="track", limit=10, offset=995), 400)


def test_when_search_filters_by_artist_then_every_track_has_that_artist(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    artist = twin.catalog.artists[0]

    body = _get(twin_api, f"{twin.api_base_url}/search", q=f'artist:"{artist.name}"', type="track", limit=10).json()

    assert body["tracks"]["items"]
    for track in body["tracks"]["items"]:
        assert any(artist.name.lower() in a["name"].lower() for a in track["artists"])


def test_when_search_request_is_malformed_then_400(twin: TwinServer, twin_api: requests.Session) -> None:  # noqa: F811
    url = f"{twin.api_base_url}/search"
    cases: list[dict[str, Any]] = [
        {"type": "track"},
        {"q": "  ", "type": "track"},
        {"q": "love"},
        {"q": "love", "type": "track,podcast"},
        {"q": "love", "type": "track", "limit": 11},
        {"q": "love", "type": "track", "offset": 1001},
    ]

    for params in cases:
        response = _get(twin_api, url, **params)
        assert_spotify_error(response, 400)


# ---- playlists ---------------------------------------------------------------------------------------------


def _schema_checkable(page: dict[str, Any]) -> dict[str, Any]:
    """The page without local and removed items: Spotify sends them with null ids or as null, which the
    OpenAPI file does not allow; they are checked apart."""
    kept = [i for i in page["items"] if i["track"] is not None and not i["is_local"]]
    return {**page, "items": kept}


def _position_rows(items: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    rows = []
    for position, item in enumerate(items, start=offset):
        content = item["item"]
        kind = content["type"] if content else None
        rows.append(
            {
                "position": position,
                "is_local": item["is_local"],
                "track_id": content["id"] if kind == "track" and not item["is_local"] else None,
                "episode_id": content["id"] if kind == "episode" else None,
            }
        )
    return rows


def test_when_playlist_is_fetched_then_full_object_embeds_first_100_items_and_links_to_items(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    playlist_id = truth["playlists"][0]

    response = _get(twin_api, f"{twin.api_base_url}/playlists/{playlist_id}")

    assert response.status_code == 200
    body = response.json()
    deprecated = _schema_checkable(body["tracks"])
    assert_matches_schema(
        {**body, "items": _schema_checkable(body["items"]), "tracks": {**deprecated, "items": deprecated["items"][:5]}},
        response_schema("/playlists/{playlist_id}", 200),
    )
    assert body["tracks"]["items"] == body["items"]["items"]
    assert len(body["items"]["items"]) == 100 and body["items"]["total"] == len(truth["playlist_items"][playlist_id])
    assert _position_rows(body["items"]["items"], 0) == truth["playlist_items"][playlist_id][:100]
    assert body["items"]["next"] == f"{twin.api_base_url}/playlists/{playlist_id}/items?offset=100&limit=50"
    assert body["tracks"]["next"] == f"{twin.api_base_url}/playlists/{playlist_id}/tracks?offset=100&limit=100"
    assert body["owner"]["type"] == "user" and body["snapshot_id"] and "followers" in body
    assert isinstance(body["public"], bool) and isinstance(body["collaborative"], bool)


def test_when_every_playlist_items_walk_is_done_then_positions_equal_truth_exactly_once(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()

    for index, playlist_id in enumerate(truth["playlists"]):
        pages = walk_pages(
            twin_api, f"{twin.api_base_url}/playlists/{playlist_id}/items?limit=50&additional_types=track,episode"
        )
        rows = [row for page in pages for row in _position_rows(page["items"], page["offset"])]
        assert rows == truth["playlist_items"][playlist_id]
        if index == 0:  # schema checks are slow; the first playlist holds every kind of item
            for page in pages:
                assert_matches_schema(_schema_checkable(page), response_schema("/playlists/{playlist_id}/items", 200))


def test_when_playlist_holds_local_removed_and_episode_items_then_they_have_spotify_shapes(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    playlist_id = twin.truth()["playlists"][0]
    pages = walk_pages(twin_api, f"{twin.api_base_url}/playlists/{playlist_id}/items?limit=50")
    items = [i for page in pages for i in page["items"]]

    local = [i for i in items if i["is_local"]]
    removed = [i for i in items if i["track"] is None]
    episodes = [i for i in items if i["track"] and i["track"]["type"] == "episode"]

    assert local and removed and episodes
    for item in local:
        assert item["track"]["id"] is None and item["track"]["uri"].startswith("spotify:local:")
        assert item["track"]["is_local"] is True and item["track"]["href"] is None
    for item in removed:
        assert item["item"] is None and item["is_local"] is False and item["added_at"]
    for item in episodes:
        assert item["track"] == item["item"]
        assert_matches_schema(item["item"], {"$ref": "#/components/schemas/EpisodeObject"})
    assert any(i["is_local"] for i in items[100:]) and any(i["track"] is None for i in items[100:])


def test_when_market_is_given_then_playlist_tracks_carry_is_playable(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    playlist_id = twin.truth()["playlists"][0]

    page = _get(twin_api, f"{twin.api_base_url}/playlists/{playlist_id}/items", market="JP", limit=50).json()

    tracks = [i["track"] for i in page["items"] if i["track"] and i["track"]["type"] == "track" and not i["is_local"]]
    assert tracks and all(t["is_playable"] == ("JP" in t["available_markets"]) for t in tracks)
    assert page["next"].endswith("market=JP")


def test_when_deprecated_tracks_alias_is_walked_with_limit_100_then_same_items(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    playlist_id = truth["playlists"][0]

    pages = walk_pages(twin_api, f"{twin.api_base_url}/playlists/{playlist_id}/tracks?limit=100")

    rows = [row for page in pages for row in _position_rows(page["items"], page["offset"])]
    assert rows == truth["playlist_items"][playlist_id]


def test_when_playlist_request_is_bad_then_400_or_404(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    playlist_id = twin.truth()["playlists"][0]
    base = twin.api_base_url

    assert_spotify_error(_get(twin_api, f"{base}/playlists/{playlist_id}/items", limit=51), 400)
    assert_spotify_error(_get(twin_api, f"{base}/playlists/{playlist_id}/tracks", limit=101), 400)
    assert_spotify_error(_get(twin_api, f"{base}/playlists/not-an-id"), 400)
    assert_spotify_error(_get(twin_api, f"{base}/playlists/{UNKNOWN_ID}"), 404)
    assert_spotify_error(_get(twin_api, f"{base}/playlists/{UNKNOWN_ID}/items"), 404)


# ---- categories and markets ----------------------------------------------------------------------------------


def test_when_categories_are_paged_then_schema_holds_and_ids_equal_truth(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    pages = walk_pages(twin_api, f"{twin.api_base_url}/browse/categories?limit=4", "categories")

    for page in pages:
        assert_matches_schema({"categories": page}, response_schema("/browse/categories", 200))
    categories = [c for page in pages for c in page["items"]]
    assert [c["id"] for c in categories] == twin.truth()["categories"]
    assert categories[0]["id"] == "toplists" and all(c["icons"] for c in categories)


def test_when_markets_are_asked_then_every_market_of_the_catalog(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    response = _get(twin_api, f"{twin.api_base_url}/markets")

    assert response.status_code == 200
    assert_matches_schema(response.json(), response_schema("/markets", 200))
    assert response.json()["markets"] == twin.truth()["markets"]
