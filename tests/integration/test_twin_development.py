"""Integration tests: the twin in development mode answers as Spotify answers a Development Mode app in 2026.

One test per rule of `offline.spotify_twin.access` (sources there: [FEB26] February 2026 changelog and migration guide,
[MAR26] March 2026 changelog, [JUL26] July 2026 changelog, [OAS] the vendored OpenAPI description's
`deprecated: true` markers). Bodies are validated against the OpenAPI description read as a Development Mode
app meets it (deprecated properties optional, `tests.twin_fixtures.development_components`).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from offline.spotify_twin import TwinServer
from offline.spotify_twin.access import REFUSED_IN_DEVELOPMENT, REMOVED_FIELDS, RESTRICTED_SINCE_2024_11_27
from offline.spotify_twin.truth import Truth
from offline.spotify_twin.vocabulary import SPOTIFY_USER_ID
from tests.twin_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    HTTP_TIMEOUT_S,
    assert_matches_schema,
    assert_spotify_error,
    bearer_session,
    component_schema,
    deprecated_operations,
    fetch_token,
    request_errors,
    response_schema,
    start_twin,
    twin,
    twin_api,
    twin_user_api,
    user_session,
)

FORBIDDEN_BODY = {"error": {"status": 403, "message": "Forbidden"}}


def _get(session: requests.Session, twin: TwinServer, path: str, **params: Any) -> requests.Response:  # noqa: F811
    return session.get(f"{twin.api_base_url}{path}", params=params, timeout=HTTP_TIMEOUT_S)


def _fill(path: str, truth: Truth) -> str:
    return path.format(
        id=truth["artists"][0], playlist_id=truth["playlists"][1], user_id=truth["user"]["id"],
        category_id=truth["categories"][0],
    )


def _ok(response: requests.Response, openapi_path: str) -> Any:
    """The 200 body, checked against the OpenAPI response schema of `openapi_path` as development reads it.

    Playlist entries holding a local file or a removed track are left out of the check: Spotify sends them
    with null ids or as null, outside the schema (their shapes: test_twin_catalog_sources.py)."""
    assert response.status_code == 200, f"{response.url}: {response.status_code} {response.text[:200]}"
    body = response.json()
    checked = body
    if openapi_path == "/playlists/{playlist_id}/items":
        checked = _without_unschematic_entries(body)
    elif openapi_path == "/playlists/{playlist_id}" and "items" in body:
        checked = {**body, "items": _without_unschematic_entries(body["items"])}
    assert_matches_schema(checked, response_schema(openapi_path, 200), development=True)
    return body


def _without_unschematic_entries(page: dict[str, Any]) -> dict[str, Any]:
    return {**page, "items": [e for e in page["items"] if e["item"] is not None and not e["is_local"]]}


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every dict in `node`, however deep."""
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _assert_no_removed_fields(body: Any) -> None:
    """[FEB26] removed fields are absent (not null) on every object, embedded ones included."""
    for obj in _objects(body):
        removed = REMOVED_FIELDS.get(obj.get("type"), frozenset())  # type: ignore[arg-type]
        assert not removed & obj.keys(), f"{obj.get('type')} {obj.get('id')} still has {sorted(removed & obj.keys())}"
        if obj.get("type") == "playlist":
            assert "tracks" not in obj  # [FEB26] renamed to items
        if "added_at" in obj and "item" in obj:
            assert "track" not in obj  # [FEB26] renamed to item


# ---- [OAS] + [FEB26]: the operations a Development Mode app may no longer call --------------------------------


def test_when_the_openapi_file_is_read_then_its_deprecated_operations_are_exactly_the_refused_ones() -> None:
    assert deprecated_operations() == set(REFUSED_IN_DEVELOPMENT)
    assert RESTRICTED_SINCE_2024_11_27 <= set(REFUSED_IN_DEVELOPMENT)


# What a new app gets from the endpoints closed on 2024-11-27, as clients report from the live API
# (offline/spotify_twin/routes_restricted.py): the audio endpoints 403, the others 404.
NOV24_STATUS = {
    "/audio-features": 403, "/audio-features/{id}": 403, "/audio-analysis/{id}": 403,
    "/recommendations": 404, "/recommendations/available-genre-seeds": 404, "/artists/{id}/related-artists": 404,
    "/browse/featured-playlists": 404, "/browse/categories/{category_id}/playlists": 404,
}


