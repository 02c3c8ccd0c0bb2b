"""Every Spotify source, declared once: what serves it, how it is requested, what it lands as and feeds.

Extraction plans from these declarations (``activities.extract.plan`` builds a source's requests from
``fetch``), the transform parses a raw part with the ``parser`` of its entity, and the docs list them. Code
is named by dotted path (``module:function``) so neither stage imports the other: what ships to Batch
for the extract never loads the transform, and the other way round.

Access modes (Spotify Web API changelog, 2026-02 "Development Mode" changes; issue 9):

- ``development``: what an app registered today may call. The several-ids lookups, browse, markets,
  artist top tracks and other users' data answer 403; search and ``/artists/{id}/albums`` take at most
  ``limit=10``; playlist items are served to the owner or a collaborator only.
- ``extended``: an app granted extended quota before the change keeps the older endpoints and limits.

Adding a source: one :class:`Source` here, its ``fetch`` in ``activities.extract.plan``, its parser in
``activities.transform.parse`` and its twin route.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEVELOPMENT = "development"
EXTENDED = "extended"
ACCESS_MODES = (DEVELOPMENT, EXTENDED)
BOTH = frozenset(ACCESS_MODES)
EXTENDED_ONLY = frozenset({EXTENDED})

# Paging kinds: how further pages are reached.
SINGLE = "single"  # one object, no paging
OFFSET = "offset"  # limit/offset paging object (pages fan out once the first tells the total)
CURSOR = "cursor"  # cursor paging (each page names the next)
IDS = "ids"  # several ids per request (?ids=a,b,c)

# Roles in the plan, in the order a run spends its request budget (user data first).
USER = "user"  # the user's own data (user token); always fetched first
DISCOVERY = "discovery"  # catalog sources seeded by configuration (search, artists, playlists)
LOOKUP = "lookup"  # full objects for ids the other sources revealed


@dataclass(frozen=True)
class Request:
    """One endpoint a source calls."""

    path: str  # template, e.g. ``/albums/{id}``
    paging: str  # SINGLE, OFFSET, CURSOR or IDS
    # Per access mode: the page size (``limit``) or ids per request the endpoint accepts there.
    limits: Mapping[str, int] = field(default_factory=dict)

    def limit(self, mode: str) -> int:
        return self.limits.get(mode, 0)


@dataclass(frozen=True)
class Source:
    """A Spotify source: its requests per access mode, the raw entity it lands as, what it feeds."""

    name: str
    entity: str  # the raw zone folder and manifest ``entity`` (board contract: names as today)
    role: str
    modes: frozenset[str]  # access modes that serve it
    requests: Mapping[str, tuple[Request, ...]]  # access mode -> the endpoints it calls there
    user_scoped: bool  # needs a user token; its manifest parts carry ``user_id``
    tables: tuple[str, ...]  # curated tables its parser writes; the first is where a bad part is quarantined
    parser: str  # ``module:function`` of the transform's parser of ``entity``
    fetch: str = ""  # ``module:function`` of the extract's plan builder (``activities.extract.plan``)

    def served_in(self, mode: str) -> bool:
        return mode in self.modes


def _req(path: str, paging: str, development: int = 0, extended: int = 0) -> Request:
    limits = {mode: limit for mode, limit in ((DEVELOPMENT, development), (EXTENDED, extended)) if limit}
    return Request(path, paging, limits)


def _both(*requests: Request) -> Mapping[str, tuple[Request, ...]]:
    return {DEVELOPMENT: requests, EXTENDED: requests}


_PARSE = "activities.transform.parse"
_PLAN = "activities.extract.plan"
_CATALOG_TABLES = ("albums", "tracks", "artists", "album_artists", "track_artists", "artist_genres")

SOURCES: tuple[Source, ...] = (
    # -- the user's own data (user token) --------------------------------------------------------
    Source("user_profile", "user_profile", USER, BOTH, _both(_req("/me", SINGLE)), True, ("users",),
           f"{_PARSE}.user:parse_user_profile", f"{_PLAN}:user_profile"),
    Source("user_top_artists", "user_top_artists", USER, BOTH,
           _both(_req("/me/top/artists", OFFSET, 50, 50)), True, ("user_top_items", "artists", "artist_genres"),
           f"{_PARSE}.user:parse_user_top_artists", f"{_PLAN}:user_top_artists"),
    Source("user_top_tracks", "user_top_tracks", USER, BOTH,
           _both(_req("/me/top/tracks", OFFSET, 50, 50)), True, ("user_top_items",) + _CATALOG_TABLES,
           f"{_PARSE}.user:parse_user_top_tracks", f"{_PLAN}:user_top_tracks"),
    Source("recently_played", "recently_played", USER, BOTH,
           _both(_req("/me/player/recently-played", CURSOR, 50, 50)), True, ("recently_played",) + _CATALOG_TABLES,
           f"{_PARSE}.user:parse_recently_played", f"{_PLAN}:recently_played"),
    Source("saved_tracks", "saved_tracks", USER, BOTH, _both(_req("/me/tracks", OFFSET, 50, 50)), True,
           ("saved_tracks",) + _CATALOG_TABLES, f"{_PARSE}.user:parse_saved_tracks", f"{_PLAN}:saved_tracks"),
    Source("followed_artists", "followed_artists", USER, BOTH,
           _both(_req("/me/following?type=artist", CURSOR, 50, 50)), True, ("followed_artists", "artists",
                                                                             "artist_genres"),
           f"{_PARSE}.user:parse_followed_artists", f"{_PLAN}:followed_artists"),
    Source("user_playlists", "user_playlists", USER, BOTH, _both(_req("/me/playlists", OFFSET, 50, 50)), True,
           ("user_playlists", "playlists", "users"), f"{_PARSE}.playlists:parse_user_playlists",
           f"{_PLAN}:user_playlists"),
    # -- catalog sources seeded by configuration (app token; playlist items need the owner's token) --
    Source("search", "search", DISCOVERY, BOTH, _both(_req("/search", OFFSET, 10, 10)), False,
           ("search_results", "playlists") + _CATALOG_TABLES, f"{_PARSE}.search:parse_search", f"{_PLAN}:search"),
    Source("artist_albums", "artist_albums", DISCOVERY, BOTH,
           _both(_req("/artists/{id}/albums", OFFSET, 10, 10)), False, _CATALOG_TABLES,
           f"{_PARSE}.catalog:parse_artist_albums", f"{_PLAN}:artist_albums"),
    Source("playlists", "playlists", DISCOVERY, BOTH, _both(_req("/playlists/{id}", SINGLE)), False,
           ("playlists", "users"), f"{_PARSE}.playlists:parse_playlists", f"{_PLAN}:playlists"),
    Source("playlist_items", "playlist_items", DISCOVERY, BOTH,
           _both(_req("/playlists/{id}/items", OFFSET, 50, 50)), False, ("playlist_items",) + _CATALOG_TABLES,
           f"{_PARSE}.playlists:parse_playlist_items", f"{_PLAN}:playlist_items"),
    Source("new_releases", "new_releases", DISCOVERY, EXTENDED_ONLY,
           {EXTENDED: (_req("/browse/new-releases", OFFSET, extended=50),)}, False,
           ("new_releases",) + _CATALOG_TABLES, f"{_PARSE}.catalog:parse_new_releases", f"{_PLAN}:new_releases"),
    Source("categories", "categories", DISCOVERY, EXTENDED_ONLY,
           {EXTENDED: (_req("/browse/categories", OFFSET, extended=50),)}, False, ("categories",),
           f"{_PARSE}.catalog:parse_categories", f"{_PLAN}:categories"),
    Source("markets", "markets", DISCOVERY, EXTENDED_ONLY, {EXTENDED: (_req("/markets", SINGLE),)}, False,
           ("markets",), f"{_PARSE}.catalog:parse_markets", f"{_PLAN}:markets"),
    Source("artist_top_tracks", "artist_top_tracks", DISCOVERY, EXTENDED_ONLY,
           {EXTENDED: (_req("/artists/{id}/top-tracks", SINGLE),)}, False, ("artist_top_tracks",) + _CATALOG_TABLES,
           f"{_PARSE}.catalog:parse_artist_top_tracks", f"{_PLAN}:artist_top_tracks"),
    # -- full objects for the ids the other sources revealed (development: per id; extended: ?ids=) --
    Source("albums", "albums", LOOKUP, BOTH,
           {DEVELOPMENT: (_req("/albums/{id}", SINGLE),), EXTENDED: (_req("/albums", IDS, extended=20),)}, False,
           _CATALOG_TABLES, f"{_PARSE}.catalog:parse_albums", f"{_PLAN}:albums"),
    Source("album_tracks", "album_tracks", LOOKUP, BOTH, _both(_req("/albums/{id}/tracks", OFFSET, 50, 50)), False,
           ("tracks", "track_artists"), f"{_PARSE}.catalog:parse_album_tracks", f"{_PLAN}:albums"),
    Source("tracks", "tracks", LOOKUP, BOTH,
           {DEVELOPMENT: (_req("/tracks/{id}", SINGLE),), EXTENDED: (_req("/tracks", IDS, extended=50),)}, False,
           ("tracks", "albums", *_CATALOG_TABLES[2:]), f"{_PARSE}.catalog:parse_tracks", f"{_PLAN}:tracks"),
    Source("artists", "artists", LOOKUP, BOTH,
           {DEVELOPMENT: (_req("/artists/{id}", SINGLE),), EXTENDED: (_req("/artists", IDS, extended=50),)}, False,
           ("artists", "artist_genres"), f"{_PARSE}.catalog:parse_artists", f"{_PLAN}:artists"),
)

# Refused to apps created after 2024-11-27 (Spotify changelog); tried only when configured, in extended mode.
RESTRICTED_NAMES = (
    "related_artists", "recommendations", "featured_playlists", "category_playlists", "audio_features",
    "audio_analysis",
)

BY_NAME: Mapping[str, Source] = {source.name: source for source in SOURCES}
BY_ENTITY: Mapping[str, Source] = {source.entity: source for source in SOURCES}


def source(name: str) -> Source:
    """The declaration of ``name``; a ValueError naming the known ones otherwise."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown Spotify source `{name}`; known: {', '.join(BY_NAME)}") from None


def names(*, role: str | None = None, mode: str | None = None) -> tuple[str, ...]:
    """Source names, in declaration order, optionally of one role and/or served in one access mode."""
    return tuple(s.name for s in SOURCES if (role is None or s.role == role) and (mode is None or s.served_in(mode)))


def resolve(dotted: str) -> Callable[..., Any]:
    """The function ``module:function`` names (imported on first use)."""
    module, _, attribute = dotted.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
    return function


__all__ = [
    "ACCESS_MODES", "BOTH", "BY_ENTITY", "BY_NAME", "CURSOR", "DEVELOPMENT", "DISCOVERY", "EXTENDED", "IDS", "LOOKUP",
    "OFFSET", "RESTRICTED_NAMES", "SINGLE", "SOURCES", "USER", "Request", "Source", "names", "resolve",
    "source",
]
