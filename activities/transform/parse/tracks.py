"""Parse track payloads: GET /tracks?ids= (full) and GET /albums/{id}/tracks (simplified).

Pure: response body in, records out. Album-embedded tracks (``album.tracks.items``) go through
``simplified_track_records`` too, called from ``albums``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from activities.transform.errors import PayloadShapeError
from activities.transform.parse._fields import (
    as_list,
    as_object,
    opt_bool,
    opt_int,
    opt_list,
    opt_object,
    opt_str,
    req_list,
    req_str,
)
from activities.transform.parse._records import Record, Richness

# A simplified track carries no album; its page's URL does: .../albums/{id}/tracks?offset=…
_ALBUM_TRACKS_URL = re.compile(r"/albums/([^/?#]+)/tracks(?:[?#]|$)")


def _artist_ids(obj: Mapping[str, Any], where: str) -> tuple[str | None, ...]:
    """Artist ids in credited order; an entry without an id keeps its slot as None.

    Keeping the slot means ``artist_position`` is the position Spotify shows, even when an
    entry cannot be joined (local files list artists without ids).
    """
    artists = opt_list(obj, "artists", where) or []
    ids: list[str | None] = []
    for index, artist in enumerate(artists):
        artist_obj = as_object(artist, f"{where}.artists[{index}]")
        ids.append(opt_str(artist_obj, "id", f"{where}.artists[{index}]") or None)
    return tuple(ids)


def track_row(obj: Mapping[str, Any], where: str, *, album_id: str | None) -> dict[str, Any]:
    """Columns of ``tracks`` from a full or simplified track object.

    Args:
        obj: a TrackObject or SimplifiedTrackObject.
        where: JSON path of ``obj`` for error messages.
        album_id: the album for simplified tracks; None to read it from ``obj.album``.
    """
    if album_id is None:
        album = opt_object(obj, "album", where)
        album_id = req_str(album, "id", f"{where}.album") if album is not None else None
    external_ids = opt_object(obj, "external_ids", where)
    artist_ids = _artist_ids(obj, where)
    return {
        "track_id": req_str(obj, "id", where),
        "name": opt_str(obj, "name", where),
        "album_id": album_id,
        "duration_ms": opt_int(obj, "duration_ms", where, bits=32),
        "explicit": opt_bool(obj, "explicit", where),
        # Only full objects carry popularity and external_ids; simplified rows keep None.
        "popularity": opt_int(obj, "popularity", where, bits=16),
        "isrc": opt_str(external_ids, "isrc", f"{where}.external_ids") if external_ids is not None else None,
        "track_number": opt_int(obj, "track_number", where, bits=32),
        "disc_number": opt_int(obj, "disc_number", where, bits=32),
        "is_local": opt_bool(obj, "is_local", where),
        "primary_artist_id": artist_ids[0] if artist_ids else None,
        "_artist_ids": artist_ids,
    }


def simplified_track_records(items: list[Any], where: str, *, album_id: str) -> list[Record]:
    """Records for the SimplifiedTrackObjects of one album's track list."""
    return [
        Record(
            "tracks",
            Richness.SIMPLIFIED,
            track_row(as_object(item, f"{where}[{i}]"), f"{where}[{i}]", album_id=album_id),
        )
        for i, item in enumerate(items)
    ]


def parse_tracks(body: Any, request_url: str | None = None) -> list[Record]:
    """GET /tracks?ids= -> ``{"tracks": [TrackObject | null]}``; null = id unknown to Spotify, skipped."""
    tracks = req_list(as_object(body, "$"), "tracks", "$")
    return [
        Record("tracks", Richness.FULL, track_row(as_object(track, f"$.tracks[{i}]"), f"$.tracks[{i}]", album_id=None))
        for i, track in enumerate(tracks)
        if track is not None
    ]


def album_id_from_url(url: str | None) -> str | None:
    """The album id in a ``…/albums/{id}/tracks…`` URL, or None."""
    if not url:
        return None
    match = _ALBUM_TRACKS_URL.search(url)
    return match.group(1) if match else None


def parse_album_tracks(body: Any, request_url: str | None = None) -> list[Record]:
    """GET /albums/{id}/tracks -> a paging object of SimplifiedTrackObjects.

    The album id comes from the page's own ``href`` (bytes as Spotify returned them) and
    falls back to the manifest's ``request_url`` for the part.
    """
    page = as_object(body, "$")
    album_id = album_id_from_url(opt_str(page, "href", "$")) or album_id_from_url(request_url)
    if album_id is None:
        raise PayloadShapeError("$.href", "no /albums/{id}/tracks URL in the page href or the part's request_url")
    return simplified_track_records(as_list(page.get("items"), "$.items"), "$.items", album_id=album_id)


__all__ = ["album_id_from_url", "parse_album_tracks", "parse_tracks", "simplified_track_records", "track_row"]
