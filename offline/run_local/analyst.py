"""The analyst queries of `synapse/queries/` run on the local pool, each with the chart its header asks for.

A query file's header names the question it answers and, optionally, how the report charts it:

    -- Question: Which artists does the user listen to most?
    -- Chart: bar label=artist_name value=plays top=20
    -- Access mode: development

`bar` draws one bar per row (label columns joined with " · "), `line` one line per `series` value
over `x` (in the order the query returns them). `Access mode` is the Spotify access mode whose data the
query needs (development or extended). Synapse ignores the comments; only the report reads them. With the
serving folder given, each query also carries what it makes serverless SQL read (offline.run_local.query_reads).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from offline.run_local.charts import bar_chart, line_chart
from offline.run_local.query_reads import QueryReads, QueryReadsError, query_reads
from offline.synapse_duckdb import LocalServerlessPool, QueryResult, SqlTranslationError

__all__ = [
    "AnalystQuery", "ChartSpec", "ChartSpecError", "access_mode", "chart_spec", "query_chart", "run_analyst_queries",
]

_QUESTION = re.compile(r"^\s*--\s*Question:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_CHART = re.compile(r"^\s*--\s*Chart:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_ACCESS_MODE = re.compile(r"^\s*--\s*Access mode:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


class ChartSpecError(ValueError):
    """A `-- Chart:` header that cannot be drawn from its query's result; the message names both."""


@dataclass(frozen=True)
class ChartSpec:
    kind: str  # "bar" or "line"
    label: tuple[str, ...]  # bar: label columns; line: the x column
    value: str
    series: str | None = None
    top: int = 20


@dataclass(frozen=True)
class AnalystQuery:
    name: str  # file stem
    question: str
    sql: str  # the T-SQL as committed
    chart: ChartSpec | None
    access_mode: str = ""  # its `-- Access mode:` header
    result: QueryResult | None = None
    error: str | None = None  # why the query could not run locally
    reads: QueryReads | None = None  # what it makes serverless SQL read (None: not computed)


def chart_spec(sql: str) -> ChartSpec | None:
    """The `-- Chart:` header of a query file, or None when it has none."""
    match = _CHART.search(sql)
    if match is None:
        return None
    kind, *pairs = match.group(1).split()
    options = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    if kind not in ("bar", "line") or "value" not in options:
        raise ChartSpecError(f"`-- Chart: {match.group(1)}` must be `bar label=… value=…` or `line x=… value=… [series=…]`")
    label = options.get("label" if kind == "bar" else "x", "")
    if not label:
        raise ChartSpecError(f"`-- Chart: {match.group(1)}` names no {'label' if kind == 'bar' else 'x'} column")
    return ChartSpec(kind, tuple(label.split(",")), options["value"], options.get("series"), int(options.get("top", 20)))


def access_mode(sql: str) -> str:
    """The `-- Access mode:` header of a query file ("" when it has none)."""
    match = _ACCESS_MODE.search(sql)
    return match.group(1).lower() if match else ""


def run_analyst_queries(pool: LocalServerlessPool, queries_dir: Path, serving: Path | None = None) -> list[AnalystQuery]:
    """Every `*.sql` in `queries_dir`, in name order; a query that fails carries its error instead of a result.
    ``serving``: the local folder of the serving container, to compute what each query reads."""
    found = []
    for path in sorted(queries_dir.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        question = _QUESTION.search(sql)
        base = AnalystQuery(path.stem, question.group(1).strip() if question else "", sql, chart_spec(sql),
                            access_mode(sql))
        try:
            if serving is not None:
                base = replace(base, reads=query_reads(path.stem, sql, serving))
            found.append(replace(base, result=pool.run_file(path)))
        except (SqlTranslationError, QueryReadsError) as exc:
            found.append(replace(base, error=str(exc)))
    return found


def _column(result: QueryResult, name: str) -> int:
    if name not in result.columns:
        raise ChartSpecError(f"chart of `{result.name}` uses column `{name}`, the result has {', '.join(result.columns)}")
    return result.columns.index(name)


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def query_chart(result: QueryResult, spec: ChartSpec) -> str:
    """The SVG chart of a query result as its spec asks."""
    value = _column(result, spec.value)
    title = f"{spec.value} by {' · '.join(spec.label)}" + (f" per {spec.series}" if spec.series else "")
    if spec.kind == "bar":
        labels = [_column(result, name) for name in spec.label]
        bars = [(" · ".join("" if row[i] is None else str(row[i]) for i in labels), _number(row[value]))
                for row in result.rows[: spec.top]]
        return bar_chart(bars, title=title, value_label=spec.value)
    x = _column(result, spec.label[0])
    series = _column(result, spec.series) if spec.series else None
    x_labels: list[str] = _distinct(str(row[x]) for row in result.rows)
    firsts = {str(row[x]): row[x] for row in reversed(result.rows)}
    names = _distinct(str(row[series]) for row in result.rows) if series is not None else [spec.value]
    lines: dict[str, list[float | None]] = {name: [None] * len(x_labels) for name in names}
    for row in result.rows:
        name = str(row[series]) if series is not None else spec.value
        if row[value] is not None:
            lines[name][x_labels.index(str(row[x]))] = _number(row[value])
    if len(lines) > spec.top:  # keep the series with the largest totals, in their order of appearance
        totals = sorted(lines, key=lambda n: -sum(v for v in lines[n] if v is not None))[: spec.top]
        lines = {name: points for name, points in lines.items() if name in totals}
    return line_chart(x_labels, lines, title=title, y_label=spec.value,
                      x_positions=_positions([firsts[label] for label in x_labels]))


def _positions(values: list[Any]) -> list[float] | None:
    """Numbers or dates as positions on a linear axis, so gaps show; None when any value is neither."""
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    if all(isinstance(v, date) for v in values):
        return [float(v.toordinal()) for v in values]
    return None


def _distinct(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
