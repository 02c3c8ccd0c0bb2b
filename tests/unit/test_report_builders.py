"""The report's pure parts: chart headers of analyst queries, query charts, quarantine and schema collectors."""

import io
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from activities.load.schema import Column, TableSchema
from offline.run_local.analyst import AnalystQuery, ChartSpec, ChartSpecError, chart_spec, query_chart
from offline.run_local.report import quarantine_counts, schema_changes, write_report
from offline.synapse_duckdb import QueryResult

DAY = date(2026, 11, 24)


def _classes(svg: str, css_class: str) -> int:
    return sum(1 for node in ET.fromstring(svg).iter() if node.get("class") == css_class)


def test_when_a_query_has_a_bar_chart_header_then_its_columns_and_top_are_read() -> None:
    sql = "-- Question: Who leads?\n-- Chart: bar label=market,artist_name value=followers top=5\nSELECT 1"

    assert chart_spec(sql) == ChartSpec("bar", ("market", "artist_name"), "followers", None, 5)


def test_when_a_query_has_no_chart_header_then_it_has_no_chart() -> None:
    assert chart_spec("-- Question: Who?\nSELECT 1") is None


def test_when_a_chart_header_is_malformed_then_the_error_quotes_it() -> None:
    with pytest.raises(ChartSpecError, match="pie value=x"):
        chart_spec("-- Chart: pie value=x\nSELECT 1")


def test_when_charting_a_bar_spec_then_labels_join_columns_and_rows_stop_at_top() -> None:
    result = QueryResult("q", "Who leads?", ["market", "artist_name", "followers"],
                         [("US", "A", 30), ("US", "B", 20), ("GB", "C", 10)])

    svg = query_chart(result, ChartSpec("bar", ("market", "artist_name"), "followers", top=2))

    assert _classes(svg, "bar") == 2
    assert "US · A" in svg and "GB · C" not in svg


def test_when_charting_a_line_spec_with_series_then_each_series_is_one_line() -> None:
    result = QueryResult("q", "Weekly", ["week", "market", "releases"],
                         [("2026-11-09", "US", 3), ("2026-11-09", "GB", 1), ("2026-11-16", "US", 4), ("2026-11-16", "GB", 2)])

    svg = query_chart(result, ChartSpec("line", ("week",), "releases", series="market"))

    assert _classes(svg, "line") == 2
    assert _classes(svg, "point") == 4


def test_when_there_are_more_series_than_top_then_the_largest_series_are_kept() -> None:
    rows = [("1990", name, share) for name, share in (("a", 0.1), ("b", 0.5), ("c", 0.4))]
    result = QueryResult("q", "Mix", ["decade", "family", "share"], rows)

    svg = query_chart(result, ChartSpec("line", ("decade",), "share", series="family", top=2))

    assert _classes(svg, "point") == 2
    assert ">b<" in svg and ">c<" in svg and ">a<" not in svg


def test_when_a_chart_names_a_missing_column_then_the_error_names_query_and_column() -> None:
    result = QueryResult("q07", "?", ["a"], [(1,)])

    with pytest.raises(ChartSpecError, match="q07.*`b`"):
        query_chart(result, ChartSpec("bar", ("a",), "b"))


