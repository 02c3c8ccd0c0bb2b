"""The report's SVG builders: data in, one standalone <svg> string out."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from offline.run_local.charts import GanttBar, bar_chart, gantt_bars_from_runs, gantt_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 24, 5, 0, 0, tzinfo=UTC)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML (e.g. an unescaped label)


def _marks(svg: str, css_class: str) -> list[ET.Element]:
    return [node for node in _parse(svg).iter() if node.get("class") == css_class]


def _texts(svg: str) -> list[str]:
    return [node.text or "" for node in _parse(svg).iter(f"{SVG}text")]


def test_when_building_a_bar_chart_then_there_is_one_bar_per_value_with_its_label() -> None:
    svg = bar_chart([("Alpha", 10), ("Beta", 5), ("Gamma", 0)], title="Followers")

    bars = _marks(svg, "bar")
    assert len(bars) == 3
    assert [float(b.get("width", 0)) for b in bars][0] > float(bars[1].get("width", 0)) > 0
    assert {"Alpha", "Beta", "Gamma", "Followers"} <= set(_texts(svg))


def test_when_labels_hold_markup_then_they_are_escaped() -> None:
    svg = bar_chart([("<script>alert(1)</script>", 3), ("AC/DC & \"Friends\"", 2)], title="a < b")

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg
    assert "AC/DC & \"Friends\"" in _texts(svg)  # the parsed text is the original label


def test_when_a_value_is_negative_then_its_bar_grows_left_of_zero() -> None:
    svg = bar_chart([("up", 4), ("down", -2)], title="Change")

    up, down = _marks(svg, "bar")
    assert float(down.get("x", 0)) + float(down.get("width", 0)) <= float(up.get("x", 0)) + 0.2


def test_when_there_are_no_bars_then_the_chart_is_still_valid_svg() -> None:
    svg = bar_chart([], title="Empty")

    assert _marks(svg, "bar") == []
    assert _parse(svg).tag == f"{SVG}svg"


def test_when_building_a_line_chart_then_each_series_gets_a_line_and_its_points() -> None:
    svg = line_chart(["1990s", "2000s", "2010s"], {"avg minutes": [4.1, 3.9, 3.5], "tracks": [1.0, None, 2.0]},
                     title="Duration <by> decade")

    assert len(_marks(svg, "line")) == 2
    assert len(_marks(svg, "point")) == 5
    assert "Duration <by> decade" in _texts(svg)
    assert {"avg minutes", "tracks", "1990s", "2010s"} <= set(_texts(svg))


def test_when_building_a_gantt_then_there_is_one_bar_per_run_coloured_by_status() -> None:
    bars = [
        GanttBar("PL_Extract_Spotify", T0, T0 + timedelta(seconds=4), "Succeeded"),
        GanttBar("Extract Spotify", T0, T0 + timedelta(seconds=4), "Succeeded", level=1),
        GanttBar("PL_Transform_Spotify", T0 + timedelta(seconds=4), T0 + timedelta(seconds=6), "Failed"),
    ]

    svg = gantt_chart(bars, title="Runs")

    marks = _marks(svg, "gantt-bar")
    assert [m.get("data-status") for m in marks] == ["Succeeded", "Succeeded", "Failed"]
    assert float(marks[2].get("x", 0)) > float(marks[0].get("x", 0))
    assert float(marks[0].get("width", 0)) > float(marks[2].get("width", 0))
    assert {"PL_Extract_Spotify", "Extract Spotify", "PL_Transform_Spotify"} <= set(_texts(svg))


def test_when_reading_the_runs_json_then_each_pipeline_is_followed_by_its_activity_attempts() -> None:
    runs = {
        "pipelineRuns": [
            {"runId": "p2", "pipelineName": "PL_Transform_Spotify", "invokedBy": {"name": "TR_Raw_Landed"},
             "runStart": "2026-11-24T05:00:05Z", "runEnd": "2026-11-24T05:00:07Z", "status": "Succeeded"},
            {"runId": "p1", "pipelineName": "PL_Extract_Spotify", "invokedBy": {"name": "TR_Daily_Extract"},
             "runStart": "2026-11-24T05:00:00Z", "runEnd": "2026-11-24T05:00:05Z", "status": "Succeeded"},
        ],
        "activityRuns": [
            {"pipelineRunId": "p1", "activityName": "Extract Spotify", "activityType": "Custom", "retryAttempt": 1,
             "activityRunStart": "2026-11-24T05:00:02Z", "activityRunEnd": "2026-11-24T05:00:05Z", "status": "Succeeded"},
            {"pipelineRunId": "p1", "activityName": "Extract Spotify", "activityType": "Custom", "retryAttempt": None,
             "activityRunStart": "2026-11-24T05:00:00Z", "activityRunEnd": "2026-11-24T05:00:01Z", "status": "Failed",
             "error": {"message": "HTTP 500"}},
            {"pipelineRunId": "p2", "activityName": "Transform raw run", "activityType": "Custom", "retryAttempt": None,
             "activityRunStart": "2026-11-24T05:00:05Z", "activityRunEnd": None, "status": "InProgress"},
        ],
    }

    bars = gantt_bars_from_runs(runs)

    assert [(b.label, b.level, b.status) for b in bars] == [
        ("PL_Extract_Spotify", 0, "Succeeded"),
        ("Extract Spotify", 1, "Failed"),
        ("Extract Spotify (attempt 2)", 1, "Succeeded"),
        ("PL_Transform_Spotify", 0, "Succeeded"),
        ("Transform raw run", 1, "InProgress"),
    ]
    assert "HTTP 500" in bars[1].detail
    assert len(_marks(gantt_chart(bars, title="Runs"), "gantt-bar")) == 5


def test_when_x_positions_are_given_then_points_are_spaced_by_value_not_by_index() -> None:
    svg = line_chart(["1960", "1970", "2020"], {"albums": [1.0, 2.0, 3.0]}, title="Albums", x_positions=[1960, 1970, 2020])

    xs = [float(p.get("cx", 0)) for p in _marks(svg, "point")]
    assert (xs[2] - xs[1]) == pytest.approx(5 * (xs[1] - xs[0]), abs=1.0)
