"""A self-contained HTML report of one local run (one file, no scripts, no external resources).

Sections: the monitoring timeline (a Gantt of pipeline and activity runs, as ADF Studio draws it,
with the runs tables), row counts per curated table, quarantined records, schema changes seen by
the load stage, the twin's ground-truth check, and every analyst query with its chart and rows.
The collectors (`quarantine_counts`, `schema_changes`) read storage through the `Storage` protocol,
so they work on the folder storage and on Azurite alike.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from activities.common.errors import ActivityError
from activities.common.storage import Storage
from activities.load.layout import SCHEMAS_FOLDER, schema_date, schema_path
from activities.load.schema import SchemaFormatError, TableSchema
from offline.run_local.analyst import AnalystQuery, ChartSpecError, query_chart
from offline.run_local.charts import bar_chart, gantt_bars_from_runs, gantt_chart
from offline.run_local.query_reads import MB, MINIMUM_BILLED, SNAPSHOTS_PER_YEAR, billed, extended_only_columns

__all__ = ["QuarantineCount", "SchemaChange", "quarantine_counts", "schema_changes", "write_report"]

REASON_COLUMNS = ("reason", "quarantine_reason", "error")
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #1db954;padding-bottom:4px;margin-top:2em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}"
    "th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".error{color:#a4262c}.muted{color:#666}nav a{margin-right:1em}pre{background:#f6f6f6;padding:8px;overflow:auto}"
    "section.query{margin:2em 0}svg{max-width:100%;height:auto;display:block;margin:.5em 0}"
    "td.w{overflow-wrap:anywhere;max-width:520px;font-size:12px}summary{cursor:pointer;margin:.5em 0}.scroll{overflow-x:auto}"
)


@dataclass(frozen=True)
class QuarantineCount:
    rows: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    source: str = ""  # where the count came from: the quarantine container or the transform's customOutput


@dataclass(frozen=True)
class SchemaChange:
    table: str
    snapshot_date: str
    previous: str | None  # the snapshot of the schema compared against; None for a table's first schema
    columns: int
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (column, old type, new type)
    classification: str = ""  # the load stage's verdict when its schema file has one: new/unchanged/additive/breaking
    notes: tuple[str, ...] = ()  # the load stage's own description of each change, breaking ones marked

    @property
    def changed(self) -> bool:
        if self.classification:
            return self.classification != "unchanged"
        return self.previous is None or bool(self.added or self.removed or self.retyped)


# --- collectors -------------------------------------------------------------------------------------------


def quarantine_counts(storage: Storage, container: str, snapshot_date: date,
                      runs: Mapping[str, Any] | None = None) -> dict[str, QuarantineCount]:
    """Quarantined rows per table for one snapshot: from `quarantine/<table>/snapshot_date=…/*.parquet` when
    the container holds any, else from the transform activity's customOutput (`quarantine`: {table: n})."""
    counts = _quarantine_from_files(storage, container, f"snapshot_date={snapshot_date.isoformat()}")
    if counts or runs is None:
        return counts
    return _quarantine_from_runs(runs)


def _quarantine_from_files(storage: Storage, container: str, partition: str) -> dict[str, QuarantineCount]:
    """Rows and reasons counted in each table's quarantine Parquet files of the partition (none: no container yet)."""
    import pyarrow.parquet as pq

    counts: dict[str, QuarantineCount] = {}
    try:
        blobs = [b for b in storage.list_blobs(container) if b.path.endswith(".parquet")]
    except ActivityError:  # no such container yet
        blobs = []
    per_table: dict[str, list[str]] = {}
    for blob in blobs:
        parts = blob.path.split("/")
        if len(parts) >= 3 and parts[1] == partition:
            per_table.setdefault(parts[0], []).append(blob.path)
    for table, paths in sorted(per_table.items()):
        rows, reasons = 0, Counter[str]()
        for path in paths:
            data = pq.read_table(io.BytesIO(storage.read_bytes(container, path)))
            rows += data.num_rows
            reason = next((c for c in REASON_COLUMNS if c in data.column_names), None)
            if reason:
                reasons.update("" if v is None else str(v) for v in data.column(reason).to_pylist())
        counts[table] = QuarantineCount(rows, dict(reasons.most_common()), f"{container}/{table}/{partition}")
    return counts


