"""One module per Spotify resource: its fetch (HTTP only, batched to the endpoint's id limit) and
its pure ``ids_from_*`` parse (payload in, ids out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from activities.extract.errors import PayloadError

T = TypeVar("T")

__all__ = ["batched", "unique"]


def unique(values: Iterable[T]) -> list[T]:
    """Drop repeats, keep first-seen order (so batches, and hence parts, are deterministic)."""
    return list(dict.fromkeys(values))


def batched(values: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive chunks of at most ``size`` values."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise PayloadError(f"{what}: expected a JSON object, got {type(payload).__name__}")
    return payload


def _array(payload: dict[str, Any], key: str, what: str) -> list[Any]:
    value = payload.get(key)
    if not isinstance(value, list):
        raise PayloadError(f"{what}: expected an array `{key}`, got {type(value).__name__}")
    return value


def _ids(objects: Iterable[Any]) -> list[str]:
    """The ``id`` of each object; nulls (unknown ids in a ``?ids=`` answer) are skipped."""
    return [obj["id"] for obj in objects if isinstance(obj, dict) and isinstance(obj.get("id"), str)]


def _artist_ids(objects: Iterable[Any]) -> list[str]:
    """Ids of the ``artists`` of each object (albums and tracks both carry simplified artists)."""
    found: list[str] = []
    for obj in objects:
        if isinstance(obj, dict) and isinstance(obj.get("artists"), list):
            found.extend(_ids(obj["artists"]))
    return found


def _next(page: dict[str, Any]) -> str | None:
    value = page.get("next")
    return value if isinstance(value, str) and value else None


# -- what objects reveal: shared by the sources' parsers -------------------------------------------


def found_in_artists(objects: Iterable[Any], found: Any) -> None:
    """Artist objects (full or simplified): their ids."""
    found.artists.update(_ids(objects))


def found_in_albums(objects: Iterable[Any], found: Any) -> None:
    """Album objects (full or simplified): album ids and their artists."""
    objects = [obj for obj in objects if isinstance(obj, dict)]
    found.albums.update(_ids(objects))
    found.artists.update(_artist_ids(objects))


def found_in_tracks(objects: Iterable[Any], found: Any) -> None:
    """Track objects (full or simplified, possibly null, local or an episode): track, album and artist ids.

    Playlists hold removed tracks (null), local files (``is_local``, null ids) and podcast episodes
    (``type: episode``); none of them is a catalog track to look up.
    """
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type", "track") != "track":
            continue
        if isinstance(obj.get("id"), str) and not obj.get("is_local"):
            found.tracks.add(obj["id"])
        found.artists.update(_artist_ids([obj]))
        album = obj.get("album")
        if isinstance(album, dict):
            found_in_albums([album], found)


def page_items(payload: Any, key: str | None, what: str) -> list[Any]:
    """``items`` of a paging object, found at ``payload[key]`` (or the payload itself if key is None)."""
    page = _object(payload, what)
    if key is not None:
        page = _object(page.get(key), f"{what} `{key}`")
    return _array(page, "items", what)


def paging(payload: Any, key: str | None, what: str) -> dict[str, Any]:
    page = _object(payload, what)
    return _object(page.get(key), f"{what} `{key}`") if key is not None else page


__all__ += ["found_in_albums", "found_in_artists", "found_in_tracks", "page_items", "paging"]
