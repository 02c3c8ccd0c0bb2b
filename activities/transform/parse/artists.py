"""Parse GET /artists?ids= bodies: ``{"artists": [ArtistObject | null]}``.

Pure: response body in, full ``artists`` records out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.transform.parse._fields import (
    as_object,
    opt_int,
    opt_list,
    opt_object,
    opt_str,
    opt_str_list,
    req_list,
    req_str,
)
from activities.transform.parse._records import Record, Richness


def _widest_image_url(obj: Mapping[str, Any], where: str) -> str | None:
    """URL of the widest image; the API lists widest first, but we do not rely on that order.

    Ties (and missing widths) keep the earlier image, so the choice is deterministic.
    """
    best_url: str | None = None
    best_width = -1
    for i, image in enumerate(opt_list(obj, "images", where) or []):
        image_obj = as_object(image, f"{where}.images[{i}]")
        url = opt_str(image_obj, "url", f"{where}.images[{i}]")
        width = opt_int(image_obj, "width", f"{where}.images[{i}]", bits=32) or 0
        if url and width > best_width:
            best_url, best_width = url, width
    return best_url


def artist_row(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Columns of ``artists`` from an ArtistObject."""
    followers = opt_object(obj, "followers", where)
    return {
        "artist_id": req_str(obj, "id", where),
        "name": opt_str(obj, "name", where),
        "followers": opt_int(followers, "total", f"{where}.followers", bits=64) if followers is not None else None,
        "popularity": opt_int(obj, "popularity", where, bits=16),
        "genres": opt_str_list(obj, "genres", where),
        "image_url": _widest_image_url(obj, where),
    }


def parse_artists(body: Any, request_url: str | None = None) -> list[Record]:
    """Full artist records; null entries (ids unknown to Spotify) are skipped."""
    return [
        Record("artists", Richness.FULL, artist_row(as_object(artist, f"$.artists[{i}]"), f"$.artists[{i}]"))
        for i, artist in enumerate(req_list(as_object(body, "$"), "artists", "$"))
        if artist is not None
    ]


__all__ = ["artist_row", "parse_artists"]
