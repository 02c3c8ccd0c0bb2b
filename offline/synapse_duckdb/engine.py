"""A local serverless SQL pool: DuckDB over the storage folder, fed the project's T-SQL scripts."""

from __future__ import annotations

import glob
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from offline.synapse_duckdb.errors import SqlExecutionError, SqlTranslationError
from offline.synapse_duckdb.rewrite import Session
from offline.synapse_duckdb.security import check_security_statements
from offline.synapse_duckdb.translate import (
    Catalog,
    is_view_script,
    strip_comments,
    translate_batch,
    translate_query,
    translate_view,
)
from offline.synapse_duckdb.tsql_types import SqlType, from_text

_DATA_SOURCE = re.compile(
    r"CREATE\s+EXTERNAL\s+DATA\s+SOURCE\s+(\w+)\s+WITH\s*\(\s*LOCATION\s*=\s*'([^']+)'", re.IGNORECASE
)
_QUESTION = re.compile(r"^\s*--\s*Question:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_CATALOG = "serverless"
# `CREATE SCHEMA x` in a setup script, bare or inside EXEC('...').
_CREATE_SCHEMA = re.compile(r"CREATE\s+SCHEMA\s+\[?(\w+)\]?", re.IGNORECASE)


@dataclass(frozen=True)
class QueryResult:
    name: str
    question: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def to_text(self, max_rows: int = 20) -> str:
        widths = [len(c) for c in self.columns]
        cells = [[_cell(v) for v in row] for row in self.rows[:max_rows]]
        for row in cells:
            widths = [max(w, len(v)) for w, v in zip(widths, row)]
        line = "  ".join(c.ljust(w) for c, w in zip(self.columns, widths))
        body = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
        return "\n".join([f"-- {self.name}: {self.question}", line, "-" * len(line), *body, f"({len(self.rows)} rows)"])


def data_sources_from_setup(setup_sql: str, variables: dict[str, str]) -> dict[str, str]:
    """External data source name -> container, from the setup script with sqlcmd variables applied."""
    # Only the locations matter here; secrets such as $(MasterKeyPassword) stay unsubstituted.
    text = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), setup_sql)
    return {name: location.rstrip("/").rsplit("/", 1)[-1] for name, location in _DATA_SOURCE.findall(text)}


