"""Copy's schema mapping: a TabularTranslator's explicit `mappings` applied to rows (pure).

Learn, "Schema and data type mapping in copy activity" (copy-activity-schema-and-type-mapping): without mappings,
columns map by name; with `mappings`, each `{"source": {...}, "sink": {...}}` picks a source column by `name`, by
`ordinal` (1-based, delimited text without header) or by JSON `path` (`$['a']['b']`, `$.a.b`), and names the sink
column; unmapped source columns are not copied. A sink `type` converts the value (the interim types: String,
Int16/Int32/Int64, Single/Double, Decimal, Boolean, DateTime, Guid). `collectionReference` (unrolling arrays),
`columnMappings` (the legacy string form) and other interim types are refused by name.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import DatasetAccessError
from offline.adf_runner.datasets.formats import Rows
from offline.adf_runner.expressions import is_expression

__all__ = ["CONVERSIONS", "ColumnMapping", "add_columns", "apply_mappings", "parse_mappings", "translator_problem"]

CONVERSIONS = ("String", "Int16", "Int32", "Int64", "Single", "Double", "Decimal", "Boolean", "DateTime", "Guid")
_TRANSLATOR_KEYS = frozenset({"type", "mappings", "typeconversion", "typeconversionsettings"})
_PATH_PART = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\.?([^.\[\]]+)")


@dataclass(frozen=True)
class ColumnMapping:
    source_name: str | None
    source_path: tuple[str, ...] | None
    source_ordinal: int | None
    sink_name: str
    sink_type: str | None


def translator_problem(translator: Any) -> str | None:
    """Why the runner cannot apply `translator` (the raw JSON), or None. Checked before a run."""
    if translator is None:
        return None
    if not isinstance(translator, Mapping):
        return "translator must be an object"
    if is_expression(translator):
        return None  # a dynamic mapping: checked when it is evaluated
    kind = get_property(translator, "type")
    if kind != "TabularTranslator":
        return f"translator.type `{kind}` is not supported by the local runner (TabularTranslator)"
    for key in translator:
        if key.lower() not in _TRANSLATOR_KEYS:
            return f"translator.{key} is not supported by the local runner"
    mappings = get_property(translator, "mappings")
    if mappings is None or is_expression(mappings):
        return None
    if not isinstance(mappings, list):
        return "translator.mappings must be a list"
    for index, mapping in enumerate(mappings):
        sink = get_property(mapping, "sink") if isinstance(mapping, Mapping) else None
        kind = get_property(sink, "type") if isinstance(sink, Mapping) else None
        if kind is not None and kind not in CONVERSIONS:
            return f"translator.mappings[{index}].sink.type `{kind}` is not supported by the local runner ({', '.join(CONVERSIONS)})"
    return None


def parse_mappings(translator: Mapping[str, Any] | None, where: str) -> list[ColumnMapping] | None:
    """The evaluated translator's mappings, or None when columns map by name."""
    mappings = get_property(translator or {}, "mappings")
    if mappings is None:
        return None
    if not isinstance(mappings, list):
        raise DatasetAccessError("Source", f"{where}: translator.mappings must be a list, got {mappings!r}")
    parsed = []
    for index, mapping in enumerate(mappings):
        source = get_property(mapping, "source") if isinstance(mapping, Mapping) else None
        sink = get_property(mapping, "sink") if isinstance(mapping, Mapping) else None
        if not isinstance(source, Mapping) or not isinstance(sink, Mapping):
            raise DatasetAccessError("Source", f"{where}: translator.mappings[{index}] needs a source and a sink object")
        sink_name = get_property(sink, "name")
        sink_path = get_property(sink, "path")
        if sink_name is None and sink_path is not None:
            parts = _path(sink_path, where, index)
            if len(parts) != 1:
                raise DatasetAccessError("Sink", f"{where}: translator.mappings[{index}].sink.path {sink_path!r}: nested "
                                         "sink paths are not supported by the local runner (map to a top-level name)")
            sink_name = parts[0]
        if not isinstance(sink_name, str) or not sink_name:
            raise DatasetAccessError("Sink", f"{where}: translator.mappings[{index}].sink needs a name")
        path = get_property(source, "path")
        ordinal = get_property(source, "ordinal")
        parsed.append(ColumnMapping(
            source_name=get_property(source, "name"), source_path=_path(path, where, index) if path else None,
            source_ordinal=int(ordinal) if ordinal is not None else None, sink_name=sink_name,
            sink_type=get_property(sink, "type")))
    return parsed


