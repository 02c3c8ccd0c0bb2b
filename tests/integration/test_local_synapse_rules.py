"""The local serverless pool matches Synapse serverless SQL or refuses: one test per rule of issue 14, each
through the public engine API (LocalServerlessPool) and each naming the Microsoft Learn page it follows."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from offline.synapse_duckdb import LocalServerlessPool
from offline.synapse_duckdb.errors import NotSupportedByServerlessError, NotSupportedLocallyError, SqlTranslationError, TsqlError

THINGS_VIEW = """
CREATE OR ALTER VIEW spotify.things AS
SELECT CAST(r.filepath(1) AS DATE) AS snapshot_date, r.thing_id, r.label, r.plays, r.price, r.genres
FROM OPENROWSET(BULK 'things/snapshot_date=*/*.parquet', DATA_SOURCE = 'ds', FORMAT = 'PARQUET')
WITH (
    thing_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    label VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    plays INT,
    price DECIMAL(10, 2),
    genres VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8
) AS r;
"""
THINGS = pa.table({
    "thing_id": ["a", "b", "c", "d"],
    "label": ["x", "x ", "y", "y  "],
    "plays": pa.array([1, 2, 4, None], pa.int32()),
    "price": pa.array([Decimal("1.00"), Decimal("2.00"), Decimal("2.50"), None], pa.decimal128(10, 2)),
    "genres": ['["pop","rock"]', "[]", '["jazz"]', None],
})


def _write(root: Path, relative: str, table: pa.Table) -> None:
    path = root / "data" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


@pytest.fixture()
def pool(tmp_path: Path) -> LocalServerlessPool:
    _write(tmp_path, "things/snapshot_date=2026-11-24/part-00000.parquet", THINGS)
    pool = LocalServerlessPool(tmp_path, {"ds": "data"})
    pool.create_view(THINGS_VIEW)
    return pool


def _rows(pool: LocalServerlessPool, sql: str) -> list[dict[str, Any]]:
    return pool.execute_script(sql).result_sets[-1]


def _one(pool: LocalServerlessPool, sql: str) -> Any:
    (row,) = _rows(pool, sql)
    (value,) = row.values()
    return value


# Arithmetic -------------------------------------------------------------------------------------------


def test_when_dividing_integers_then_the_quotient_is_truncated_to_an_integer(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/language-elements/divide-transact-sql: integer / integer truncates."""
    assert _rows(pool, "SELECT 7/2 AS q, -7/2 AS n, 7/2.0 AS d") == [{"q": 3, "n": -3, "d": Decimal("3.500000")}]


