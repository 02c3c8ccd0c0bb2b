"""Inline SVG charts for the run report (pure functions: data in, an `<svg>` string out).

No scripts, fonts or external resources: every chart is one standalone `<svg>` element that a
browser renders inline in the report. Every text that comes from data is XML-escaped. Marks carry
a class (`bar`, `line`, `point`, `gantt-bar`) and a `<title>` tooltip, so a reader can hover and a
test can count them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

__all__ = ["GanttBar", "bar_chart", "gantt_bars_from_runs", "gantt_chart", "line_chart"]

FONT = "font-family:system-ui,sans-serif;font-size:12px"
PALETTE = ("#1db954", "#0078d4", "#e8912d", "#8764b8", "#d13438", "#00a5a8", "#b4a000", "#6b6b6b")
# ADF Studio's Monitor colours per run status.
STATUS_COLOURS = {"Succeeded": "#107c10", "Failed": "#d13438", "InProgress": "#0078d4", "Queued": "#8a8886",
                  "Cancelled": "#8a8886", "Skipped": "#c8c6c4", "TimedOut": "#d13438"}


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{int(value):,}"


def _nice_step(span: float, target: int = 5) -> float:
    """A round tick step (1, 2, 5 × 10^n) that cuts `span` into about `target` intervals."""
    if span <= 0:
        return 1.0
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round ticks from the last one at or below `low` to the first one at or above `high`."""
    step = _nice_step(high - low, target)
    first = math.floor(low / step + 1e-9) * step
    ticks = [round(first, 10)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" style="{FONT}"><title>{_e(title)}</title>'
            f'<text x="0" y="14" font-weight="600">{_e(title)}</text>{"".join(body)}</svg>')


