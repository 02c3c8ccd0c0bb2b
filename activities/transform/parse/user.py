"""User sources (authorization-code token): profile, top items, recently played, saved tracks, follows,
the user's playlists.

Every fact here belongs to the user whose refresh token fetched the part: the manifest part's
``user_id`` (``Emitter.user_of``), so several users share the tables. ``users`` holds each user
from their GET /me.
"""

from __future__ import annotations

from typing import Any

from activities.transform.parse._page import as_object, field_object, page_items, page_offset
from activities.transform.parse.emitter import FULL, Emitter
from activities.transform.parse.values import ItemError, RequestContext, parse_timestamp

# Spotify's default when a request names no time_range.
DEFAULT_TIME_RANGE = "medium_term"


def _track_of(item: Any) -> Any:
    track = item.get("track")
    if track is None:
        raise ItemError("track", "the entry has no track object")
    return track


def parse_user_profile(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me -> a full ``users`` row (no e-mail: the model keeps no contact data)."""
    em.items("users", [as_object(body, "$")], lambda item, _: em.profiles.add(em.user(item, FULL)),
             kind="PrivateUserObject")


def _top(body: Any, context: RequestContext, em: Emitter, item_type: str) -> None:
    page = as_object(body, "$")
    em.sample_paging(page)
    offset = page_offset(page, context)
    time_range = context.param("time_range") or DEFAULT_TIME_RANGE
    to_dimension = em.artist if item_type == "artist" else em.track
    user_id = em.user_of(context)

    def emit(item: Any, index: int) -> None:
        item_id = to_dimension(item, FULL)
        em.append("user_top_items", user_id=user_id, item_type=item_type, time_range=time_range,
                  rank=offset + index + 1, item_id=item_id)

    kind = "ArtistObject" if item_type == "artist" else "TrackObject"
    em.items("user_top_items", page_items(page, "$"), emit, kind=kind)


def parse_user_top_artists(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/top/artists?time_range=… -> full ``artists`` + ``user_top_items`` (item_type artist)."""
    _top(body, context, em, "artist")


def parse_user_top_tracks(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/top/tracks?time_range=… -> full ``tracks`` + ``user_top_items`` (item_type track)."""
    _top(body, context, em, "track")


def parse_recently_played(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/player/recently-played (cursor paging) -> ``recently_played`` + full ``tracks``."""
    page = as_object(body, "$")
    em.sample_paging(page, cursor=True)
    user_id = em.user_of(context)

    def emit(item: Any, index: int) -> None:
        played_at = parse_timestamp(item.get("played_at"), "played_at")
        played_context = item.get("context")
        context_type = played_context.get("type") if played_context is not None else None
        context_uri = played_context.get("uri") if played_context is not None else None
        track_id = em.track(_track_of(item), FULL)
        em.append("recently_played", user_id=user_id, played_at=played_at, track_id=track_id,
                  context_type=context_type, context_uri=context_uri)

    em.items("recently_played", page_items(page, "$"), emit, kind="PlayHistoryObject")


def parse_saved_tracks(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/tracks -> ``saved_tracks`` + full ``tracks``."""
    page = as_object(body, "$")
    em.sample_paging(page)
    user_id = em.user_of(context)

    def emit(item: Any, index: int) -> None:
        added_at = parse_timestamp(item.get("added_at"), "added_at")
        track_id = em.track(_track_of(item), FULL)
        em.append("saved_tracks", user_id=user_id, track_id=track_id, added_at=added_at)

    em.items("saved_tracks", page_items(page, "$"), emit, kind="SavedTrackObject")


def parse_followed_artists(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/following?type=artist (cursor paging under ``artists``) -> ``followed_artists`` + full ``artists``."""
    page = field_object(body, "artists")
    em.sample_paging(page, cursor=True)
    user_id = em.user_of(context)

    def emit(item: Any, index: int) -> None:
        artist_id = em.artist(item, FULL)
        em.append("followed_artists", user_id=user_id, artist_id=artist_id)

    em.items("followed_artists", page_items(page, "$.artists"), emit, kind="ArtistObject")


__all__ = [
    "DEFAULT_TIME_RANGE",
    "parse_followed_artists",
    "parse_recently_played",
    "parse_saved_tracks",
    "parse_user_profile",
    "parse_user_top_artists",
    "parse_user_top_tracks",
]
