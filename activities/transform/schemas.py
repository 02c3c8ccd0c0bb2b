"""The Arrow schema of every curated table, in one place.

docs/data-model.md describes the same columns for people; a unit test keeps the two in step.
Natural-key columns are non-nullable: a row without its key is a bug, not data.
Every table ends with the same lineage columns, so any row can be traced to the raw blob it
came from.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

# Lineage columns appended to every table (see LINEAGE_FIELDS users below).
LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("snapshot_date", pa.date32(), nullable=False),
    pa.field("source_run_id", pa.string(), nullable=False),
    pa.field("source_blob", pa.string(), nullable=False),
)


def _with_lineage(*fields: pa.Field) -> pa.Schema:
    return pa.schema([*fields, *LINEAGE_FIELDS])


TRACKS = _with_lineage(
    pa.field("track_id", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("album_id", pa.string()),
    pa.field("duration_ms", pa.int32()),
    pa.field("explicit", pa.bool_()),
    pa.field("popularity", pa.int16()),
    pa.field("isrc", pa.string()),
    pa.field("track_number", pa.int32()),
    pa.field("disc_number", pa.int32()),
    pa.field("is_local", pa.bool_()),
    pa.field("primary_artist_id", pa.string()),
)

ALBUMS = _with_lineage(
    pa.field("album_id", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("album_type", pa.string()),
    pa.field("release_date", pa.date32()),
    pa.field("release_date_raw", pa.string()),
    pa.field("release_date_precision", pa.string()),
    pa.field("release_year", pa.int16()),
    pa.field("total_tracks", pa.int32()),
    pa.field("label", pa.string()),
    pa.field("popularity", pa.int16()),
)

ARTISTS = _with_lineage(
    pa.field("artist_id", pa.string(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("followers", pa.int64()),
    pa.field("popularity", pa.int16()),
    pa.field("genres", pa.list_(pa.string())),
    pa.field("image_url", pa.string()),
)

TRACK_ARTISTS = _with_lineage(
    pa.field("track_id", pa.string(), nullable=False),
    pa.field("artist_id", pa.string(), nullable=False),
    pa.field("artist_position", pa.int16(), nullable=False),
)

# Table name -> schema, in the order tables are written and reported.
TABLES: Mapping[str, pa.Schema] = {
    "albums": ALBUMS,
    "tracks": TRACKS,
    "artists": ARTISTS,
    "track_artists": TRACK_ARTISTS,
}

# Table name -> natural key columns: dedupe key and the sort order of the written rows.
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "albums": ("album_id",),
    "tracks": ("track_id",),
    "artists": ("artist_id",),
    "track_artists": ("track_id", "artist_position"),
}

__all__ = ["ALBUMS", "ARTISTS", "LINEAGE_FIELDS", "NATURAL_KEYS", "TABLES", "TRACKS", "TRACK_ARTISTS"]
