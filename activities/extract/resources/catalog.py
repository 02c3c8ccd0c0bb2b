"""Further catalog sources (app token): artist albums, artist top tracks, search, categories, markets,
playlists and their items. Each function returns the tasks of one source; parsers are pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from activities.extract.fetcher import Fetcher, Found, Step, Task
from activities.extract.resources import (
    _array,
    _ids,
    _object,
    found_in_albums,
    found_in_artists,
    found_in_tracks,
    page_items,
)
from activities.extract.resources._paging import next_at, offset_pages, total_at

ARTIST_ALBUMS_PAGE = 10  # GET /artists/{id}/albums: maximum limit
SEARCH_PAGE = 10  # GET /search: maximum limit per type
SEARCH_MAX_OFFSET = 1000
PAGE = 50  # the usual maximum limit (categories, playlist items)
SEARCH_TYPES = ("album", "artist", "playlist", "track")
ITEM_TYPES = "track,episode"


def _path_id(value: str) -> str:
    return quote(value, safe="")


# -- artist albums -------------------------------------------------------------------------------


def _items_count(payload: Any) -> int:
    return len(page_items(payload, None, "paging object"))


def _artist_albums_found(payload: Any) -> Found:
    result = Found()
    found_in_albums(page_items(payload, None, "artist albums"), result)
    return result


def artist_albums(fetcher: Fetcher, artist_ids: Sequence[str], market: str, include_groups: str) -> list[Task]:
    """GET /artists/{id}/albums pages (entity ``artist_albums``), one chain per artist."""
    return [
        offset_pages(fetcher, "artist_albums", f"/artists/{_path_id(artist)}/albums",
                     {"include_groups": include_groups, "market": market}, page_size=ARTIST_ALBUMS_PAGE,
                     total_of=total_at(None), parse=_artist_albums_found, count=_items_count, next_of=next_at(None))
        for artist in artist_ids
    ]


# -- artist top tracks ---------------------------------------------------------------------------


def _tracks_array(payload: Any, what: str) -> list[Any]:
    return _array(_object(payload, what), "tracks", what)


def top_tracks_found(payload: Any) -> Found:
    result = Found()
    found_in_tracks(_tracks_array(payload, "artist top tracks"), result)
    return result


def artist_top_tracks(fetcher: Fetcher, artist_ids: Sequence[str], markets: Sequence[str]) -> list[Task]:
    """GET /artists/{id}/top-tracks?market=XX (entity ``artist_top_tracks``), per artist and market."""

    def one(artist: str, market: str) -> Task:
        def run() -> Step:
            payload = fetcher.get("artist_top_tracks", f"/artists/{_path_id(artist)}/top-tracks", {"market": market},
                                  count=lambda body: len(_tracks_array(body, "artist top tracks")))
            return Step(top_tracks_found(payload))

        return run

    return [one(artist, market) for artist in artist_ids for market in markets]


# -- search ----------------------------------------------------------------------------------------


def _search_pages(payload: Any) -> dict[str, dict[str, Any]]:
    """The paging object per searched type (``tracks``, ``artists`` …), as the answer holds them."""
    body = _object(payload, "search")
    return {key: value for key, value in body.items() if isinstance(value, dict) and isinstance(value.get("items"), list)}


def search_count(payload: Any) -> int:
    return sum(len(page["items"]) for page in _search_pages(payload).values())


def search_found(payload: Any) -> Found:
    pages = _search_pages(payload)
    result = Found()
    found_in_tracks(pages.get("tracks", {}).get("items", []), result)
    found_in_albums(pages.get("albums", {}).get("items", []), result)
    found_in_artists(pages.get("artists", {}).get("items", []), result)
    result.playlists.update(_ids(pages.get("playlists", {}).get("items", [])))
    return result


def _search_total(payload: Any) -> int | None:
    totals = [page.get("total") for page in _search_pages(payload).values()]
    numbers = [total for total in totals if isinstance(total, int) and not isinstance(total, bool)]
    return max(numbers) if numbers else None


def search(fetcher: Fetcher, queries: Sequence[str], types: Sequence[str], market: str, max_results: int) -> list[Task]:
    """GET /search?q=…&type=… (entity ``search``): per query, pages of ``SEARCH_PAGE`` per type up to
    ``max_results`` per type; one part per response page, holding one paging object per type."""
    return [
        offset_pages(fetcher, "search", "/search", {"q": query, "type": ",".join(types), "market": market},
                     page_size=SEARCH_PAGE, total_of=_search_total, parse=search_found, count=search_count,
                     max_items=max_results, max_offset=SEARCH_MAX_OFFSET - SEARCH_PAGE)
        for query in queries
    ]


# -- categories ------------------------------------------------------------------------------------


def categories_found(payload: Any) -> Found:
    result = Found()
    result.categories.update(
        item["id"] for item in page_items(payload, "categories", "categories")
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    )
    return result


def categories(fetcher: Fetcher) -> list[Task]:
    """GET /browse/categories pages (entity ``categories``)."""
    return [offset_pages(fetcher, "categories", "/browse/categories", {}, page_size=PAGE,
                         total_of=total_at("categories"), parse=categories_found,
                         count=lambda body: len(page_items(body, "categories", "categories")),
                         next_of=next_at("categories"))]


# -- markets ---------------------------------------------------------------------------------------


def markets_count(payload: Any) -> int:
    """How many codes GET /markets listed (``{"markets": ["AD", …]}``); a body of another shape raises."""
    return len(_array(_object(payload, "GET /markets"), "markets", "GET /markets"))


def markets(fetcher: Fetcher) -> list[Task]:
    """GET /markets (entity ``markets``): one request, the country codes where Spotify is available.

    The OpenAPI description marks the endpoint deprecated, so it is wrapped like a restricted source:
    a 403/404 records ``markets`` under ``unavailable`` and the run goes on (the curated ``markets``
    table then holds the codes the facts use, with ``is_spotify_market`` null).
    """

    def run() -> Step:
        fetcher.get("markets", "/markets", count=markets_count)
        return Step()

    return [fetcher.restricted("markets", run)]


# -- playlists -------------------------------------------------------------------------------------


def playlist_entries_found(entries: Sequence[Any]) -> Found:
    """Ids in playlist items: ``item`` (or the deprecated ``track``) of each entry; removed tracks
    (null), local files (null ids) and episodes are skipped by :func:`found_in_tracks`."""
    result = Found()
    objects = []
    for entry in entries:
        if isinstance(entry, dict):
            objects.append(entry.get("item") if entry.get("item") is not None else entry.get("track"))
    found_in_tracks(objects, result)
    return result


def playlist_found(payload: Any) -> Found:
    playlist = _object(payload, "playlist")
    for key in ("items", "tracks"):
        page = playlist.get(key)
        if isinstance(page, dict) and isinstance(page.get("items"), list):
            return playlist_entries_found(page["items"])
    return Found()


def playlists(fetcher: Fetcher, playlist_ids: Sequence[str], market: str) -> list[Task]:
    """GET /playlists/{id} (entity ``playlists``), one per configured playlist."""

    def one(playlist: str) -> Task:
        def run() -> Step:
            payload = fetcher.get("playlists", f"/playlists/{_path_id(playlist)}",
                                  {"market": market, "additional_types": ITEM_TYPES},
                                  count=lambda body: 1 if _object(body, "playlist") else 0)
            return Step(playlist_found(payload))

        return run

    return [one(playlist) for playlist in playlist_ids]


def playlist_items_found(payload: Any) -> Found:
    return playlist_entries_found(page_items(payload, None, "playlist items"))


def playlist_items(fetcher: Fetcher, playlist_ids: Sequence[str], market: str) -> list[Task]:
    """GET /playlists/{id}/items pages (entity ``playlist_items``; tracks and episodes)."""
    return [
        offset_pages(fetcher, "playlist_items", f"/playlists/{_path_id(playlist)}/items",
                     {"market": market, "additional_types": ITEM_TYPES}, page_size=PAGE, total_of=total_at(None),
                     parse=playlist_items_found, count=_items_count, next_of=next_at(None))
        for playlist in playlist_ids
    ]


__all__ = [
    "SEARCH_TYPES",
    "artist_albums",
    "artist_top_tracks",
    "categories",
    "markets",
    "playlist_items",
    "playlists",
    "search",
]
