"""The Arrow schema of every curated table, in one place.

docs/data-model.md describes the same columns for people; a unit test keeps the two in step.

Each table is a ``TableSpec``:

- ``schema``: the columns written to Parquet, in order, ending with the lineage columns;
- ``key``: the natural key (dedupe key and sort order of the written rows), non-nullable;
- ``parsed``: what the parse modules produce for the table. Parsers build a row by column name
  with ``spec.row(track_id=…, name=…)`` (keyword-only, generated from these fields; a column a
  parser does not name is null). Columns starting with ``_`` are internal: they feed a derived
  table (``_artist_ids`` -> ``track_artists``) and are never written. Output columns not in
  ``parsed`` are enrichment, computed from parsed columns after the dedupe (``enrich.py``), or lineage.
- ``derived_from``: bridges built from the winning rows of another table instead of parsed.
- ``modes``: the access modes whose extraction fills the table (``activities.sources``: a
  Development Mode app cannot call browse, markets or artist top tracks), and ``extended_only``
  the columns Spotify sends only to extended-quota apps (the February 2026 Development Mode
  changes removed them from the objects; they stay in the model, nullable). ``column_modes``
  answers per column; docs/data-model.md and the report read it from here.
- ``full_only``: columns only a full object fills; a row of an earlier snapshot that has one of
  them counts as full when it meets this run's rows (``incremental.py``).
- ``replace_scope``: for a fact that is a list Spotify returns whole (a user's top items for one
  time range, a playlist's items), the columns naming one list: a run that brings any row of a
  list replaces that list of the earlier snapshot. ``None``: rows accumulate, newer wins by key.

Natural-key columns are non-nullable: a row without its key is quarantined, never written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from activities.sources import ACCESS_MODES, EXTENDED

# Lineage columns appended to every table (and to quarantine rows).
LINEAGE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("snapshot_date", pa.date32(), nullable=False),
    pa.field("source_run_id", pa.string(), nullable=False),
    pa.field("source_blob", pa.string(), nullable=False),
)
LINEAGE_NAMES: tuple[str, ...] = tuple(f.name for f in LINEAGE_FIELDS)

TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.string())

BOTH_MODES: tuple[str, ...] = ACCESS_MODES
EXTENDED_MODE: tuple[str, ...] = (EXTENDED,)

# The last element of every parsed row: how rich the object it came from was (see dedupe.py).
RICHNESS = "_richness"


def _row_maker(name: str, columns: tuple[str, ...]) -> Callable[..., tuple[Any, ...]]:
    """``row(*, <column>=None, …, _richness)``: a row tuple in ``columns`` order, built by column name.

    Generated code, because this is the transform's hot loop: a keyword call of a plain function
    costs about a third of building a dict, and the tuple it returns goes to the columnar path as is.
    """
    arguments = ", ".join(f"{column}=None" for column in columns)
    source = f"def row(*, {arguments}, {RICHNESS}):\n    return ({', '.join((*columns, RICHNESS))},)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<row of {name}>", "exec"), namespace)  # noqa: S102 - names come from the schemas below
    row: Callable[..., tuple[Any, ...]] = namespace["row"]
    row.__qualname__ = f"row_of_{name}"
    return row


@dataclass(frozen=True)
class TableSpec:
    """One curated table: what is written, its key, what the parsers feed it, which modes fill it."""

    name: str
    kind: str  # "dimension", "bridge" or "fact"
    schema: pa.Schema
    key: tuple[str, ...]
    parsed: tuple[pa.Field, ...] = ()
    derived_from: str | None = None
    modes: tuple[str, ...] = BOTH_MODES
    extended_only: frozenset[str] = frozenset()
    full_only: tuple[str, ...] = ()
    replace_scope: tuple[str, ...] | None = None
    row: Callable[..., tuple[Any, ...]] = field(default=tuple, repr=False, compare=False)

    @property
    def parsed_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.parsed)

    def column_modes(self, column: str) -> tuple[str, ...]:
        """The access modes in which ``column`` gets values (lineage: every mode the table has)."""
        if column not in self.schema.names:
            raise KeyError(f"table `{self.name}` has no column `{column}`")
        return EXTENDED_MODE if column in self.extended_only or self.modes == EXTENDED_MODE else self.modes


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
    *,
    modes: tuple[str, ...] = BOTH_MODES,
    extended_only: tuple[str, ...] = (),
    full_only: tuple[str, ...] = (),
    replace_scope: tuple[str, ...] | None = None,
) -> TableSpec:
    by_name = {f.name: f for f in columns}
    unknown = [c for c in (*extended_only, *full_only, *(replace_scope or ())) if c not in by_name]
    if unknown:
        raise ValueError(f"table `{name}` annotates columns it does not have: {unknown}")
    fields = tuple(by_name[n] for n in parsed) + internal
    return TableSpec(
        name=name,
        kind=kind,
        schema=pa.schema([*columns, *LINEAGE_FIELDS]),
        key=key,
        parsed=fields,
        derived_from=derived_from,
        modes=modes,
        extended_only=frozenset(extended_only),
        full_only=full_only,
        replace_scope=replace_scope,
        row=_row_maker(name, tuple(f.name for f in fields)) if fields else tuple,
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
    # Development Mode: artist followers and popularity are no longer sent, genres are deprecated.
    extended_only=("followers", "popularity", "popularity_tier", "genres", "primary_genre", "genre_family"),
    full_only=("followers", "popularity", "genres", "image_url"),
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
    # Development Mode: album label and popularity are no longer sent.
    extended_only=("label", "popularity", "popularity_tier"),
    full_only=("label", "popularity"),
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
    # Development Mode: track popularity is no longer sent; external_ids (isrc) came back in March 2026.
    extended_only=("popularity", "popularity_tier"),
    full_only=("popularity", "isrc"),
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
    full_only=("followers",),
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
    # Development Mode: GET /me no longer sends country, email, explicit_content, followers, product.
    extended_only=("country", "product", "followers"),
    full_only=("country", "product", "followers", "image_url"),
)

CATEGORIES_SPEC = _spec(
    "categories",
    "dimension",
    ("category_id",),
    (_key("category_id"), _f("name", pa.string()), _f("icon_url", pa.string())),
    parsed=("category_id", "name", "icon_url"),
    modes=EXTENDED_MODE,  # GET /browse/categories answers 403 to a Development Mode app
)

MARKETS_SPEC = _spec(
    "markets",
    "dimension",
    ("market",),
    (_key("market"), _f("country_name", pa.string()), _f("is_spotify_market", pa.bool_())),
    parsed=("market", "is_spotify_market"),
    extended_only=("is_spotify_market",),  # GET /markets answers 403 to a Development Mode app
    full_only=("is_spotify_market",),
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
    modes=EXTENDED_MODE,  # from artist genres, deprecated in Development Mode
)

# -- facts -----------------------------------------------------------------------------------------

NEW_RELEASES_SPEC = _spec(
    "new_releases",
    "fact",
    ("album_id",),
    (_key("album_id"), _f("market", pa.string()), _f("list_position", pa.int32())),
    parsed=("album_id", "market", "list_position"),
    modes=EXTENDED_MODE,  # GET /browse/new-releases answers 403 to a Development Mode app
    replace_scope=(),  # the list as a whole
)

ARTIST_TOP_TRACKS_SPEC = _spec(
    "artist_top_tracks",
    "fact",
    ("artist_id", "market", "rank"),
    (_key("artist_id"), _key("market"), _key("rank", pa.int16()), _f("track_id", pa.string())),
    parsed=("artist_id", "market", "rank", "track_id"),
    modes=EXTENDED_MODE,  # GET /artists/{id}/top-tracks answers 403 to a Development Mode app
    replace_scope=("artist_id", "market"),
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
    replace_scope=("query", "item_type"),
)

# User tables: one Spotify user's data each row; ``user_id`` comes from the manifest part
# (the extract writes the user whose token it used), so several users share a table.

USER_TOP_ITEMS_SPEC = _spec(
    "user_top_items",
    "fact",
    ("user_id", "item_type", "time_range", "rank"),
    (
        _key("user_id"),
        _key("item_type"),
        _key("time_range"),
        _key("rank", pa.int32()),
        _f("item_id", pa.string()),
    ),
    parsed=("user_id", "item_type", "time_range", "rank", "item_id"),
    replace_scope=("user_id", "item_type", "time_range"),
)

RECENTLY_PLAYED_SPEC = _spec(
    "recently_played",
    "fact",
    ("user_id", "played_at"),
    (
        _key("user_id"),
        _key("played_at", TIMESTAMP),
        _f("track_id", pa.string()),
        _f("context_type", pa.string()),
        _f("context_uri", pa.string()),
        _f("played_date", pa.date32()),
    ),
    parsed=("user_id", "played_at", "track_id", "context_type", "context_uri"),
)

SAVED_TRACKS_SPEC = _spec(
    "saved_tracks",
    "fact",
    ("user_id", "track_id"),
    (_key("user_id"), _key("track_id"), _f("added_at", TIMESTAMP)),
    parsed=("user_id", "track_id", "added_at"),
)

FOLLOWED_ARTISTS_SPEC = _spec(
    "followed_artists",
    "fact",
    ("user_id", "artist_id"),
    (_key("user_id"), _key("artist_id")),
    parsed=("user_id", "artist_id"),
)

USER_PLAYLISTS_SPEC = _spec(
    "user_playlists",
    "fact",
    ("user_id", "playlist_id"),
    (_key("user_id"), _key("playlist_id"), _f("list_position", pa.int32())),
    parsed=("user_id", "playlist_id", "list_position"),
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
    replace_scope=("playlist_id",),
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
        USER_PLAYLISTS_SPEC,
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
    "BOTH_MODES",
    "EXTENDED_MODE",
    "LINEAGE_NAMES",
    "RICHNESS",
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
