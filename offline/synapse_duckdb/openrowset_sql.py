"""One OPENROWSET(BULK ..., FORMAT = 'PARQUET') WITH (...) as a DuckDB `read_parquet` subquery (pure).

Binding follows learn.OPENROWSET: Parquet columns bind by name, case-sensitively ("If you specify column
name with casing different from column name casing in Parquet file, NULL values will be returned for that
column"; DuckDB would bind regardless of case), and each WITH type must suit the file's type
(parquet_types). File metadata follows learn.FILE_METADATA: `filepath(n)` is the text matched by the
n-th wildcard of the whole BULK path, as nvarchar; `filepath()` the file's full path (locally, its path
under the storage folder instead of the https URL); `filename()` the file's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from offline.synapse_duckdb.openrowset import OpenRowset
from offline.synapse_duckdb.parquet_types import check_with_type
from offline.synapse_duckdb.tsql_types import duckdb_type

# Locates an OPENROWSET's files: (data source name, BULK path) -> local glob.
Locator = Callable[[str | None, str], str]
# The Parquet columns of the files under a glob: name -> Arrow type (empty when no file matches).
FileColumns = Callable[[str], dict[str, pa.DataType]]
FILENAME_COLUMN = "__filename"
# The hidden columns of filepath(n) and filename(): `SELECT *` leaves them out, string rules leave them as they are.
METADATA_PREFIXES = ("__filepath_", FILENAME_COLUMN)
_TEXT_TYPES = re.compile(r"^\s*N?(VAR)?CHAR\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParquetSource:
    sql: str
    metadata_columns: dict[str, str]  # name -> T-SQL type: __filepath_0 (the path), __filepath_<n>[_typed], __filename


def read_parquet(
    rowset: OpenRowset, locate: Locator, file_columns: FileColumns | None, typed: dict[int, str] | None = None
) -> ParquetSource:
    """`typed` maps n -> T-SQL type for each `CAST(r.filepath(n) AS <type>)` of the view: a Hive key read
    with that type is exposed as `__filepath_<n>_typed`, a column DuckDB prunes files on (it does not
    prune through a CAST of the text)."""
    typed = typed or {}
    glob = locate(rowset.data_source, rowset.bulk)
    in_files = file_columns(glob) if file_columns is not None else {}
    columns = [f"{_column_value(c.name, c.sql_type, in_files)} AS {_quote(c.name)}" for c in rowset.columns]
    metadata = {"__filepath_0": "filename", FILENAME_COLUMN: "regexp_extract(filename, '[^/]*$')"}
    types = {name: "nvarchar" for name in metadata}
    hive_types = {}
    for n, (key, expression) in enumerate(wildcard_columns(rowset.bulk), start=1):
        if n in typed:
            cast_to = typed[n]
            types[f"__filepath_{n}_typed"] = cast_to
            if key is not None:
                hive_types[key] = duckdb_type(cast_to)
                metadata[f"__filepath_{n}_typed"] = _quote(key)
                expression = f"CAST({_quote(key)} AS VARCHAR)"
            else:
                metadata[f"__filepath_{n}_typed"] = f"CAST({expression} AS {duckdb_type(cast_to)})"
        metadata[f"__filepath_{n}"] = expression
        types.setdefault(f"__filepath_{n}", "nvarchar")
    columns += [f"{expression} AS {name}" for name, expression in metadata.items()]
    path = glob.replace("'", "''")
    hive = ", ".join(f"'{k}': '{v}'" for k, v in hive_types.items())
    # Other Hive values stay text: filepath(n) returns nvarchar.
    sql = (
        f"(SELECT {', '.join(columns)} FROM read_parquet('{path}', hive_partitioning = true, "
        f"hive_types_autocast = false{f', hive_types = {{{hive}}}' if hive else ''}, union_by_name = true, "
        "filename = true))"
    )
    return ParquetSource(sql, types)


def _column_value(name: str, tsql_type: str, in_files: dict[str, pa.DataType]) -> str:
    """The file column cast to its WITH type. A nested Parquet column (list, struct, map) read as text is
    its JSON, as serverless SQL returns it (DuckDB's plain cast would give `[a, b]`)."""
    target = duckdb_type(tsql_type)
    if in_files:
        if name not in in_files:  # absent, or present only in another case: NULL on serverless
            return f"CAST(NULL AS {target})"
        check_with_type(name, tsql_type, in_files[name])
    column = _quote(name)
    if not _TEXT_TYPES.match(tsql_type):
        return f"CAST({column} AS {target})"
    nested = f"typeof({column}) LIKE '%[]' OR typeof({column}) LIKE 'STRUCT%' OR typeof({column}) LIKE 'MAP%'"
    return f"CASE WHEN {nested} THEN CAST(to_json({column}) AS {target}) ELSE CAST({column} AS {target}) END"


def wildcard_columns(bulk: str) -> list[tuple[str | None, str]]:
    """(Hive key or None, DuckDB expression) for each `*` of the BULK path, numbered across the whole
    path (filepath(n)). A `key=*` folder is the Hive partition column, so filters on it prune files."""
    regex = "".join("([^/]*)" if part == "*" else re.escape(part) for part in re.split(r"(\*)", bulk)) + "$"
    pattern = regex.replace("'", "''")
    found: list[tuple[str | None, str]] = []
    for segment in bulk.split("/"):
        for _ in range(segment.count("*")):
            if segment.endswith("=*") and segment.count("*") == 1:
                found.append((segment[:-2], _quote(segment[:-2])))
            else:
                found.append((None, f"regexp_extract(filename, '{pattern}', {len(found) + 1})"))
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = ["FILENAME_COLUMN", "METADATA_PREFIXES", "FileColumns", "Locator", "ParquetSource", "read_parquet", "wildcard_columns"]
