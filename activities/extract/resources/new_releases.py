"""GET /browse/new-releases: pages of simplified albums (entity ``new_releases``)."""

from __future__ import annotations

from typing import Any

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
