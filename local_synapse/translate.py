"""Translate the project's T-SQL (serverless SQL pool dialect) into DuckDB SQL (pure functions).

OPENROWSET over Parquet becomes `read_parquet` with Hive partitioning, so `r.filepath(n)` over a
`key=*` folder maps to the partition column and DuckDB prunes files exactly as Synapse does; the
rest of the statement goes through sqlglot's tsql -> duckdb transpiler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from local_synapse.errors import SqlTranslationError
from local_synapse.openrowset import OpenRowset, find_openrowsets

_CREATE_VIEW = re.compile(r"^\s*CREATE\s+(?:OR\s+ALTER\s+)?VIEW\s+([\w.\[\]]+)\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)
_FILEPATH = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*filepath\s*\(\s*(\d+)\s*\)", re.IGNORECASE)

# Locates an OPENROWSET's files: (data source name, BULK path) -> local glob.
Locator = Callable[[str | None, str], str]


@dataclass(frozen=True)
class ViewSql:
    name: str  # schema.view
    sql: str  # DuckDB `CREATE OR REPLACE VIEW`


def strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def translate_view(tsql: str, locate: Locator) -> ViewSql:
    match = _CREATE_VIEW.match(strip_comments(tsql))
    if match is None:
        raise SqlTranslationError("a view script must be one `CREATE OR ALTER VIEW <schema>.<name> AS SELECT …` statement")
    name = match.group(1).replace("[", "").replace("]", "")
    body = match.group(2).strip().rstrip(";")
    rowsets = find_openrowsets(body)
    placeholders: dict[str, str] = {}
    for index, rowset in reversed(list(enumerate(rowsets))):
        placeholder = f"__openrowset_{index}"
        placeholders[placeholder] = _read_parquet(rowset, locate)
        body = f"{body[: rowset.start]}{placeholder} AS {rowset.alias}{body[rowset.end :]}"
    body = _FILEPATH.sub(lambda m: f"{m.group(1)}.__filepath_{m.group(2)}", body)
    select = translate_query(body)
    for placeholder, source in placeholders.items():
        select = re.sub(rf"\b{placeholder}\b", source, select)
    return ViewSql(name=name, sql=f"CREATE OR REPLACE VIEW {name} AS\n{select}")


def translate_query(tsql: str) -> str:
    statements = translate_batch(tsql)
    if len(statements) != 1:
        raise SqlTranslationError(f"expected one statement, found {len(statements)}")
    return statements[0]


def translate_batch(tsql: str) -> list[str]:
    """Every statement of a T-SQL batch (not a view: see translate_view) as DuckDB SQL."""
    try:
        statements = sqlglot.parse(strip_comments(tsql), read="tsql")
    except sqlglot.errors.ParseError as exc:
        raise SqlTranslationError(f"T-SQL does not parse: {exc}") from exc
    return [
        s.transform(_tsql_types_to_duckdb).sql(dialect="duckdb", pretty=True) for s in statements if s is not None
    ]


def is_view_script(tsql: str) -> bool:
    return _CREATE_VIEW.match(strip_comments(tsql)) is not None


def _tsql_types_to_duckdb(node: exp.Expression) -> exp.Expression:
    # T-SQL FLOAT is 8 bytes (DuckDB DOUBLE; sqlglot would give 4-byte REAL) and BIT is a boolean
    # (DuckDB BIT is a bit string).
    if isinstance(node, exp.DataType):
        if node.this == exp.DataType.Type.FLOAT:
            return exp.DataType.build("DOUBLE")
        if node.this == exp.DataType.Type.BIT:
            return exp.DataType.build("BOOLEAN")
    return node


def _duckdb_type(tsql_type: str) -> str:
    try:
        data_type = exp.DataType.build(tsql_type, dialect="tsql")
    except (sqlglot.errors.ParseError, ValueError) as exc:
        raise SqlTranslationError(f"unknown column type `{tsql_type}` in an OPENROWSET WITH list") from exc
    return _tsql_types_to_duckdb(data_type).sql(dialect="duckdb")


def _read_parquet(rowset: OpenRowset, locate: Locator) -> str:
    glob = locate(rowset.data_source, rowset.bulk)
    columns = [f"{_column_value(c.name, c.sql_type)} AS {_quote(c.name)}" for c in rowset.columns]
    columns += [f"{expr} AS __filepath_{n}" for n, expr in enumerate(_wildcards(rowset.bulk), start=1)]
    path = glob.replace("'", "''")
    # Hive types stay auto-detected: with them DuckDB prunes partitions through the view's projections
    # (with string-typed partition columns it does not), and CAST(filepath(n) AS DATE) stays a no-op.
    return (
        f"(SELECT {', '.join(columns)} FROM read_parquet('{path}', hive_partitioning = true, "
        f"union_by_name = true, filename = true))"
    )


_TEXT_TYPES = re.compile(r"^\s*N?(VAR)?CHAR\b", re.IGNORECASE)


def _column_value(name: str, tsql_type: str) -> str:
    """The file column cast to its WITH type. A nested Parquet column (list, struct, map) read as text is
    its JSON, as serverless SQL returns it (DuckDB's plain cast would give `[a, b]`)."""
    column = _quote(name)
    duckdb_type = _duckdb_type(tsql_type)
    if not _TEXT_TYPES.match(tsql_type):
        return f"CAST({column} AS {duckdb_type})"
    nested = f"typeof({column}) LIKE '%[]' OR typeof({column}) LIKE 'STRUCT%' OR typeof({column}) LIKE 'MAP%'"
    return f"CASE WHEN {nested} THEN CAST(to_json({column}) AS {duckdb_type}) ELSE CAST({column} AS {duckdb_type}) END"


def _wildcards(bulk: str) -> list[str]:
    """A DuckDB expression for each `*` in the BULK path, in order (what `filepath(n)` returns)."""
    expressions = []
    for segment in bulk.split("/"):
        for _ in range(segment.count("*")):
            key = segment[:-2] if segment.endswith("=*") and segment.count("*") == 1 else None
            if key:
                expressions.append(_quote(key))  # Hive partition column: keeps pruning
            else:
                pattern = re.escape(segment).replace(r"\*", "([^/]*)")
                expressions.append(f"regexp_extract(filename, '{pattern}$', {len(expressions) + 1})")
    return expressions


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