def _path(path: Any, where: str, index: int) -> tuple[str, ...]:
    if not isinstance(path, str) or not path.startswith("$"):
        raise DatasetAccessError("Source", f"{where}: translator.mappings[{index}].source.path {path!r} must be a JSON "
                                 "path from the root ($['a']['b'] or $.a.b)")
    rest = path[1:]
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _PATH_PART.finditer(rest)]
    return tuple(p.replace("\\'", "'") for p in parts)


def apply_mappings(rows: Rows, mappings: Sequence[ColumnMapping] | None, where: str) -> Rows:
    """`rows` with the mappings applied (the rows as they are when there are none)."""
    if mappings is None:
        return rows
    columns = tuple(m.sink_name for m in mappings)
    records = tuple({m.sink_name: _convert(_pick(rows, record, m, where), m, where) for m in mappings}
                    for record in rows.records)
    return Rows(columns, records)


def _pick(rows: Rows, record: Mapping[str, Any], mapping: ColumnMapping, where: str) -> Any:
    if mapping.source_path is not None:
        value: Any = record
        for part in mapping.source_path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return value
    if mapping.source_ordinal is not None:
        if not 1 <= mapping.source_ordinal <= len(rows.columns):
            raise DatasetAccessError("Source", f"{where}: source ordinal {mapping.source_ordinal} is beyond the "
                                     f"{len(rows.columns)} columns of the file")
        return record.get(rows.columns[mapping.source_ordinal - 1])
    name = mapping.source_name
    if name in rows.columns:
        return record.get(name)
    folded = next((c for c in rows.columns if isinstance(name, str) and c.lower() == name.lower()), None)
    if folded is None and rows.columns:
        raise DatasetAccessError("Source", f"{where}: the source has no column `{name}` (columns: {', '.join(rows.columns)})")
    return record.get(folded) if folded else None


def _convert(value: Any, mapping: ColumnMapping, where: str) -> Any:
    kind = mapping.sink_type
    if value is None or kind is None:
        return value
    try:
        if kind == "String":
            return value if isinstance(value, str) else str(value)
        if kind in ("Int16", "Int32", "Int64"):
            number = int(value) if not isinstance(value, str) else int(value.strip())
            bits = {"Int16": 16, "Int32": 32, "Int64": 64}[kind]
            if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
                raise ValueError(f"{number} does not fit {kind}")
            return number
        if kind in ("Single", "Double"):
            return float(value)
        if kind == "Decimal":
            return Decimal(str(value))
        if kind == "Boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise ValueError(f"{value!r} is not true or false")
            return text == "true"
        if kind == "DateTime":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return str(uuid.UUID(str(value)))  # Guid
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise DatasetAccessError("Source", f"{where}: column `{mapping.sink_name}`: cannot convert {value!r} to {kind} "
                                 f"({exc})") from exc


def add_columns(rows: Rows, additional: Any, relative_path: str, where: str) -> Rows:
    """A source's `additionalColumns` added to each row (Learn, copy-activity-overview, "Add additional data columns
    during copy"): `$$FILEPATH` is the file's path relative to the dataset's folder, `$$COLUMN:<name>` duplicates a
    source column, anything else (a static value or an evaluated expression) is the value itself."""
    if not additional:
        return rows
    if not isinstance(additional, list):
        raise DatasetAccessError("Source", f"{where}: source.additionalColumns must be a list of {{name, value}}")
    columns: list[tuple[str, Any]] = []
    for index, column in enumerate(additional):
        name = get_property(column, "name") if isinstance(column, Mapping) else None
        if not isinstance(name, str) or not name:
            raise DatasetAccessError("Source", f"{where}: source.additionalColumns[{index}] needs a name")
        columns.append((name, get_property(column, "value")))
    records = []
    for record in rows.records:
        added = dict(record)
        for name, value in columns:
            if value == "$$FILEPATH":
                added[name] = relative_path
            elif isinstance(value, str) and value.startswith("$$COLUMN:"):
                source = value.removeprefix("$$COLUMN:")
                if source not in rows.columns:
                    raise DatasetAccessError("Source", f"{where}: additional column `{name}` duplicates `{source}`, "
                                             "which the source does not have")
                added[name] = record.get(source)
            else:
                added[name] = value
        records.append(added)
    names = tuple(dict.fromkeys([*rows.columns, *(name for name, _ in columns)]))
    return Rows(names, tuple(records))