@pytest.mark.parametrize("token_kind", ["app", "user"])
def test_when_each_deprecated_operation_is_called_then_development_mode_refuses_it(
    twin: TwinServer, twin_api: requests.Session, twin_user_api: requests.Session, token_kind: str  # noqa: F811
) -> None:
    session = twin_api if token_kind == "app" else twin_user_api
    refused = []
    truth = twin.truth()  # exported once: each export walks the whole catalog, and the catalog does not change here
    query = {"ids": truth["albums"][0], "market": "US", "seed_genres": "rock", "type": "artist"}
    for method, path in sorted(deprecated_operations()):
        response = session.request(method, f"{twin.api_base_url}{_fill(path, truth)}", params=query,
                                   timeout=HTTP_TIMEOUT_S)
        refused.append((method, path, response.status_code))
        if (method, path) in RESTRICTED_SINCE_2024_11_27:
            # [NOV24] keeps the status clients report for a new app on each endpoint, with Spotify's error JSON.
            assert response.status_code == NOV24_STATUS[path], (method, path)
            assert_spotify_error(response, response.status_code)
        else:
            assert response.status_code == 403, (method, path, response.text[:200])
            assert response.json() == FORBIDDEN_BODY, (method, path)
    assert len(refused) == len(REFUSED_IN_DEVELOPMENT) >= 40


def test_when_an_extended_twin_gets_the_same_several_ids_call_then_it_still_answers() -> None:
    with start_twin(access_mode="extended") as extended:
        session = bearer_session(extended.token_url)
        album = extended.truth()["albums"][0]
        response = _get(session, extended, "/albums", ids=album)
        categories = _get(session, extended, "/browse/categories")

    assert response.status_code == 200 and response.json()["albums"][0]["id"] == album
    assert categories.status_code == 200


# ---- [FEB26] playlists: items only for the owner or a collaborator, with a user token ------------------------


def _playlists_by_relation(twin: TwinServer) -> dict[str, list[str]]:  # noqa: F811
    catalog = twin.catalog
    me = catalog.listener.user.id
    relations: dict[str, list[str]] = {"owned": [], "collaborator": [], "others": [], "editorial": []}
    for playlist in catalog.playlists:
        playlist_id = playlist.id
        if playlist.owner_id == me:
            relations["owned"].append(playlist_id)
        elif me in playlist.collaborator_ids:
            relations["collaborator"].append(playlist_id)
        elif playlist.owner_id == SPOTIFY_USER_ID:
            relations["editorial"].append(playlist_id)
        else:
            relations["others"].append(playlist_id)
    return relations


