"""User sources (the user's token, from the refresh token): profile, top artists and tracks per
time range, recently played (cursor paging), saved tracks, followed artists (cursor paging), the
user's playlists."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from activities.extract.fetcher import Fetcher, Found, Step, Task
from activities.extract.resources import (
    _ids,
    _object,
    found_in_artists,
    found_in_tracks,
    page_items,
    paging,
)
from activities.extract.resources._paging import (
    next_at,
    next_chain,
    offset_pages,
    total_at,
)

PAGE = 50
TIME_RANGES = ("short_term", "medium_term", "long_term")


def _count(key: str | None, what: str) -> Callable[[Any], int]:
    return lambda payload: len(page_items(payload, key, what))


def cursor_next(key: str | None, path: str, params: Mapping[str, str | int]) -> Callable[[Any], str | None]:
    """The next page of cursor paging: the ``next`` link, else a request with ``after=cursors.after``."""

    def next_of(payload: Any) -> str | None:
        page = paging(payload, key, path)
        link = page.get("next")
        if isinstance(link, str) and link:
            return link
        cursors = page.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if after is None or after == "":
            return None
        return f"{path}?{urlencode({**params, 'after': str(after)})}"

    return next_of


def profile(fetcher: Fetcher) -> list[Task]:
    """GET /me (entity ``user_profile``)."""

    def run() -> Step:
        fetcher.get("user_profile", "/me", count=lambda body: 1 if _object(body, "user profile") else 0, user=True)
        return Step()

    return [run]


def _artists_found(payload: Any) -> Found:
    result = Found()
    found_in_artists(page_items(payload, None, "top artists"), result)
    return result


def _tracks_found(payload: Any) -> Found:
    result = Found()
    found_in_tracks(page_items(payload, None, "top tracks"), result)
    return result


def top(fetcher: Fetcher, kind: str, time_ranges: Sequence[str] = TIME_RANGES) -> list[Task]:
    """GET /me/top/{artists|tracks}?time_range=… pages (entities ``user_top_artists``/``user_top_tracks``)."""
    entity = f"user_top_{kind}"
    parse = _artists_found if kind == "artists" else _tracks_found
    return [
        offset_pages(fetcher, entity, f"/me/top/{kind}", {"time_range": time_range}, page_size=PAGE,
                     total_of=total_at(None), parse=parse, count=_count(None, entity), next_of=next_at(None), user=True)
        for time_range in time_ranges
    ]


def _played_found(payload: Any) -> Found:
    result = Found()
    found_in_tracks([entry.get("track") for entry in page_items(payload, None, "recently played")
                     if isinstance(entry, dict)], result)
    return result


def recently_played(fetcher: Fetcher, after: int) -> list[Task]:
    """GET /me/player/recently-played?after=… (entity ``recently_played``), cursor pages."""
    path = "/me/player/recently-played"
    params: dict[str, str | int] = {"limit": PAGE, "after": after}
    return [next_chain(fetcher, "recently_played", path, params=params, parse=_played_found,
                       count=_count(None, "recently played"), next_of=cursor_next(None, path, {"limit": PAGE}),
                       user=True)]


def _saved_found(payload: Any) -> Found:
    result = Found()
    found_in_tracks([entry.get("track") for entry in page_items(payload, None, "saved tracks")
                     if isinstance(entry, dict)], result)
    return result


def saved_tracks(fetcher: Fetcher, market: str) -> list[Task]:
    """GET /me/tracks pages (entity ``saved_tracks``)."""
    return [offset_pages(fetcher, "saved_tracks", "/me/tracks", {"market": market}, page_size=PAGE,
                         total_of=total_at(None), parse=_saved_found, count=_count(None, "saved tracks"),
                         next_of=next_at(None), user=True)]


def _followed_found(payload: Any) -> Found:
    result = Found()
    found_in_artists(page_items(payload, "artists", "followed artists"), result)
    return result


def followed_artists(fetcher: Fetcher) -> list[Task]:
    """GET /me/following?type=artist (entity ``followed_artists``), cursor pages."""
    path = "/me/following"
    params: dict[str, str | int] = {"type": "artist", "limit": PAGE}
    return [next_chain(fetcher, "followed_artists", path, params=params, parse=_followed_found,
                       count=_count("artists", "followed artists"), next_of=cursor_next("artists", path, params),
                       user=True)]


def _playlists_found(payload: Any) -> Found:
    result = Found()
    result.playlists.update(_ids(page_items(payload, None, "user playlists")))
    return result


def user_playlists(fetcher: Fetcher) -> list[Task]:
    """GET /me/playlists pages (entity ``user_playlists``)."""
    return [offset_pages(fetcher, "user_playlists", "/me/playlists", {}, page_size=PAGE, total_of=total_at(None),
                         parse=_playlists_found, count=_count(None, "user playlists"), next_of=next_at(None),
                         user=True)]


__all__ = ["TIME_RANGES", "followed_artists", "profile", "recently_played", "saved_tracks", "top", "user_playlists"]
