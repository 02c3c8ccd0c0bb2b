"""Parse GET /browse/new-releases bodies: ``{"albums": <paging of SimplifiedAlbumObject>}``.

Pure: response body in, simplified ``albums`` records out (a full album from GET /albums
replaces them in the dedupe).
"""

from __future__ import annotations

from typing import Any

from activities.transform.parse._fields import as_list, as_object, req_object
from activities.transform.parse._records import Record, Richness
from activities.transform.parse.albums import album_row


def parse_new_releases(body: Any, request_url: str | None = None) -> list[Record]:
    """Simplified album records of one new-releases page."""
    page = req_object(as_object(body, "$"), "albums", "$")
    items = as_list(page.get("items"), "$.albums.items")
    return [
        Record(
            "albums", Richness.SIMPLIFIED, album_row(as_object(item, f"$.albums.items[{i}]"), f"$.albums.items[{i}]")
        )
        for i, item in enumerate(items)
        if item is not None
    ]


__all__ = ["parse_new_releases"]