def _clip(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, value_label: str = "", width: int = 720) -> str:
    """Horizontal bars, one per (label, value), in the given order; negative values grow left of zero."""
    label_width, row, top = 220, 22, 30
    plot_left, plot_right = label_width + 8, width - 70
    height = top + row * max(len(bars), 1) + 34
    values = [float(v) for _, v in bars]
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1.0
    ticks = _ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def x(value: float) -> float:
        return plot_left + (value - low) / (high - low) * (plot_right - plot_left)

    body = []
    axis_y = top + row * max(len(bars), 1)
    for tick in ticks:
        body.append(f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{axis_y}" stroke="#e5e5e5"/>'
                    f'<text x="{x(tick):.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">{_e(_fmt(tick))}</text>')
    for index, (label, value) in enumerate(bars):
        y = top + index * row
        start, end = sorted((x(0.0), x(float(value))))
        body.append(
            f'<text x="{label_width}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{_e(_clip(str(label), 34))}</text>'
            f'<rect class="bar" x="{start:.1f}" y="{y + 3}" width="{max(end - start, 0.5):.1f}" height="{row - 6}" '
            f'fill="{PALETTE[0] if value >= 0 else PALETTE[4]}"><title>{_e(label)}: {_e(_fmt(float(value)))}</title></rect>'
            f'<text x="{end + 4:.1f}" y="{y + row / 2 + 4:.1f}" fill="#333">{_e(_fmt(float(value)))}</text>'
        )
    body.append(f'<line x1="{x(0.0):.1f}" y1="{top - 4}" x2="{x(0.0):.1f}" y2="{axis_y}" stroke="#888"/>')
    if value_label:
        body.append(f'<text x="{(plot_left + plot_right) / 2:.1f}" y="{axis_y + 30}" text-anchor="middle" '
                    f'fill="#555">{_e(value_label)}</text>')
    return _svg(width, height, title, body)


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, title: str,
               y_label: str = "", x_positions: Sequence[float] | None = None, width: int = 720,
               height: int = 300) -> str:
    """One line per series over the shared x labels (None = no point there); a legend names the series.

    With `x_positions` (one number per label, e.g. years or day numbers) points sit on a linear x scale,
    so gaps between labels show; without, labels are evenly spaced categories.
    """
    left, right, top, bottom = 60, width - 20, 30 + 18 * ((len(series) + 3) // 4), height - 40
    values = [float(v) for points in series.values() for v in points if v is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1.0
    ticks = _ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    count = max(len(x_labels), 1)
    positions = list(x_positions) if x_positions is not None and len(x_positions) == len(x_labels) else None
    first, last = (min(positions), max(positions)) if positions else (0.0, 0.0)

    def px(index: int) -> float:
        if positions is None:
            return left + (index + 0.5) * (right - left) / count
        if last == first:
            return (left + right) / 2
        return left + 36 + (positions[index] - first) / (last - first) * (right - left - 72)

    def py(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    body = []
    for tick in ticks:
        body.append(f'<line x1="{left}" y1="{py(tick):.1f}" x2="{right}" y2="{py(tick):.1f}" stroke="#e5e5e5"/>'
                    f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" fill="#555">{_e(_fmt(tick))}</text>')
    last_label = -math.inf
    for index, label in enumerate(x_labels):
        shown = _clip(str(label), 12)
        if px(index) - last_label >= 7 * len(shown) + 10:  # labels never overlap, however the points cluster
            last_label = px(index)
            body.append(f'<text x="{px(index):.1f}" y="{bottom + 16}" text-anchor="middle" fill="#555">'
                        f'{_e(shown)}</text>')
    for number, (name, points) in enumerate(series.items()):
        colour = PALETTE[number % len(PALETTE)]
        coords = [(px(i), py(float(v)), v, x_labels[i]) for i, v in enumerate(points) if v is not None and i < count]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _, _ in coords)
            body.append(f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" stroke-width="2">'
                        f'<title>{_e(name)}</title></polyline>')
        for cx, cy, value, label in coords:
            body.append(f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">'
                        f'<title>{_e(name)} · {_e(label)}: {_e(_fmt(float(value)))}</title></circle>')
        lx, ly = 10 + (number % 4) * (width - 20) / 4, 34 + 18 * (number // 4)
        body.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{lx + 14:.1f}" y="{ly}">{_e(_clip(str(name), 28))}</text>')
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>')
    if y_label:
        body.append(f'<text x="14" y="{(top + bottom) / 2:.1f}" text-anchor="middle" fill="#555" '
                    f'transform="rotate(-90 14 {(top + bottom) / 2:.1f})">{_e(y_label)}</text>')
    return _svg(width, height, title, body)


@dataclass(frozen=True)
class GanttBar:
    """One run on the timeline: a pipeline run (level 0) or one attempt of an activity run (level 1)."""

    label: str
    start: datetime
    end: datetime | None  # None: still in progress when the record was written
    status: str
    level: int = 0
    detail: str = ""


def gantt_chart(bars: Sequence[GanttBar], *, title: str, width: int = 960) -> str:
    """ADF Studio's Gantt view: one lane per run, time on x from the first start, bars coloured by status."""
    label_width, row, top = 260, 20, 30
    plot_left, plot_right = label_width + 10, width - 20
    axis_y = top + row * max(len(bars), 1)
    height = axis_y + 36
    if not bars:
        return _svg(width, height, title, [f'<text x="0" y="{top + 14}" fill="#555">no runs recorded</text>'])
    origin = min(b.start for b in bars)
    finish = max((b.end or b.start) for b in bars)
    span = max((finish - origin).total_seconds(), 0.001)
    ticks = _ticks(0.0, span, target=8)
    span = max(span, ticks[-1])

    def x(seconds: float) -> float:
        return plot_left + seconds / span * (plot_right - plot_left)

    body = []
    for tick in ticks:
        body.append(f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{axis_y}" stroke="#eee"/>'
                    f'<text x="{x(tick):.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">{tick:g}s</text>')
    for index, bar in enumerate(bars):
        y = top + index * row
        begin = (bar.start - origin).total_seconds()
        duration = ((bar.end or finish) - bar.start).total_seconds()
        colour = STATUS_COLOURS.get(bar.status, "#8a8886")
        indent, weight = (label_width - 16 * bar.level, "600" if bar.level == 0 else "400")
        tip = f"{bar.label} · {bar.status} · start +{begin:.2f}s · {duration:.2f}s" + (f" · {bar.detail}" if bar.detail else "")
        body.append(
            f'<text x="{indent}" y="{y + 14}" text-anchor="end" font-weight="{weight}">{_e(_clip(bar.label, 40))}</text>'
            f'<rect class="gantt-bar" data-status="{_e(bar.status)}" x="{x(begin):.1f}" y="{y + 3 + 2 * bar.level}" '
            f'width="{max(x(begin + duration) - x(begin), 1.0):.1f}" height="{row - 6 - 4 * bar.level}" rx="2" '
            f'fill="{colour}"><title>{_e(tip)}</title></rect>'
        )
    body.append(f'<line x1="{plot_left}" y1="{axis_y}" x2="{plot_right}" y2="{axis_y}" stroke="#888"/>'
                f'<text x="{plot_right}" y="{axis_y + 30}" text-anchor="end" fill="#555">'
                f'seconds since {_e(origin.isoformat(timespec="seconds"))}</text>')
    for number, status in enumerate(dict.fromkeys(b.status for b in bars)):  # legend: statuses present, in order
        lx = plot_right - 110 * (number + 1)
        body.append(f'<rect x="{lx}" y="5" width="10" height="10" fill="{STATUS_COLOURS.get(status, "#8a8886")}"/>'
                    f'<text x="{lx + 14}" y="14">{_e(status)}</text>')
    return _svg(width, height, title, body)


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def gantt_bars_from_runs(runs: Mapping[str, Any]) -> list[GanttBar]:
    """The runs JSON (`Monitor.to_json()` / `<workdir>/runs/*-runs.json`) as Gantt lanes.

    Pipeline runs in start order, each followed by its activity runs (every attempt, in start order).
    """
    activities: dict[str, list[Mapping[str, Any]]] = {}
    for activity in runs.get("activityRuns", []):
        activities.setdefault(activity["pipelineRunId"], []).append(activity)
    bars = []
    pipelines = [p for p in runs.get("pipelineRuns", []) if p.get("runStart")]
    for pipeline in sorted(pipelines, key=lambda p: _time(p["runStart"])):  # type: ignore[arg-type,return-value]
        start = _time(pipeline["runStart"])
        assert start is not None
        invoked = pipeline.get("invokedBy") or {}
        detail = f"triggered by {invoked.get('name', '?')}" + (f" · {pipeline['message']}" if pipeline.get("message") else "")
        bars.append(GanttBar(pipeline["pipelineName"], start, _time(pipeline.get("runEnd")), pipeline.get("status", ""),
                             0, detail))
        children = [a for a in activities.get(pipeline["runId"], []) if a.get("activityRunStart")]
        for activity in sorted(children, key=lambda a: _time(a["activityRunStart"])):  # type: ignore[arg-type,return-value]
            attempt = (activity.get("retryAttempt") or 0) + 1
            label = activity["activityName"] + (f" (attempt {attempt})" if attempt > 1 else "")
            error = activity.get("error") or {}
            properties = "".join(f" · {k} {v}" for k, v in (activity.get("userProperties") or {}).items())
            bars.append(GanttBar(label, _time(activity["activityRunStart"]) or start, _time(activity.get("activityRunEnd")),
                                 activity.get("status", ""), 1,
                                 f"{activity.get('activityType', '')}{properties}"
                                 + (f" · {error['message']}" if error.get("message") else "")))
    return bars
