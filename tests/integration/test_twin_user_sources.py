"""Integration tests: the refresh-token grant and the listener's /me endpoints over real HTTP, checked against
the OpenAPI description and the truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from offline.spotify_twin import TwinServer
from tests.twin_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    HTTP_TIMEOUT_S,
    TWIN_CLIENT_ID,
    assert_matches_schema,
    assert_spotify_error,
    named_response_schema,
    refresh_grant,
    response_schema,
    start_twin,
    twin,
    twin_api,
    twin_user_api,
    walk_pages,
    without_null_fields,
)

# Pins the extended-quota behaviour (the pre-2026 endpoints and fields); development mode: test_twin_development.py.
TWIN_ACCESS_MODE = "extended"

USER_PATHS = (
    "/me",
    "/me/top/artists",
    "/me/top/tracks",
    "/me/player/recently-played",
    "/me/tracks",
    "/me/following?type=artist",
    "/me/playlists",
)


def _get(session: requests.Session, url: str, **params: Any) -> requests.Response:
    return session.get(url, params=params or None, timeout=HTTP_TIMEOUT_S)


def _millis(played_at: str) -> int:
    return round(datetime.fromisoformat(played_at.replace("Z", "+00:00")).timestamp() * 1000)


# ---- the refresh-token grant ----------------------------------------------------------------------------------


def test_when_refresh_token_is_right_then_user_token_with_scope(twin: TwinServer) -> None:  # noqa: F811
    response = refresh_grant(twin.token_url)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "user-top-read" in body["scope"].split() and "user-read-recently-played" in body["scope"].split()


def test_when_refresh_token_is_wrong_then_400_invalid_grant(twin: TwinServer) -> None:  # noqa: F811
    response = refresh_grant(twin.token_url, refresh_token="not-the-refresh-token")

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Invalid refresh token"}


def test_when_refresh_grant_lacks_token_or_client_is_wrong_then_accounts_errors(twin: TwinServer) -> None:  # noqa: F811
    missing = requests.post(
        twin.token_url, data={"grant_type": "refresh_token"}, auth=(TWIN_CLIENT_ID, "twin-test-secret"),
        timeout=HTTP_TIMEOUT_S,
    )
    bad_client = refresh_grant(twin.token_url, secret="wrong-secret")

    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    assert bad_client.status_code == 400 and bad_client.json()["error"] == "invalid_client"


def test_when_twin_has_no_refresh_token_then_every_refresh_is_invalid_grant() -> None:
    with start_twin(refresh_token=None, access_mode=TWIN_ACCESS_MODE) as server:
        response = refresh_grant(server.token_url)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("path", USER_PATHS)
def test_when_user_endpoint_gets_an_app_token_then_403_user_authentication_required(
    twin: TwinServer, twin_api: requests.Session, path: str  # noqa: F811
) -> None:
    response = _get(twin_api, f"{twin.api_base_url}{path}")

    assert_spotify_error(response, 403)
    assert_matches_schema(response.json(), named_response_schema("Forbidden"))
    assert response.json()["error"]["message"] == "This request requires user authentication."


def test_when_catalog_endpoint_gets_a_user_token_then_it_answers_and_from_token_is_the_users_country(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    country = _get(twin_user_api, f"{twin.api_base_url}/me").json()["country"]
    artist_id = truth["artists"][0]

    response = _get(twin_user_api, f"{twin.api_base_url}/artists/{artist_id}/top-tracks", market="from_token")

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["tracks"]] == truth["artist_top_tracks"][country][artist_id]


# ---- /me --------------------------------------------------------------------------------------------------------


def test_when_me_is_asked_then_private_user_object_of_the_truths_user(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    response = _get(twin_user_api, f"{twin.api_base_url}/me")

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, response_schema("/me", 200))
    assert body["id"] == twin.truth()["user"]["id"] and body["type"] == "user"
    assert body["uri"] == f"spotify:user:{body['id']}" and body["country"] in twin.truth()["markets"]


@pytest.mark.parametrize("kind", ["artists", "tracks"])
@pytest.mark.parametrize("time_range", ["short_term", "medium_term", "long_term"])
def test_when_top_items_are_paged_per_time_range_then_ids_equal_truth(
    twin: TwinServer, twin_user_api: requests.Session, kind: str, time_range: str  # noqa: F811
) -> None:
    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/top/{kind}?time_range={time_range}&limit=7")

    assert_matches_schema(pages[0], response_schema(f"/me/top/{kind}", 200))
    assert [item["id"] for page in pages for item in page["items"]] == twin.truth()["user"][f"top_{kind}"][time_range]
    assert all("time_range=" + time_range in page["href"] for page in pages)


def test_when_top_items_have_no_time_range_then_medium_term_and_bad_range_is_400(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    default = _get(twin_user_api, f"{twin.api_base_url}/me/top/artists", limit=50).json()

    assert [a["id"] for a in default["items"]] == twin.truth()["user"]["top_artists"]["medium_term"][:50]
    assert_spotify_error(_get(twin_user_api, f"{twin.api_base_url}/me/top/artists", time_range="forever"), 400)
    assert_spotify_error(_get(twin_user_api, f"{twin.api_base_url}/me/top/tracks", limit=51), 400)


# ---- recently played (cursor paging) -----------------------------------------------------------------------------


def _check_play_page(page: dict[str, Any]) -> None:
    checkable = without_null_fields(page, "next", "cursors")
    checkable["items"] = [without_null_fields(i, "context") for i in page["items"]]
    assert_matches_schema(checkable, response_schema("/me/player/recently-played", 200))


def test_when_recently_played_is_walked_with_before_cursors_then_every_play_once_newest_first(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    truth_plays = twin.truth()["user"]["recently_played"]

    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/player/recently-played?limit=50")

    plays = [[item["track"]["id"], item["played_at"]] for page in pages for item in page["items"]]
    assert plays == truth_plays
    assert len(truth_plays) >= 50 and len(pages) > 1
    for page in pages[:2]:
        _check_play_page(page)
    for page in pages[:-1]:
        assert page["next"].endswith(f"before={page['cursors']['before']}&limit=50")
        assert page["cursors"]["before"] == str(_millis(page["items"][-1]["played_at"]))
        assert page["cursors"]["after"] == str(_millis(page["items"][0]["played_at"]))
    assert pages[-1]["next"] is None


def test_when_after_cursor_is_given_then_only_later_plays_and_next_walks_forward(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    truth_plays = twin.truth()["user"]["recently_played"]
    cursor = _millis(truth_plays[30][1])  # the 31st newest play

    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/player/recently-played?after={cursor}&limit=7")

    seen = [[item["track"]["id"], item["played_at"]] for page in pages for item in page["items"]]
    assert sorted(seen, key=lambda p: p[1], reverse=True) == truth_plays[:30]
    assert len(seen) == len({p[1] for p in seen}) == 30
    assert all("after=" in page["next"] for page in pages[:-1])


def test_when_recently_played_cursor_passes_the_oldest_play_then_empty_page_with_null_cursors(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    oldest = _millis(twin.truth()["user"]["recently_played"][-1][1])

    body = _get(twin_user_api, f"{twin.api_base_url}/me/player/recently-played", before=oldest).json()

    assert body["items"] == [] and body["next"] is None and body["cursors"] is None


def test_when_plays_are_checked_then_they_lie_in_the_30_days_before_the_listeners_now(
    twin: TwinServer,  # noqa: F811
) -> None:
    plays = twin.truth()["user"]["recently_played"]
    moments = [datetime.fromisoformat(p[1].replace("Z", "+00:00")) for p in plays]

    assert moments == sorted(moments, reverse=True) and len(set(moments)) == len(moments)
    assert moments[0] - moments[-1] <= timedelta(days=30)
    assert moments[0] <= twin.catalog.listener.now


def test_when_recently_played_gets_both_cursors_or_a_bad_one_then_400(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    url = f"{twin.api_base_url}/me/player/recently-played"

    for params in ({"after": 1, "before": 2}, {"before": "yesterday"}, {"limit": 51}):
        assert_spotify_error(_get(twin_user_api, url, **params), 400)


# ---- saved tracks, followed artists, playlists -----------------------------------------------------------------


def test_when_saved_tracks_are_paged_then_every_saved_track_once_with_added_at(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/tracks?limit=6")

    assert_matches_schema(pages[0], response_schema("/me/tracks", 200))
    saved = [item for page in pages for item in page["items"]]
    assert [item["track"]["id"] for item in saved] == twin.truth()["user"]["saved_tracks"]
    added = [item["added_at"] for item in saved]
    assert added == sorted(added, reverse=True) and all(a.endswith("Z") for a in added)


def test_when_followed_artists_are_walked_by_cursor_then_every_artist_once_in_id_order(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/following?type=artist&limit=4", "artists")

    followed = twin.truth()["user"]["followed_artists"]
    assert [a["id"] for page in pages for a in page["items"]] == followed
    assert all(page["total"] == len(followed) for page in pages)
    for page in pages[:-1]:
        assert page["cursors"]["after"] == page["items"][-1]["id"]
        assert_matches_schema({"artists": page}, response_schema("/me/following", 200))
    assert pages[-1]["next"] is None and pages[-1]["cursors"] == {"after": None}


def test_when_followed_artists_type_is_missing_or_not_artist_then_400(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    url = f"{twin.api_base_url}/me/following"

    assert_spotify_error(_get(twin_user_api, url), 400)
    assert_spotify_error(_get(twin_user_api, url, type="user"), 400)


def test_when_my_playlists_are_paged_then_ids_equal_truth_and_items_links_resolve(
    twin: TwinServer, twin_user_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()

    pages = walk_pages(twin_user_api, f"{twin.api_base_url}/me/playlists?limit=2")

    for page in pages:
        assert_matches_schema(page, response_schema("/me/playlists", 200))
    playlists = [p for page in pages for p in page["items"]]
    assert [p["id"] for p in playlists] == truth["user"]["playlists"]
    assert any(p["owner"]["id"] == truth["user"]["id"] for p in playlists)
    assert any(p["owner"]["id"] != truth["user"]["id"] for p in playlists)
    first = playlists[0]
    items = _get(twin_user_api, first["items"]["href"], limit=1).json()
    assert items["total"] == first["items"]["total"] == len(truth["playlist_items"][first["id"]])