def substitute_variables(sql: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in variables:
            raise SqlTranslationError(f"sqlcmd variable $({match.group(1)}) has no value")
        return variables[match.group(1)]

    return re.sub(r"\$\((\w+)\)", value, sql)


@dataclass(frozen=True)
class ScriptResult:
    """What one T-SQL batch returned: each result set as rows of {column: value}."""

    result_sets: list[list[dict[str, Any]]] = field(default_factory=list)
    records_affected: int = 0


class LocalServerlessPool:
    """Views and queries of `synapse/` on DuckDB, reading `<storage_root>/<container>/…` files.

    `database` makes the pool persistent (a DuckDB file: views created by one process, e.g. the load
    pipeline's Script activity, are there for the next, e.g. the run summary); None keeps it in memory.
    `before_query` runs before every statement (e.g. mirroring an Azurite container to `storage_root`).
    The pool serialises statements: activities may call it from parallel threads.
    """

    def __init__(
        self,
        storage_root: Path,
        data_sources: dict[str, str],
        *,
        database: Path | None = None,
        before_query: Callable[[], None] | None = None,
    ) -> None:
        self._root = Path(storage_root)
        self._data_sources = data_sources
        self._before_query = before_query
        self._lock = threading.RLock()
        self.database = database
        self.session = Session()
        self.connection = duckdb.connect(":memory:")
        # Safety net for `/` whose operand types the translation cannot tell: integer / integer stays an
        # integer, as in T-SQL (learn.DIVIDE); typed divisions are translated explicitly.
        self.connection.execute("SET integer_division = true")
        # Serverless SQL reads a Parquet UTC timestamp into DATETIME2 as its UTC wall time; DuckDB would
        # shift it to the machine's time zone when a view casts TIMESTAMPTZ to TIMESTAMP.
        self.connection.execute("SET TimeZone = 'UTC'")
        if database is not None:
            # Attached under a fixed name: DuckDB names a catalog after its file (spotify.duckdb -> `spotify`),
            # which would make the `spotify` schema ambiguous.
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            path = str(database).replace("'", "''")
            self.connection.execute(f"ATTACH '{path}' AS {_CATALOG}")
            self.connection.execute(f"USE {_CATALOG}")

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def _locate(self, data_source: str | None, bulk: str) -> str:
        if data_source is None:
            raise SqlTranslationError(f"OPENROWSET over `{bulk}` needs DATA_SOURCE (locally it names the container)")
        if data_source not in self._data_sources:
            raise SqlTranslationError(
                f"data source `{data_source}` is not created by synapse/setup; known: {', '.join(sorted(self._data_sources))}"
            )
        return str(self._root / self._data_sources[data_source] / bulk)

    def _prepare(self) -> None:
        if self._before_query is not None:
            self._before_query()

    def catalog(self) -> Catalog:
        """Every view's columns with their T-SQL types: what statements bind to, case-sensitively."""
        rows = self.connection.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog')"
        ).fetchall()
        catalog: dict[str, dict[str, SqlType]] = {}
        for schema, table, column, data_type in rows:
            catalog.setdefault(f"{schema}.{table}", {})[column] = from_text(data_type, dialect="duckdb")
        return catalog

    def _file_columns(self, pattern: str) -> dict[str, pa.DataType]:
        """The Parquet columns under a glob (footers only), as serverless binds WITH columns to them."""
        columns: dict[str, pa.DataType] = {}
        for path in sorted(set(glob.glob(pattern, recursive=True))):
            try:
                schema = pq.read_schema(path)
            except (OSError, pa.ArrowInvalid) as exc:
                raise SqlExecutionError(f"cannot read the Parquet footer of {path}: {exc}") from exc
            for field_ in schema:
                columns.setdefault(field_.name, field_.type)
        return columns

    def apply_setup(self, setup_sql: str) -> list[str]:
        """What the setup scripts mean locally: their schemas. (Databases, keys, credentials and file formats
        have no DuckDB counterpart; data sources are given to the constructor. Users, roles and grants have
        none either, but must be valid T-SQL: offline.synapse_duckdb.security.) Returns the schemas."""
        check_security_statements(setup_sql)
        schemas = sorted(set(_CREATE_SCHEMA.findall(strip_comments(setup_sql))))
        with self._lock:
            for schema in schemas:
                self.connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return schemas

    def create_view(self, tsql: str) -> str:
        """Run one `CREATE OR ALTER VIEW` script; returns the view's name."""
        with self._lock:
            self._prepare()
            view = translate_view(tsql, self._locate, self._file_columns, self.catalog())
            schema = view.name.split(".")[0] if "." in view.name else None
            if schema:
                self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            try:
                self.connection.execute(view.sql)
            except duckdb.IOException as exc:
                raise SqlExecutionError(
                    f"view {view.name}: {exc}. DuckDB binds a view to its files when it is created: create it "
                    "once the table has data"
                ) from exc
            except duckdb.Error as exc:
                raise SqlExecutionError(f"view {view.name}: DuckDB could not create it: {exc}") from exc
        return view.name

    def create_views(self, views_dir: Path) -> list[str]:
        names = []
        for path in sorted(views_dir.glob("*.sql")):
            try:
                names.append(self.create_view(path.read_text(encoding="utf-8")))
            except SqlTranslationError as exc:
                exc.args = (f"{path}: {exc}",)
                raise
        return names

    def execute_script(self, tsql: str) -> ScriptResult:
        """Run one T-SQL batch as the Script activity sends it: a `CREATE OR ALTER VIEW` on its own, or
        statements sqlglot translates. Result sets of statements that return rows are collected."""
        if is_view_script(tsql):
            self.create_view(tsql)
            return ScriptResult()
        result = ScriptResult()
        with self._lock:
            self._prepare()
            for sql in translate_batch(
                tsql, self.catalog(), self.session, locate=self._locate, file_columns=self._file_columns
            ):
                try:
                    cursor = self.connection.execute(sql)
                except duckdb.Error as exc:
                    raise SqlExecutionError(f"DuckDB could not run the translated statement: {exc}") from exc
                if cursor.description:
                    columns = [d[0] for d in cursor.description]
                    result.result_sets.append([dict(zip(columns, row)) for row in cursor.fetchall()])
        return result

    def run_file(self, path: Path) -> QueryResult:
        text = path.read_text(encoding="utf-8")
        question = _QUESTION.search(text)
        with self._lock:
            self._prepare()
            try:
                sql = translate_query(
                    text, self.catalog(), self.session, locate=self._locate, file_columns=self._file_columns
                )
            except SqlTranslationError as exc:
                exc.args = (f"{path}: {exc}",)  # keeps the class (refused by serverless, locally, ...)
                raise
            try:
                cursor = self.connection.execute(sql)
            except duckdb.Error as exc:
                raise SqlExecutionError(f"{path}: DuckDB could not run the translated query: {exc}") from exc
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return QueryResult(path.stem, question.group(1).strip() if question else "", columns, rows)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)
