"""From deduped rows to the written tables: enrichment columns, bridges and lineage.

Enrichment keeps the raw value beside what is derived from it (``popularity`` and
``popularity_tier``, ``duration_ms`` and ``duration_minutes``/``duration_bucket``,
``release_year`` and ``release_decade``, ``genres`` and ``genre_family``, ``market`` and
``country_name``). The buckets, the genre families and the country names (``countries.py``)
are documented in docs/data-model.md. Everything is vectorised over one
bucket of winning rows at a time.

Bridges (``track_artists``, ``album_artists``, ``artist_genres``) are exploded from a list
column of the winning row of their base table, so a bridge always agrees with its base row
(same record, same ``source_blob``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activities.transform.countries import country_names
from activities.transform.schemas import SPECS, TableSpec

# -- buckets ---------------------------------------------------------------------------------------

POPULARITY_EDGES = (25, 50, 75)
POPULARITY_TIERS = ("low", "medium", "high", "top")  # 0-24, 25-49, 50-74, 75-100

DURATION_EDGES_MS = (120_000, 180_000, 240_000, 300_000, 600_000)
DURATION_BUCKETS = ("under 2 min", "2-3 min", "3-4 min", "4-5 min", "5-10 min", "10 min or more")

# Genre family: the first rule whose pattern matches the (lower-case) genre wins; order matters
# ("latin pop" is latin, "trip hop" is electronic, "indie folk" is folk). No match: "other".
GENRE_FAMILY_RULES: tuple[tuple[str, str], ...] = (
    ("latin", r"latin|reggaeton|salsa|bachata|cumbia|bossa nova|\bmpb\b|tango|sertanejo|samba|banda|corrido"
              r"|urbano|dembow|flamenco"),
    ("metal", r"metal|djent|deathcore|grindcore"),
    ("punk", r"punk|\bemo\b|screamo|hardcore"),
    ("electronic", r"\bedm\b|house|techno|trance|drum and bass|dubstep|electronica|\bidm\b|ambient|lo-fi"
                   r"|downtempo|trip hop|hardstyle|synthwave|breakbeat|uk garage"),
    ("hip hop", r"hip hop|hip-hop|\brap\b|\btrap\b|drill|grime|boom bap"),
    ("r&b/soul", r"r&b|\brnb\b|soul|funk|motown|gospel|disco|new jack swing"),
    ("jazz", r"jazz|bebop|\bswing\b|big band"),
    ("blues", r"blues"),
    ("country", r"country|bluegrass|americana|honky"),
    ("folk", r"folk|singer-songwriter"),
    ("reggae", r"reggae|dancehall|\bska\b|\bdub\b"),
    ("african", r"afro|amapiano|highlife|gqom|kwaito"),
    ("classical", r"classical|orchestra|baroque|opera|symphon|choral|chamber"),
    ("soundtrack", r"soundtrack|\bscore\b|show tunes|broadway|musical"),
    ("rock", r"rock|grunge|shoegaze|new wave"),
    ("pop", r"pop|schlager|boy band|girl group"),
    ("world", r"chanson|world|traditional|celtic|fado|bhangra|bollywood"),
)
OTHER_FAMILY = "other"
_RULES = tuple((family, re.compile(pattern)) for family, pattern in GENRE_FAMILY_RULES)


@lru_cache(maxsize=65_536)
def genre_family(genre: str) -> str:
    """The family of one Spotify genre string (see ``GENRE_FAMILY_RULES``)."""
    text = genre.lower()
    for family, pattern in _RULES:
        if pattern.search(text):
            return family
    return OTHER_FAMILY


def _labels(values: pa.ChunkedArray | pa.Array, edges: tuple[int, ...], labels: tuple[str, ...]) -> pa.Array:
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    numbers = array.fill_null(0).to_numpy(zero_copy_only=False)
    picked = np.asarray(labels, dtype=object)[np.searchsorted(np.asarray(edges), numbers, side="right")]
    return pa.array(picked, pa.string(), mask=array.is_null().to_numpy(zero_copy_only=False))


def popularity_tier(popularity: pa.ChunkedArray | pa.Array) -> pa.Array:
    return _labels(popularity, POPULARITY_EDGES, POPULARITY_TIERS)


def duration_bucket(duration_ms: pa.ChunkedArray | pa.Array) -> pa.Array:
    return _labels(duration_ms, DURATION_EDGES_MS, DURATION_BUCKETS)


def _families(genres: pa.Array) -> pa.Array:
    """genre_family of every genre in a string array (nulls stay null)."""
    unique = pc.unique(genres)
    mapped = pa.array([None if g is None else genre_family(g) for g in unique.to_pylist()], pa.string())
    return mapped.take(pc.index_in(genres, value_set=unique))


@dataclass(frozen=True)
class _Exploded:
    parents: np.ndarray  # row of the base table each element came from
    positions: np.ndarray  # 0-based position inside its list
    values: pa.Array


def _explode(lists: pa.ChunkedArray | pa.Array) -> _Exploded:
    array = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    lengths = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    total = int(lengths.sum())
    parents = np.repeat(np.arange(len(array), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    return _Exploded(parents, positions, pc.list_flatten(array))


def _artist_genre_family(genres: pa.ChunkedArray) -> pa.Array:
    """An artist's family: that of its first genre with a family other than "other"; null without genres."""
    exploded = _explode(genres)
    families = _families(exploded.values).to_numpy(zero_copy_only=False)
    count = len(genres)
    result = np.full(count, None, dtype=object)
    has_genres = np.zeros(count, dtype=bool)
    has_genres[exploded.parents] = True
    result[has_genres] = OTHER_FAMILY
    specific = families != OTHER_FAMILY
    # First specific family per artist: reversed assignment leaves the earliest one in place.
    parents = exploded.parents[specific][::-1]
    result[parents] = families[specific][::-1]
    return pa.array(result, pa.string())


