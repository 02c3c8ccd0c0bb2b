"""Pure rules of offline.synapse_duckdb: T-SQL result types of decimal arithmetic and the OPENROWSET type check."""

import pyarrow as pa
import pytest

from offline.synapse_duckdb.errors import NotSupportedByServerlessError, TsqlError
from offline.synapse_duckdb.parquet_types import check_with_type
from offline.synapse_duckdb.refusals import REFUSALS
from offline.synapse_duckdb.tsql_types import SqlType, avg_result, decimal_result

DEC = SqlType


@pytest.mark.parametrize(("operator", "left", "right", "expected"), [
    ("+", DEC("decimal", 5, 2), DEC("decimal", 7, 4), DEC("decimal", 8, 4)),
    ("*", DEC("decimal", 5, 2), DEC("decimal", 7, 4), DEC("decimal", 13, 6)),
    ("/", DEC("decimal", 2, 1), DEC("int", 1), DEC("decimal", 7, 6)),
    ("/", DEC("decimal", 10, 2), DEC("int"), DEC("decimal", 21, 13)),
    ("%", DEC("decimal", 5, 2), DEC("decimal", 7, 4), DEC("decimal", 7, 4)),
    ("/", DEC("decimal", 38, 10), DEC("decimal", 38, 10), DEC("decimal", 38, 6)),
    ("*", DEC("decimal", 38, 4), DEC("decimal", 10, 2), DEC("decimal", 38, 6)),
    ("*", DEC("decimal", 20, 10), DEC("decimal", 20, 10), DEC("decimal", 38, 17)),
])
def test_when_decimals_combine_then_precision_and_scale_follow_the_learn_table(
    operator: str, left: SqlType, right: SqlType, expected: SqlType
) -> None:
    """learn.microsoft.com/sql/t-sql/data-types/precision-scale-and-length-transact-sql (incl. the 38 cap)."""
    assert decimal_result(operator, left, right) == expected


def test_when_averaging_then_the_result_type_follows_avg() -> None:
    """learn.microsoft.com/sql/t-sql/functions/avg-transact-sql (Return types table)."""
    assert avg_result(SqlType("smallint")) == SqlType("int")
    assert avg_result(SqlType("bigint")) == SqlType("bigint")
    assert avg_result(SqlType("decimal", 10, 2)) == SqlType("decimal", 38, 6)
    assert avg_result(SqlType("real")) == SqlType("float")


def test_when_a_with_type_is_checked_then_only_the_same_family_and_wider_integers_pass() -> None:
    """learn.microsoft.com/azure/synapse-analytics/sql/develop-openrowset#type-mapping-for-parquet."""
    check_with_type("a", "BIGINT", pa.int32())
    check_with_type("a", "FLOAT", pa.float32())
    check_with_type("a", "VARCHAR(8000)", pa.list_(pa.string()))
    check_with_type("a", "DECIMAL(20, 0)", pa.uint64())
    with pytest.raises(TsqlError, match="please try with 'FLOAT'"):
        check_with_type("a", "INT", pa.float64())
    with pytest.raises(TsqlError, match="please try with 'BIGINT'"):
        check_with_type("a", "INT", pa.int64())
    with pytest.raises(NotSupportedByServerlessError, match="TIME\\(NANOS\\)"):
        check_with_type("a", "TIME", pa.time64("ns"))


def test_when_listing_refusals_then_each_serverless_one_names_a_learn_page() -> None:
    pages = [r.page for r in REFUSALS if r.page is not None]

    assert pages and all(page.startswith("https://learn.microsoft.com/") for page in pages)
