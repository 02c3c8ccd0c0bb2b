"""What an analyst query makes Synapse serverless SQL read, and which Spotify access mode fills what it reads.

Serverless SQL bills the data it processes, rounded up to the next MB, at least 10 MB per query (Microsoft
Learn, "Cost management for serverless SQL pool in Azure Synapse Analytics"). For Parquet it reads only the
column chunks of the columns a query touches, in the files its partition filter selects ("Best practices for
serverless SQL pool"). So the bytes a query must read are computed here from the Parquet footers:

1. the views and columns the query touches (sqlglot resolves every column to the view it comes from,
   through CTEs and subqueries);
2. the files each view reads: a ``<table>_latest`` view reads its snapshot's folder only; a ``<table>`` view
   every published snapshot (the queries filter those with literals or read history on purpose);
3. the compressed size of those columns' chunks in those files (``snapshot_date`` comes from the path: 0 bytes).

"After a year" assumes one snapshot a day, each the size of the latest one: a ``_latest`` view still reads one
snapshot, a ``<table>`` view 365. ``without_latest_views`` is what the same columns would cost if every
snapshot's files were read, as with the former ``snapshot_date = (SELECT MAX(...))`` filter when the pool
cannot eliminate partitions through a subquery.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from activities.common.storage import LocalFolderStorage
from activities.load.arrow_types import curated_tables
from activities.load.ddl import LATEST_SUFFIX, PARTITION_COLUMN, VIEW_SCHEMA
from activities.load.layout import partition_prefix
from activities.load.published import read_published

MB = 1024 * 1024
MINIMUM_BILLED = 10 * MB  # per query
SNAPSHOTS_PER_YEAR = 365
DEVELOPMENT, EXTENDED = "development", "extended"


class QueryReadsError(ValueError):
    """A query that cannot be resolved to the views and columns it reads; the message names the query."""


@dataclass(frozen=True)
class ViewRead:
    view: str  # spotify.tracks_latest
    table: str  # tracks
    latest_only: bool
    columns: tuple[str, ...]
    files: int  # files read today
    bytes: int  # bytes read today
    snapshots: int  # snapshots read today
    bytes_per_snapshot: int  # of the latest snapshot

    @property
    def bytes_after_a_year(self) -> int:
        return self.bytes_per_snapshot * (1 if self.latest_only else SNAPSHOTS_PER_YEAR)

    @property
    def files_after_a_year(self) -> int:
        per_snapshot = self.files // max(self.snapshots, 1)
        return per_snapshot * (1 if self.latest_only else SNAPSHOTS_PER_YEAR)


@dataclass(frozen=True)
class QueryReads:
    views: tuple[ViewRead, ...]

    @property
    def bytes_today(self) -> int:
        return sum(v.bytes for v in self.views)

    @property
    def bytes_after_a_year(self) -> int:
        return sum(v.bytes_after_a_year for v in self.views)

    @property
    def files_today(self) -> int:
        return sum(v.files for v in self.views)

    @property
    def files_after_a_year(self) -> int:
        return sum(v.files_after_a_year for v in self.views)

    @property
    def without_latest_views(self) -> int:
        """The same columns read from every snapshot of a year (no partition elimination)."""
        return sum(v.bytes_per_snapshot * SNAPSHOTS_PER_YEAR for v in self.views)

    @property
    def latest_only(self) -> bool:
        return all(v.latest_only for v in self.views)


def billed(data_bytes: int) -> int:
    """What serverless SQL bills for a query reading ``data_bytes``: whole MB, at least 10 MB."""
    return max(math.ceil(data_bytes / MB) * MB, MINIMUM_BILLED)


def view_columns() -> dict[str, list[str]]:
    """Every serving view (``<table>`` and ``<table>_latest``) and its columns."""
    found = {}
    for table, schema in curated_tables().items():
        columns = [c.name for c in schema.columns if c.name != PARTITION_COLUMN] + [PARTITION_COLUMN]
        found[table] = columns
        found[f"{table}{LATEST_SUFFIX}"] = columns
    return found


def touched_columns(name: str, sql: str, views: Mapping[str, list[str]] | None = None) -> dict[str, set[str]]:
    """``spotify.<view>`` -> the columns of it that the query ``sql`` reads."""
    views = view_columns() if views is None else views
    schema: dict[str, object] = {
        VIEW_SCHEMA: {view: dict.fromkeys(columns, "VARCHAR") for view, columns in views.items()}
    }
    try:
        tree = sqlglot.parse_one(sql, read="tsql")
        resolved = qualify(tree, schema=schema, dialect="tsql", validate_qualify_columns=False, quote_identifiers=False)
    except sqlglot.errors.SqlglotError as exc:
        raise QueryReadsError(f"analyst query {name}: cannot resolve the columns it reads: {exc}") from exc
    touched: dict[str, set[str]] = {}
    for scope in traverse_scope(resolved):
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                touched.setdefault(_view(name, source, views), set())
        for column in scope.columns:
            origin = scope.sources.get(column.table)
            if isinstance(origin, exp.Table):
                touched[_view(name, origin, views)].add(column.name)
    return touched


def _view(query: str, table: exp.Table, views: Mapping[str, list[str]]) -> str:
    if table.db != VIEW_SCHEMA or table.name not in views:
        raise QueryReadsError(f"analyst query {query} reads `{table.db}.{table.name}`, which is no serving view "
                              f"({VIEW_SCHEMA}.<table> or {VIEW_SCHEMA}.<table>{LATEST_SUFFIX})")
    return f"{VIEW_SCHEMA}.{table.name}"


def query_reads(name: str, sql: str, serving: Path) -> QueryReads:
    """The bytes ``sql`` reads from the serving container folder ``serving`` (see the module doc)."""
    published = sorted(read_published(LocalFolderStorage(serving.parent), serving.name))
    latest = published[-1:] if published else []
    reads = []
    for view, columns in sorted(touched_columns(name, sql).items()):
        short = view.split(".", 1)[1]
        latest_only = short.endswith(LATEST_SUFFIX)
        table = short[: -len(LATEST_SUFFIX)] if latest_only else short
        dates = latest if latest_only else published
        sizes = {day: _snapshot_bytes(serving, table, day, columns) for day in dates}
        per_latest = sizes[latest[0]] if latest else (0, 0)
        reads.append(ViewRead(
            view=view, table=table, latest_only=latest_only, columns=tuple(sorted(columns)),
            files=sum(files for files, _ in sizes.values()), bytes=sum(size for _, size in sizes.values()),
            snapshots=len(dates), bytes_per_snapshot=per_latest[1],
        ))
    return QueryReads(tuple(reads))


def _snapshot_bytes(serving: Path, table: str, day: str, columns: set[str]) -> tuple[int, int]:
    """(files, compressed bytes of ``columns``' chunks) of one snapshot of a table."""
    files = sorted((serving / partition_prefix(table, day)).glob("*.parquet"))
    size = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                name = chunk.path_in_schema.split(".", 1)[0]
                if name in columns and name != PARTITION_COLUMN:  # the views take it from the path
                    size += chunk.total_compressed_size
    return len(files), size


def column_modes(table: str, column: str) -> tuple[str, ...]:
    """The access modes that fill ``column`` of ``table``, as the transform declares them
    (``activities.transform.schemas`` ``SPECS[table].column_modes``). For the partition column, or a table it does not declare:
    the modes of the sources that feed the table (``activities.sources``)."""
    from activities import sources
    from activities.transform import schemas

    spec = schemas.SPECS.get(table)
    if spec is not None and column != PARTITION_COLUMN:
        return tuple(spec.column_modes(column))
    feeding = [source.modes for source in sources.SOURCES if table in source.tables]
    modes = frozenset().union(*feeding) if feeding else frozenset((DEVELOPMENT, EXTENDED))
    return tuple(mode for mode in (DEVELOPMENT, EXTENDED) if mode in modes)


def required_mode(touched: Mapping[str, set[str]]) -> str:
    """``development`` when a Development Mode app fills every column read, else ``extended``."""
    for view, columns in touched.items():
        table = view.split(".", 1)[1].removesuffix(LATEST_SUFFIX)
        if any(DEVELOPMENT not in column_modes(table, column) for column in columns):
            return EXTENDED
    return DEVELOPMENT


def extended_only_columns() -> dict[str, list[str]]:
    """Per table, the nullable columns only an extended-quota app fills (what the report lists)."""
    found = {}
    for table, schema in curated_tables().items():
        columns = [c.name for c in schema.columns if c.nullable and DEVELOPMENT not in column_modes(table, c.name)]
        if columns:
            found[table] = columns
    return found


__all__ = [
    "MB", "MINIMUM_BILLED", "SNAPSHOTS_PER_YEAR", "QueryReads", "QueryReadsError", "ViewRead", "billed", "column_modes",
    "extended_only_columns", "query_reads", "required_mode", "touched_columns", "view_columns",
]
