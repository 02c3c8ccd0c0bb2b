"""What a route handler sees and returns, plus the query-parameter helpers every handler shares.

A handler takes an `ApiRequest` (path params, query, catalog, base URL, the listener when the bearer is a
user token) and returns an `ApiResponse`, or raises `ApiError`; it never touches sockets, auth or faults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offline.spotify_twin import objects
from offline.spotify_twin.access import AccessMode
from offline.spotify_twin.catalog import Catalog
from offline.spotify_twin.errors import ApiError
from offline.spotify_twin.rows import ListenerRow
from offline.spotify_twin.vocabulary import BASE62, ID_LENGTH

MAX_LIMIT = 50
DEFAULT_LIMIT = 20

_ID_RE = re.compile(f"[{re.escape(BASE62)}]{{{ID_LENGTH}}}")
_MARKET_RE = re.compile("[A-Za-z]{2}")


@dataclass(frozen=True)
class ApiRequest:
    path_params: Mapping[str, str]
    query: Mapping[str, Sequence[str]]
    catalog: Catalog
    base_url: str  # absolute, e.g. http://127.0.0.1:PORT/v1, so paging links point back at this twin
    user: ListenerRow | None = None  # set when the bearer came from the refresh-token grant
    legacy_app: bool = False  # serve endpoints Spotify restricted for new apps on 2024-11-27
    access_mode: AccessMode = AccessMode.DEVELOPMENT

    @property
    def development(self) -> bool:
        return self.access_mode is AccessMode.DEVELOPMENT


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], ApiResponse]


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None, reason: str | None = None
) -> ApiResponse:
    return ApiResponse(status, objects.error_body(status, message, reason), dict(headers or {}))


def ok(body: Any) -> ApiResponse:
    return ApiResponse(200, body)


def one(request: ApiRequest, name: str) -> str | None:
    values = request.query.get(name)
    return values[-1] if values else None


def int_param(request: ApiRequest, name: str, default: int, low: int, high: int | None) -> int:
    raw = one(request, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"Invalid {name}")
    return value


def limit_offset(
    request: ApiRequest, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT, max_offset: int | None = None
) -> tuple[int, int]:
    return (
        int_param(request, "limit", default, 1, maximum),
        int_param(request, "offset", 0, 0, max_offset),
    )


def market(request: ApiRequest) -> str | None:
    """Country code to filter by, or None.

    `from_token` means the user's country under a user token and nothing under client credentials.
    """
    raw = one(request, "market")
    if raw is None or raw == "":
        return None
    if raw == "from_token":
        return request.user.country if request.user is not None else None
    if not _MARKET_RE.fullmatch(raw):
        raise ApiError(400, "Invalid market code")
    return raw.upper()


def check_id(raw: str) -> str:
    if not _ID_RE.fullmatch(raw):
        raise ApiError(400, "Invalid base62 id")
    return raw


def ids(request: ApiRequest, maximum: int) -> list[str]:
    raw = one(request, "ids")
    if raw is None or raw == "":
        raise ApiError(400, "Missing required parameter: ids")
    values = raw.split(",")
    if len(values) > maximum:
        raise ApiError(400, "Too many ids requested")
    return [check_id(i) for i in values]


def path_id(request: ApiRequest) -> str:
    return check_id(request.path_params["id"])


def listener(request: ApiRequest) -> ListenerRow:
    """The user behind the token; the dispatcher already refused app tokens on user routes."""
    if request.user is None:
        raise ApiError(403, USER_AUTH_REQUIRED)
    return request.user


def not_found() -> ApiError:
    return ApiError(404, "Resource not found")


USER_AUTH_REQUIRED = "This request requires user authentication."