def test_when_the_owner_asks_for_items_then_entries_carry_item_and_no_track(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    owned = _playlists_by_relation(twin)["owned"]
    assert owned

    for playlist_id in owned:
        body = _ok(_get(twin_user_api, twin, f"/playlists/{playlist_id}/items", limit=50),
                   "/playlists/{playlist_id}/items")
        assert body["items"] and all("item" in entry and "track" not in entry for entry in body["items"])
        _assert_no_removed_fields(body)
        playlist = _ok(_get(twin_user_api, twin, f"/playlists/{playlist_id}"), "/playlists/{playlist_id}")
        assert playlist["items"]["total"] == len(twin.catalog.playlist_by_id[playlist_id].items)
        assert "tracks" not in playlist


def test_when_a_playlist_is_someone_elses_then_metadata_without_items_and_items_403(
    twin: TwinServer, twin_user_api: requests.Session, twin_api: requests.Session  # noqa: F811
) -> None:
    relations = _playlists_by_relation(twin)
    others = relations["others"]
    owned = relations["owned"][0]
    assert others

    for playlist_id in others:
        metadata = _ok(_get(twin_user_api, twin, f"/playlists/{playlist_id}"), "/playlists/{playlist_id}")
        items = _get(twin_user_api, twin, f"/playlists/{playlist_id}/items")
        assert metadata["id"] == playlist_id and "items" not in metadata and "tracks" not in metadata
        assert items.status_code == 403 and items.json() == FORBIDDEN_BODY
    # An app token is nobody's: even the listener's own playlist has no items for it.
    app_items = _get(twin_api, twin, f"/playlists/{owned}/items")
    assert app_items.status_code == 403 and app_items.json() == FORBIDDEN_BODY
    assert "items" not in _ok(_get(twin_api, twin, f"/playlists/{owned}"), "/playlists/{playlist_id}")


def test_when_a_spotify_owned_playlist_is_asked_then_404(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    editorial = _playlists_by_relation(twin)["editorial"]
    assert editorial  # the listener follows one (index 0 of the catalog)

    for playlist_id in editorial:
        for path in (f"/playlists/{playlist_id}", f"/playlists/{playlist_id}/items"):
            assert_spotify_error(_get(twin_user_api, twin, path), 404)


def test_when_the_deprecated_tracks_alias_is_called_then_403_even_for_the_owner(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    owned = _playlists_by_relation(twin)["owned"][0]

    response = _get(twin_user_api, twin, f"/playlists/{owned}/tracks")

    assert response.status_code == 403 and response.json() == FORBIDDEN_BODY


# ---- [FEB26] limits ---------------------------------------------------------------------------------------------


def test_when_search_has_no_limit_then_5_per_type_and_above_10_is_400(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    default = _ok(_get(twin_api, twin, "/search", q="a", type="track,album"), "/search")
    ten = _ok(_get(twin_api, twin, "/search", q="a", type="track", limit=10), "/search")
    eleven = _get(twin_api, twin, "/search", q="a", type="track", limit=11)

    assert default["tracks"]["limit"] == 5 and len(default["tracks"]["items"]) == 5
    assert default["albums"]["limit"] == 5
    assert len(ten["tracks"]["items"]) == 10
    assert_spotify_error(eleven, 400)
    assert request_errors("GET", "/search", {"q": "a", "type": "track", "limit": "11"})  # the spec agrees


def test_when_artist_albums_limit_is_above_10_then_400_and_default_is_5(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    catalog = twin.catalog
    artist = max(catalog.artists, key=lambda a: len(catalog.discography.get(a.id, ())))

    default = _ok(_get(twin_api, twin, f"/artists/{artist.id}/albums"), "/artists/{id}/albums")
    too_many = _get(twin_api, twin, f"/artists/{artist.id}/albums", limit=11)

    assert default["limit"] == 5 and len(default["items"]) == 5
    assert all("album_group" not in item for item in default["items"])
    assert_spotify_error(too_many, 400)


# ---- [FEB26] removed fields absent, [MAR26] external_ids kept -----------------------------------------------------


def test_when_me_is_asked_then_the_removed_profile_fields_are_absent(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    me = _ok(_get(twin_user_api, twin, "/me"), "/me")

    assert me["id"] == twin.truth()["user"]["id"]
    assert not {"country", "email", "explicit_content", "followers", "product"} & me.keys()


def test_when_catalog_objects_are_served_then_removed_fields_are_absent_and_external_ids_present(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    track = _ok(_get(twin_api, twin, f"/tracks/{truth['tracks'][0]}", market="US"), "/tracks/{id}")
    album = _ok(_get(twin_api, twin, f"/albums/{truth['albums'][0]}"), "/albums/{id}")
    artist = _ok(_get(twin_api, twin, f"/artists/{truth['artists'][0]}"), "/artists/{id}")
    search = _ok(_get(twin_api, twin, "/search", q="a", type="track,album,artist,playlist,show", limit=10), "/search")

    for body in (track, album, artist, search):
        _assert_no_removed_fields(body)
    assert track["external_ids"]["isrc"] and album["external_ids"]["upc"]  # [MAR26]
    assert "is_playable" in track  # a market still marks playability
    assert "genres" in artist  # deprecated, still sent
    assert "available_markets" not in track["album"] and "popularity" not in track["album"]


def test_when_user_sources_are_served_then_embedded_objects_lack_the_removed_fields_too(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    for path, openapi_path in (
        ("/me/top/artists", "/me/top/artists"),
        ("/me/top/tracks", "/me/top/tracks"),
        ("/me/player/recently-played", "/me/player/recently-played"),
        ("/me/tracks", "/me/tracks"),
        ("/me/following?type=artist", "/me/following"),
        ("/me/playlists", "/me/playlists"),
    ):
        response = _get(twin_user_api, twin, path)
        assert response.status_code == 200, path
        _assert_no_removed_fields(response.json())
        if openapi_path not in ("/me/player/recently-played", "/me/following"):  # cursor pages: null `next`
            _ok(response, openapi_path)


# ---- [JUL26] the daily quota, and the short rate limit beside it --------------------------------------------------


def test_when_the_daily_quota_is_spent_then_429_quota_exceeded_with_a_retry_after_of_many_hours() -> None:
    with start_twin(daily_quota=3) as quota_twin:
        session = bearer_session(quota_twin.token_url)
        url = f"{quota_twin.api_base_url}/search"
        statuses = [session.get(url, params={"q": "a", "type": "album"}, timeout=HTTP_TIMEOUT_S).status_code
                    for _ in range(3)]
        spent = session.get(url, params={"q": "a", "type": "album"}, timeout=HTTP_TIMEOUT_S)
        token_still_works = fetch_token(quota_twin.token_url)  # the accounts service is not the Web API

    assert statuses == [200, 200, 200]
    assert spent.status_code == 429
    assert spent.json() == {
        "error": {"status": 429, "message": spent.json()["error"]["message"], "reason": "QUOTA_EXCEEDED"}
    }
    assert_matches_schema(spent.json()["error"], component_schema("ErrorObject"))
    assert int(spent.headers["Retry-After"]) >= 40_000
    assert token_still_works


def test_when_the_short_rate_limit_hits_then_its_429_has_no_reason_and_a_short_retry_after() -> None:
    with start_twin("429=1.0", daily_quota=100) as limited:
        response = _get(bearer_session(limited.token_url), limited, "/search", q="a", type="album")

    assert response.status_code == 429
    assert "reason" not in response.json()["error"]
    assert int(response.headers["Retry-After"]) <= 30


# ---- [FEB26] the owner's Premium ------------------------------------------------------------------------------------


def test_when_the_owners_premium_lapses_then_every_call_is_403_with_spotifys_message() -> None:
    with start_twin("premium_lapse_after=2") as lapsing:
        session = user_session(lapsing.token_url)
        statuses = [_get(session, lapsing, "/me").status_code for _ in range(2)]
        lapsed = _get(session, lapsing, "/me")

    assert statuses == [200, 200]
    assert lapsed.status_code == 403
    assert lapsed.json() == {
        "error": {"status": 403, "message": "Active premium subscription required for the owner of the app"}
    }


@pytest.mark.parametrize(
    ("options", "needs"),
    [
        ({"faults": "premium_lapse_after=0", "access_mode": "extended"}, "development"),
        ({"legacy_app": True}, "extended"),
        ({"access_mode": "basic"}, "development, extended"),
    ],
)
def test_when_options_do_not_fit_the_access_mode_then_one_clear_error(options: dict[str, Any], needs: str) -> None:
    from offline.spotify_twin import TwinError

    with pytest.raises(TwinError, match=needs):
        TwinServer(**options)


# ---- requests and responses against the OpenAPI description ---------------------------------------------------------


def test_when_the_extraction_plan_of_a_development_app_is_sent_then_requests_and_answers_match_the_spec(
    twin: TwinServer, twin_api: requests.Session, twin_user_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    owned = _playlists_by_relation(twin)["owned"][0]
    artist = truth["artists"][0]
    plan: list[tuple[requests.Session, str, str, dict[str, str]]] = [
        (twin_user_api, "/me", "/me", {}),
        (twin_user_api, "/me/top/artists", "/me/top/artists", {"time_range": "short_term", "limit": "50"}),
        (twin_user_api, "/me/top/tracks", "/me/top/tracks", {"time_range": "long_term", "limit": "50"}),
        (twin_user_api, "/me/tracks", "/me/tracks", {"limit": "50"}),
        (twin_user_api, "/me/playlists", "/me/playlists", {"limit": "50"}),
        (twin_user_api, f"/playlists/{owned}/items", "/playlists/{playlist_id}/items",
         {"limit": "50", "additional_types": "track,episode"}),
        (twin_api, "/search", "/search", {"q": "tag:new", "type": "album", "limit": "10"}),
        (twin_api, f"/albums/{truth['albums'][0]}", "/albums/{id}", {}),
        (twin_api, f"/albums/{truth['albums'][0]}/tracks", "/albums/{id}/tracks", {"limit": "50"}),
        (twin_api, f"/tracks/{truth['tracks'][0]}", "/tracks/{id}", {}),
        (twin_api, f"/artists/{artist}", "/artists/{id}", {}),
        (twin_api, f"/artists/{artist}/albums", "/artists/{id}/albums", {"limit": "10"}),
    ]
    for session, path, openapi_path, params in plan:
        assert not request_errors("GET", openapi_path, params), (openapi_path, params)
        body = _ok(session.get(f"{twin.api_base_url}{path}", params=params, timeout=HTTP_TIMEOUT_S), openapi_path)
        _assert_no_removed_fields(body)