def _quarantine_from_runs(runs: Mapping[str, Any]) -> dict[str, QuarantineCount]:
    """What the transform activity reported in its customOutput (``quarantine``: {table: n or {rows, reasons}})."""
    counts: dict[str, QuarantineCount] = {}
    for activity in runs.get("activityRuns", []):
        output = activity.get("output")
        output = output if isinstance(output, Mapping) else {}
        custom = output.get("customOutput")
        custom = custom if isinstance(custom, Mapping) else {}
        for table, value in (custom.get("quarantine") or {}).items():
            rows = value.get("rows", 0) if isinstance(value, Mapping) else int(value)
            reasons = value.get("reasons", {}) if isinstance(value, Mapping) else {}
            counts[table] = QuarantineCount(int(rows), dict(reasons), f"customOutput of {activity.get('activityName')}")
    return counts


def schema_changes(storage: Storage, container: str, snapshot_date: date) -> list[SchemaChange]:
    """Each table's schema document of this snapshot (`serving/_schemas/<table>/<date>.json`, as the load writes
    it) against the one before."""
    day = snapshot_date.isoformat()
    try:
        paths = [b.path for b in storage.list_blobs(container, f"{SCHEMAS_FOLDER}/")]
    except ActivityError:
        return []
    by_table: dict[str, list[str]] = {}
    for path in paths:
        parts, when = path.split("/"), schema_date(path)
        if len(parts) == 3 and when is not None and when <= day:
            by_table.setdefault(parts[1], []).append(when)
    return [_schema_change(storage, container, table, sorted(days)) for table, days in sorted(by_table.items())
            if max(days) == day]


def _schema_change(storage: Storage, container: str, table: str, days: list[str]) -> SchemaChange:
    day = days[-1]
    try:
        current, now = _schema_document(storage, container, table, day)
    except SchemaFormatError as exc:
        return SchemaChange(table, day, None, 0, notes=(str(exc),))
    verdict = str(current.get("classification") or "")
    notes = tuple(_note(c) for c in current.get("changes", []) if isinstance(c, Mapping)) if verdict else ()
    previous = current.get("compared_with") if verdict else (days[-2] if len(days) > 1 else None)
    if previous is None or previous not in days:
        return SchemaChange(table, day, previous, len(now.columns), classification=verdict, notes=notes)
    try:
        before = _schema_document(storage, container, table, previous)[1].by_name()
    except SchemaFormatError as exc:
        return SchemaChange(table, day, previous, len(now.columns), classification=verdict, notes=(*notes, str(exc)))
    types = {column.name: column.type for column in now.columns}
    return SchemaChange(
        table, day, previous, len(now.columns),
        added=tuple((c, t) for c, t in types.items() if c not in before),
        removed=tuple((c, column.type) for c, column in before.items() if c not in types),
        retyped=tuple((c, before[c].type, t) for c, t in types.items() if c in before and before[c].type != t),
        classification=verdict, notes=notes,
    )


def _schema_document(storage: Storage, container: str, table: str, day: str) -> tuple[Mapping[str, Any], TableSchema]:
    """The stored document (for the load's verdict beside the columns) and its schema, read by the load's model."""
    path = schema_path(table, day)
    where = f"{container}/{path}"
    try:
        document = json.loads(storage.read_bytes(container, path))
    except ValueError as exc:
        raise SchemaFormatError(f"{where}: not JSON ({exc})") from exc
    return document, TableSchema.from_json(document, where)


def _note(change: Mapping[str, Any]) -> str:
    """One change as the load stage records it: {"column", "change", "before", "after", "breaking"}."""
    before, after = change.get("before"), change.get("after")
    types = f" {before} → {after}" if before and after else f" {after or before}" if (after or before) else ""
    return f"{change.get('change', '?')} {change.get('column', '?')}{types}" + (" (breaking)" if change.get("breaking") else "")


# --- the page ---------------------------------------------------------------------------------------------


