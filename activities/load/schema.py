"""A serving table's schema as JSON-friendly data: columns with a canonical type name (pure).

Type names are Arrow's, normalised so that what the transform declares and what a Parquet writer reads
back compare equal: ``string`` (also for ``large_string``), ``binary``, ``bool``, ``int8``…``int64``,
``uint8``…``uint64``, ``float16``/``float32``/``float64``, ``date``, ``time[ms]``/``time[us]``/``time[ns]``, ``timestamp[us]`` or
``timestamp[us, tz=UTC]``, ``decimal(p,s)``, ``list<T>``, ``map<K, V>``, ``struct<a: T, b: T>``, ``null``.

The stored form (``serving/_schemas/<table>/<snapshot_date>.json``) is::

    {"schema_version": 1, "table": "tracks", "snapshot_date": "2026-11-24",
     "columns": [{"name": "track_id", "type": "string", "nullable": true}, ...], ...}

Extra keys (rows, files, classification) are written beside ``columns`` and ignored when read back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1


class SchemaFormatError(ValueError):
    """A stored schema document is not shaped as described in this module."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass(frozen=True)
class TableSchema:
    """The columns of one serving table, in file order."""

    table: str
    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for column in self.columns:
            if column.name in seen:
                raise SchemaFormatError(f"table `{self.table}` has column `{column.name}` twice")
            seen.add(column.name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def by_name(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}

    def without(self, names: Iterable[str]) -> TableSchema:
        """The same schema without the named columns (e.g. the partition column)."""
        dropped = set(names)
        return TableSchema(self.table, tuple(c for c in self.columns if c.name not in dropped))

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """The stored document: version, table, ``extra`` (snapshot_date, rows, ...), then the columns."""
        return {
            "schema_version": SCHEMA_VERSION,
            "table": self.table,
            **extra,
            "columns": [column.to_json() for column in self.columns],
        }

    @classmethod
    def from_json(cls, document: Any, where: str) -> TableSchema:
        """Read a stored document; ``where`` names it in errors (``serving/_schemas/tracks/….json``)."""
        if not isinstance(document, Mapping):
            raise SchemaFormatError(f"{where}: a schema document must be a JSON object")
        table = document.get("table")
        columns = document.get("columns")
        if not isinstance(table, str) or not isinstance(columns, list):
            raise SchemaFormatError(f"{where}: needs a string `table` and a `columns` array")
        parsed = []
        for index, entry in enumerate(columns):
            if (
                not isinstance(entry, Mapping)
                or not isinstance(entry.get("name"), str)
                or not isinstance(entry.get("type"), str)
                or not isinstance(entry.get("nullable", True), bool)
            ):
                raise SchemaFormatError(f"{where}: columns[{index}] needs a string `name` and `type` and a boolean `nullable`")
            parsed.append(Column(entry["name"], entry["type"], entry.get("nullable", True)))
        return cls(table, tuple(parsed))


__all__ = ["SCHEMA_VERSION", "Column", "SchemaFormatError", "TableSchema"]
