"""Which OPENROWSET WITH types serverless accepts for a Parquet column (pure).

learn.OPENROWSET_TYPES maps each Parquet type to one SQL type; a WITH type of another family fails with
"Column 'c' of type 'INT' is not compatible with external data type 'Parquet physical type: DOUBLE',
please try with 'FLOAT'" (learn.TROUBLESHOOT_TYPES). Within a family the WITH clause converts
implicitly (learn.OPENROWSET: "The implicit data type conversion will take place here"), so a wider
integer, FLOAT for a 4-byte float, or NVARCHAR for a string is accepted; a narrower integer is not.
TIMESTAMP(NANOS) and TIME(NANOS) are "not supported" (learn.OPENROWSET_TYPES).
"""

from __future__ import annotations

import pyarrow as pa

from offline.synapse_duckdb import learn
from offline.synapse_duckdb.errors import NotSupportedByServerlessError, TsqlError
from offline.synapse_duckdb.tsql_types import INTEGERS, STRINGS, SqlType, from_text

_INTEGER_RANGES = {  # integer T-SQL types able to hold every value of the Parquet integer
    "int8": ("smallint", "int", "bigint"), "int16": ("smallint", "int", "bigint"),
    "uint8": ("tinyint", "smallint", "int", "bigint"), "uint16": ("int", "bigint"), "int32": ("int", "bigint"),
    "uint32": ("bigint",), "int64": ("bigint",),
}
_SUGGESTED = {
    "int8": "SMALLINT", "int16": "SMALLINT", "uint8": "TINYINT", "uint16": "INT", "int32": "INT", "uint32": "BIGINT",
    "int64": "BIGINT", "uint64": "DECIMAL(20, 0)", "float": "REAL", "double": "FLOAT", "bool": "BIT",
    "date32[day]": "DATE", "string": "VARCHAR(8000)", "large_string": "VARCHAR(8000)", "binary": "VARBINARY",
}


def check_with_type(column: str, with_type: str, file_type: pa.DataType) -> None:
    """Raise as serverless does when `column <with_type>` cannot read a Parquet column of `file_type`."""
    if pa.types.is_dictionary(file_type):
        file_type = file_type.value_type
    if (pa.types.is_timestamp(file_type) or pa.types.is_time(file_type)) and file_type.unit == "ns":
        kind = "TIMESTAMP" if pa.types.is_timestamp(file_type) else "TIME"
        raise NotSupportedByServerlessError(f"Parquet {kind}(NANOS) column `{column}`", learn.OPENROWSET_TYPES)
    target = from_text(with_type)
    if pa.types.is_null(file_type) or _compatible(target, file_type):
        return
    suggestion = _SUGGESTED.get(str(file_type), _suggest(file_type))
    raise TsqlError(
        f"Column '{column}' of type '{with_type.upper()}' is not compatible with external data type "
        f"'Parquet type: {file_type}', please try with '{suggestion}' ({learn.TROUBLESHOOT_TYPES})"
    )


def _compatible(target: SqlType, file_type: pa.DataType) -> bool:  # noqa: PLR0911 - one case per family
    types = pa.types
    if types.is_integer(file_type):
        if str(file_type) == "uint64":
            return target.is_decimal and target.precision - target.scale >= 20
        return target.name in _INTEGER_RANGES[str(file_type)]
    if types.is_floating(file_type):
        return target.name == "float" or (target.name == "real" and file_type.bit_width <= 32)
    if types.is_boolean(file_type):
        return target.name == "bit"
    if types.is_decimal(file_type):
        return target.is_decimal
    if types.is_date(file_type):
        return target.name == "date"
    if types.is_time(file_type):
        return target.name == "time"
    if types.is_timestamp(file_type):
        return target.name == "datetime2"
    if types.is_string(file_type) or types.is_large_string(file_type):
        return target.name in STRINGS
    if types.is_binary(file_type) or types.is_large_binary(file_type) or types.is_fixed_size_binary(file_type):
        return target.name in ("varbinary", "binary")
    if types.is_list(file_type) or types.is_large_list(file_type) or types.is_map(file_type) or types.is_struct(file_type):
        return target.name in STRINGS  # serialised into JSON text
    return False


def _suggest(file_type: pa.DataType) -> str:
    if pa.types.is_decimal(file_type):
        return f"DECIMAL({file_type.precision}, {file_type.scale})"
    if pa.types.is_timestamp(file_type):
        return "DATETIME2"
    if pa.types.is_time(file_type):
        return "TIME"
    return "VARCHAR(8000)"


__all__ = ["INTEGERS", "check_with_type"]
