import pytest

from offline.synapse_duckdb.errors import SqlTranslationError
from offline.synapse_duckdb.openrowset import find_openrowsets
from offline.synapse_duckdb.translate import translate_query, translate_view

VIEW = """
-- comment
CREATE OR ALTER VIEW spotify.things AS
SELECT CAST(r.filepath(1) AS DATE) AS snapshot_date, r.id, r.flag
FROM OPENROWSET(
    BULK 'things/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'ds_curated',
    FORMAT = 'PARQUET'
) WITH (
    id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    flag BIT,
    ratio FLOAT
) AS r;
"""


def test_when_view_has_openrowset_then_bulk_columns_and_alias_are_found() -> None:
    (rowset,) = find_openrowsets(VIEW)

    assert rowset.bulk == "things/snapshot_date=*/*.parquet"
    assert rowset.data_source == "ds_curated"
    assert [(c.name, c.sql_type) for c in rowset.columns] == [("id", "VARCHAR(22)"), ("flag", "BIT"), ("ratio", "FLOAT")]
    assert rowset.alias == "r"


def test_when_view_is_translated_then_it_reads_parquet_with_hive_partitions_and_duckdb_types() -> None:
    located = []

    view = translate_view(VIEW, lambda ds, bulk: located.append((ds, bulk)) or f"/data/{bulk}")

    assert view.name == "spotify.things"
    assert located == [("ds_curated", "things/snapshot_date=*/*.parquet")]
    assert "read_parquet('/data/things/snapshot_date=*/*.parquet', hive_partitioning = true" in view.sql
    assert 'CAST("flag" AS BOOLEAN)' in view.sql
    assert 'CAST("ratio" AS DOUBLE)' in view.sql
    assert '"snapshot_date" AS __filepath_1' in view.sql
    assert "regexp_extract(filename, 'things/snapshot_date=([^/]*)/([^/]*)\\.parquet$', 2)" in view.sql


def test_when_openrowset_has_no_with_list_then_error_asks_for_one() -> None:
    sql = "CREATE VIEW s.v AS SELECT * FROM OPENROWSET(BULK 'x/*.parquet', FORMAT = 'PARQUET') AS r"

    with pytest.raises(SqlTranslationError, match="has no WITH column list"):
        translate_view(sql, lambda ds, bulk: bulk)


def test_when_format_is_csv_then_error_names_the_format() -> None:
    sql = "CREATE VIEW s.v AS SELECT * FROM OPENROWSET(BULK 'x/*.csv', FORMAT = 'CSV') WITH (a INT) AS r"

    with pytest.raises(SqlTranslationError, match="FORMAT `CSV` is not supported locally"):
        translate_view(sql, lambda ds, bulk: bulk)


def test_when_query_uses_top_and_float_then_duckdb_gets_limit_and_double() -> None:
    sql = translate_query("SELECT TOP 5 CAST(a AS FLOAT) AS x FROM s.t ORDER BY x DESC;")

    assert "LIMIT 5" in sql
    assert "CAST(a AS DOUBLE)" in sql


def test_when_script_is_not_a_view_then_error_says_what_a_view_script_is() -> None:
    with pytest.raises(SqlTranslationError, match="must be one `CREATE OR ALTER VIEW"):
        translate_view("SELECT 1", lambda ds, bulk: bulk)