def first_element(lists: pa.ChunkedArray) -> pa.Array:
    """The first element of each list; null for a null or empty list."""
    array = lists.combine_chunks()
    has = pc.fill_null(pc.greater(pc.list_value_length(array), 0), False)
    return pc.list_element(pc.if_else(has, array, pa.nulls(len(array), array.type)), 0)


Enrichment = Callable[[pa.Table], pa.Array]

ENRICHMENT: Mapping[str, Mapping[str, Enrichment]] = {
    "artists": {
        "popularity_tier": lambda t: popularity_tier(t["popularity"]),
        "primary_genre": lambda t: first_element(t["genres"]),
        "genre_family": lambda t: _artist_genre_family(t["genres"]),
    },
    "albums": {
        "release_decade": lambda t: pc.multiply(pc.divide(t["release_year"], pa.scalar(10, pa.int16())),
                                                pa.scalar(10, pa.int16())),
        "popularity_tier": lambda t: popularity_tier(t["popularity"]),
        "primary_artist_id": lambda t: first_element(t["_artist_ids"]),
    },
    "tracks": {
        "duration_minutes": lambda t: pc.divide(pc.cast(t["duration_ms"], pa.float64()), 60_000.0),
        "duration_bucket": lambda t: duration_bucket(t["duration_ms"]),
        "popularity_tier": lambda t: popularity_tier(t["popularity"]),
        "primary_artist_id": lambda t: first_element(t["_artist_ids"]),
    },
    "markets": {
        "country_name": lambda t: country_names(t["market"]),
    },
    "recently_played": {
        "played_date": lambda t: pc.cast(t["played_at"], pa.date32()),
    },
}


@dataclass(frozen=True)
class Lineage:
    """Lineage of one run: every row's ``source_blob`` is ``blobs[_part]``, its ``source_run_id``
    ``run_ids[_part]`` (None: every blob is this run's). Rows carried over from the earlier snapshot
    keep the blob and run they came from (their ``_part`` indexes past this run's parts)."""

    snapshot_date: date
    source_run_id: str
    blobs: pa.Array  # string, indexed by _part
    run_ids: pa.Array | None = None  # string, indexed by _part


