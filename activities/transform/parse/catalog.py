"""Catalog sources read with a client-credentials token: albums, tracks, artists and their listings.

One parser per raw entity (the manifest's ``entity``): ``parse_<entity>(body, context, emitter)``.
Pure apart from what they hand the emitter.

``albums``, ``tracks`` and ``artists`` parts come in two shapes (activities/sources.py): a
Development Mode app reads them one id at a time (``GET /albums/{id}``: the body is ONE object),
an extended-quota app by several ids (``GET /albums?ids=``: ``{"albums": [...]}``). The part's
``request_url`` path tells them apart; a part without one is read as the several-ids shape.
"""

from __future__ import annotations

import re
from typing import Any

from activities.transform.errors import PayloadShapeError
from activities.transform.parse._page import as_object, field_list, field_object, page_items, page_offset
from activities.transform.parse.emitter import FULL, SIMPLIFIED, Emitter
from activities.transform.parse.values import RequestContext, widest_image_url

# A simplified track carries no album; its page's URL does: .../albums/{id}/tracks?offset=…
_ALBUM_TRACKS_URL = re.compile(r"/albums/([^/?#]+)/tracks(?:[?#]|$)")


def album_id_from_url(url: str | None) -> str | None:
    """The album id in a ``…/albums/{id}/tracks…`` URL, or None."""
    if not url or not isinstance(url, str):
        return None
    match = _ALBUM_TRACKS_URL.search(url)
    return match.group(1) if match else None


def parse_new_releases(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /browse/new-releases -> simplified ``albums`` + ``new_releases`` facts (1-based list position),
    and the request's market (if it named one) -> ``markets``."""
    page = field_object(body, "albums")
    em.sample_paging(page)
    offset = page_offset(page, context)
    # The endpoint lost its `country` parameter; a request that still names one is recorded.
    market = context.param("country") or context.param("market")

    def emit(item: Any, index: int) -> None:
        album_id = em.album(item, SIMPLIFIED)
        em.append("new_releases", album_id=album_id, market=market, list_position=offset + index + 1)
        em.market_ref(market)

    em.items("new_releases", page_items(page, "$.albums"), emit, kind="SimplifiedAlbumObject")


def lookup_items(body: Any, context: RequestContext, collection: str) -> list[Any]:
    """The objects of a lookup part: ``[body]`` for ``GET /<collection>/{id}``, ``body[collection]`` for
    ``GET /<collection>?ids=`` (or a part without a request_url)."""
    if context.after(collection) is not None:
        return [as_object(body, "$")]
    return field_list(body, collection)


def parse_albums(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /albums/{id} or /albums?ids= -> full ``albums``; the embedded first page of tracks -> simplified ``tracks``."""

    def emit(item: Any, index: int) -> None:
        tracks = item.get("tracks")
        track_items = (tracks.get("items") or ()) if tracks is not None else ()
        album_id = em.album(item, FULL)
        em.items(
            "tracks", track_items, lambda track, _: em.track(track, SIMPLIFIED, album_id), kind="SimplifiedTrackObject"
        )

    em.items("albums", lookup_items(body, context, "albums"), emit, kind="AlbumObject")


def parse_album_tracks(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /albums/{id}/tracks -> simplified ``tracks``; the album id comes from the page href or request_url."""
    page = as_object(body, "$")
    album_id = album_id_from_url(page.get("href")) or album_id_from_url(context.url)
    if album_id is None:
        raise PayloadShapeError("$.href", "no /albums/{id}/tracks URL in the page href or the part's request_url")
    em.sample_paging(page)
    em.items(
        "tracks", page_items(page, "$"), lambda item, _: em.track(item, SIMPLIFIED, album_id),
        kind="SimplifiedTrackObject",
    )


def parse_tracks(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /tracks/{id} or /tracks?ids= -> full ``tracks`` (with their simplified album and credited artists)."""
    em.items("tracks", lookup_items(body, context, "tracks"), lambda item, _: em.track(item, FULL), kind="TrackObject")


def parse_artists(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /artists/{id} or /artists?ids= -> full ``artists``."""
    em.items(
        "artists", lookup_items(body, context, "artists"), lambda item, _: em.artist(item, FULL), kind="ArtistObject"
    )


def parse_artist_albums(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /artists/{id}/albums -> simplified ``albums`` (album_group is the artist's relation, not the album's)."""
    page = as_object(body, "$")
    em.sample_paging(page)
    em.items(
        "albums", page_items(page, "$"), lambda item, _: em.album(item, SIMPLIFIED),
        kind="ArtistDiscographyAlbumObject",
    )


def parse_artist_top_tracks(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /artists/{id}/top-tracks?market=XX -> full ``tracks`` + ``artist_top_tracks`` (1-based rank) + ``markets``."""
    artist_id = context.after("artists")
    market = context.param("market")
    if artist_id is None or market is None:
        raise PayloadShapeError("request_url", "no /artists/{id}/top-tracks?market=XX in the part's request_url")

    def emit(item: Any, index: int) -> None:
        track_id = em.track(item, FULL)
        em.append("artist_top_tracks", artist_id=artist_id, market=market, rank=index + 1, track_id=track_id)
        em.market_ref(market)

    em.items("artist_top_tracks", field_list(body, "tracks"), emit, kind="TrackObject")


def parse_categories(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /browse/categories -> ``categories``."""
    page = field_object(body, "categories")
    em.sample_paging(page)

    def emit(item: Any, index: int) -> None:
        em.append("categories", category_id=item.get("id"), name=item.get("name"),
                  icon_url=widest_image_url(item.get("icons")), _richness=FULL)

    em.items("categories", page_items(page, "$.categories"), emit, kind="CategoryObject")


def parse_markets(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /markets (``{"markets": ["AD", …]}``) -> full ``markets`` rows; a bad code is quarantined."""
    body = as_object(body, "$")
    for key in body:  # one small body per run: its top-level fields are all checked for drift
        if key != "markets":
            em.drift.note(em.entity, f"Markets.{key}")
    em.items("markets", field_list(body, "markets"), lambda item, _: em.market(item), kind=None)


__all__ = [
    "album_id_from_url",
    "lookup_items",
    "parse_album_tracks",
    "parse_albums",
    "parse_artist_albums",
    "parse_artist_top_tracks",
    "parse_artists",
    "parse_categories",
    "parse_markets",
    "parse_new_releases",
    "parse_tracks",
]
