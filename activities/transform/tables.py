"""Deduplicate parsed records into the curated tables, deterministically.

The same album or track reaches the transform several times (a new-releases entry, the full
album, a track inside the album, the full track). Each table keeps one row per natural key:
the *richest* record. Ranking, highest wins:

1. richness: a full object over a simplified one;
2. more non-null columns (a full object that lacks a field loses to one that has it);
3. the later ``fetched_at`` of its part (newer data);
4. the greater part blob path, then the earlier position inside the part
   (only so that the choice never depends on the order parts are read).

Only the winning rows are kept in memory, never raw bodies.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from activities.transform.parse import Record, Richness
from activities.transform.schemas import NATURAL_KEYS, TABLES

# Rank of a candidate row: compared as a tuple, see the module docstring for the order.
_Rank = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class RunLineage:
    """Lineage shared by every row of one transform run."""

    snapshot_date: date
    source_run_id: str


class TableBuilder:
    """One table's best row per natural key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._key_columns = NATURAL_KEYS[name]
        self._columns = tuple(TABLES[name].names)
        self._best: dict[tuple[Any, ...], tuple[_Rank, dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._best)

    def _filled(self, row: Mapping[str, Any]) -> int:
        return sum(1 for column in self._columns if row.get(column) is not None)

    def offer(
        self, row: Mapping[str, Any], *, richness: Richness, source_blob: str, fetched_at: str | None, position: int
    ) -> None:
        """Keep ``row`` if it outranks the row already held for its key."""
        key = tuple(row[column] for column in self._key_columns)
        rank: _Rank = (int(richness), self._filled(row), fetched_at or "", source_blob, -position)
        held = self._best.get(key)
        if held is None or rank > held[0]:
            self._best[key] = (rank, {**row, "source_blob": source_blob})

    def rows(self) -> Iterator[dict[str, Any]]:
        """Winning rows in natural-key order, so reruns write identical files."""
        for key in sorted(self._best):
            yield self._best[key][1]


class CuratedTables:
    """The deduped content of every curated table of this slice."""

    def __init__(self) -> None:
        self._builders: dict[str, TableBuilder] = {name: TableBuilder(name) for name in ("albums", "tracks", "artists")}

    def add(self, records: Iterable[Record], *, source_blob: str, fetched_at: str | None) -> int:
        """Offer every record of one part; returns how many records were offered."""
        count = 0
        for position, record in enumerate(records):
            self._builders[record.table].offer(
                record.row, richness=record.richness, source_blob=source_blob, fetched_at=fetched_at, position=position
            )
            count += 1
        return count

    def count(self, table: str) -> int:
        """Rows a table will have (``track_artists`` is counted by walking the winning tracks)."""
        if table == "track_artists":
            return sum(1 for _ in self._track_artist_rows())
        return len(self._builders[table])

    def _track_artist_rows(self) -> Iterator[dict[str, Any]]:
        # Derived from the winning track row, so a track's artists always agree with the track
        # (same record, same source_blob); ordered by (track_id, artist_position).
        for track in self._builders["tracks"].rows():
            for position, artist_id in enumerate(track["_artist_ids"]):
                if artist_id is not None:
                    yield {
                        "track_id": track["track_id"],
                        "artist_id": artist_id,
                        "artist_position": position,
                        "source_blob": track["source_blob"],
                    }

    def rows(self, table: str, lineage: RunLineage) -> Iterator[dict[str, Any]]:
        """A table's rows in natural-key order, with all lineage columns filled."""
        source = self._track_artist_rows() if table == "track_artists" else self._builders[table].rows()
        for row in source:
            yield {**row, "snapshot_date": lineage.snapshot_date, "source_run_id": lineage.source_run_id}


__all__ = ["CuratedTables", "RunLineage", "TableBuilder"]
