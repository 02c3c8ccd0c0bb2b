"""GET /search: one response page holds one paging object per requested type.

Every result becomes a ``search_results`` fact (query, item type, 1-based rank over the whole
result list, the item's id) and feeds its dimension when there is one: tracks and artists
(full objects), albums and playlists (simplified). Shows, episodes and audiobooks are facts only.
The request's ``market`` (when it names one) feeds ``markets``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.transform.errors import PayloadShapeError
from activities.transform.parse._page import as_object, page_items, page_offset
from activities.transform.parse.emitter import FULL, SIMPLIFIED, Emitter
from activities.transform.parse.values import RequestContext


def _id_only(em: Emitter, item: Any) -> Any:
    return item.get("id")


# paging key in the response -> (item_type, schema sampled for drift, how the item feeds its dimension)
_TYPES: dict[str, tuple[str, str | None, Callable[[Emitter, Any], Any]]] = {
    "tracks": ("track", "TrackObject", lambda em, item: em.track(item, FULL)),
    "artists": ("artist", "ArtistObject", lambda em, item: em.artist(item, FULL)),
    "albums": ("album", "SimplifiedAlbumObject", lambda em, item: em.album(item, SIMPLIFIED)),
    "playlists": ("playlist", "SimplifiedPlaylistObject", lambda em, item: em.playlist(item, SIMPLIFIED)),
    "shows": ("show", None, _id_only),
    "episodes": ("episode", None, _id_only),
    "audiobooks": ("audiobook", None, _id_only),
}


def parse_search(body: Any, context: RequestContext, em: Emitter) -> None:
    """One search response page -> ``search_results`` + dimensions."""
    query = context.param("q")
    if query is None:
        raise PayloadShapeError("request_url", "no q= in the part's request_url")
    market = context.param("market")
    body = as_object(body, "$")
    for key in body:  # not .items(): that would copy every page out of the document
        value = body[key]
        if key not in _TYPES:
            em.drift.note(em.entity, f"SearchItems.{key}")
            continue
        item_type, kind, to_dimension = _TYPES[key]
        page = as_object(value, f"$.{key}")
        em.sample_paging(page)
        offset = page_offset(page, context)
        total = page.get("total")

        def emit(
            item: Any, index: int, item_type: str = item_type, offset: int = offset, total: Any = total,
            to_dimension: Callable[[Emitter, Any], Any] = to_dimension,
        ) -> None:
            item_id = to_dimension(em, item)
            em.append("search_results", query=query, item_type=item_type, rank=offset + index + 1, item_id=item_id,
                      market=market, total_results=total)
            em.market_ref(market)

        em.items("search_results", page_items(page, f"$.{key}"), emit, kind=kind)


__all__ = ["parse_search"]