def _parquet(rows: dict[str, list[object]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(rows), sink)
    return sink.getvalue()


def test_when_the_quarantine_container_holds_rows_then_they_are_counted_per_table_and_reason(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("quarantine", "tracks/snapshot_date=2026-11-24/part-00000.parquet",
                        _parquet({"reason": ["missing key", "missing key", "bad date"]}))
    storage.write_bytes("quarantine", "tracks/snapshot_date=2026-11-23/part-00000.parquet", _parquet({"reason": ["old"]}))

    counts = quarantine_counts(storage, "quarantine", DAY)

    assert list(counts) == ["tracks"]
    assert counts["tracks"].rows == 3
    assert counts["tracks"].reasons == {"missing key": 2, "bad date": 1}


def test_when_there_is_no_quarantine_container_then_the_transform_output_counts_are_used(tmp_path: Path) -> None:
    runs = {"activityRuns": [{"activityName": "Transform raw run",
                              "output": {"customOutput": {"quarantine": {"albums": 2, "tracks": {"rows": 1}}}}}]}

    counts = quarantine_counts(LocalFolderStorage(tmp_path), "quarantine", DAY, runs)

    assert {table: c.rows for table, c in counts.items()} == {"albums": 2, "tracks": 1}


def _schema(table: str, *columns: tuple[str, str]) -> TableSchema:
    """A schema document as the load stores it (activities.load.schema)."""
    return TableSchema(table, tuple(Column(name, type_) for name, type_ in columns))


def test_when_a_stored_schema_document_is_not_the_loads_shape_then_the_change_names_the_file(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("serving", "_schemas/tracks/2026-11-24.json", json.dumps({"id": "string"}).encode())

    (change,) = schema_changes(storage, "serving", DAY)

    assert change.notes == ("serving/_schemas/tracks/2026-11-24.json: needs a string `table` and a `columns` array",)


def test_when_a_schema_changed_since_the_last_snapshot_then_added_removed_and_retyped_columns_are_listed(
    tmp_path: Path,
) -> None:
    storage = LocalFolderStorage(tmp_path)
    before = _schema("artists", ("id", "string"), ("pop", "int16"), ("old", "string"))
    now = _schema("artists", ("id", "string"), ("pop", "int32"), ("tier", "string"))
    storage.write_bytes("serving", "_schemas/artists/2026-11-17.json", json.dumps(before.to_json()).encode())
    storage.write_bytes("serving", "_schemas/artists/2026-11-24.json", json.dumps(now.to_json()).encode())
    storage.write_bytes("serving", "_schemas/tracks/2026-11-24.json", json.dumps(_schema("tracks", ("id", "string")).to_json()).encode())

    changes = {c.table: c for c in schema_changes(storage, "serving", DAY)}

    assert changes["artists"].previous == "2026-11-17"
    assert changes["artists"].added == (("tier", "string"),)
    assert changes["artists"].removed == (("old", "string"),)
    assert changes["artists"].retyped == (("pop", "int16", "int32"),)
    assert changes["tracks"].previous is None and changes["tracks"].columns == 1


def test_when_a_report_is_written_then_it_has_every_section_and_escapes_query_text(tmp_path: Path) -> None:
    result = QueryResult("02_x", "Who <leads>?", ["name", "n"], [("<b>A</b>", 2)])
    query = AnalystQuery("02_x", "Who <leads>?", "SELECT 1", ChartSpec("bar", ("name",), "n"), result)
    failed = AnalystQuery("03_y", "Broken?", "SELECT", None, error="DuckDB could not run it")

    page = write_report(tmp_path / "r.html", title="Run", runs={"pipelineRuns": [], "activityRuns": []},
                        table_rows={"tracks": 3}, truth_check={}, queries=[query, failed]).read_text()

    for section in ("monitoring", "tables", "quarantine", "schema-changes", "queries", "q-02_x", "q-03_y"):
        assert f'id="{section}"' in page
    assert "<b>A</b>" not in page and "&lt;b&gt;A&lt;/b&gt;" in page
    assert "DuckDB could not run it" in page


def test_when_the_load_stage_classified_a_schema_then_its_verdict_and_change_notes_are_shown(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("serving", "_schemas/albums/2026-11-17.json", json.dumps(_schema("albums", ("id", "string")).to_json(
        classification="new", compared_with=None, changes=[])).encode())
    widened = _schema("albums", ("id", "string"), ("tier", "string"))
    storage.write_bytes("serving", "_schemas/albums/2026-11-24.json", json.dumps(widened.to_json(
        classification="additive", compared_with="2026-11-17",
        changes=[{"column": "tier", "change": "added", "before": None, "after": "string", "breaking": False}])).encode())

    (change,) = schema_changes(storage, "serving", DAY)
    page = write_report(tmp_path / "r.html", title="Run", runs={}, table_rows={}, truth_check={}, queries=[],
                        schemas=[change]).read_text()

    assert (change.classification, change.previous, change.added) == ("additive", "2026-11-17", (("tier", "string"),))
    assert change.notes == ("added tier string",)
    assert "additive" in page and "added tier string" in page
