"""Route table of the Web API: path pattern -> pure handler.

Handlers live here (first slice) and in `routes_catalog`, `routes_user` and `routes_restricted`; the types
and query helpers they share are in `api`. Adding an endpoint is one handler function plus one row in
`ROUTES`. A row marked `user_only` answers an app (client-credentials) token with 403
"This request requires user authentication.", as Spotify does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spotify_twin import objects, routes_catalog, routes_restricted, routes_user
from spotify_twin.api import (
    USER_AUTH_REQUIRED,
    ApiRequest,
    ApiResponse,
    Handler,
    error_response,
    ids,
    limit_offset,
    market,
    not_found,
    ok,
    path_id,
)
from spotify_twin.catalog import Catalog
from spotify_twin.errors import ApiError
from spotify_twin.rows import ListenerRow

__all__ = ["ROUTES", "ApiRequest", "ApiResponse", "Route", "dispatch", "error_response"]

MAX_ALBUM_IDS = 20
MAX_TRACK_IDS = 50
MAX_ARTIST_IDS = 50


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # e.g. "/v1/albums/{id}/tracks"
    handler: Handler
    user_only: bool = False  # needs a user token (authorization-code flow)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.pattern))
        object.__setattr__(self, "regex", re.compile(f"{regex}/?"))


# ---- first-slice handlers ---------------------------------------------------------------------------------


def get_new_releases(request: ApiRequest) -> ApiResponse:
    limit, offset = limit_offset(request)
    market(request)  # validated for parity with other endpoints; new releases are not market-filtered here
    return ok(objects.new_releases_page(request.catalog, request.base_url, offset, limit))


def get_several_albums(request: ApiRequest) -> ApiResponse:
    wanted = ids(request, MAX_ALBUM_IDS)
    country = market(request)
    catalog = request.catalog

    def lookup(album_id: str) -> objects.JsonObject | None:
        album = catalog.album_by_id.get(album_id)
        return objects.full_album(album, catalog, request.base_url, country) if album else None

    return ok(objects.many("albums", wanted, lookup))


def get_album(request: ApiRequest) -> ApiResponse:
    album = request.catalog.album_by_id.get(path_id(request))
    country = market(request)
    if album is None:
        raise not_found()
    return ok(objects.full_album(album, request.catalog, request.base_url, country))


def get_album_tracks(request: ApiRequest) -> ApiResponse:
    album = request.catalog.album_by_id.get(path_id(request))
    limit, offset = limit_offset(request)
    country = market(request)
    if album is None:
        raise not_found()
    return ok(objects.album_tracks_page(album, request.catalog, request.base_url, offset, limit, country))


def get_several_tracks(request: ApiRequest) -> ApiResponse:
    wanted = ids(request, MAX_TRACK_IDS)
    country = market(request)
    catalog = request.catalog

    def lookup(track_id: str) -> objects.JsonObject | None:
        track = catalog.track_by_id.get(track_id)
        return objects.full_track(track, catalog, request.base_url, country) if track else None

    return ok(objects.many("tracks", wanted, lookup))


def get_track(request: ApiRequest) -> ApiResponse:
    track = request.catalog.track_by_id.get(path_id(request))
    country = market(request)
    if track is None:
        raise not_found()
    return ok(objects.full_track(track, request.catalog, request.base_url, country))


def get_several_artists(request: ApiRequest) -> ApiResponse:
    wanted = ids(request, MAX_ARTIST_IDS)
    catalog = request.catalog

    def lookup(artist_id: str) -> objects.JsonObject | None:
        artist = catalog.artist_by_id.get(artist_id)
        return objects.full_artist(artist, request.base_url) if artist else None

    return ok(objects.many("artists", wanted, lookup))


def get_artist(request: ApiRequest) -> ApiResponse:
    artist = request.catalog.artist_by_id.get(path_id(request))
    if artist is None:
        raise not_found()
    return ok(objects.full_artist(artist, request.base_url))


ROUTES: tuple[Route, ...] = (
    # first slice
    Route("GET", "/v1/browse/new-releases", get_new_releases),
    Route("GET", "/v1/albums", get_several_albums),
    Route("GET", "/v1/albums/{id}", get_album),
    Route("GET", "/v1/albums/{id}/tracks", get_album_tracks),
    Route("GET", "/v1/tracks", get_several_tracks),
    Route("GET", "/v1/tracks/{id}", get_track),
    Route("GET", "/v1/artists", get_several_artists),
    Route("GET", "/v1/artists/{id}", get_artist),
    # further catalog sources
    Route("GET", "/v1/artists/{id}/albums", routes_catalog.get_artist_albums),
    Route("GET", "/v1/artists/{id}/top-tracks", routes_catalog.get_artist_top_tracks),
    Route("GET", "/v1/search", routes_catalog.get_search),
    Route("GET", "/v1/playlists/{id}", routes_catalog.get_playlist),
    Route("GET", "/v1/playlists/{id}/items", routes_catalog.get_playlist_items),
    Route("GET", "/v1/playlists/{id}/tracks", routes_catalog.get_playlist_tracks),
    Route("GET", "/v1/browse/categories", routes_catalog.get_categories),
    Route("GET", "/v1/markets", routes_catalog.get_markets),
    # the listener (user token only)
    Route("GET", "/v1/me", routes_user.get_me, user_only=True),
    Route("GET", "/v1/me/top/artists", routes_user.get_top_artists, user_only=True),
    Route("GET", "/v1/me/top/tracks", routes_user.get_top_tracks, user_only=True),
    Route("GET", "/v1/me/player/recently-played", routes_user.get_recently_played, user_only=True),
    Route("GET", "/v1/me/tracks", routes_user.get_saved_tracks, user_only=True),
    Route("GET", "/v1/me/following", routes_user.get_followed_artists, user_only=True),
    Route("GET", "/v1/me/playlists", routes_user.get_my_playlists, user_only=True),
    # restricted for apps created after 2024-11-27
    Route("GET", "/v1/audio-features", routes_restricted.get_several_audio_features),
    Route("GET", "/v1/audio-features/{id}", routes_restricted.get_audio_features),
    Route("GET", "/v1/audio-analysis/{id}", routes_restricted.get_audio_analysis),
    Route("GET", "/v1/recommendations", routes_restricted.get_recommendations),
    Route("GET", "/v1/artists/{id}/related-artists", routes_restricted.get_related_artists),
    Route("GET", "/v1/browse/featured-playlists", routes_restricted.get_featured_playlists),
    Route("GET", "/v1/browse/categories/{category_id}/playlists", routes_restricted.get_category_playlists),
)


def dispatch(
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    catalog: Catalog,
    base_url: str,
    routes: Sequence[Route] = ROUTES,
    *,
    user: ListenerRow | None = None,
    legacy_app: bool = False,
) -> ApiResponse:
    """Find the route for `method path` and run it; every failure becomes Spotify's error JSON.

    `user` is the listener when the bearer is a user token, None for an app token.
    """
    path_matched = False
    for route in routes:
        match = route.regex.fullmatch(path)
        if match is None:
            continue
        path_matched = True
        if route.method != method:
            continue
        if route.user_only and user is None:
            return error_response(403, USER_AUTH_REQUIRED)
        request = ApiRequest(
            path_params=match.groupdict(), query=query, catalog=catalog, base_url=base_url, user=user,
            legacy_app=legacy_app,
        )
        try:
            return route.handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
    if path_matched:
        return error_response(405, "Method not allowed")
    return error_response(404, "Service not found")
