"""Route table of the Web API: path pattern -> pure handler.

A handler takes an `ApiRequest` (path params, query, catalog, base URL) and returns an `ApiResponse`,
or raises `ApiError`; it never touches sockets, auth or faults (the server does). Adding an endpoint is
one handler function plus one row in `ROUTES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spotify_twin import objects
from spotify_twin.catalog import BASE62, ID_LENGTH, Catalog
from spotify_twin.errors import ApiError

MAX_LIMIT = 50
DEFAULT_LIMIT = 20
MAX_ALBUM_IDS = 20
MAX_TRACK_IDS = 50
MAX_ARTIST_IDS = 50

_ID_RE = re.compile(f"[{re.escape(BASE62)}]{{{ID_LENGTH}}}")
_MARKET_RE = re.compile("[A-Za-z]{2}")


@dataclass(frozen=True)
class ApiRequest:
    path_params: Mapping[str, str]
    query: Mapping[str, Sequence[str]]
    catalog: Catalog
    base_url: str  # absolute, e.g. http://127.0.0.1:PORT/v1, so paging links point back at this twin


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], ApiResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # e.g. "/v1/albums/{id}/tracks"
    handler: Handler
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.pattern))
        object.__setattr__(self, "regex", re.compile(f"{regex}/?"))


# ---- query helpers ------------------------------------------------------------------------------------


def _one(request: ApiRequest, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def _int_param(request: ApiRequest, name: str, default: int, low: int, high: int | None) -> int:
    raw = _one(request, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"Invalid {name}")
    return value


def _limit_offset(request: ApiRequest) -> tuple[int, int]:
    return (
        _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        _int_param(request, "offset", 0, 0, None),
    )


def _market(request: ApiRequest) -> str | None:
    """Country code to filter by, or None. `from_token` has no user country under client credentials."""
    raw = _one(request, "market")
    if raw is None or raw == "" or raw == "from_token":
        return None
    if not _MARKET_RE.fullmatch(raw):
        raise ApiError(400, "Invalid market code")
    return raw.upper()


def _check_id(raw: str) -> str:
    if not _ID_RE.fullmatch(raw):
        raise ApiError(400, "Invalid base62 id")
    return raw


def _ids(request: ApiRequest, maximum: int) -> list[str]:
    raw = _one(request, "ids")
    if raw is None or raw == "":
        raise ApiError(400, "Missing required parameter: ids")
    ids = raw.split(",")
    if len(ids) > maximum:
        raise ApiError(400, "Too many ids requested")
    return [_check_id(i) for i in ids]


def _path_id(request: ApiRequest) -> str:
    return _check_id(request.path_params["id"])


def _ok(body: Any) -> ApiResponse:
    return ApiResponse(200, body)


# ---- handlers -----------------------------------------------------------------------------------------


def get_new_releases(request: ApiRequest) -> ApiResponse:
    limit, offset = _limit_offset(request)
    _market(request)  # validated for parity with other endpoints; new releases are not market-filtered here
    return _ok(objects.new_releases_page(request.catalog, request.base_url, offset, limit))


def get_several_albums(request: ApiRequest) -> ApiResponse:
    ids = _ids(request, MAX_ALBUM_IDS)
    market = _market(request)
    catalog = request.catalog

    def lookup(album_id: str) -> objects.JsonObject | None:
        album = catalog.album_by_id.get(album_id)
        return objects.full_album(album, catalog, request.base_url, market) if album else None

    return _ok(objects.many("albums", ids, lookup))


def get_album(request: ApiRequest) -> ApiResponse:
    album = request.catalog.album_by_id.get(_path_id(request))
    market = _market(request)
    if album is None:
        raise ApiError(404, "Resource not found")
    return _ok(objects.full_album(album, request.catalog, request.base_url, market))


def get_album_tracks(request: ApiRequest) -> ApiResponse:
    album = request.catalog.album_by_id.get(_path_id(request))
    limit, offset = _limit_offset(request)
    market = _market(request)
    if album is None:
        raise ApiError(404, "Resource not found")
    return _ok(objects.album_tracks_page(album, request.catalog, request.base_url, offset, limit, market))


def get_several_tracks(request: ApiRequest) -> ApiResponse:
    ids = _ids(request, MAX_TRACK_IDS)
    market = _market(request)
    catalog = request.catalog

    def lookup(track_id: str) -> objects.JsonObject | None:
        track = catalog.track_by_id.get(track_id)
        return objects.full_track(track, catalog, request.base_url, market) if track else None

    return _ok(objects.many("tracks", ids, lookup))


def get_track(request: ApiRequest) -> ApiResponse:
    track = request.catalog.track_by_id.get(_path_id(request))
    market = _market(request)
    if track is None:
        raise ApiError(404, "Resource not found")
    return _ok(objects.full_track(track, request.catalog, request.base_url, market))


def get_several_artists(request: ApiRequest) -> ApiResponse:
    ids = _ids(request, MAX_ARTIST_IDS)
    catalog = request.catalog

    def lookup(artist_id: str) -> objects.JsonObject | None:
        artist = catalog.artist_by_id.get(artist_id)
        return objects.full_artist(artist, request.base_url) if artist else None

    return _ok(objects.many("artists", ids, lookup))


def get_artist(request: ApiRequest) -> ApiResponse:
    artist = request.catalog.artist_by_id.get(_path_id(request))
    if artist is None:
        raise ApiError(404, "Resource not found")
    return _ok(objects.full_artist(artist, request.base_url))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/browse/new-releases", get_new_releases),
    Route("GET", "/v1/albums", get_several_albums),
    Route("GET", "/v1/albums/{id}", get_album),
    Route("GET", "/v1/albums/{id}/tracks", get_album_tracks),
    Route("GET", "/v1/tracks", get_several_tracks),
    Route("GET", "/v1/tracks/{id}", get_track),
    Route("GET", "/v1/artists", get_several_artists),
    Route("GET", "/v1/artists/{id}", get_artist),
)


def dispatch(
    method: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    catalog: Catalog,
    base_url: str,
    routes: Sequence[Route] = ROUTES,
) -> ApiResponse:
    """Find the route for `method path` and run it; every failure becomes Spotify's error JSON."""
    path_matched = False
    for route in routes:
        match = route.regex.fullmatch(path)
        if match is None:
            continue
        path_matched = True
        if route.method != method:
            continue
        request = ApiRequest(path_params=match.groupdict(), query=query, catalog=catalog, base_url=base_url)
        try:
            return route.handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message)
    if path_matched:
        return error_response(405, "Method not allowed")
    return error_response(404, "Service not found")


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, objects.error_body(status, message), dict(headers or {}))
