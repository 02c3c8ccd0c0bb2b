"""GET /albums?ids= (entity ``albums``, 20 ids per call) and GET /albums/{id}/tracks pages beyond the
first one embedded in the album object (entity ``album_tracks``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from activities.extract.fetcher import Fetcher, Found, Step, Task
from activities.extract.resources import (
    _array,
    _artist_ids,
    _ids,
    _next,
    _object,
    batched,
    found_in_albums,
    found_in_tracks,
)
from activities.extract.resources._paging import next_at, next_chain

ENTITY = "albums"
TRACKS_ENTITY = "album_tracks"
PATH = "/albums"
MAX_IDS = 20  # the endpoint's maximum


@dataclass(frozen=True)
class AlbumIds:
    """What one /albums answer tells about the rest of the slice."""

    album_ids: list[str]  # albums returned (unknown ids come back as null and are absent)
    track_ids: list[str]  # tracks on the embedded first page of each album's tracks
    artist_ids: list[str]  # the albums' artists
    tracks_next: list[str]  # `tracks.next` of albums with more tracks than the embedded page


@dataclass(frozen=True)
class AlbumTrackIds:
    track_ids: list[str]
    next: str | None


def ids_from_albums(payload: Any) -> AlbumIds:
    """Pure parse of a /albums?ids= answer."""
    albums = [album for album in _array(_object(payload, "albums"), "albums", "albums") if isinstance(album, dict)]
    track_ids: list[str] = []
    tracks_next: list[str] = []
    for album in albums:
        tracks = album.get("tracks")
        if isinstance(tracks, dict):
            track_ids.extend(_ids(tracks.get("items") or []))
            following = _next(tracks)
            if following:
                tracks_next.append(following)
    return AlbumIds(
        album_ids=_ids(albums),
        track_ids=track_ids,
        artist_ids=_artist_ids(albums),
        tracks_next=tracks_next,
    )


def ids_from_album_tracks(payload: Any) -> AlbumTrackIds:
    """Pure parse of a /albums/{id}/tracks page (a paging object of simplified tracks)."""
    page = _object(payload, "album tracks")
    return AlbumTrackIds(track_ids=_ids(_array(page, "items", "album tracks")), next=_next(page))


def _album_tracks_found(payload: Any) -> Found:
    result = Found()
    found_in_tracks(_array(_object(payload, "album tracks"), "items", "album tracks"), result)
    return result


def _album_tracks_count(payload: Any) -> int:
    return len(ids_from_album_tracks(payload).track_ids)


def _further_track_pages(fetcher: Fetcher, album: dict[str, Any]) -> list[Task]:
    """The album's track pages beyond the embedded first one: all at once by offset when the embedded
    page tells ``total`` (its ``next`` link gives the path, limit and first offset), else a ``next`` chain."""
    page = album.get("tracks")
    link = _next(page) if isinstance(page, dict) else None
    if not isinstance(page, dict) or link is None:
        return []
    total = page.get("total")
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query))
    try:
        limit, first = int(query["limit"]), int(query["offset"])
    except (KeyError, ValueError):
        limit, first = 0, 0
    if not isinstance(total, int) or isinstance(total, bool) or limit < 1:
        return [next_chain(fetcher, TRACKS_ENTITY, link, parse=_album_tracks_found, count=_album_tracks_count,
                           next_of=next_at(None))]

    def one(offset: int) -> Task:
        def run() -> Step:
            payload = fetcher.get(TRACKS_ENTITY, f"{parts.scheme}://{parts.netloc}{parts.path}",
                                  {**query, "offset": offset, "limit": limit},
                                  count=_album_tracks_count)
            return Step(_album_tracks_found(payload))

        return run

    return [one(offset) for offset in range(first, total, limit)]


def tasks(fetcher: Fetcher, ids: Sequence[str], market: str) -> list[Task]:
    """One task per batch of at most 20 album ids; each adds the ``tracks.next`` chain of every album
    with more tracks than the embedded first page."""

    def batch_task(batch: list[str]) -> Task:
        def run() -> Step:
            payload = fetcher.get(ENTITY, PATH, {"ids": ",".join(batch), "market": market},
                                  count=lambda body: len(ids_from_albums(body).album_ids))
            albums = [album for album in _array(_object(payload, "albums"), "albums", "albums") if isinstance(album, dict)]
            result = Found()
            found_in_albums(albums, result)
            for album in albums:
                page = album.get("tracks")
                if isinstance(page, dict):
                    found_in_tracks(page.get("items") or [], result)
            more: list[Task] = []
            for album in albums:
                more.extend(_further_track_pages(fetcher, album))
            return Step(result, more)

        return run

    return [batch_task(batch) for batch in batched(ids, MAX_IDS)]
