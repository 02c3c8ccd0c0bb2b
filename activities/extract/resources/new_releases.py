"""GET /browse/new-releases: pages of simplified albums (entity ``new_releases``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from activities.extract.client import ApiResponse, SpotifyClient
from activities.extract.fetcher import Fetcher, Found, Task
from activities.extract.resources import (
    _array,
    _ids,
    _next,
    _object,
    found_in_albums,
    page_items,
)
from activities.extract.resources._paging import next_at, offset_pages, total_at

ENTITY = "new_releases"
PATH = "/browse/new-releases"
PAGE_LIMIT = 50  # the endpoint's maximum


def fetch_new_releases(client: SpotifyClient, limit: int) -> Iterator[tuple[ApiResponse, Any]]:
    """Yield ``(response, payload)`` per page until `limit` albums or the end of the list.

    Pages are requested by offset with the last page's `limit` cut to what is still wanted, so the raw
    zone holds exactly the promised albums rather than a whole extra page of them.
    """
    offset = 0
    while offset < limit:
        url = client.url_for(PATH, {"limit": min(PAGE_LIMIT, limit - offset), "offset": offset})
        response = client.get(url)
        payload = response.json()
        yield response, payload
        page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
        received = len(_array(page, "items", "new releases `albums`"))
        # An empty page, or one without `next`, ends the list whatever the offset says.
        if received == 0 or _next(page) is None:
            return
        offset += received


def ids_from_new_releases(payload: Any) -> list[str]:
    """Album ids of one new-releases page, in page order."""
    page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
    return _ids(_array(page, "items", "new releases `albums`"))


def next_from_new_releases(payload: Any) -> str | None:
    page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
    return _next(page)


def count(payload: Any) -> int:
    return len(page_items(payload, "albums", "new releases"))


def found(payload: Any) -> Found:
    result = Found()
    found_in_albums(page_items(payload, "albums", "new releases"), result)
    return result


def task(fetcher: Fetcher, limit: int) -> Task:
    """The first page; further pages (by offset, in parallel) up to ``limit`` albums."""
    return offset_pages(fetcher, ENTITY, PATH, {}, page_size=PAGE_LIMIT, total_of=total_at("albums"), parse=found,
                        count=count, max_items=limit, next_of=next_at("albums"))