def test_when_averaging_an_integer_column_then_the_average_is_an_integer(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/avg-transact-sql: AVG of int returns int; of decimal(p, s)
    returns decimal(38, max(s, 6))."""
    row = _rows(pool, "SELECT AVG(plays) AS plays, AVG(price) AS price, AVG(CAST(plays AS FLOAT)) AS f FROM spotify.things")

    assert row == [{"plays": 2, "price": Decimal("1.833333"), "f": 7 / 3}]


def test_when_averaging_in_a_window_then_the_average_is_an_integer_too(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/avg-transact-sql (AVG ... OVER)."""
    rows = _rows(pool, "SELECT thing_id, AVG(plays) OVER () AS a FROM spotify.things ORDER BY thing_id")

    assert {r["a"] for r in rows} == {2}


def test_when_summing_ints_past_the_int_range_then_the_query_fails(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/sum-transact-sql: SUM of int returns int (DuckDB: HUGEINT)."""
    assert _one(pool, "SELECT SUM(plays) AS s FROM spotify.things") == 7
    with pytest.raises(SqlTranslationError, match="out of range"):
        _rows(pool, "SELECT SUM(x) AS s FROM (SELECT 2147483647 AS x UNION ALL SELECT 1 AS x) AS t")


def test_when_casting_a_decimal_or_float_to_int_then_it_truncates(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql: conversion to an integer
    truncates; DuckDB would round 2.7 to 3."""
    row = _rows(pool, "SELECT CAST(2.7 AS INT) AS a, CAST(-2.7 AS INT) AS b, CONVERT(INT, 2.7e0) AS c, "
                      "CAST(' 12 ' AS INT) AS d")

    assert row == [{"a": 2, "b": -2, "c": 2, "d": 12}]


def test_when_a_string_is_not_an_integer_then_cast_fails_and_try_cast_is_null(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql: '2.7' does not convert to int
    (DuckDB would give 3); only TRY_CAST returns NULL."""
    assert _one(pool, "SELECT TRY_CAST('2.7' AS INT) AS x") is None
    with pytest.raises(SqlTranslationError, match="Conversion failed when converting the varchar value '2.7'"):
        _rows(pool, "SELECT CAST('2.7' AS INT) AS x")


def test_when_decimals_are_combined_then_precision_and_scale_follow_tsql(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/data-types/precision-scale-and-length-transact-sql: e1 / e2 has scale
    max(6, s1 + p2 + 1) and is truncated there; e1 * e2 has scale s1 + s2; an integer constant counts its
    digits (3 is DECIMAL(1, 0)), an INT column 10."""
    row = _rows(pool, "SELECT 2.0/3 AS a, 0.3/0.1 AS b, CAST(1 AS DECIMAL(10, 2)) / 3 AS c, 1.5 * 2.25 AS d, "
                      "price / 3 AS e, CAST(1 AS DECIMAL(10, 2)) / plays AS f FROM spotify.things WHERE thing_id = 'c'")

    assert row == [{"a": Decimal("0.666666"), "b": Decimal("3.000000"), "c": Decimal("0.333333"),
                    "d": Decimal("3.375"), "e": Decimal("0.833333"), "f": Decimal("0.2500000000000")}]


def test_when_dividing_by_zero_then_the_query_fails(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/language-elements/divide-transact-sql: divide by zero is an error."""
    with pytest.raises(SqlTranslationError, match="[Dd]ivision by zero"):
        _rows(pool, "SELECT plays / 0 AS x FROM spotify.things")


def test_when_rounding_with_a_nonzero_function_then_it_truncates_and_keeps_the_type(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/round-transact-sql: ROUND(x, n, 1) truncates; the result
    has the argument's type."""
    row = _rows(pool, "SELECT ROUND(2.789, 1, 1) AS t, ROUND(2.55, 1) AS r, ROUND(-2.5, 0) AS n")

    assert row == [{"t": Decimal("2.700"), "r": Decimal("2.60"), "n": Decimal("-3.0")}]


# Strings ----------------------------------------------------------------------------------------------


def test_when_strings_differ_by_trailing_spaces_then_they_are_equal(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/troubleshoot/sql/database-engine/database-design/sql-server-trailing-spaces-comparison:
    '=' pads the shorter string with spaces."""
    assert _one(pool, "SELECT CASE WHEN 'a' = 'a  ' THEN 1 ELSE 0 END AS eq") == 1
    assert [r["thing_id"] for r in _rows(pool, "SELECT thing_id FROM spotify.things WHERE label = 'x' ORDER BY thing_id")] == ["a", "b"]


def test_when_grouping_distinct_or_union_then_trailing_spaces_do_not_make_new_rows(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/troubleshoot/sql/database-engine/database-design/sql-server-trailing-spaces-comparison
    (GROUP BY, DISTINCT and UNION compare as '=' does)."""
    grouped = _rows(pool, "SELECT label, COUNT(*) AS n FROM spotify.things GROUP BY label ORDER BY label")
    distinct = _rows(pool, "SELECT DISTINCT label FROM spotify.things")
    union = _rows(pool, "SELECT label FROM spotify.things WHERE thing_id = 'a' UNION SELECT 'x ' AS label")

    assert grouped == [{"label": "x", "n": 2}, {"label": "y", "n": 2}]
    assert sorted(r["label"] for r in distinct) == ["x", "y"]
    assert union == [{"label": "x"}]


def test_when_measuring_length_then_trailing_spaces_do_not_count(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/len-transact-sql: LEN excludes trailing spaces."""
    assert _one(pool, "SELECT LEN('ab  ') AS n") == 2
    assert _rows(pool, "SELECT LEN(label) AS n FROM spotify.things WHERE thing_id = 'd'") == [{"n": 1}]


def test_when_adding_strings_then_they_concatenate_and_null_wins(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/language-elements/string-concatenation-transact-sql."""
    row = _rows(pool, "SELECT thing_id + '-' + label AS s, label + NULL AS n FROM spotify.things WHERE thing_id = 'a'")

    assert row == [{"s": "a-x", "n": None}]


def test_when_casting_to_a_shorter_varchar_then_the_text_is_truncated(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql (length n; 30 when omitted)."""
    row = _rows(pool, "SELECT CAST('abcdef' AS VARCHAR(3)) AS a, CAST(REPLICATE('z', 40) AS VARCHAR) AS b")

    assert row == [{"a": "abc", "b": "z" * 30}]


# Dates ------------------------------------------------------------------------------------------------


def test_when_counting_weeks_then_sunday_boundaries_count(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/datediff-transact-sql: week counts Sundays, whatever DATEFIRST."""
    sql = ("SELECT DATEDIFF(week, '2024-01-06', '2024-01-07') AS sat_sun, DATEDIFF(week, '2024-01-07', '2024-01-13') "
           "AS sun_sat, DATEDIFF(week, '2024-01-08', '2024-01-14') AS mon_sun")

    assert _rows(pool, sql) == [{"sat_sun": 1, "sun_sat": 0, "mon_sun": 1}]
    assert _rows(pool, f"SET DATEFIRST 1;\n{sql}") == [{"sat_sun": 1, "sun_sat": 0, "mon_sun": 1}]


def test_when_taking_the_weekday_then_it_follows_datefirst(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/statements/set-datefirst-transact-sql and .../datepart-transact-sql:
    weekday 1 is the DATEFIRST day, Sunday (7) by default."""
    sql = "SELECT DATEPART(weekday, CAST('2024-01-07' AS DATE)) AS sunday, DATEPART(week, CAST('2024-01-07' AS DATE)) AS wk"

    assert _rows(pool, sql) == [{"sunday": 1, "wk": 2}]
    assert _rows(pool, f"SET DATEFIRST 1;\n{sql}") == [{"sunday": 7, "wk": 1}]
    with pytest.raises(TsqlError, match="DATEFIRST 9"):
        pool.execute_script("SET DATEFIRST 9")


def test_when_adding_to_a_date_then_the_result_is_a_date(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/dateadd-transact-sql: the return type is the date argument's."""
    row = _rows(pool, "SELECT DATEADD(day, 1, snapshot_date) AS d, DATEADD(month, 1, CAST('2024-01-31' AS DATE)) AS m "
                      "FROM spotify.things WHERE thing_id = 'a'")

    assert row == [{"d": datetime.date(2026, 11, 25), "m": datetime.date(2024, 2, 29)}]
    with pytest.raises(TsqlError, match="datepart hour is not supported by date function dateadd for data type date"):
        _rows(pool, "SELECT DATEADD(hour, 1, snapshot_date) AS d FROM spotify.things")


def test_when_converting_with_a_style_then_the_common_styles_are_exact_and_others_refused(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql (Date and time styles)."""
    row = _rows(pool, "SELECT CONVERT(VARCHAR(10), CAST('2024-01-07' AS DATE), 103) AS uk, "
                      "CONVERT(CHAR(8), CAST('2024-01-07' AS DATE), 112) AS iso, CONVERT(DATE, '07.01.2024', 104) AS de, "
                      "CONVERT(VARCHAR(10), CAST('2024-01-07 13:14:15' AS DATETIME2), 120) AS cut")

    assert row == [{"uk": "07/01/2024", "iso": "20240107", "de": datetime.date(2024, 1, 7), "cut": "2024-01-07"}]
    with pytest.raises(NotSupportedLocallyError, match="not supported locally: CONVERT style 130"):
        _rows(pool, "SELECT CONVERT(VARCHAR(40), snapshot_date, 130) AS x FROM spotify.things")


def test_when_a_conversion_fails_without_try_then_the_query_fails(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql: CONVERT errors, TRY_CONVERT is NULL
    (sqlglot alone would turn CONVERT with a style into TRY_CAST)."""
    assert _one(pool, "SELECT TRY_CONVERT(DATE, '31/02/2024', 103) AS d") is None
    with pytest.raises(SqlTranslationError, match="Could not parse string|Date out of range"):
        _rows(pool, "SELECT CONVERT(DATE, '31/02/2024', 103) AS d")
    with pytest.raises(SqlTranslationError, match="Conversion Error"):
        _rows(pool, "SELECT CAST('soon' AS DATE) AS d")


def test_when_formatting_then_dates_and_numbers_are_en_us_and_other_cultures_refused(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/format-transact-sql."""
    row = _rows(pool, "SELECT FORMAT(CAST('2024-01-07' AS DATE), 'yyyy-MM-dd') AS d, FORMAT(1234.5, 'N2') AS n")

    assert row == [{"d": "2024-01-07", "n": "1,234.50"}]
    with pytest.raises(NotSupportedLocallyError, match="culture `de-DE`"):
        _rows(pool, "SELECT FORMAT(1234.5, 'N2', 'de-DE') AS n")
    with pytest.raises(NotSupportedLocallyError, match="FORMAT pattern 'd'"):
        _rows(pool, "SELECT FORMAT(CAST('2024-01-07' AS DATE), 'd') AS n")


# OPENROWSET -------------------------------------------------------------------------------------------


def _view(bulk: str, with_list: str, select: str = "*") -> str:
    return (f"CREATE OR ALTER VIEW spotify.v AS SELECT {select} FROM OPENROWSET(BULK '{bulk}', DATA_SOURCE = 'ds', "
            f"FORMAT = 'PARQUET') WITH ({with_list}) AS r")


def test_when_a_with_type_does_not_suit_the_parquet_type_then_the_view_fails(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/resources-self-help-sql-on-demand ("Column ... of type
    'INT' is not compatible with external data type 'Parquet physical type: DOUBLE'") and
    .../develop-openrowset#type-mapping-for-parquet."""
    with pytest.raises(TsqlError, match="Column 'label' of type 'INT' is not compatible .* please try with 'VARCHAR"):
        pool.create_view(_view("things/*/*.parquet", "label INT"))
    with pytest.raises(TsqlError, match="Column 'plays' of type 'SMALLINT' is not compatible"):
        pool.create_view(_view("things/*/*.parquet", "plays SMALLINT"))
    pool.create_view(_view("things/*/*.parquet", "plays BIGINT, label NVARCHAR(100)"))  # wider: accepted


def test_when_a_parquet_timestamp_has_nanoseconds_then_serverless_refuses_it(tmp_path: Path) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/develop-openrowset#type-mapping-for-parquet:
    TIMESTAMP(NANOS) is not supported."""
    _write(tmp_path, "ts/part-00000.parquet", pa.table({"at": pa.array([0], pa.timestamp("ns", tz="UTC"))}))
    pool = LocalServerlessPool(tmp_path, {"ds": "data"})

    with pytest.raises(NotSupportedByServerlessError, match="TIMESTAMP\\(NANOS\\) column `at`"):
        pool.create_view(_view("ts/*.parquet", "at DATETIME2(7)"))


def test_when_a_with_name_differs_in_case_from_the_parquet_column_then_it_is_null(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/develop-openrowset: "If you specify column name with
    casing different from column name casing in Parquet file, NULL values will be returned"."""
    pool.create_view(_view("things/*/*.parquet", "thing_id VARCHAR(22), Label VARCHAR(10)"))

    assert _rows(pool, "SELECT Label FROM spotify.v WHERE thing_id = 'a'") == [{"Label": None}]


def test_when_reading_file_metadata_then_filepath_numbers_wildcards_across_the_path_as_text(tmp_path: Path) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/query-specific-files: filepath(n) returns the n-th
    wildcard's text (nvarchar), filepath() the path, filename() the file name."""
    _write(tmp_path, "events/year=2024/month=07/part-00003.parquet", pa.table({"n": pa.array([1], pa.int32())}))
    pool = LocalServerlessPool(tmp_path, {"ds": "data"})
    pool.create_view(_view(
        "events/year=*/month=*/part-*.parquet", "n INT",
        "r.filepath(1) AS y, r.filepath(2) AS m, r.filepath(3) + '!' AS part, r.filepath() AS path, r.filename() AS f",
    ))

    (row,) = _rows(pool, "SELECT y, m, part, path, f FROM spotify.v")

    assert (row["y"], row["m"], row["part"], row["f"]) == ("2024", "07", "00003!", "part-00003.parquet")
    assert row["path"].endswith("data/events/year=2024/month=07/part-00003.parquet")


# Refused on serverless, and identifiers -------------------------------------------------------------


@pytest.mark.parametrize(("sql", "feature", "page"), [
    ("SELECT label, COUNT(*) AS n FROM spotify.things GROUP BY GROUPING SETS ((label), ())", "GROUPING SETS",
     "develop-group-by-options"),
    ("SELECT label, COUNT(*) AS n FROM spotify.things GROUP BY ROLLUP (label)", "ROLLUP", "develop-group-by-options"),
    ("SELECT label, COUNT(*) AS n FROM spotify.things GROUP BY CUBE (label)", "CUBE", "develop-group-by-options"),
    ("SELECT label FROM spotify.things OPTION (MAXDOP 1)", "query hints", "overview-features"),
    ("SELECT label FROM spotify.things OPTION (LABEL = 'q')", "query hints", "overview-features"),
    ("SELECT label FROM spotify.things FOR XML PATH('')", "FOR XML", "overview-features"),
    ("CREATE TABLE dbo.t (a INT)", "CREATE TABLE", "overview-features"),
    ("INSERT INTO spotify.things (thing_id) VALUES ('z')", "INSERT", "overview-features"),
    ("SELECT CAST(label AS XML) AS x FROM spotify.things", "xml", "overview-features"),
])
def test_when_a_feature_is_unsupported_on_serverless_then_it_is_refused_naming_the_page(
    pool: LocalServerlessPool, sql: str, feature: str, page: str
) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/overview-features (Query language: FOR XML, GROUPING SETS,
    query hints; tables, INSERT, types) and .../develop-group-by-options ("Serverless SQL pool doesn't support
    GROUP BY options")."""
    with pytest.raises(NotSupportedByServerlessError, match=f"not supported by serverless SQL pool: .*{feature}.*{page}"):
        pool.execute_script(sql)


def test_when_order_by_has_no_top_in_a_view_or_subquery_then_it_fails_as_in_tsql(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/queries/select-order-by-clause-transact-sql (ORDER BY in views, derived
    tables, subqueries and CTEs needs TOP or OFFSET)."""
    with pytest.raises(TsqlError, match="The ORDER BY clause is invalid in views"):
        pool.execute_script("SELECT n FROM (SELECT plays AS n FROM spotify.things ORDER BY plays) AS s")
    with pytest.raises(TsqlError, match="The ORDER BY clause is invalid in views"):
        pool.create_view(_view("things/*/*.parquet", "plays INT", "r.plays") + " ORDER BY r.plays")
    assert len(_rows(pool, "SELECT n FROM (SELECT TOP 2 plays AS n FROM spotify.things ORDER BY plays) AS s")) == 2


def test_when_an_identifier_differs_in_case_then_it_is_invalid_under_the_bin2_collation(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/query-parquet-files (database collation
    Latin1_General_100_BIN2_UTF8: identifiers compare case-sensitively)."""
    with pytest.raises(TsqlError, match="Invalid column name 'Thing_ID'.*did you mean 'thing_id'"):
        pool.execute_script("SELECT Thing_ID FROM spotify.things")
    with pytest.raises(TsqlError, match="Invalid object name 'spotify.Things'"):
        pool.execute_script("SELECT thing_id FROM spotify.Things")
    with pytest.raises(TsqlError, match="Invalid object name 'X'"):
        pool.execute_script("WITH x AS (SELECT thing_id FROM spotify.things) SELECT thing_id FROM X")
    with pytest.raises(TsqlError, match="Invalid column name 'id'"):
        pool.execute_script("SELECT thing_id AS Id FROM spotify.things ORDER BY id")


# Supported on serverless, so supported here --------------------------------------------------------


def test_when_expanding_a_json_array_with_openjson_then_each_element_is_a_row(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/openjson-transact-sql (default schema key/value/type, and an
    explicit schema with a path)."""
    default = _rows(pool, "SELECT t.thing_id, g.[key], g.value, g.type FROM spotify.things AS t "
                          "CROSS APPLY OPENJSON(t.genres) AS g ORDER BY t.thing_id, g.[key]")
    explicit = _rows(pool, "SELECT t.thing_id, g.genre FROM spotify.things AS t "
                           "OUTER APPLY OPENJSON(t.genres) WITH (genre VARCHAR(50) '$') AS g ORDER BY t.thing_id, g.genre")

    assert default == [
        {"thing_id": "a", "key": "0", "value": "pop", "type": 1},
        {"thing_id": "a", "key": "1", "value": "rock", "type": 1},
        {"thing_id": "c", "key": "0", "value": "jazz", "type": 1},
    ]
    assert _rows(pool, "SELECT COUNT(*) AS n FROM spotify.things AS t CROSS APPLY OPENJSON(t.genres) AS g "
                       "WHERE g.value = 'pop  '") == [{"n": 1}]  # typed nvarchar: trailing spaces ignored
    assert [(r["thing_id"], r["genre"]) for r in explicit] == [
        ("a", "pop"), ("a", "rock"), ("b", None), ("c", "jazz"), ("d", None)]


def test_when_top_with_ties_then_rows_tying_with_the_last_are_kept(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/queries/top-transact-sql (WITH TIES)."""
    rows = _rows(pool, "SELECT TOP 1 WITH TIES thing_id, label FROM spotify.things ORDER BY LEN(label)")

    assert sorted(r["thing_id"] for r in rows) == ["a", "b", "c", "d"]
    with pytest.raises(TsqlError, match="WITH TIES clause is not allowed without a corresponding ORDER BY"):
        pool.execute_script("SELECT TOP 1 WITH TIES thing_id FROM spotify.things")


def test_when_taking_milliseconds_and_powers_then_they_follow_tsql(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/datepart-transact-sql (millisecond is 0-999) and
    .../power-transact-sql (the result has the base's type: POWER(2, 0.5) is 1)."""
    row = _rows(pool, "SELECT DATEPART(millisecond, CAST('2024-01-07 13:14:15.123' AS DATETIME2)) AS ms, "
                      "POWER(2, 10) AS p, POWER(2, 0.5) AS q")

    assert row == [{"ms": 123, "p": 1024, "q": 1}]


def test_when_like_uses_a_set_wildcard_then_it_matches_as_tsql(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/language-elements/like-transact-sql ([ ] and [^ ] wildcards; DuckDB's
    LIKE would look for a literal '[')."""
    rows = _rows(pool, "SELECT thing_id FROM spotify.things WHERE thing_id LIKE '[a-b]' OR label NOT LIKE '[^y]%' "
                       "ORDER BY thing_id")

    assert [r["thing_id"] for r in rows] == ["a", "b", "c", "d"]
    assert _one(pool, "SELECT CASE WHEN 'a_c' LIKE 'a[_]c' AND 'abc' NOT LIKE 'a[_]c' THEN 1 ELSE 0 END AS m") == 1


def test_when_calling_functions_duckdb_spells_differently_then_they_answer_as_tsql(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/logical-functions-choose-transact-sql, .../isnull-transact-sql
    (the first argument's type), .../hashbytes-transact-sql (varbinary), .../datalength-transact-sql."""
    row = _rows(pool, "SELECT CHOOSE(2, 'a', 'b') AS c, ISNULL(CAST(NULL AS VARCHAR(2)), 'abcdef') AS i, "
                      "ISNULL(CAST(NULL AS INT), 2.7) AS n, HASHBYTES('SHA2_256', 'abc') AS h, DATALENGTH('ab  ') AS d")

    assert row == [{"c": "b", "i": "ab", "n": 2, "d": 4, "h": bytes.fromhex(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")}]
    with pytest.raises(NotSupportedLocallyError, match="HASHBYTES SHA2_512"):
        _rows(pool, "SELECT HASHBYTES('SHA2_512', 'abc') AS h")  # sqlglot alone would hash it with SHA-256
    with pytest.raises(NotSupportedLocallyError, match="not supported locally: function PATINDEX"):
        _rows(pool, "SELECT PATINDEX('%b%', label) AS p FROM spotify.things")


def test_when_converting_values_to_text_then_the_text_is_tsqls_or_refused(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/sql/t-sql/functions/cast-and-convert-transact-sql: bit is '1'/'0', datetime2(7) has
    seven fractional digits; float text (style 0, e.g. 1e+006) is not reproduced, so it is refused."""
    row = _rows(pool, "SELECT CAST(CAST(1 AS BIT) AS VARCHAR(1)) AS b, "
                      "CAST(CAST('2024-01-07 13:14:15.123' AS DATETIME2) AS VARCHAR(30)) AS t")

    assert row == [{"b": "1", "t": "2024-01-07 13:14:15.1230000"}]
    with pytest.raises(NotSupportedLocallyError, match="float value to text"):
        _rows(pool, "SELECT CAST(1e6 AS VARCHAR(20)) AS f")


def test_when_a_view_filters_on_a_filepath_literal_then_only_that_folder_is_read(tmp_path: Path) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/query-specific-files (filepath() in WHERE prunes the
    folders read); trailing-space comparison must not stop the pruning."""
    for day in ("2026-11-23", "2026-11-24"):
        _write(tmp_path, f"things/snapshot_date={day}/part-00000.parquet", THINGS)
    pool = LocalServerlessPool(tmp_path, {"ds": "data"})
    pool.create_view(_view("things/snapshot_date=*/*.parquet", "thing_id VARCHAR(22)",
                           "r.thing_id, r.filepath(1) AS day") + " WHERE r.filepath(1) = '2026-11-24'")

    plan = pool.connection.execute("EXPLAIN SELECT COUNT(*) FROM spotify.v").fetchall()[0][1]

    assert "Scanning Files: 1/2" in plan
    assert _one(pool, "SELECT COUNT(*) AS n FROM spotify.v") == 4


def test_when_an_adhoc_query_reads_openrowset_then_star_is_the_with_columns(pool: LocalServerlessPool) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/develop-openrowset (ad-hoc OPENROWSET with a WITH
    list; `*` returns the WITH columns) and .../query-specific-files (filepath in a query)."""
    rows = _rows(pool, "SELECT *, r.filepath(1) AS day FROM OPENROWSET(BULK 'things/snapshot_date=*/*.parquet', "
                       "DATA_SOURCE = 'ds', FORMAT = 'PARQUET') WITH (thing_id VARCHAR(22), plays INT) AS r "
                       "WHERE r.thing_id = 'c'")

    assert rows == [{"thing_id": "c", "plays": 4, "day": "2026-11-24"}]


def test_when_a_parquet_list_is_read_as_text_then_openjson_expands_it(tmp_path: Path) -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/develop-openrowset#type-mapping-for-parquet (LIST is
    varchar(8000) serialised into JSON) and .../openjson-transact-sql: how analysts expand artists.genres."""
    _write(tmp_path, "artists/part-00000.parquet", pa.table({
        "artist_id": ["a1", "a2"], "genres": pa.array([["pop", "k-pop"], []], pa.list_(pa.string()))}))
    pool = LocalServerlessPool(tmp_path, {"ds": "data"})
    pool.create_view(_view("artists/*.parquet", "artist_id VARCHAR(22), genres VARCHAR(8000)"))

    rows = _rows(pool, "SELECT v.artist_id, g.value AS genre FROM spotify.v AS v CROSS APPLY OPENJSON(v.genres) AS g "
                       "ORDER BY v.artist_id, g.[key]")

    assert rows == [{"artist_id": "a1", "genre": "pop"}, {"artist_id": "a1", "genre": "k-pop"}]
