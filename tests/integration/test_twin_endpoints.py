"""Integration tests: every Web API endpoint of the twin over real HTTP, checked against the OpenAPI description."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from offline.spotify_twin import TwinServer
from tests.twin_fixtures import (  # noqa: F401 - pytest fixtures, used by name
    HTTP_TIMEOUT_S,
    assert_matches_schema,
    assert_spotify_error,
    component_schema,
    named_response_schema,
    response_schema,
    schema_errors,
    twin,
    twin_api,
)

# Pins the extended-quota behaviour (the pre-2026 endpoints and fields); development mode: test_twin_development.py.
TWIN_ACCESS_MODE = "extended"

UNKNOWN_ID = "0000000000000000000000"


def _get(session: requests.Session, url: str, **params: Any) -> requests.Response:
    return session.get(url, params=params or None, timeout=HTTP_TIMEOUT_S)


def _long_new_release(server: TwinServer) -> str:
    truth = server.truth()
    album_id: str = next(a for a in truth["new_releases"] if len(truth["album_tracks"][a]) > 50)
    return album_id


def test_when_new_releases_are_paged_then_bodies_match_schema_and_cover_every_release_once(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    url: str | None = f"{twin.api_base_url}/browse/new-releases?limit=7"
    seen: list[str] = []

    while url:
        response = twin_api.get(url, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200
        body = response.json()
        assert_matches_schema(body, response_schema("/browse/new-releases", 200))
        seen += [album["id"] for album in body["albums"]["items"]]
        url = body["albums"]["next"]

    assert seen == twin.truth()["new_releases"]


def test_when_several_albums_requested_then_full_album_objects_in_request_order(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    ids = twin.truth()["new_releases"][:20]

    response = _get(twin_api, f"{twin.api_base_url}/albums", ids=",".join(ids))

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, response_schema("/albums", 200))
    assert [a["id"] for a in body["albums"]] == ids
    assert all(a["tracks"]["total"] == a["total_tracks"] for a in body["albums"])


def test_when_several_albums_include_unknown_id_then_null_entry_like_spotify(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    known = twin.truth()["albums"][0]

    body = _get(twin_api, f"{twin.api_base_url}/albums", ids=f"{known},{UNKNOWN_ID}").json()

    # The OpenAPI file does not mark items nullable, but Spotify answers unknown ids with null entries.
    assert body["albums"][1] is None
    assert_matches_schema({"albums": body["albums"][:1]}, response_schema("/albums", 200))


def test_when_album_requested_then_it_embeds_first_50_tracks_and_links_the_rest(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    album_id = _long_new_release(twin)

    response = _get(twin_api, f"{twin.api_base_url}/albums/{album_id}")

    body = response.json()
    assert_matches_schema(body, response_schema("/albums/{id}", 200))
    assert [t["id"] for t in body["tracks"]["items"]] == twin.truth()["album_tracks"][album_id][:50]
    assert body["tracks"]["next"] == f"{twin.api_base_url}/albums/{album_id}/tracks?offset=50&limit=50"
    assert body["genres"] == [] and body["label"] and body["external_ids"]["upc"]


def test_when_album_tracks_next_links_are_walked_then_every_track_appears_exactly_once(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    album_id = _long_new_release(twin)
    album = _get(twin_api, f"{twin.api_base_url}/albums/{album_id}").json()
    seen = [t["id"] for t in album["tracks"]["items"]]
    url = album["tracks"]["next"]

    while url:
        response = twin_api.get(url, timeout=HTTP_TIMEOUT_S)
        page = response.json()
        assert_matches_schema(page, response_schema("/albums/{id}/tracks", 200))
        seen += [t["id"] for t in page["items"]]
        url = page["next"]

    assert seen == twin.truth()["album_tracks"][album_id]
    assert len(set(seen)) == len(seen)


def test_when_several_tracks_requested_then_full_tracks_with_album_and_artists(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    truth = twin.truth()
    ids = truth["tracks"][:50]

    response = _get(twin_api, f"{twin.api_base_url}/tracks", ids=",".join(ids))

    body = response.json()
    assert_matches_schema(body, response_schema("/tracks", 200))
    for track in body["tracks"]:
        assert [a["id"] for a in track["artists"]] == truth["track_artists"][track["id"]]
        assert track["id"] in truth["album_tracks"][track["album"]["id"]]
        assert track["preview_url"] is None and track["is_local"] is False
        assert track["external_ids"]["isrc"]


def test_when_single_track_requested_then_track_object(twin: TwinServer, twin_api: requests.Session) -> None:  # noqa: F811
    track_id = twin.truth()["tracks"][3]

    response = _get(twin_api, f"{twin.api_base_url}/tracks/{track_id}")

    assert response.status_code == 200
    assert_matches_schema(response.json(), response_schema("/tracks/{id}", 200))
    assert response.json()["id"] == track_id


def test_when_artists_requested_then_full_artist_objects(twin: TwinServer, twin_api: requests.Session) -> None:  # noqa: F811
    ids = twin.truth()["artists"][:50]

    several = _get(twin_api, f"{twin.api_base_url}/artists", ids=",".join(ids))
    single = _get(twin_api, f"{twin.api_base_url}/artists/{ids[0]}")

    assert_matches_schema(several.json(), response_schema("/artists", 200))
    assert_matches_schema(single.json(), response_schema("/artists/{id}", 200))
    assert [a["id"] for a in several.json()["artists"]] == ids
    assert single.json() == several.json()["artists"][0]
    assert {"followers", "genres", "images", "popularity"} <= set(single.json())


def test_when_market_is_given_then_objects_carry_is_playable_and_links_keep_market(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    album_id = _long_new_release(twin)

    body = _get(twin_api, f"{twin.api_base_url}/albums/{album_id}", market="SE").json()

    assert_matches_schema(body, response_schema("/albums/{id}", 200))
    assert isinstance(body["is_playable"], bool)
    assert all(isinstance(t["is_playable"], bool) for t in body["tracks"]["items"])
    assert body["tracks"]["next"].endswith("offset=50&limit=50&market=SE")
    assert _get(twin_api, f"{twin.api_base_url}/albums/{album_id}", market="from_token").status_code == 200


def test_when_paging_links_are_returned_then_they_are_absolute_on_the_twin_host(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    body = _get(twin_api, f"{twin.api_base_url}/browse/new-releases", limit=5, offset=5).json()["albums"]

    for link in (body["href"], body["next"], body["previous"], body["items"][0]["href"]):
        parts = urlsplit(link)
        assert (parts.scheme, parts.hostname, parts.port) == ("http", "127.0.0.1", twin.port)


def test_when_request_is_invalid_then_400_with_spotify_error_json(twin: TwinServer, twin_api: requests.Session) -> None:  # noqa: F811
    truth = twin.truth()
    base = twin.api_base_url
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"{base}/albums", {"ids": ",".join(truth["albums"][:21])}),
        (f"{base}/tracks", {"ids": ",".join(truth["tracks"][:51])}),
        (f"{base}/artists", {"ids": ",".join(truth["artists"][:51])}),
        (f"{base}/browse/new-releases", {"limit": 51}),
        (f"{base}/albums/{truth['albums'][0]}/tracks", {"limit": 100}),
        (f"{base}/albums/not-a-valid-id", {}),
        (f"{base}/tracks", {"ids": "abc,def"}),
        (f"{base}/albums/{truth['albums'][0]}", {"market": "SWE"}),
    ]

    for url, params in cases:
        response = _get(twin_api, url, **params)
        assert_spotify_error(response, 400)
        assert_matches_schema(response.json(), named_response_schema("BadRequest"))


def test_when_path_or_id_is_unknown_then_404_with_spotify_error_json(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    unknown_path = _get(twin_api, f"{twin.api_base_url}/no-such-endpoint")
    unknown_album = _get(twin_api, f"{twin.api_base_url}/albums/{UNKNOWN_ID}")
    outside_api = requests.get(f"{twin.api_base_url.removesuffix('/v1')}/favicon.ico", timeout=HTTP_TIMEOUT_S)

    for response in (unknown_path, unknown_album, outside_api):
        assert_spotify_error(response, 404)
        assert_matches_schema(response.json(), named_response_schema("NotFound"))


def test_when_requests_are_served_then_request_log_records_method_path_and_status(
    twin: TwinServer, twin_api: requests.Session  # noqa: F811
) -> None:
    before = len(twin.request_log)

    _get(twin_api, f"{twin.api_base_url}/artists/{UNKNOWN_ID}")

    assert twin.request_log[before:] == [("GET", f"/v1/artists/{UNKNOWN_ID}", 404)]


def test_when_body_breaks_the_schema_then_the_schema_helper_reports_it() -> None:
    # Guards the validation helper itself: a green suite must mean the bodies were really checked.
    assert schema_errors({"status": 200}, component_schema("ErrorObject"))
    assert schema_errors({"albums": [{"id": "x"}]}, response_schema("/albums", 200))
