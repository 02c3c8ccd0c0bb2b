"""Unit tests of the twin's route table, called as pure functions (no HTTP)."""

from __future__ import annotations

from offline.spotify_twin.access import AccessMode
from offline.spotify_twin.catalog import build_catalog
from offline.spotify_twin.routes import ROUTES, ApiResponse, dispatch

BASE = "http://127.0.0.1:9/v1"
CATALOG = build_catalog(42, 0.3)

EXTENDED = AccessMode.EXTENDED  # these tests pin the extended (pre-2026) behaviour


def _get(path: str, **query: str) -> ApiResponse:
    return dispatch("GET", path, {k: [v] for k, v in query.items()}, CATALOG, BASE, access_mode=EXTENDED)


def test_when_route_table_is_read_then_each_pattern_is_unique() -> None:
    keys = [(r.method, r.pattern) for r in ROUTES]

    assert len(keys) == len(set(keys))


def test_when_new_releases_first_page_then_next_points_at_second_page_on_own_host() -> None:
    response = _get("/v1/browse/new-releases", limit="10")

    page = response.body["albums"]
    assert response.status == 200
    assert [a["id"] for a in page["items"]] == list(CATALOG.new_release_ids[:10])
    assert page["href"] == f"{BASE}/browse/new-releases?offset=0&limit=10"
    assert page["next"] == f"{BASE}/browse/new-releases?offset=10&limit=10"
    assert page["previous"] is None
    assert page["total"] == len(CATALOG.new_release_ids)


def test_when_last_page_then_next_is_null_and_previous_set() -> None:
    total = len(CATALOG.new_release_ids)

    page = _get("/v1/browse/new-releases", limit="50", offset=str(total - 5)).body["albums"]

    assert page["next"] is None
    assert page["previous"] == f"{BASE}/browse/new-releases?offset={total - 55 if total > 55 else 0}&limit=50"
    assert len(page["items"]) == 5


def test_when_album_has_more_than_50_tracks_then_embedded_page_links_to_offset_50() -> None:
    album = next(a for a in CATALOG.albums if a.total_tracks > 50)

    body = _get(f"/v1/albums/{album.id}").body

    assert len(body["tracks"]["items"]) == 50
    assert body["tracks"]["next"] == f"{BASE}/albums/{album.id}/tracks?offset=50&limit=50"


def test_when_unknown_but_valid_ids_then_null_entries_in_request_order() -> None:
    known = CATALOG.albums[0].id
    unknown = "0" * 22

    body = _get("/v1/albums", ids=f"{unknown},{known}").body

    assert body["albums"][0] is None
    assert body["albums"][1]["id"] == known


def test_when_limits_are_exceeded_then_400_with_spotify_error_json() -> None:
    too_many_albums = ",".join(a.id for a in CATALOG.albums[:21])
    too_many_tracks = ",".join(t.id for t in CATALOG.tracks[:51])

    cases = [
        _get("/v1/albums", ids=too_many_albums),
        _get("/v1/tracks", ids=too_many_tracks),
        _get("/v1/artists", ids=",".join(a.id for a in CATALOG.artists[:51])),
        _get("/v1/browse/new-releases", limit="51"),
        _get("/v1/browse/new-releases", limit="0"),
        _get("/v1/browse/new-releases", offset="-1"),
        _get(f"/v1/albums/{CATALOG.albums[0].id}/tracks", limit="x"),
        _get("/v1/tracks", ids="not-an-id"),
        _get("/v1/albums"),
        _get(f"/v1/tracks/{CATALOG.tracks[0].id}", market="Sweden"),
    ]

    for response in cases:
        assert response.status == 400
        assert response.body["error"]["status"] == 400
        assert response.body["error"]["message"]


def test_when_market_given_then_is_playable_tells_whether_it_is_available_there() -> None:
    track = next(t for t in CATALOG.tracks if "SE" not in t.available_markets)

    body = _get(f"/v1/tracks/{track.id}", market="se").body

    assert body["is_playable"] is False
    assert body["album"]["is_playable"] is False
    assert _get(f"/v1/tracks/{CATALOG.tracks[0].id}").body.get("is_playable") is None


def test_when_path_unknown_then_404_and_wrong_method_then_405() -> None:
    assert _get("/v1/shows").status == 404
    assert dispatch("POST", "/v1/albums", {}, CATALOG, BASE, access_mode=EXTENDED).status == 405
    assert _get(f"/v1/artists/{'1' * 22}").status == 404


def test_when_user_route_is_called_without_a_user_then_403_and_with_one_then_200() -> None:
    app = _get("/v1/me")
    user = dispatch("GET", "/v1/me", {}, CATALOG, BASE, access_mode=EXTENDED, user=CATALOG.listener)

    assert app.status == 403
    assert app.body == {"error": {"status": 403, "message": "This request requires user authentication."}}
    assert user.status == 200 and user.body["id"] == CATALOG.listener.user.id


def test_when_restricted_routes_are_called_then_new_app_gets_403_or_404_and_legacy_app_gets_200() -> None:
    track = CATALOG.tracks[0].id
    cases = {f"/v1/audio-features/{track}": 403, f"/v1/audio-analysis/{track}": 403,
             f"/v1/artists/{CATALOG.artists[0].id}/related-artists": 404, "/v1/browse/featured-playlists": 404}

    for path, status in cases.items():
        assert _get(path).status == status
        assert dispatch("GET", path, {}, CATALOG, BASE, access_mode=EXTENDED, legacy_app=True).status == 200


def test_when_market_is_from_token_then_users_country_else_no_market() -> None:
    album = next(a for a in CATALOG.albums if CATALOG.listener.country not in a.available_markets)

    query = {"market": ["from_token"]}
    as_user = dispatch("GET", f"/v1/albums/{album.id}", query, CATALOG, BASE, access_mode=EXTENDED, user=CATALOG.listener)
    as_app = _get(f"/v1/albums/{album.id}", market="from_token")

    assert as_user.body["is_playable"] is False
    assert "is_playable" not in as_app.body


def test_when_every_route_is_listed_then_patterns_have_handlers_and_user_routes_live_under_me() -> None:
    assert all(callable(r.handler) for r in ROUTES)
    assert {r.pattern for r in ROUTES if r.user_only} == {r.pattern for r in ROUTES if r.pattern.startswith("/v1/me")}