def write_report(path: Path, *, title: str, runs: Mapping[str, Any], table_rows: Mapping[str, int],
                 truth_check: Mapping[str, Any], queries: Sequence[AnalystQuery],
                 quarantine: Mapping[str, QuarantineCount] | None = None,
                 schemas: Sequence[SchemaChange] | None = None) -> Path:
    """Write the report to `path` and return it."""
    sections = [
        ("monitoring", "Monitoring", _monitoring(runs)),
        ("extraction", "Extraction", _extraction(runs)),
        ("tables", "Rows per table", _tables(table_rows)),
        ("quarantine", "Quarantine", _quarantine(quarantine)),
        ("schema-changes", "Schema changes", _schemas(schemas)),
    ]
    if truth_check:
        sections.append(("truth", "Twin ground truth vs curated", _truth(truth_check)))
    sections.append(("bytes", "Bytes each analyst query reads on Synapse serverless", _bytes_to_read(queries)))
    sections.append(("access-modes", "Access modes", _access_modes(queries)))
    sections.append(("queries", "Analyst queries", _queries(queries)))
    nav = "".join(f'<a href="#{key}">{_e(name)}</a>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{_e(name)}</h2>{content}</section>' for key, name, content in sections)
    path.write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1><nav>{nav}</nav>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def _monitoring(runs: Mapping[str, Any]) -> str:
    parts = [gantt_chart(gantt_bars_from_runs(runs), title="Pipeline and activity runs")]
    pipelines = sorted(runs.get("pipelineRuns", []), key=lambda r: str(r["runStart"]))
    parts.append(_table(
        ["Pipeline", "Triggered by", "Start", "Duration (s)", "Status", "Run ID"],
        [[r["pipelineName"], _invoked(r.get("invokedBy")), _when(r["runStart"]), _seconds(r.get("durationInMs")),
          r.get("status", ""), r["runId"]] for r in pipelines],
        numeric={3},
    ))
    parts.append(_trigger_runs(runs))
    order = {r["runId"]: i for i, r in enumerate(pipelines)}
    activities = sorted(runs.get("activityRuns", []),
                        key=lambda a: (order.get(a["pipelineRunId"], 0), str(a.get("activityRunStart") or "")))
    rows = []
    for a in activities:
        error = a.get("error") or {}
        output = a.get("output")
        properties = ", ".join(f"{k}={v}" for k, v in (a.get("userProperties") or {}).items())
        outcome = error.get("message") or _short(output.get("customOutput") if isinstance(output, Mapping) else output)
        rows.append([a["pipelineName"], a["activityName"], a.get("activityType", ""), str((a.get("retryAttempt") or 0) + 1),
                     _seconds(a.get("durationInMs")), a.get("status", ""), properties, outcome])
    parts.append(f"<details><summary>Activity runs ({len(rows)})</summary>")
    parts.append(_table(["Pipeline", "Activity", "Type", "Attempt", "Duration (s)", "Status", "User properties",
                         "Output / error"], rows, numeric={3, 4}, wrap={6, 7}))
    parts.append("</details>")
    return "".join(parts)


def _trigger_runs(runs: Mapping[str, Any]) -> str:
    """Monitor's Trigger runs view (triggerRuns/queryByFactory): what fired, when, and the runs it started."""
    triggers = sorted(runs.get("triggerRuns", []), key=lambda t: str(t.get("triggerRunTimestamp", "")))
    if not triggers:
        return "<p class='muted'>No trigger fired in this run: its pipelines were started directly.</p>"
    rows = [[t.get("triggerName", ""), t.get("triggerType", ""), _when(t.get("triggerRunTimestamp", "")), t.get("status", ""),
             ", ".join(f"{name} ({run_id})" for name, run_id in (t.get("triggeredPipelines") or {}).items()),
             ", ".join(f"{k}={v}" for k, v in (t.get("properties") or {}).items()), t.get("message", "")]
            for t in triggers]
    return "<h3>Trigger runs</h3>" + _table(["Trigger", "Type", "Fired", "Status", "Pipeline runs started", "Properties",
                                             "Message"], rows, wrap={4, 5})


def _extraction(runs: Mapping[str, Any]) -> str:
    """What the extraction's customOutput (the `Write manifest` activity) says: requests, the daily quota, the
    lookups deferred to the next run, and the sources or endpoints Spotify refused (issue 9)."""
    outputs = [a["output"]["customOutput"] for a in runs.get("activityRuns", [])
               if a.get("activityName") == "Write manifest" and a.get("status") == "Succeeded"
               and isinstance(a.get("output"), Mapping) and isinstance(a["output"].get("customOutput"), Mapping)]
    if not outputs:
        return "<p class='muted'>No extraction completed in this run.</p>"
    out = outputs[-1]
    deferred = ", ".join(f"{kind} {n}" for kind, n in sorted((out.get("deferred") or {}).items())) or "none"
    facts = [["Access mode", str(out.get("accessMode", ""))], ["API requests", str(out.get("requests", ""))],
             ["Daily quota exceeded", "yes: the rest is deferred" if out.get("quotaExceeded") else "no"],
             ["Lookups deferred to the next run", f"{out.get('deferredTotal', 0)} ({deferred})"],
             ["Sources refused on every call", ", ".join(out.get("unavailableSources") or []) or "none"]]
    refused = [[str(e.get("source", "")), str(e.get("status", "")), str(e.get("endpoint", "")),
                str(e.get("message", "")), str(e.get("refused", ""))] for e in out.get("unavailable") or []]
    return _table(["", ""], facts) + (_table(["Source", "Status", "Endpoint", "Message", "Calls refused"], refused)
                                      if refused else "")