def _lineage_columns(lineage: Lineage, parts: pa.ChunkedArray | pa.Array, count: int) -> list[pa.Array]:
    part_indices = parts.combine_chunks() if isinstance(parts, pa.ChunkedArray) else parts
    run_ids = (pa.repeat(pa.scalar(lineage.source_run_id, pa.string()), count) if lineage.run_ids is None
               else lineage.run_ids.take(part_indices))
    return [
        pa.repeat(pa.scalar(lineage.snapshot_date, pa.date32()), count),
        run_ids,
        lineage.blobs.take(part_indices),
    ]


def curated_table(spec: TableSpec, rows: pa.Table, lineage: Lineage) -> pa.Table:
    """The written table of ``spec`` from its winning (spilled-schema) rows."""
    derive = ENRICHMENT.get(spec.name, {})
    count = rows.num_rows
    columns: list[pa.Array | pa.ChunkedArray] = []
    lineage_columns = _lineage_columns(lineage, rows["_part"], count)
    lineage_names = [f.name for f in spec.schema][-3:]
    for field in spec.schema:
        if field.name in lineage_names:
            columns.append(lineage_columns[lineage_names.index(field.name)])
        elif field.name in derive:
            columns.append(pc.cast(derive[field.name](rows), field.type))
        else:
            columns.append(rows[field.name])
    return pa.Table.from_arrays(columns, schema=spec.schema)


def _bridge_from(
    spec: TableSpec, base: pa.Table, base_key: str, list_column: str, lineage: Lineage
) -> pa.Table:
    exploded = _explode(base[list_column])
    keep = exploded.values.is_valid()
    parents = pa.array(exploded.parents).filter(keep)
    positions = pa.array(exploded.positions).filter(keep)
    values = exploded.values.filter(keep)
    count = len(values)
    parts = base["_part"].combine_chunks().take(parents)
    base_ids = base[base_key].combine_chunks().take(parents)
    by_name: dict[str, pa.Array] = {
        base_key: base_ids,
        "artist_id": values if list_column == "_artist_ids" else base_ids,
        "artist_position": pc.cast(positions, pa.int16()),
        "genre_position": pc.cast(positions, pa.int16()),
        "genre": values,
    }
    if spec.name == "artist_genres":
        by_name["genre_family"] = _families(values)
    lineage_columns = _lineage_columns(lineage, parts, count)
    columns = [by_name[f.name] for f in spec.schema if f.name not in ("snapshot_date", "source_run_id", "source_blob")]
    return pa.Table.from_arrays([*columns, *lineage_columns], schema=spec.schema)


def bridge_table(spec: TableSpec, base: pa.Table, lineage: Lineage) -> pa.Table:
    """A bridge of ``spec`` exploded from the winning rows of its base table."""
    if spec.name == "track_artists":
        return _bridge_from(spec, base, "track_id", "_artist_ids", lineage)
    if spec.name == "album_artists":
        return _bridge_from(spec, base, "album_id", "_artist_ids", lineage)
    if spec.name == "artist_genres":
        return _bridge_from(spec, base, "artist_id", "genres", lineage)
    raise ValueError(f"{spec.name} is not a bridge")


# Base table -> bridges derived from it.
BRIDGES: Mapping[str, tuple[TableSpec, ...]] = {
    base: tuple(spec for spec in SPECS.values() if spec.derived_from == base)
    for base in {spec.derived_from for spec in SPECS.values() if spec.derived_from}
}

__all__ = [
    "BRIDGES",
    "DURATION_BUCKETS",
    "DURATION_EDGES_MS",
    "ENRICHMENT",
    "GENRE_FAMILY_RULES",
    "POPULARITY_EDGES",
    "POPULARITY_TIERS",
    "Lineage",
    "bridge_table",
    "curated_table",
    "genre_family",
]
