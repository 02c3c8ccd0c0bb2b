"""A self-contained HTML report of one local run: pipeline and activity runs, table counts, query results."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from local_adf_runner import Monitor
from local_synapse import QueryResult


def write_report(path: Path, *, title: str, monitor: Monitor, table_rows: dict[str, int], truth_check: dict[str, Any],
                 queries: list[QueryResult]) -> Path:
    parts = [f"<h1>{_e(title)}</h1>", "<h2>Pipeline runs</h2>"]
    runs = sorted(monitor.pipeline_runs(), key=lambda r: r.runStart)
    parts.append(_table(
        ["Pipeline", "Triggered by", "Start", "Duration (s)", "Status", "Run ID"],
        [[r.pipelineName, _invoked(r.invokedBy), r.runStart.isoformat(timespec="seconds"),
          f"{(r.durationInMs or 0) / 1000:.1f}", r.status, r.runId] for r in runs],
    ))
    parts.append("<h2>Activity runs</h2>")
    activity_rows = []
    for run in runs:
        for a in monitor.activity_runs(run.runId):
            outcome = a.error.message if a.error else _short(a.output.get("customOutput") if isinstance(a.output, dict) else a.output)
            activity_rows.append([run.pipelineName, a.activityName, a.activityType, str(a.attempt),
                                  f"{(a.durationInMs or 0) / 1000:.1f}", a.status, outcome])
    parts.append(_table(["Pipeline", "Activity", "Type", "Attempt", "Duration (s)", "Status", "Output / error"], activity_rows))
    parts.append("<h2>Curated tables</h2>")
    parts.append(_table(["Table", "Rows"], [[name, f"{count:,}"] for name, count in sorted(table_rows.items())]))
    if truth_check:
        parts.append("<h2>Twin ground truth vs curated</h2>")
        parts.append(_table(["Entity", "Expected", "Curated", "Missing", "Unexpected"],
                            [[k, str(v["expected"]), str(v["curated"]), str(v["missing"]), str(v["unexpected"])]
                             for k, v in truth_check.items()]))
    for result in queries:
        parts.append(f"<h2>{_e(result.name)}</h2><p>{_e(result.question)}</p>")
        parts.append(_table(result.columns, [[_cell(v) for v in row] for row in result.rows[:50]]))
    style = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}th{background:#f3f3f3}")
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
                    f"<style>{style}</style></head><body>{''.join(parts)}</body></html>", encoding="utf-8")
    return path


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _invoked(invoked_by: Any) -> str:
    if isinstance(invoked_by, dict):
        return f"{invoked_by.get('name', '')} ({invoked_by.get('invokedByType', '')})"
    return str(invoked_by or "")


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 300 else text[:297] + "..."


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "" if value is None else str(value)


def _e(text: Any) -> str:
    return html.escape(str(text))