def _tables(table_rows: Mapping[str, int]) -> str:
    table_rows = {name: count for name, count in table_rows.items() if not name.startswith("_")}  # markers, not tables
    if not table_rows:
        return "<p class='muted'>No table was published for this snapshot.</p>"
    ordered = sorted(table_rows.items(), key=lambda item: (-item[1], item[0]))
    return (bar_chart(ordered, title="Rows per curated table (this snapshot)", value_label="rows")
            + _table(["Table", "Rows"], [[name, f"{count:,}"] for name, count in sorted(table_rows.items())], numeric={1}))


def _quarantine(quarantine: Mapping[str, QuarantineCount] | None) -> str:
    if not quarantine:
        return "<p class='muted'>No quarantined records for this snapshot.</p>"
    rows = [[table, f"{count.rows:,}", ", ".join(f"{reason or '(none)'}: {n:,}" for reason, n in count.reasons.items()),
             count.source] for table, count in sorted(quarantine.items())]
    return _table(["Table", "Quarantined rows", "Reasons", "From"], rows, numeric={1})


def _schemas(schemas: Sequence[SchemaChange] | None) -> str:
    if not schemas:
        return "<p class='muted'>No inferred schemas were recorded for this snapshot.</p>"
    changed = [s for s in schemas if s.changed]
    rows = []
    for s in changed:
        if s.notes:
            what = "; ".join(s.notes)
        elif s.previous is None:
            what = f"first schema ({s.columns} columns)"
        else:
            what = "; ".join(
                [f"+ {c} {t}" for c, t in s.added] + [f"− {c} {t}" for c, t in s.removed]
                + [f"{c}: {old} → {new}" for c, old, new in s.retyped]
            ) or "column details only (nullability)"
        rows.append([s.table, s.classification or ("new" if s.previous is None else "changed"), s.previous or "",
                     str(s.columns), what])
    unchanged = sorted(s.table for s in schemas if not s.changed)
    note = f"<p class='muted'>Unchanged since the previous snapshot: {_e(', '.join(unchanged))}.</p>" if unchanged else ""
    table = (_table(["Table", "Classification", "Compared with", "Columns", "Change"], rows, numeric={3}) if rows
             else "<p>No schema changed.</p>")
    return table + note


def _truth(truth_check: Mapping[str, Any]) -> str:
    return _table(["Entity", "Expected", "Curated", "Missing", "Unexpected", "Duplicates"],
                  [[k, str(v["expected"]), str(v["curated"]), str(v["missing"]), str(v["unexpected"]),
                    str(v.get("duplicates", ""))] for k, v in truth_check.items()], numeric={1, 2, 3, 4, 5})


def _mb(size: int) -> str:
    return f"{size / MB:,.2f} MB" if size >= MB / 100 else f"{size / 1024:,.1f} KB"


