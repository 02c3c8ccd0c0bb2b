"""A local serverless SQL pool: DuckDB over the storage folder, fed the project's T-SQL scripts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from local_synapse.errors import SqlTranslationError
from local_synapse.translate import translate_query, translate_view

_DATA_SOURCE = re.compile(
    r"CREATE\s+EXTERNAL\s+DATA\s+SOURCE\s+(\w+)\s+WITH\s*\(\s*LOCATION\s*=\s*'([^']+)'", re.IGNORECASE
)
_QUESTION = re.compile(r"^\s*--\s*Question:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


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


class LocalServerlessPool:
    """Views and queries of `synapse/` on DuckDB, reading `<storage_root>/<container>/…` files."""

    def __init__(self, storage_root: Path, data_sources: dict[str, str]) -> None:
        self._root = storage_root
        self._data_sources = data_sources
        self.connection = duckdb.connect()

    def _locate(self, data_source: str | None, bulk: str) -> str:
        if data_source is None:
            raise SqlTranslationError(f"OPENROWSET over `{bulk}` needs DATA_SOURCE (locally it names the container)")
        if data_source not in self._data_sources:
            raise SqlTranslationError(
                f"data source `{data_source}` is not created by synapse/setup; known: {', '.join(sorted(self._data_sources))}"
            )
        return str(self._root / self._data_sources[data_source] / bulk)

    def create_views(self, views_dir: Path) -> list[str]:
        names = []
        for path in sorted(views_dir.glob("*.sql")):
            try:
                view = translate_view(path.read_text(encoding="utf-8"), self._locate)
            except SqlTranslationError as exc:
                raise SqlTranslationError(f"{path}: {exc}") from exc
            schema = view.name.split(".")[0] if "." in view.name else None
            if schema:
                self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            self.connection.execute(view.sql)
            names.append(view.name)
        return names

    def run_file(self, path: Path) -> QueryResult:
        text = path.read_text(encoding="utf-8")
        question = _QUESTION.search(text)
        try:
            sql = translate_query(text)
        except SqlTranslationError as exc:
            raise SqlTranslationError(f"{path}: {exc}") from exc
        try:
            cursor = self.connection.execute(sql)
        except duckdb.Error as exc:
            raise SqlTranslationError(f"{path}: DuckDB could not run the translated query: {exc}") from exc
        columns = [d[0] for d in cursor.description]
        return QueryResult(path.stem, question.group(1).strip() if question else "", columns, cursor.fetchall())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)
