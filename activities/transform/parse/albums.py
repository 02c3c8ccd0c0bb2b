"""Parse GET /albums?ids= bodies (full AlbumObjects) and the album columns shared with new releases.

Pure: response body in, records out. A full album also carries the first page of its
tracks (``tracks.items``, simplified); those become simplified ``tracks`` records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from activities.transform.parse._fields import as_list, as_object, opt_int, opt_object, opt_str, req_list, req_str
from activities.transform.parse._records import Record, Richness
from activities.transform.parse.tracks import simplified_track_records

# Spotify's ``release_date`` has the shape its ``release_date_precision`` names.
_RELEASE_DATE_SHAPES: Mapping[str, re.Pattern[str]] = {
    "year": re.compile(r"(\d{4})"),
    "month": re.compile(r"(\d{4})-(\d{2})"),
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
}


@dataclass(frozen=True)
class ReleaseDate:
    """A parsed release date: ``value`` is the first day the precision allows."""

    value: date | None
    year: int | None


_UNKNOWN_RELEASE = ReleaseDate(None, None)


def parse_release_date(raw: str | None, precision: str | None) -> ReleaseDate:
    """Parse ``release_date`` by its precision: year -> Jan 1, month -> the 1st, day -> itself.

    A value that does not match its precision's shape, names an impossible day (``2021-02-30``),
    year 0 (Spotify ships ``"0000"`` for some catalogue albums) or an unknown precision gives
    ``ReleaseDate(None, None)`` instead of failing: one odd album must not stop a run, and
    ``release_date_raw`` keeps the original for anyone who needs it.
    """
    shape = _RELEASE_DATE_SHAPES.get(precision or "")
    match = shape.fullmatch(raw) if shape is not None and raw is not None else None
    if match is None:
        return _UNKNOWN_RELEASE
    parts = [int(group) for group in match.groups()] + [1, 1]
    try:
        value = date(parts[0], parts[1], parts[2])
    except ValueError:
        return _UNKNOWN_RELEASE
    return ReleaseDate(value, value.year)


def album_row(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Columns of ``albums`` from an AlbumObject or SimplifiedAlbumObject.

    ``label`` and ``popularity`` exist only on full objects; simplified rows keep None.
    """
    raw = opt_str(obj, "release_date", where)
    precision = opt_str(obj, "release_date_precision", where)
    release = parse_release_date(raw, precision)
    return {
        "album_id": req_str(obj, "id", where),
        "name": opt_str(obj, "name", where),
        "album_type": opt_str(obj, "album_type", where),
        "release_date": release.value,
        "release_date_raw": raw,
        "release_date_precision": precision,
        "release_year": release.year,
        "total_tracks": opt_int(obj, "total_tracks", where, bits=32),
        "label": opt_str(obj, "label", where),
        "popularity": opt_int(obj, "popularity", where, bits=16),
    }


def parse_albums(body: Any, request_url: str | None = None) -> list[Record]:
    """GET /albums?ids= -> ``{"albums": [AlbumObject | null]}``; null = id unknown to Spotify, skipped."""
    records: list[Record] = []
    for i, album in enumerate(req_list(as_object(body, "$"), "albums", "$")):
        if album is None:
            continue
        where = f"$.albums[{i}]"
        obj = as_object(album, where)
        row = album_row(obj, where)
        records.append(Record("albums", Richness.FULL, row))
        tracks = opt_object(obj, "tracks", where)
        if tracks is not None:
            items = as_list(tracks.get("items") or [], f"{where}.tracks.items")
            records.extend(simplified_track_records(items, f"{where}.tracks.items", album_id=row["album_id"]))
    return records


__all__ = ["ReleaseDate", "album_row", "parse_albums", "parse_release_date"]
