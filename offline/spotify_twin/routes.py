"""Route table of the Web API: path pattern -> pure handler.

Handlers live here (first slice) and in `routes_catalog`, `routes_user` and `routes_restricted`; the types
and query helpers they share are in `api`. Adding an endpoint is one handler function plus one row in
`ROUTES`. A row marked `user_only` answers an app (client-credentials) token with 403
"This request requires user authentication.", as Spotify does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offline.spotify_twin import objects, routes_catalog, routes_restricted, routes_user
from offline.spotify_twin.access import FORBIDDEN, AccessMode, refused_in_development, strip_removed_fields
from offline.spotify_twin.api import (
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
from offline.spotify_twin.catalog import Catalog
from offline.spotify_twin.errors import ApiError
from offline.spotify_twin.rows import ListenerRow

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


@dataclass(frozen=True)
class _Lookup:
    """GET /v1/<kind>?ids= and GET /v1/<kind>/{id} of one catalog object kind (albums, tracks, artists)."""

    key: str  # the several-ids body's key, e.g. "albums"
    max_ids: int
    index: Callable[[Catalog], Mapping[str, Any]]
    render: Callable[[Any, ApiRequest, str | None], objects.JsonObject]
    takes_market: bool = True

    def several(self, request: ApiRequest) -> ApiResponse:
        wanted = ids(request, self.max_ids)
        country = market(request) if self.takes_market else None
        found = self.index(request.catalog)

        def lookup(object_id: str) -> objects.JsonObject | None:
            obj = found.get(object_id)
            return self.render(obj, request, country) if obj is not None else None

        return ok(objects.many(self.key, wanted, lookup))

    def one(self, request: ApiRequest) -> ApiResponse:
        obj = self.index(request.catalog).get(path_id(request))
        country = market(request) if self.takes_market else None  # a bad market is a 400 even for a missing id
        if obj is None:
            raise not_found()
        return ok(self.render(obj, request, country))


_ALBUMS = _Lookup("albums", MAX_ALBUM_IDS, lambda c: c.album_by_id,
                  lambda album, r, country: objects.full_album(album, r.catalog, r.base_url, country))
_TRACKS = _Lookup("tracks", MAX_TRACK_IDS, lambda c: c.track_by_id,
                  lambda track, r, country: objects.full_track(track, r.catalog, r.base_url, country))
_ARTISTS = _Lookup("artists", MAX_ARTIST_IDS, lambda c: c.artist_by_id,
                   lambda artist, r, _: objects.full_artist(artist, r.base_url), takes_market=False)


def get_album_tracks(request: ApiRequest) -> ApiResponse:
    album = request.catalog.album_by_id.get(path_id(request))
    limit, offset = limit_offset(request)
    country = market(request)
    if album is None:
        raise not_found()
    return ok(objects.album_tracks_page(album, request.catalog, request.base_url, offset, limit, country))


ROUTES: tuple[Route, ...] = (
    # first slice
    Route("GET", "/v1/browse/new-releases", get_new_releases),
    Route("GET", "/v1/albums", _ALBUMS.several),
    Route("GET", "/v1/albums/{id}", _ALBUMS.one),
    Route("GET", "/v1/albums/{id}/tracks", get_album_tracks),
    Route("GET", "/v1/tracks", _TRACKS.several),
    Route("GET", "/v1/tracks/{id}", _TRACKS.one),
    Route("GET", "/v1/artists", _ARTISTS.several),
    Route("GET", "/v1/artists/{id}", _ARTISTS.one),
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
    access_mode: AccessMode = AccessMode.DEVELOPMENT,
) -> ApiResponse:
    """Find the route for `method path` and run it; every failure becomes Spotify's error JSON.

    `user` is the listener when the bearer is a user token, None for an app token. In development mode the
    operations Spotify closed answer 403 "Forbidden" whether or not the twin implements them, and every
    body loses the fields Spotify no longer sends (`offline.spotify_twin.access`).
    """
    development = access_mode is AccessMode.DEVELOPMENT
    if development and refused_in_development(method, path):
        return error_response(403, FORBIDDEN)
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
            legacy_app=legacy_app, access_mode=access_mode,
        )
        try:
            response = route.handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
        if development and response.status == 200:
            strip_removed_fields(response.body)
        return response
    if path_matched:
        return error_response(405, "Method not allowed")
    return error_response(404, "Service not found")
