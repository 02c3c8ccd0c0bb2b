"""Schema classification of a serving table against its last published schema (activities.load.classify)."""

from __future__ import annotations

import pytest

from activities.load.classify import (
    ADDITIVE,
    BREAKING,
    NEW,
    UNCHANGED,
    classify,
    widens,
)
from activities.load.schema import Column, SchemaFormatError, TableSchema


def _schema(*columns: tuple[str, str] | tuple[str, str, bool]) -> TableSchema:
    return TableSchema("tracks", tuple(Column(*c) for c in columns))


BASE = _schema(("track_id", "string"), ("popularity", "int16"), ("explicit", "bool"))


def test_when_there_is_no_previous_schema_then_the_table_is_new() -> None:
    assert classify(None, BASE).kind == NEW


def test_when_only_the_column_order_differs_then_unchanged() -> None:
    reordered = _schema(("explicit", "bool"), ("track_id", "string"), ("popularity", "int16"))

    result = classify(BASE, reordered)

    assert (result.kind, result.changes) == (UNCHANGED, ())


def test_when_a_nullable_column_is_added_then_additive_and_the_view_is_regenerated() -> None:
    result = classify(BASE, _schema(*[(c.name, c.type) for c in BASE.columns], ("tempo", "float64")))

    assert result.kind == ADDITIVE
    assert result.regenerates_view
    assert [c.describe() for c in result.changes] == ["column `tempo` added (float64, nullable)"]


def test_when_a_not_null_column_is_added_then_breaking() -> None:
    result = classify(BASE, _schema(("track_id", "string"), ("popularity", "int16"), ("explicit", "bool"),
                                    ("tempo", "float64", False)))

    assert result.kind == BREAKING
    assert "earlier snapshots have no value for it" in result.describe()


def test_when_a_column_is_dropped_then_breaking_naming_table_and_column() -> None:
    result = classify(BASE, _schema(("track_id", "string"), ("popularity", "int16")))

    assert result.kind == BREAKING
    assert result.describe() == "table `tracks`: column `explicit` dropped (was bool)"


@pytest.mark.parametrize(
    ("before", "after", "change", "kind"),
    [
        ("int16", "int32", "widened", ADDITIVE),
        ("int32", "int16", "narrowed", BREAKING),
        ("int16", "string", "retyped", BREAKING),
        ("float32", "float64", "widened", ADDITIVE),
        ("int32", "float64", "widened", ADDITIVE),
        ("int64", "float64", "retyped", BREAKING),
        ("date", "timestamp[us, tz=UTC]", "retyped", BREAKING),
        ("decimal(10,2)", "decimal(12,2)", "widened", ADDITIVE),
        ("decimal(10,2)", "decimal(10,3)", "retyped", BREAKING),
        ("timestamp[ms, tz=UTC]", "timestamp[us, tz=UTC]", "widened", ADDITIVE),
        ("list<int16>", "list<int32>", "widened", ADDITIVE),
        ("null", "string", "widened", ADDITIVE),
    ],
)
def test_when_a_type_changes_then_widening_is_additive_and_anything_else_breaking(
    before: str, after: str, change: str, kind: str
) -> None:
    result = classify(_schema(("x", before)), _schema(("x", after)))

    assert (result.kind, [c.change for c in result.changes]) == (kind, [change])


def test_when_nullability_changes_then_additive() -> None:
    result = classify(_schema(("x", "string", False)), _schema(("x", "string", True)))

    assert (result.kind, result.changes[0].change) == (ADDITIVE, "nullable")


def test_when_unsigned_widens_then_only_to_a_larger_signed_or_unsigned_type() -> None:
    assert widens("uint8", "int16") and widens("uint16", "uint32")
    assert not widens("uint32", "int32") and not widens("int8", "uint16")


def test_when_several_columns_break_then_the_description_names_every_one() -> None:
    result = classify(BASE, _schema(("track_id", "string"), ("popularity", "string"), ("tempo", "float64")))

    assert result.describe() == (
        "table `tracks`: column `explicit` dropped (was bool); column `popularity` changed type int16 -> string; "
        "column `tempo` added (float64, nullable)"
    )


def test_when_a_schema_round_trips_through_json_then_it_is_equal() -> None:
    document = BASE.to_json(snapshot_date="2026-11-24", rows=3)

    assert TableSchema.from_json(document, "x.json") == BASE
    assert document["columns"][1] == {"name": "popularity", "type": "int16", "nullable": True}


def test_when_a_stored_schema_lacks_columns_then_the_error_names_the_document() -> None:
    with pytest.raises(SchemaFormatError, match="serving/_schemas/tracks/2026-11-24.json: needs a string `table`"):
        TableSchema.from_json({"table": "tracks"}, "serving/_schemas/tracks/2026-11-24.json")


# Microsoft Learn, "OPENROWSET function in serverless SQL pool" (Parquet type mapping): nanosecond TIMESTAMP and
# TIME are not supported, and a TIMESTAMP not adjusted to UTC is read as bigint.
@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ("timestamp[us, tz=UTC]", "timestamp[ns, tz=UTC]", "nanosecond"),
        ("timestamp[us]", "timestamp[ns]", "nanosecond"),
        ("time[us]", "time[ns]", "nanosecond"),
        ("timestamp[us, tz=UTC]", "timestamp[us]", "bigint"),
        ("list<string>", "list<timestamp[ns, tz=UTC]>", "nanosecond"),
    ],
)
def test_when_a_column_becomes_unreadable_by_serverless_then_breaking_even_where_it_widens(
    before: str, after: str, reason: str
) -> None:
    result = classify(_schema(("x", before)), _schema(("x", after)))

    assert result.kind == BREAKING
    (unreadable,) = [c for c in result.changes if c.change == "unreadable"]
    assert reason in unreadable.describe() and "`x`" in unreadable.describe()


def test_when_a_new_table_has_a_nanosecond_timestamp_then_it_is_breaking_not_new() -> None:
    result = classify(None, _schema(("played_at", "timestamp[ns, tz=UTC]"), ("track_id", "string")))

    assert result.kind == BREAKING and [c.column for c in result.breaking_changes] == ["played_at"]


def test_when_timestamps_are_utc_microseconds_then_serverless_reads_them() -> None:
    result = classify(None, _schema(("played_at", "timestamp[us, tz=UTC]"), ("at", "timestamp[ms, tz=UTC]")))

    assert result.kind == NEW
