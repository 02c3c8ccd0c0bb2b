"""One pure parse module per raw entity: a Spotify response body in, records out.

``PARSERS`` maps the manifest's ``entity`` to its parser; every parser takes the decoded body
and the part's ``request_url`` (only album track pages need it) and raises
``PayloadShapeError`` on a body that is not shaped like the entity's response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities.transform.parse._records import Record, Richness
from activities.transform.parse.albums import parse_albums, parse_release_date
from activities.transform.parse.artists import parse_artists
from activities.transform.parse.new_releases import parse_new_releases
from activities.transform.parse.tracks import parse_album_tracks, parse_tracks

Parser = Callable[[Any, str | None], list[Record]]

PARSERS: Mapping[str, Parser] = {
    "new_releases": parse_new_releases,
    "albums": parse_albums,
    "album_tracks": parse_album_tracks,
    "tracks": parse_tracks,
    "artists": parse_artists,
}

__all__ = [
    "PARSERS",
    "Parser",
    "Record",
    "Richness",
    "parse_album_tracks",
    "parse_albums",
    "parse_artists",
    "parse_new_releases",
    "parse_release_date",
    "parse_tracks",
]
