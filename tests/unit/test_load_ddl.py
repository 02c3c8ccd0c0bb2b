"""View DDL generated from a serving schema (activities.load.ddl)."""

from __future__ import annotations

import pytest

from activities.load.ddl import latest_view_ddl, sql_type, view_ddl
from activities.load.schema import Column, TableSchema
from offline.synapse_duckdb.translate import translate_view

# The published-snapshots pointer as both views read it (its newest date, or every date).
POINTER = (
    "    FROM OPENROWSET(\n"
    "        BULK '_published/snapshots.parquet',\n"
    "        DATA_SOURCE = 'spotify_serving',\n"
    "        FORMAT = 'PARQUET'\n"
    "    ) WITH (\n"
    "        snapshot_date DATE\n"
    "    ) AS p\n"
)


def test_when_generating_a_view_then_columns_are_explicit_and_snapshot_date_comes_from_the_path() -> None:
    schema = TableSchema("tracks", (
        Column("track_id", "string", False), Column("name", "string"), Column("popularity", "int16"),
        Column("snapshot_date", "date"), Column("genres", "list<string>"),
    ))

    ddl = view_ddl(schema)

    body = ddl[ddl.index("CREATE OR ALTER VIEW"):]
    assert body == (
        "CREATE OR ALTER VIEW spotify.tracks AS\n"
        "SELECT\n"
        "    CAST(r.filepath(1) AS DATE) AS snapshot_date,\n"
        "    r.track_id,\n"
        "    r.name,\n"
        "    r.popularity,\n"
        "    r.genres\n"
        "FROM OPENROWSET(\n"
        "    BULK 'tracks/snapshot_date=*/*.parquet',\n"
        "    DATA_SOURCE = 'spotify_serving',\n"
        "    FORMAT = 'PARQUET'\n"
        ") WITH (\n"
        "    track_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,\n"
        "    name VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,\n"
        "    popularity SMALLINT,\n"
        "    genres VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8\n"
        ") AS r\n"
        "WHERE CAST(r.filepath(1) AS DATE) IN (\n"
        "    SELECT p.snapshot_date\n"
        f"{POINTER}"
        ");\n"
    )


def _latest_branch(day: str) -> str:
    return (
        "SELECT\n"
        f"    CAST('{day}' AS DATE) AS snapshot_date,\n"
        "    r.track_id\n"
        "FROM OPENROWSET(\n"
        f"    BULK 'tracks/snapshot_date={day}/*.parquet',\n"
        "    DATA_SOURCE = 'spotify_serving',\n"
        "    FORMAT = 'PARQUET'\n"
        ") WITH (\n"
        "    track_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8\n"
        ") AS r\n"
        f"WHERE CAST('{day}' AS DATE) = (\n"
        "    SELECT MAX(p.snapshot_date)\n"
        f"{POINTER}"
        ")"
    )


def test_when_generating_the_latest_view_then_each_snapshot_is_a_literal_path_kept_while_the_pointer_names_it() -> None:
    schema = TableSchema("tracks", (Column("track_id", "string", False), Column("snapshot_date", "date")))

    first = latest_view_ddl(schema, "2026-12-05")
    switching = latest_view_ddl(schema, "2026-12-05", "2026-12-04")

    head = "CREATE OR ALTER VIEW spotify.tracks_latest AS\n"
    assert first[first.index("CREATE OR ALTER VIEW"):] == head + _latest_branch("2026-12-05") + ";\n"
    assert switching[switching.index("CREATE OR ALTER VIEW"):] == (
        head + _latest_branch("2026-12-05") + "\nUNION ALL\n" + _latest_branch("2026-12-04") + ";\n")
    assert latest_view_ddl(schema, "2026-12-05", "2026-12-05") == first  # a rerun of the published snapshot
    with pytest.raises(ValueError, match="not YYYY-MM-DD"):
        latest_view_ddl(schema, "2026-12-05' OR 1=1 --")
    with pytest.raises(ValueError, match="not YYYY-MM-DD"):
        latest_view_ddl(schema, "2026-12-05", "2026-12-04' OR 1=1 --")


def test_when_a_column_is_a_reserved_word_then_it_is_bracket_quoted() -> None:
    ddl = view_ddl(TableSchema("playlist_items", (Column("position", "int32"), Column("key", "string"))))

    assert "    r.position,\n    r.[key]\n" in ddl
    assert "    [key] VARCHAR(8000)" in ddl


@pytest.mark.parametrize(
    ("type_name", "expected"),
    [("bool", "BIT"), ("int64", "BIGINT"), ("float64", "FLOAT"), ("date", "DATE"),
     ("timestamp[us, tz=UTC]", "DATETIME2(7)"), ("decimal(10,2)", "DECIMAL(10, 2)"), ("int8", "SMALLINT")],
)
def test_when_mapping_types_then_each_has_its_tsql_type(type_name: str, expected: str) -> None:
    assert sql_type(Column("x", type_name)) == expected


def test_when_a_type_has_no_mapping_then_the_error_names_column_and_type() -> None:
    with pytest.raises(ValueError, match="column `x` has type `interval`"):
        sql_type(Column("x", "interval"))


def test_when_a_generated_view_is_translated_for_duckdb_then_it_reads_the_serving_data_source() -> None:
    located: list[tuple[str | None, str]] = []
    ddl = view_ddl(TableSchema("tracks", (Column("track_id", "string"), Column("genres", "list<string>"))))

    view = translate_view(ddl, lambda ds, bulk: located.append((ds, bulk)) or f"/s/{bulk}")

    assert view.name == "spotify.tracks"
    assert sorted(located) == [("spotify_serving", "_published/snapshots.parquet"),
                              ("spotify_serving", "tracks/snapshot_date=*/*.parquet")]
    assert "to_json" in view.sql
