"""What every parse module returns: rows tagged with their table and how complete they are."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Richness(IntEnum):
    """How complete a Spotify object is; the dedupe keeps the richest record of a key.

    Spotify returns the same album or track in a full form (GET /albums, GET /tracks: with
    label, popularity, ISRC) and a simplified form (embedded in new releases or an album's
    track list: without them). A full object must win over a simplified one whatever the
    order the parts were read in.
    """

    SIMPLIFIED = 1
    FULL = 2


@dataclass(frozen=True)
class Record:
    """One row for one curated table, before lineage is added.

    Attributes:
        table: curated table name (``albums``, ``tracks``, ``artists``).
        richness: full or simplified source object.
        row: column name -> value for the table's own columns; keys starting with ``_``
            are carried for derived tables (``_artist_ids`` for ``track_artists``) and
            are not written.
    """

    table: str
    richness: Richness
    row: dict[str, Any]


__all__ = ["Record", "Richness"]