def _bytes_to_read(queries: Sequence[AnalystQuery]) -> str:
    """Per query: the files and columns it touches, the bytes they hold today and after a year of daily
    snapshots, and what serverless bills (whole MB, at least 10 MB a query); see offline.run_local.query_reads."""
    rows = []
    for query in queries:
        reads = query.reads
        if reads is None:
            rows.append([query.name, query.access_mode, f"not computed: {query.error or 'no serving folder'}"] + [""] * 7)
            continue
        touched = "; ".join(f"{v.view}({', '.join(v.columns)})" for v in reads.views)
        rows.append([
            query.name, query.access_mode, touched,
            str(reads.files_today), _mb(reads.bytes_today), _mb(billed(reads.bytes_today)),
            str(reads.files_after_a_year), _mb(reads.bytes_after_a_year), _mb(billed(reads.bytes_after_a_year)),
            _mb(reads.without_latest_views),
        ])
    note = (
        "<p class='muted'>Compressed Parquet column chunks of the columns each query touches, in the files its views "
        "select: a <code>_latest</code> view reads the latest published snapshot's folder only. Serverless SQL bills "
        f"data processed in whole MB, at least {MINIMUM_BILLED // MB} MB per query (Microsoft Learn, \"Cost management "
        f"for serverless SQL pool\"). After a year = {SNAPSHOTS_PER_YEAR} daily snapshots the size of today's. The last "
        "column is what the same columns would cost read from every snapshot of that year, as a "
        "<code>snapshot_date = (SELECT MAX(…))</code> filter may when the pool cannot eliminate partitions through a "
        "subquery.</p>"
    )
    return note + _table(
        ["Query", "Access mode", "Views (columns) touched", "Files today", "Bytes today", "Billed today",
         "Files after a year", "Bytes after a year", "Billed after a year", "Every snapshot read (a year)"],
        rows, numeric={3, 4, 5, 6, 7, 8, 9}, wrap={2},
    )


def _access_modes(queries: Sequence[AnalystQuery]) -> str:
    """Which queries a Development Mode app can answer, and the nullable columns only extended mode fills."""
    parts = [_table(["Query", "Access mode it needs"], [[q.name, q.access_mode or "(not stated)"] for q in queries])]
    parts.append("<p>Nullable columns a Development Mode app gets no values for (filled in extended mode only; "
                 "declared in <code>activities/transform/schemas.py</code> and <code>activities/sources.py</code>). "
                 "Every other column is filled in both modes.</p>")
    parts.append(_table(["Table", "Columns filled in extended mode only"],
                        [[table, ", ".join(columns)] for table, columns in extended_only_columns().items()]))
    return "".join(parts)


def _queries(queries: Sequence[AnalystQuery]) -> str:
    parts = ["<ul>" + "".join(f'<li><a href="#q-{_e(q.name)}">{_e(q.question or q.name)}</a></li>' for q in queries)
             + "</ul>"]
    for query in queries:
        parts.append(f'<section class="query" id="q-{_e(query.name)}"><h3>{_e(query.name)}</h3><p>{_e(query.question)}</p>'
                     f"<p class='muted'>Access mode: {_e(query.access_mode or '(not stated)')}</p>")
        if query.result is None:
            parts.append(f"<p class='error'>Could not run locally: {_e(query.error)}</p>")
        else:
            if query.chart is not None and query.result.rows:
                try:
                    parts.append(query_chart(query.result, query.chart))
                except ChartSpecError as exc:
                    parts.append(f"<p class='error'>{_e(exc)}</p>")
            if not query.result.rows:
                parts.append("<p class='muted'>No rows for this run's data.</p>")
            shown = query.result.rows[:25]
            more = len(query.result.rows) - len(shown)
            parts.append(_table(query.result.columns, [[_cell(v) for v in row] for row in shown]))
            if more > 0:
                parts.append(f"<p class='muted'>… {more:,} more rows</p>")
        parts.append(f"<details><summary>T-SQL</summary><pre>{_e(query.sql)}</pre></details></section>")
    return "".join(parts)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None,
           wrap: set[int] | None = None) -> str:
    """An HTML table; `numeric` columns align right, `wrap` columns (long ids, JSON) may break anywhere."""
    numeric, wrap = numeric or set(), wrap or set()

    def cell(index: int, text: str) -> str:
        css = " ".join(name for name, columns in (("n", numeric), ("w", wrap)) if index in columns)
        return f"<td class='{css}'>{_e(text)}</td>" if css else f"<td>{_e(text)}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _invoked(invoked_by: Any) -> str:
    if isinstance(invoked_by, Mapping):
        return f"{invoked_by.get('name', '')} ({invoked_by.get('invokedByType', '')})"
    return str(invoked_by or "")


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)[:19]


def _seconds(ms: Any) -> str:
    return f"{(ms or 0) / 1000:.1f}"


def _short(value: Any) -> str:
    text = "" if value is None else json.dumps(value, default=str) if isinstance(value, (Mapping, list)) else str(value)
    return text if len(text) <= 300 else text[:297] + "..."


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "" if value is None else str(value)


def _e(text: Any) -> str:
    return html.escape(str(text))
