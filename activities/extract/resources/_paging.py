"""Paging as tasks: offset pages fan out once the first page tells the total; cursor and ``next``
chains go one page at a time (each page names the next)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities.extract.fetcher import Fetcher, Found, Step, Task, UserSession
from activities.extract.resources import _next

Parse = Callable[[Any], Found]


def offset_pages(
    fetcher: Fetcher,
    entity: str,
    path: str,
    params: Mapping[str, str | int],
    *,
    page_size: int,
    total_of: Callable[[Any], int | None],
    parse: Parse,
    count: Callable[[Any], int],
    max_items: int | None = None,
    max_offset: int | None = None,
    next_of: Callable[[Any], str | None] | None = None,
    user: bool | UserSession = False,
) -> Task:
    """The first page's task; it adds one task per further page (offset paging, in parallel).

    Every page asks for ``page_size`` items, the last one only for what ``max_items`` still allows,
    so the raw zone holds exactly the promised items. If the first page gives no total, the chain
    follows ``next`` links instead.
    """

    def page(offset: int, limit: int) -> Task:
        def run() -> Step:
            payload = fetcher.get(entity, path, {**params, "limit": limit, "offset": offset}, count=count, user=user)
            found = parse(payload)
            more: list[Task] = []
            if offset == 0 and count(payload) > 0:
                total = total_of(payload)
                if total is None:
                    link = next_of(payload) if next_of else None
                    if link:
                        more.append(next_chain(fetcher, entity, link, parse=parse, count=count,
                                               next_of=next_of, user=user))  # type: ignore[arg-type]
                else:
                    wanted = total if max_items is None else min(total, max_items)
                    last = wanted if max_offset is None else min(wanted, max_offset + page_size)
                    for start in range(page_size, last, page_size):
                        if max_offset is not None and start > max_offset:
                            break
                        more.append(page(start, min(page_size, last - start)))
            return Step(found, more)

        return run

    first = page_size if max_items is None else min(page_size, max_items)
    return page(0, first)


def next_chain(
    fetcher: Fetcher,
    entity: str,
    url: str,
    *,
    parse: Parse,
    count: Callable[[Any], int],
    next_of: Callable[[Any], str | None],
    user: bool | UserSession = False,
    params: Mapping[str, str | int] | None = None,
    seen: frozenset[str] = frozenset(),
) -> Task:
    """A page and, as its follow-up, the page its ``next`` link (or cursor) names; an empty page, a
    missing link or a link already followed ends the chain."""

    def run() -> Step:
        payload = fetcher.get(entity, url, params, count=count, user=user)
        found = parse(payload)
        link = next_of(payload) if count(payload) > 0 else None
        key = fetcher.client.relative(fetcher.client.url_for(url, params))
        if not link or link in seen or fetcher.client.relative(fetcher.client.url_for(link)) == key:
            return Step(found)
        return Step(found, [next_chain(fetcher, entity, link, parse=parse, count=count, next_of=next_of,
                                       user=user, seen=seen | {link})])

    return run


def total_at(key: str | None) -> Callable[[Any], int | None]:
    """``total`` of the paging object at ``payload[key]`` (None: absent or not a number)."""

    def total_of(payload: Any) -> int | None:
        page = payload.get(key) if key is not None and isinstance(payload, dict) else payload
        value = page.get("total") if isinstance(page, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return total_of


def next_at(key: str | None) -> Callable[[Any], str | None]:
    def next_of(payload: Any) -> str | None:
        page = payload.get(key) if key is not None and isinstance(payload, dict) else payload
        return _next(page) if isinstance(page, dict) else None

    return next_of


__all__ = ["next_at", "next_chain", "offset_pages", "total_at"]
