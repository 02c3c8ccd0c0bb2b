"""Get Metadata on a Synapse SQL table (an AzureSqlDWTable dataset), run on the local Synapse (offline.synapse_duckdb).

Learn "Get Metadata activity", "Relational database": Azure Synapse Analytics gives `structure`, `columnCount` and
`exists` (no other field applies to a table). The columns come from INFORMATION_SCHEMA.COLUMNS, which serverless SQL
has; their types are reported as copy's interim data types (Learn, "Schema and data type mapping in copy activity"),
as the file sample of the Get Metadata page shows them (`Int64`, `String`). A missing table without `exists` in the
field list fails as SQL Server words it ("Invalid object name").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall
from offline.adf_runner.activity_types.script import SQL_LINKED_SERVICE_TYPES
from offline.adf_runner.datasets import DatasetAccessError, UnsupportedDatasetError, evaluate_dataset
from offline.adf_runner.errors import ActivityFailed, RunnerError
from offline.adf_runner.factory import Dataset, Factory

__all__ = ["SQL_FIELDS", "check_sql_dataset", "sql_metadata"]

SQL_FIELDS = ("structure", "columnCount", "exists")
SQL_FAILED = "SqlOperationFailed"
# The local Synapse reports DuckDB's type names; each maps to the interim type of the T-SQL type it stands for.
_INTERIM_TYPES = {
    "VARCHAR": "String", "BIGINT": "Int64", "INTEGER": "Int32", "SMALLINT": "Int16", "TINYINT": "SByte",
    "UTINYINT": "Byte", "BOOLEAN": "Boolean", "DOUBLE": "Double", "FLOAT": "Single", "REAL": "Single",
    "DECIMAL": "Decimal", "HUGEINT": "Decimal", "DATE": "DateTime", "TIMESTAMP": "DateTime",
    "TIMESTAMP_NS": "DateTime", "TIMESTAMP WITH TIME ZONE": "DateTimeOffset", "TIME": "TimeSpan", "BLOB": "Byte[]",
    "UUID": "Guid",
}


def check_sql_dataset(dataset: Dataset, factory: Factory, activity: str, pipeline: str) -> None:
    linked_service = factory.linked_service(dataset.linked_service_name.name)
    if linked_service.type not in SQL_LINKED_SERVICE_TYPES:
        raise UnsupportedDatasetError(dataset.name, f"linked service `{linked_service.name}` is of type "
                                      f"`{linked_service.type}`; a {dataset.type} is read on "
                                      f"{', '.join(SQL_LINKED_SERVICE_TYPES)} (Synapse SQL, run locally on DuckDB)",
                                      activity, pipeline)


def sql_metadata(call: ActivityCall, dataset: Dataset, parameters: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    where = f"activity `{call.activity.name}`"
    other = [field for field in fields if field not in SQL_FIELDS]
    if other:
        raise ActivityFailed("InvalidActivityDefinition", f"{where}: metadata `{other[0]}` does not apply to a table; a "
                             f"{dataset.type} gives {', '.join(SQL_FIELDS)} (Learn, Get Metadata, Relational database)")
    schema, table = _table(call, dataset, parameters)
    columns = _columns(call, dataset, schema, table)
    if not columns:
        if "exists" in fields:
            return {"exists": False}
        raise ActivityFailed(SQL_FAILED, f"{where}: Invalid object name '{schema}.{table}' (dataset `{dataset.name}`)")
    structure = [{"name": name, "type": _interim(kind, name, dataset, where)} for name, kind in columns]
    values = {"structure": structure, "columnCount": len(structure), "exists": True}
    return {field: values[field] for field in fields}


def _table(call: ActivityCall, dataset: Dataset, parameters: Mapping[str, Any]) -> tuple[str, str]:
    try:
        properties = evaluate_dataset(dataset, parameters, call.state)
    except DatasetAccessError as exc:
        raise ActivityFailed("InvalidActivityDefinition", f"activity `{call.activity.name}`: {exc.message}") from exc
    schema, table = get_property(properties, "schema") or "dbo", get_property(properties, "table")
    if not isinstance(table, str) or not table or not isinstance(schema, str):
        raise ActivityFailed("InvalidActivityDefinition",
                             f"activity `{call.activity.name}`: dataset `{dataset.name}` names no table (typeProperties.table)")
    return schema, table


def _columns(call: ActivityCall, dataset: Dataset, schema: str, table: str) -> list[tuple[str, str]]:
    from offline.synapse_duckdb.errors import SqlTranslationError

    services = call.engine.services
    if services is None:
        raise RunnerError("the engine has no RunnerServices: GetMetadata on a SQL table needs a SQL engine")
    query = ("SELECT COLUMN_NAME, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS "
             f"WHERE TABLE_SCHEMA = {_literal(schema)} AND TABLE_NAME = {_literal(table)} ORDER BY ORDINAL_POSITION")
    try:
        outcome = services.sql_engine(dataset.linked_service_name.name).execute_script(query)
    except SqlTranslationError as exc:
        raise ActivityFailed(SQL_FAILED, f"activity `{call.activity.name}`: reading the columns of {schema}.{table} "
                             f"failed: {exc}") from exc
    rows = outcome.result_sets[0] if outcome.result_sets else []
    return [(str(row["COLUMN_NAME"]), str(row["DATA_TYPE"])) for row in rows]


def _literal(text: str) -> str:
    return "N'" + text.replace("'", "''") + "'"


def _interim(kind: str, column: str, dataset: Dataset, where: str) -> str:
    found = _INTERIM_TYPES.get(kind.split("(")[0].strip().upper())
    if found is None:
        raise ActivityFailed("InvalidActivityDefinition", f"{where}: column `{column}` of dataset `{dataset.name}` is of "
                             f"type {kind}, which has no interim data type of copy activity")
    return found
