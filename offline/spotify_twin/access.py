"""Access modes: what a Development Mode app gets in 2026 versus an app with extended quota. Pure.

Sources (each rule below names one):

- [FEB26] Spotify, "February 2026 Web API Dev Mode Changes - Migration Guide" and "Web API Changelog -
  February 2026" (https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide):
  new Development Mode apps from 2026-02-11, existing ones from 2026-03-09; extended quota apps unchanged.
- [MAR26] "Web API Changelog - March 2026": `external_ids` on albums and tracks REVERTED to available.
- [JUL26] "Web API Changelog - July 2026": the daily request quota per developer app (429 `QUOTA_EXCEEDED`).
- [OAS] the vendored OpenAPI description (`offline/spotify_twin/openapi/openapi.yaml`, 2026.5.31): the operations it
  marks `deprecated: true` are exactly `REFUSED_IN_DEVELOPMENT`; a test derives them from the file and checks.
- [NOV24] Spotify blog "Introducing some changes to our Web API", 2024-11-27: those endpoints keep the
  statuses clients report for new apps (see `routes_restricted`), in both modes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

FORBIDDEN = "Forbidden"  # the message Spotify sends with these 403s ([FEB26], client reports of the live API)
PREMIUM_REQUIRED = "Active premium subscription required for the owner of the app"  # [FEB26] Premium requirement
QUOTA_EXCEEDED_REASON = "QUOTA_EXCEEDED"  # [JUL26]
QUOTA_EXCEEDED_MESSAGE = "Daily request quota for this app exceeded"
# [JUL26]: reported Retry-After values are around 50,000 s (until the quota window resets), far from the
# rolling 30 s rate limit's few seconds.
QUOTA_RETRY_AFTER_S = 50_000
MAX_ALLOWLISTED_USERS = 5  # [FEB26] "Users per app: 5"


class AccessMode(Enum):
    DEVELOPMENT = "development"  # a new app today: the default everywhere
    EXTENDED = "extended"  # extended quota granted before the change: old endpoints and fields [FEB26]

    @classmethod
    def parse(cls, value: str | AccessMode) -> AccessMode:
        """The mode named `value`; ValueError naming the choices otherwise."""
        if isinstance(value, AccessMode):
            return value
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown access mode {value!r}; choose one of {choices}") from None


# [OAS] every operation marked `deprecated: true`, written as in the OpenAPI file (without /v1). [FEB26] lists the
# GET ones as removed for Development Mode (browse, markets, artist top tracks, the several-ids lookups, other
# users' profiles and playlists, /playlists/{id}/tracks renamed to /items) and the write ones as replaced
# (PUT/DELETE /me/library, POST /me/playlists); the rest is [NOV24].
REFUSED_IN_DEVELOPMENT: tuple[tuple[str, str], ...] = (
    ("GET", "/albums"),
    ("GET", "/artists"),
    ("GET", "/artists/{id}/top-tracks"),
    ("GET", "/artists/{id}/related-artists"),
    ("GET", "/shows"),
    ("GET", "/episodes"),
    ("GET", "/audiobooks"),
    ("PUT", "/me/audiobooks"),
    ("DELETE", "/me/audiobooks"),
    ("GET", "/me/audiobooks/contains"),
    ("GET", "/chapters"),
    ("GET", "/tracks"),
    ("GET", "/playlists/{playlist_id}/tracks"),
    ("POST", "/playlists/{playlist_id}/tracks"),
    ("PUT", "/playlists/{playlist_id}/tracks"),
    ("DELETE", "/playlists/{playlist_id}/tracks"),
    ("PUT", "/me/albums"),
    ("DELETE", "/me/albums"),
    ("GET", "/me/albums/contains"),
    ("PUT", "/me/tracks"),
    ("DELETE", "/me/tracks"),
    ("GET", "/me/tracks/contains"),
    ("PUT", "/me/episodes"),
    ("DELETE", "/me/episodes"),
    ("GET", "/me/episodes/contains"),
    ("PUT", "/me/shows"),
    ("DELETE", "/me/shows"),
    ("GET", "/me/shows/contains"),
    ("GET", "/users/{user_id}"),
    ("GET", "/users/{user_id}/playlists"),
    ("POST", "/users/{user_id}/playlists"),
    ("PUT", "/playlists/{playlist_id}/followers"),
    ("DELETE", "/playlists/{playlist_id}/followers"),
    ("GET", "/browse/featured-playlists"),
    ("GET", "/browse/categories"),
    ("GET", "/browse/categories/{category_id}"),
    ("GET", "/browse/categories/{category_id}/playlists"),
    ("GET", "/browse/new-releases"),
    ("PUT", "/me/following"),
    ("DELETE", "/me/following"),
    ("GET", "/me/following/contains"),
    ("GET", "/playlists/{playlist_id}/followers/contains"),
    ("GET", "/audio-features"),
    ("GET", "/audio-features/{id}"),
    ("GET", "/audio-analysis/{id}"),
    ("GET", "/recommendations"),
    ("GET", "/recommendations/available-genre-seeds"),
    ("GET", "/markets"),
)

# [NOV24] endpoints: their own handlers already answer a new app (403 or 404, as reported from the live API), in
# either mode; development mode leaves them to those handlers rather than turning them all into 403.
RESTRICTED_SINCE_2024_11_27: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/artists/{id}/related-artists"),
        ("GET", "/browse/featured-playlists"),
        ("GET", "/browse/categories/{category_id}/playlists"),
        ("GET", "/audio-features"),
        ("GET", "/audio-features/{id}"),
        ("GET", "/audio-analysis/{id}"),
        ("GET", "/recommendations"),
        ("GET", "/recommendations/available-genre-seeds"),
    }
)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("/v1" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(pattern)) + "/?")


_REFUSED = tuple(
    (method, _compile(pattern))
    for method, pattern in REFUSED_IN_DEVELOPMENT
    if (method, pattern) not in RESTRICTED_SINCE_2024_11_27
)


def refused_in_development(method: str, path: str) -> bool:
    """Whether a Development Mode app gets 403 "Forbidden" for `method path` (path with the /v1 prefix)."""
    return any(method == m and regex.fullmatch(path) for m, regex in _REFUSED)


# [FEB26] fields no longer sent to Development Mode apps, per object `type`. [MAR26] `external_ids` stays.
# Artist `genres` is only deprecated [FEB26] and is still sent. The renamed playlist fields ([FEB26] "tracks ->
# items", "tracks.track -> items.item") are handled in `strip_removed_fields`.
REMOVED_FIELDS: Mapping[str, frozenset[str]] = {
    "track": frozenset({"popularity", "available_markets", "linked_from"}),
    "album": frozenset({"popularity", "label", "available_markets", "album_group"}),
    "artist": frozenset({"popularity", "followers"}),
    "user": frozenset({"country", "email", "explicit_content", "followers", "product"}),
    "show": frozenset({"available_markets", "publisher"}),
}


def strip_removed_fields(body: Any) -> Any:
    """`body` as a Development Mode app receives it: removed fields absent (not null), wherever objects nest.

    Mutates and returns `body` (handlers build fresh dicts per response). Playlist objects lose the deprecated
    `tracks` (their items are under `items`) and playlist entries the deprecated `track` (the item is under
    `item`) [FEB26].
    """
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            kind = node.get("type")
            removed = REMOVED_FIELDS.get(kind) if isinstance(kind, str) else None
            if removed is not None:
                for name in removed & node.keys():
                    del node[name]
            if kind == "playlist":
                node.pop("tracks", None)
            elif "item" in node and "added_at" in node:
                node.pop("track", None)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return body
