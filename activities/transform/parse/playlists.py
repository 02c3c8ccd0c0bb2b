"""Playlists: GET /playlists/{id} (full, with its first page of items), GET /playlists/{id}/items pages,
GET /me/playlists pages (simplified, and the user's list of them).

Development Mode serves a playlist's items only to its owner or a collaborator: a playlist the
user does not own comes back as metadata without items (no embedded page, or one without
``items``), which gives a ``playlists`` row and no ``playlist_items``. Entries of
``/playlists/{id}/items`` carry the item under ``item`` (``track`` in the older ``/tracks`` pages).

``playlist_items`` rows keep the playlist position (page offset + index, 0-based), the
added_at/added_by of the entry and the item: a track (which feeds ``tracks``), an episode,
or a local file (kept, with a null track id and no dimension row).
"""

from __future__ import annotations

import re
from typing import Any

from activities.transform.errors import PayloadShapeError
from activities.transform.parse._page import as_object, page_items, page_offset
from activities.transform.parse.document import is_array, is_object
from activities.transform.parse.emitter import FULL, SIMPLIFIED, Emitter
from activities.transform.parse.values import RequestContext

_PLAYLIST_URL = re.compile(r"/playlists/([^/?#]+)")


def playlist_id_from_url(url: Any) -> str | None:
    """The playlist id in a ``…/playlists/{id}…`` URL, or None."""
    if not isinstance(url, str):
        return None
    match = _PLAYLIST_URL.search(url)
    return match.group(1) if match else None


def _items_page(em: Emitter, playlist_id: Any, page: Any, context: RequestContext, where: str) -> None:
    page = as_object(page, where)
    em.sample_paging(page)
    offset = page_offset(page, context)
    em.items(
        "playlist_items",
        page_items(page, where),
        lambda item, index: em.playlist_item(playlist_id, offset + index, item),
        kind="PlaylistTrackObject",
    )


def _embedded_page(playlist: Any) -> tuple[str, Any] | None:
    """The first page of items inside a PlaylistObject (under `items`, formerly `tracks`), if it has one."""
    for key in ("items", "tracks"):
        contents = playlist.get(key)
        if is_object(contents) and is_array(contents.get("items")):
            return key, contents
    return None


def parse_playlists(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /playlists/{id} -> a full ``playlists`` row and its embedded first page of ``playlist_items``."""
    playlist = as_object(body, "$")
    embedded = _embedded_page(playlist)
    ids: list[Any] = []
    em.items("playlists", [playlist], lambda item, _: ids.append(em.playlist(item, FULL)), kind="PlaylistObject")
    if ids and embedded is not None:
        key, page = embedded
        # The page's own offset applies: the playlist request has none.
        _items_page(em, ids[0], page, RequestContext(None), f"$.{key}")


def parse_playlist_items(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /playlists/{id}/items (or /tracks) page -> ``playlist_items``."""
    page = as_object(body, "$")
    playlist_id = playlist_id_from_url(context.url) or playlist_id_from_url(page.get("href"))
    if playlist_id is None:
        raise PayloadShapeError("request_url", "no /playlists/{id}/items URL in the part's request_url or page href")
    _items_page(em, playlist_id, page, context, "$")


def parse_user_playlists(body: Any, context: RequestContext, em: Emitter) -> None:
    """GET /me/playlists page -> simplified ``playlists`` (and their owners) + ``user_playlists`` (1-based position)."""
    page = as_object(body, "$")
    em.sample_paging(page)
    offset = page_offset(page, context)
    user_id = em.user_of(context)

    def emit(item: Any, index: int) -> None:
        playlist_id = em.playlist(item, SIMPLIFIED)
        em.append("user_playlists", user_id=user_id, playlist_id=playlist_id, list_position=offset + index + 1)

    em.items("playlists", page_items(page, "$"), emit, kind="SimplifiedPlaylistObject")


__all__ = ["parse_playlist_items", "parse_playlists", "parse_user_playlists", "playlist_id_from_url"]
