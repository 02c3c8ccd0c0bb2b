"""Arrow types and Parquet footers -> the canonical schema of ``activities.load.schema``."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from activities.load.schema import Column, TableSchema
from activities.transform.schemas import TABLES


def type_name(data_type: pa.DataType) -> str:
    """The canonical name of an Arrow type (see activities.load.schema)."""
    types = pa.types
    if types.is_string(data_type) or types.is_large_string(data_type) or _is_string_view(data_type):
        return "string"
    if types.is_binary(data_type) or types.is_large_binary(data_type) or types.is_fixed_size_binary(data_type):
        return "binary"
    if types.is_boolean(data_type):
        return "bool"
    if types.is_integer(data_type):
        return str(data_type)  # int8 ... uint64
    if types.is_floating(data_type):
        return f"float{data_type.bit_width}"
    if types.is_date(data_type):
        return "date"
    if types.is_time(data_type):
        return f"time[{data_type.unit}]"
    if types.is_timestamp(data_type):
        unit = data_type.unit
        return f"timestamp[{unit}, tz={data_type.tz}]" if data_type.tz else f"timestamp[{unit}]"
    if types.is_decimal(data_type):
        return f"decimal({data_type.precision},{data_type.scale})"
    if types.is_list(data_type) or types.is_large_list(data_type) or types.is_fixed_size_list(data_type):
        return f"list<{type_name(data_type.value_type)}>"
    if types.is_map(data_type):
        return f"map<{type_name(data_type.key_type)}, {type_name(data_type.item_type)}>"
    if types.is_struct(data_type):
        fields = ", ".join(f"{data_type.field(i).name}: {type_name(data_type.field(i).type)}" for i in range(data_type.num_fields))
        return f"struct<{fields}>"
    if types.is_null(data_type):
        return "null"
    if types.is_dictionary(data_type):
        return type_name(data_type.value_type)
    return str(data_type)


def _is_string_view(data_type: pa.DataType) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(data_type))


def schema_from_arrow(table: str, schema: pa.Schema) -> TableSchema:
    return TableSchema(table, tuple(Column(f.name, type_name(f.type), f.nullable) for f in schema))


def curated_tables() -> dict[str, TableSchema]:
    """Every curated table's schema in the load's canonical form, in the order of the one table list
    (``activities.transform.schemas.TABLES``, beside the schemas)."""
    return {name: schema_from_arrow(name, schema) for name, schema in TABLES.items()}


def parquet_footer(data: bytes) -> tuple[pa.Schema, int]:
    """The Arrow schema and row count of a Parquet file's bytes (footer only; rows are not decoded)."""
    file = pq.ParquetFile(io.BytesIO(data))
    return file.schema_arrow, file.metadata.num_rows


__all__ = ["curated_tables", "parquet_footer", "schema_from_arrow", "type_name"]
