"""Parsers of raw Spotify response bodies, one per raw entity (the manifest part's ``entity``).

``PARSERS`` maps the entity to its parser: ``parser(body, context, emitter)`` where ``context``
is the part's ``request_url`` parsed (artist id, market, time range, query, playlist id) and
``emitter`` receives the row tuples. A body whose envelope is not the documented one raises
``PayloadShapeError``; a bad record inside it goes to quarantine through the emitter.

``PRIMARY_TABLE`` names the table a whole part is quarantined under when its envelope is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities.transform.parse.catalog import (
    album_id_from_url,
    parse_album_tracks,
    parse_albums,
    parse_artist_albums,
    parse_artist_top_tracks,
    parse_artists,
    parse_categories,
    parse_markets,
    parse_new_releases,
    parse_tracks,
)
from activities.transform.parse.drift import KNOWN_FIELDS, DriftRecorder
from activities.transform.parse.emitter import FULL, SIMPLIFIED, Emitter
from activities.transform.parse.playlists import parse_playlist_items, parse_playlists, parse_user_playlists
from activities.transform.parse.search import parse_search
from activities.transform.parse.user import (
    parse_followed_artists,
    parse_recently_played,
    parse_saved_tracks,
    parse_user_profile,
    parse_user_top_artists,
    parse_user_top_tracks,
)
from activities.transform.parse.values import ItemError, RequestContext, parse_release_date, request_context

Parser = Callable[[Any, RequestContext, Emitter], None]

PARSERS: Mapping[str, Parser] = {
    "new_releases": parse_new_releases,
    "albums": parse_albums,
    "album_tracks": parse_album_tracks,
    "tracks": parse_tracks,
    "artists": parse_artists,
    "artist_albums": parse_artist_albums,
    "artist_top_tracks": parse_artist_top_tracks,
    "search": parse_search,
    "playlists": parse_playlists,
    "playlist_items": parse_playlist_items,
    "categories": parse_categories,
    "markets": parse_markets,
    "user_profile": parse_user_profile,
    "user_top_artists": parse_user_top_artists,
    "user_top_tracks": parse_user_top_tracks,
    "recently_played": parse_recently_played,
    "saved_tracks": parse_saved_tracks,
    "followed_artists": parse_followed_artists,
    "user_playlists": parse_user_playlists,
}

PRIMARY_TABLE: Mapping[str, str] = {
    "new_releases": "new_releases",
    "albums": "albums",
    "album_tracks": "tracks",
    "tracks": "tracks",
    "artists": "artists",
    "artist_albums": "albums",
    "artist_top_tracks": "artist_top_tracks",
    "search": "search_results",
    "playlists": "playlists",
    "playlist_items": "playlist_items",
    "categories": "categories",
    "markets": "markets",
    "user_profile": "users",
    "user_top_artists": "user_top_items",
    "user_top_tracks": "user_top_items",
    "recently_played": "recently_played",
    "saved_tracks": "saved_tracks",
    "followed_artists": "followed_artists",
    "user_playlists": "playlists",
}

# Entities whose parser reads the part's request_url (the others are ids= lookups whose URLs are only long).
_CONTEXT_FREE = frozenset({"albums", "tracks", "artists"})


def needs_context(entity: str) -> bool:
    """Whether the parser of ``entity`` reads its part's ``request_url``."""
    return entity not in _CONTEXT_FREE


__all__ = [
    "needs_context",
    "FULL",
    "KNOWN_FIELDS",
    "PARSERS",
    "PRIMARY_TABLE",
    "SIMPLIFIED",
    "DriftRecorder",
    "Emitter",
    "ItemError",
    "Parser",
    "RequestContext",
    "album_id_from_url",
    "parse_release_date",
    "request_context",
]
