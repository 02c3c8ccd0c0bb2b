"""The Arrow schema of every curated table, in one place.

docs/data-model.md describes the same columns for people; a unit test keeps the two in step.

Each table is a ``TableSpec``:

- ``schema``: the columns written to Parquet, in order, ending with the lineage columns;
- ``key``: the natural key (dedupe key and sort order of the written rows), non-nullable;
- ``parsed``: what the parse modules produce for the table, in tuple order (the row tuples
  the parsers append end with the record's richness). Columns starting with ``_`` are
  internal: they feed a derived table (``_artist_ids`` -> ``track_artists``) and are never
  written. Output columns not in ``parsed`` are enrichment, computed from parsed columns
  after the dedupe (``enrich.py``), or lineage.
- ``derived_from``: bridges built from the winning rows of another table instead of parsed.

Natural-key columns are non-nullable: a row without its key is quarantined, never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

# Lineage columns appended to every table (and to quarantine rows).
LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("snapshot_date", pa.date32(), nullable=False),
    pa.field("source_run_id", pa.string(), nullable=False),
    pa.field("source_blob", pa.string(), nullable=False),
)

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.string())


@dataclass(frozen=True)
class TableSpec:
    """One curated table: what is written, its key, and what the parsers feed it."""

    name: str
    kind: str  # "dimension", "bridge" or "fact"
    schema: pa.Schema
    key: tuple[str, ...]
    parsed: tuple[pa.Field, ...] = ()
    derived_from: str | None = None

    @property
    def parsed_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.parsed)


def _f(name: str, type_: pa.DataType, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable)


_STRING = pa.string()


def _key(name: str, type_: pa.DataType = _STRING) -> pa.Field:
    return pa.field(name, type_, nullable=False)


def _spec(
    name: str,
    kind: str,
    key: tuple[str, ...],
    columns: tuple[pa.Field, ...],
    parsed: tuple[str, ...] = (),
    internal: tuple[pa.Field, ...] = (),
    derived_from: str | None = None,
) -> TableSpec:
    by_name = {f.name: f for f in columns}
    return TableSpec(
        name=name,
        kind=kind,
        schema=pa.schema([*columns, *LINEAGE_FIELDS]),
        key=key,
        parsed=tuple(by_name[n] for n in parsed) + internal,
        derived_from=derived_from,
    )


# -- dimensions ------------------------------------------------------------------------------------

ARTISTS_SPEC = _spec(
    "artists",
    "dimension",
    ("artist_id",),
    (
        _key("artist_id"),
        _f("name", pa.string()),
        _f("followers", pa.int64()),
        _f("popularity", pa.int16()),
        _f("genres", STRING_LIST),
        _f("image_url", pa.string()),
        _f("popularity_tier", pa.string()),
        _f("primary_genre", pa.string()),
        _f("genre_family", pa.string()),
    ),
    parsed=("artist_id", "name", "followers", "popularity", "genres", "image_url"),
)

ALBUMS_SPEC = _spec(
    "albums",
    "dimension",
    ("album_id",),
    (
        _key("album_id"),
        _f("name", pa.string()),
        _f("album_type", pa.string()),
        _f("release_date", pa.date32()),
        _f("release_date_raw", pa.string()),
        _f("release_date_precision", pa.string()),
        _f("release_year", pa.int16()),
        _f("total_tracks", pa.int32()),
        _f("label", pa.string()),
        _f("popularity", pa.int16()),
        _f("release_decade", pa.int16()),
        _f("popularity_tier", pa.string()),
        _f("image_url", pa.string()),
        _f("primary_artist_id", pa.string()),
        _f("primary_artist_name", pa.string()),
    ),
    parsed=(
        "album_id",
        "name",
        "album_type",
        "release_date",
        "release_date_raw",
        "release_date_precision",
        "release_year",
        "total_tracks",
        "label",
        "popularity",
        "image_url",
        "primary_artist_name",
    ),
    internal=(_f("_artist_ids", STRING_LIST),),
)

TRACKS_SPEC = _spec(
    "tracks",
    "dimension",
    ("track_id",),
    (
        _key("track_id"),
        _f("name", pa.string()),
        _f("album_id", pa.string()),
        _f("duration_ms", pa.int32()),
        _f("explicit", pa.bool_()),
        _f("popularity", pa.int16()),
        _f("isrc", pa.string()),
        _f("track_number", pa.int32()),
        _f("disc_number", pa.int32()),
        _f("is_local", pa.bool_()),
        _f("primary_artist_id", pa.string()),
        _f("duration_minutes", pa.float64()),
        _f("duration_bucket", pa.string()),
        _f("popularity_tier", pa.string()),
        _f("primary_artist_name", pa.string()),
    ),
    parsed=(
        "track_id",
        "name",
        "album_id",
        "duration_ms",
        "explicit",
        "popularity",
        "isrc",
        "track_number",
        "disc_number",
        "is_local",
        "primary_artist_name",
    ),
    internal=(_f("_artist_ids", STRING_LIST),),
)

PLAYLISTS_SPEC = _spec(
    "playlists",
    "dimension",
    ("playlist_id",),
    (
        _key("playlist_id"),
        _f("name", pa.string()),
        _f("description", pa.string()),
        _f("owner_id", pa.string()),
        _f("owner_display_name", pa.string()),
        _f("public", pa.bool_()),
        _f("collaborative", pa.bool_()),
        _f("snapshot_id", pa.string()),
        _f("followers", pa.int64()),
        _f("total_items", pa.int32()),
        _f("image_url", pa.string()),
    ),
    parsed=(
        "playlist_id",
        "name",
        "description",
        "owner_id",
        "owner_display_name",
        "public",
        "collaborative",
        "snapshot_id",
        "followers",
        "total_items",
        "image_url",
    ),
)

USERS_SPEC = _spec(
    "users",
    "dimension",
    ("user_id",),
    (
        _key("user_id"),
        _f("display_name", pa.string()),
        _f("country", pa.string()),
        _f("product", pa.string()),
        _f("followers", pa.int64()),
        _f("image_url", pa.string()),
    ),
    parsed=("user_id", "display_name", "country", "product", "followers", "image_url"),
)

CATEGORIES_SPEC = _spec(
    "categories",
    "dimension",
    ("category_id",),
    (_key("category_id"), _f("name", pa.string()), _f("icon_url", pa.string())),
    parsed=("category_id", "name", "icon_url"),
)

MARKETS_SPEC = _spec(
    "markets",
    "dimension",
    ("market",),
    (_key("market"), _f("country_name", pa.string()), _f("is_spotify_market", pa.bool_())),
    parsed=("market", "is_spotify_market"),
)

# -- bridges (built from the winning rows of their base table) ------------------------------------

TRACK_ARTISTS_SPEC = _spec(
    "track_artists",
    "bridge",
    ("track_id", "artist_position"),
    (_key("track_id"), _key("artist_id"), _key("artist_position", pa.int16())),
    derived_from="tracks",
)

ALBUM_ARTISTS_SPEC = _spec(
    "album_artists",
    "bridge",
    ("album_id", "artist_position"),
    (_key("album_id"), _key("artist_id"), _key("artist_position", pa.int16())),
    derived_from="albums",
)

ARTIST_GENRES_SPEC = _spec(
    "artist_genres",
    "bridge",
    ("artist_id", "genre_position"),
    (_key("artist_id"), _key("genre_position", pa.int16()), _key("genre"), _f("genre_family", pa.string())),
    derived_from="artists",
)

# -- facts -----------------------------------------------------------------------------------------

NEW_RELEASES_SPEC = _spec(
    "new_releases",
    "fact",
    ("album_id",),
    (_key("album_id"), _f("market", pa.string()), _f("list_position", pa.int32())),
    parsed=("album_id", "market", "list_position"),
)

ARTIST_TOP_TRACKS_SPEC = _spec(
    "artist_top_tracks",
    "fact",
    ("artist_id", "market", "rank"),
    (_key("artist_id"), _key("market"), _key("rank", pa.int16()), _f("track_id", pa.string())),
    parsed=("artist_id", "market", "rank", "track_id"),
)

SEARCH_RESULTS_SPEC = _spec(
    "search_results",
    "fact",
    ("query", "item_type", "rank"),
    (
        _key("query"),
        _key("item_type"),
        _key("rank", pa.int32()),
        _f("item_id", pa.string()),
        _f("market", pa.string()),
        _f("total_results", pa.int32()),
    ),
    parsed=("query", "item_type", "rank", "item_id", "market", "total_results"),
)

USER_TOP_ITEMS_SPEC = _spec(
    "user_top_items",
    "fact",
    ("item_type", "time_range", "rank"),
    (_key("item_type"), _key("time_range"), _key("rank", pa.int32()), _f("item_id", pa.string())),
    parsed=("item_type", "time_range", "rank", "item_id"),
)

RECENTLY_PLAYED_SPEC = _spec(
    "recently_played",
    "fact",
    ("played_at",),
    (
        _key("played_at", TIMESTAMP),
        _f("track_id", pa.string()),
        _f("context_type", pa.string()),
        _f("context_uri", pa.string()),
        _f("played_date", pa.date32()),
    ),
    parsed=("played_at", "track_id", "context_type", "context_uri"),
)

SAVED_TRACKS_SPEC = _spec(
    "saved_tracks",
    "fact",
    ("track_id",),
    (_key("track_id"), _f("added_at", TIMESTAMP)),
    parsed=("track_id", "added_at"),
)

PLAYLIST_ITEMS_SPEC = _spec(
    "playlist_items",
    "fact",
    ("playlist_id", "position"),
    (
        _key("playlist_id"),
        _key("position", pa.int32()),
        _f("added_at", TIMESTAMP),
        _f("added_by_id", pa.string()),
        _f("is_local", pa.bool_()),
        _f("item_type", pa.string()),
        _f("track_id", pa.string()),
        _f("episode_id", pa.string()),
        _f("item_uri", pa.string()),
        _f("item_name", pa.string()),
        _f("item_duration_ms", pa.int32()),
    ),
    parsed=(
        "playlist_id",
        "position",
        "added_at",
        "added_by_id",
        "is_local",
        "item_type",
        "track_id",
        "episode_id",
        "item_uri",
        "item_name",
        "item_duration_ms",
    ),
)

FOLLOWED_ARTISTS_SPEC = _spec(
    "followed_artists",
    "fact",
    ("artist_id",),
    (_key("artist_id"),),
    parsed=("artist_id",),
)

# Table name -> spec, in the order tables are written and reported.
SPECS: Mapping[str, TableSpec] = {
    spec.name: spec
    for spec in (
        ALBUMS_SPEC,
        TRACKS_SPEC,
        ARTISTS_SPEC,
        TRACK_ARTISTS_SPEC,
        ALBUM_ARTISTS_SPEC,
        ARTIST_GENRES_SPEC,
        PLAYLISTS_SPEC,
        USERS_SPEC,
        CATEGORIES_SPEC,
        MARKETS_SPEC,
        NEW_RELEASES_SPEC,
        ARTIST_TOP_TRACKS_SPEC,
        SEARCH_RESULTS_SPEC,
        USER_TOP_ITEMS_SPEC,
        RECENTLY_PLAYED_SPEC,
        SAVED_TRACKS_SPEC,
        PLAYLIST_ITEMS_SPEC,
        FOLLOWED_ARTISTS_SPEC,
    )
}

# Table name -> schema / natural key (the views most callers need).
TABLES: Mapping[str, pa.Schema] = {name: spec.schema for name, spec in SPECS.items()}
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = {name: spec.key for name, spec in SPECS.items()}

# Tables the parsers feed (bridges are derived from these).
PARSED_TABLES: tuple[str, ...] = tuple(name for name, spec in SPECS.items() if spec.derived_from is None)

# Bad records: one row per record kept out of a curated table, written to
# quarantine/<table>/snapshot_date=YYYY-MM-DD/ with the same lineage as curated rows.
QUARANTINE = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("field", pa.string()),
        pa.field("natural_key", pa.string()),
        pa.field("record", pa.string()),
        *LINEAGE_FIELDS,
    ]
)

# Back-compatible names of the first slice's schemas.
TRACKS = TRACKS_SPEC.schema
ALBUMS = ALBUMS_SPEC.schema
ARTISTS = ARTISTS_SPEC.schema
TRACK_ARTISTS = TRACK_ARTISTS_SPEC.schema

__all__ = [
    "ALBUMS",
    "ARTISTS",
    "LINEAGE_FIELDS",
    "NATURAL_KEYS",
    "PARSED_TABLES",
    "QUARANTINE",
    "SPECS",
    "STRING_LIST",
    "TABLES",
    "TIMESTAMP",
    "TRACKS",
    "TRACK_ARTISTS",
    "TableSpec",
]
