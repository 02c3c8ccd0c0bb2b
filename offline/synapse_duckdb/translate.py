"""Translate the project's T-SQL (serverless SQL pool dialect) into DuckDB SQL (pure functions).

Each statement goes through four steps, so the local pool either matches serverless or refuses:
1. refusals.check: features serverless refuses (or the stand-in cannot reproduce) fail by name;
2. binding: sqlglot qualifies every column against the catalog with case-sensitive identifiers, as the
   database's Latin1_General_100_BIN2_UTF8 collation makes them (a name differing in case is an
   "Invalid column name" / "Invalid object name");
3. typing (tsql_types) and the rewrite passes, one module per concern: tabular (OPENJSON, TOP WITH TIES),
   functions, dates, arithmetic, strings;
4. DuckDB SQL from sqlglot's generator.

OPENROWSET over Parquet becomes `read_parquet` with Hive partitioning (openrowset_sql), so
`r.filepath(n)` over a `key=*` folder is the partition column and DuckDB prunes files as serverless does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from offline.synapse_duckdb import arithmetic, dates, functions, learn, refusals, strings, tabular
from offline.synapse_duckdb.errors import SqlTranslationError, TsqlError
from offline.synapse_duckdb.openrowset import find_openrowsets
from offline.synapse_duckdb.openrowset_sql import FILENAME_COLUMN, METADATA_PREFIXES, FileColumns, Locator, read_parquet
from offline.synapse_duckdb.rewrite import Context, Pass, Session
from offline.synapse_duckdb.tsql_types import SqlType, Typer, from_text, to_duckdb

_CREATE_VIEW = re.compile(r"^\s*CREATE\s+(?:OR\s+ALTER\s+)?VIEW\s+([\w.\[\]]+)\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)
_FILEPATH = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*(filepath|filename)\s*\(\s*(\d*)\s*\)", re.IGNORECASE)
_TYPED_FILEPATH = re.compile(
    r"\bCAST\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*filepath\s*\(\s*(\d+)\s*\)\s+AS\s+(DATE|INT|BIGINT|SMALLINT)\s*\)",
    re.IGNORECASE,
)
_SET_DATEFIRST = re.compile(r"^\s*SET\s+DATEFIRST\s+(\S+)\s*;?\s*$", re.IGNORECASE)
# Identifiers are case-sensitive under the BIN2 database collation (synapse/setup/01_database.sql).
_TSQL = Dialect.get_or_raise("tsql, normalization_strategy = case_sensitive")
_PASSES: tuple[Pass, ...] = (tabular.rewrite, functions.rewrite, dates.rewrite, arithmetic.rewrite, strings.rewrite)
_PLACEHOLDER_SCHEMA = "__local"

# "schema.table" -> column -> T-SQL type: what the statement may reference.
Catalog = Mapping[str, Mapping[str, SqlType]]


@dataclass(frozen=True)
class ViewSql:
    name: str  # schema.view
    sql: str  # DuckDB `CREATE OR REPLACE VIEW`


def strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def translate_view(
    tsql: str, locate: Locator, file_columns: FileColumns | None = None, catalog: Catalog | None = None
) -> ViewSql:
    """A `CREATE OR ALTER VIEW` over OPENROWSET as DuckDB SQL. `file_columns` gives the Parquet columns
    under a glob (name -> Arrow type), so WITH types and names bind as serverless binds them."""
    match = _CREATE_VIEW.match(strip_comments(tsql))
    if match is None:
        raise SqlTranslationError("a view script must be one `CREATE OR ALTER VIEW <schema>.<name> AS SELECT …` statement")
    name = match.group(1).replace("[", "").replace("]", "")
    body = match.group(2).strip().rstrip(";")
    select = translate_query(body, catalog, locate=locate, file_columns=file_columns, in_view=True)
    return ViewSql(name=name, sql=f"CREATE OR REPLACE VIEW {name} AS\n{select}")


@dataclass(frozen=True)
class _Inlined:
    text: str  # the T-SQL with each OPENROWSET replaced by a placeholder table
    catalog: Catalog  # with the placeholders' columns
    sources: dict[str, str]  # placeholder -> DuckDB read_parquet subquery


def _inline_openrowsets(
    text: str, catalog: Catalog, locate: Locator | None, file_columns: FileColumns | None
) -> _Inlined:
    rowsets = find_openrowsets(text)
    if rowsets and locate is None:
        raise SqlTranslationError("OPENROWSET needs the pool's data sources: run it through LocalServerlessPool")
    sources: dict[str, str] = {}
    scoped: dict[str, Mapping[str, SqlType]] = dict(catalog)
    for index, rowset in reversed(list(enumerate(rowsets))):
        assert locate is not None
        placeholder = f"{_PLACEHOLDER_SCHEMA}.__openrowset_{index}"
        typed = {int(n): t for alias, n, t in _TYPED_FILEPATH.findall(text) if alias == rowset.alias}
        source = read_parquet(rowset, locate, file_columns, typed)
        sources[placeholder] = source.sql
        scoped[placeholder] = {**{c.name: from_text(c.sql_type) for c in rowset.columns}, **{
            column: from_text(sql_type) for column, sql_type in source.metadata_columns.items()}}
        text = f"{text[: rowset.start]}{placeholder} AS {rowset.alias}{text[rowset.end :]}"
    if rowsets:
        text = _TYPED_FILEPATH.sub(lambda m: f"{m.group(1)}.__filepath_{m.group(2)}_typed", text)
        text = _FILEPATH.sub(_metadata_column, text)
    return _Inlined(text, scoped, sources)


def _metadata_column(match: re.Match[str]) -> str:
    alias, function, number = match.group(1), match.group(2).lower(), match.group(3)
    if function == "filename":
        return f"{alias}.{FILENAME_COLUMN}"
    return f"{alias}.__filepath_{number or 0}"


def translate_query(
    tsql: str,
    catalog: Catalog | None = None,
    session: Session | None = None,
    *,
    locate: Locator | None = None,
    file_columns: FileColumns | None = None,
    in_view: bool = False,
) -> str:
    statements = translate_batch(tsql, catalog, session, locate=locate, file_columns=file_columns, in_view=in_view)
    if len(statements) != 1:
        raise SqlTranslationError(f"expected one statement, found {len(statements)}")
    return statements[0]


def translate_batch(
    tsql: str,
    catalog: Catalog | None = None,
    session: Session | None = None,
    *,
    locate: Locator | None = None,
    file_columns: FileColumns | None = None,
    in_view: bool = False,
) -> list[str]:
    """Every statement of a T-SQL batch (not a view: see translate_view) as DuckDB SQL. `SET DATEFIRST n`
    changes `session` for the statements after it and emits nothing. OPENROWSET needs `locate`."""
    session = session if session is not None else Session()
    text = strip_comments(tsql)
    dates.check_format_patterns(text)
    inlined = _inline_openrowsets(text, catalog or {}, locate, file_columns)
    translated = []
    for statement_text in _statements(inlined.text):
        datefirst = _SET_DATEFIRST.match(statement_text)
        if datefirst:
            session.datefirst = _datefirst(datefirst.group(1))
            continue
        try:
            statements = sqlglot.parse(statement_text, read="tsql")
        except sqlglot.errors.ParseError as exc:
            raise SqlTranslationError(f"T-SQL does not parse: {exc}") from exc
        translated += [_statement(s, inlined.catalog, session, in_view) for s in statements if s is not None]
    for placeholder, source_sql in inlined.sources.items():
        translated = [sql.replace(placeholder, source_sql) for sql in translated]
    return translated


def _statements(text: str) -> list[str]:
    """The batch split so `SET DATEFIRST` stands alone (everything else is parsed together)."""
    parts = re.split(r"(?im)^(\s*SET\s+DATEFIRST\s+\S+\s*;?\s*)$", text)
    return [p for p in parts if p.strip()]


def _datefirst(value: str) -> int:
    number = value.rstrip(";")
    if not number.isdigit() or not 1 <= int(number) <= 7:
        raise TsqlError(f"SET DATEFIRST {number}: the value must be 1 to 7 ({learn.DATEFIRST})")
    return int(number)


def _statement(statement: exp.Expr, catalog: Catalog, session: Session, in_view: bool) -> str:
    refusals.check(statement)
    _check_order_by(statement, in_view)
    if isinstance(statement, exp.Query):
        statement = _bind(statement, catalog)
    typer = Typer(statement, catalog)
    context = Context(typer, session)
    for node in reversed(list(statement.walk())):
        _rewrite(node, context)
    return statement.transform(to_duckdb).sql(dialect="duckdb", pretty=True)


def _check_order_by(statement: exp.Expr, in_view: bool) -> None:
    """T-SQL rejects ORDER BY without TOP/OFFSET in a view, derived table, subquery or CTE (learn.ORDER_BY);
    DuckDB runs it, and the order means nothing there."""
    for query in statement.find_all(exp.Select, exp.SetOperation):
        ordered = query.args.get("order") is not None and query.args.get("limit") is None
        if ordered and query.args.get("offset") is None and (in_view or query is not statement):
            raise TsqlError(
                "The ORDER BY clause is invalid in views, inline functions, derived tables, subqueries, and common "
                "table expressions, unless TOP, OFFSET or FOR XML is also specified."
            )


def _rewrite(node: exp.Expr, context: Context) -> None:
    for _ in range(2):  # a replacement (CONVERT -> CAST) gets the passes once more
        replacement = None
        for rewrite in _PASSES:
            replacement = rewrite(node, context)
            if replacement is not None:
                break
        if replacement is None:
            return
        if node.parent is not None:
            node.replace(replacement)
        node = replacement


def _bind(query: exp.Query, catalog: Catalog) -> exp.Query:
    nested: dict[str, object] = {}
    for table, columns in catalog.items():
        schema, _, name = table.rpartition(".")
        tables = nested.setdefault(schema, {})
        assert isinstance(tables, dict)
        tables[name] = {column: "INT" for column in columns}
    _check_table_names(query, catalog)
    starred = [select for select in query.find_all(exp.Select) if select.is_star or any(
        isinstance(e, exp.Column) and isinstance(e.this, exp.Star) for e in select.expressions)]
    try:
        bound = qualify(
            query, schema=MappingSchema(nested, dialect=_TSQL, normalize=False) if nested else None, dialect=_TSQL,
            identify=False, quote_identifiers=False, validate_qualify_columns=_all_tables_known(query, catalog),
        )
    except sqlglot.errors.OptimizeError as exc:
        raise _binding_error(str(exc), catalog) from exc
    assert isinstance(bound, exp.Query)
    for select in starred:
        _drop_file_metadata(select)
    return bound


def _drop_file_metadata(select: exp.Select) -> None:
    """`SELECT *` over OPENROWSET returns the WITH columns only, not filepath()/filename() (the local
    stand-in's hidden columns); an explicit `r.filepath(1)` is aliased, so it stays."""
    select.set("expressions", [
        e for e in select.expressions
        if not (isinstance(e, exp.Alias) and isinstance(e.this, exp.Column) and e.alias == e.this.name
                and e.alias.startswith(METADATA_PREFIXES))
    ])


def _all_tables_known(query: exp.Query, catalog: Catalog) -> bool:
    """Columns are validated only when every table's columns are known (DuckDB reports the rest)."""
    ctes = {cte.alias for cte in query.find_all(exp.CTE)}
    return all(
        f"{t.db}.{t.name}" in catalog if t.db else t.name in ctes for t in query.find_all(exp.Table)
    )


def _check_table_names(query: exp.Query, catalog: Catalog) -> None:
    ctes = {cte.alias for cte in query.find_all(exp.CTE)}
    folded = {name.lower(): name for name in [*catalog, *ctes]}
    for table in query.find_all(exp.Table):
        name = f"{table.db}.{table.name}" if table.db else table.name
        if name not in catalog and name not in ctes and name.lower() in folded:
            raise TsqlError(
                f"Invalid object name '{name}' (the database collation Latin1_General_100_BIN2_UTF8 makes names "
                f"case-sensitive: did you mean '{folded[name.lower()]}'? {learn.COLLATION})"
            )


def _binding_error(message: str, catalog: Catalog) -> SqlTranslationError:
    missing = re.search(r"Column '\"?([^'\"]+)\"?' could not be resolved", message)
    if missing is None:
        return SqlTranslationError(f"cannot bind the query's columns locally: {message}")
    name = missing.group(1)
    same_but_case = sorted({c for columns in catalog.values() for c in columns if c.lower() == name.lower() and c != name})
    hint = (
        f" (the database collation Latin1_General_100_BIN2_UTF8 makes names case-sensitive: did you mean "
        f"'{same_but_case[0]}'? {learn.COLLATION})" if same_but_case else ""
    )
    return TsqlError(f"Invalid column name '{name}'.{hint}")


def is_view_script(tsql: str) -> bool:
    return _CREATE_VIEW.match(strip_comments(tsql)) is not None


__all__ = ["Catalog", "ViewSql", "is_view_script", "strip_comments", "translate_batch",
           "translate_query", "translate_view"]
