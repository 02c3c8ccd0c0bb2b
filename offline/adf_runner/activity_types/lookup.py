"""The Lookup activity over file datasets (Json, DelimitedText, Parquet on Blob or ADLS Gen2) and over the local
Synapse SQL (an AzureSqlDWTable dataset, run by offline.synapse_duckdb).

Learn, "Lookup activity" (control-flow-lookup-activity):
- output `{"firstRow": {...}}` when firstRowOnly is true (the default), `{"count": n, "value": [...]}` otherwise;
  with no row and firstRowOnly, the output has no `firstRow` (a later `output.firstRow` fails, as in ADF);
- at most 5,000 rows: more are cut to the first 5,000; an output over 4 MB fails the activity;
- at most 24 hours, whatever policy.timeout says;
- a query must return exactly one result set; `structure` in the dataset is not supported; ByteArray (Binary)
  sources are not supported; a JSON source's jsonPathDefinition is not supported (whole objects are returned).
Values keep the source's types: strings from delimited text, JSON values from JSON, Parquet's types as JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.activity_types.script import SQL_LINKED_SERVICE_TYPES
from offline.adf_runner.datasets import (
    DatasetAccessError,
    UnsupportedDatasetError,
    check_file_dataset,
    evaluate_dataset,
    file_format,
    json_value,
    read_settings,
    resolve_file_dataset,
    select_files,
    storage_errors,
)
from offline.adf_runner.datasets.mapping import add_columns
from offline.adf_runner.datasets.settings import check_source_settings
from offline.adf_runner.errors import ActivityFailed, RunnerError
from offline.adf_runner.factory import Activity, Dataset, Factory, Pipeline

__all__ = ["LOOKUP_FAILED", "LookupActivity"]

MAX_ROWS = 5000
MAX_OUTPUT_BYTES = 4 * 1024 * 1024
MAX_DURATION = timedelta(hours=24)
# What ADF's monitoring shows for a failed Lookup: errorCode 2100 with the copy engine's "Failure happened on
# 'Source' side." message (the code is what the service reports; Learn does not list it).
LOOKUP_FAILED = "2100"
EFFECTIVE_RUNTIME = "local (offline ADF runner)"
SQL_DATASET_TYPES = ("AzureSqlDWTable",)
_SQL_SOURCE_KEYS = frozenset({"type", "sqlreaderquery", "querytimeout", "partitionoption"})


class LookupActivity(ActivityType):
    type_name = "Lookup"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        dataset = factory.dataset(_dataset_name(activity))
        source = get_property(activity.type_properties, "source")
        if get_property(get_property(dataset.raw, "properties") or {}, "structure"):
            raise UnsupportedDatasetError(dataset.name, "`structure` is not supported by Lookup (Learn, Lookup activity: "
                                          "use the header row of text files)", activity.name, pipeline.name)
        if dataset.type in SQL_DATASET_TYPES:
            _check_sql(dataset, source, factory, activity, pipeline)
            return
        check_file_dataset(dataset, factory, activity.name, pipeline.name)
        if dataset.type == "Binary":
            raise UnsupportedDatasetError(dataset.name, "a Binary dataset cannot be looked up (Learn, Lookup activity: "
                                          "ByteArray is not supported)", activity.name, pipeline.name)
        location_type = str(get_property(get_property(dataset.type_properties, "location"), "type"))
        check_source_settings(source, dataset.name, dataset.type, location_type, activity.name, pipeline.name)

    def run(self, call: ActivityCall) -> Any:
        started = time.monotonic()
        first_row_only = get_property(call.inputs, "firstRowOnly")
        first_row_only = True if first_row_only is None else first_row_only
        if not isinstance(first_row_only, bool):
            raise ActivityFailed("InvalidActivityDefinition", f"activity `{call.activity.name}`: typeProperties."
                                 f"firstRowOnly must be true or false, got {first_row_only!r}")
        reference = call.require("dataset", dict, 'a dataset reference {"referenceName": ...}')
        dataset = call.engine.factory.dataset(str(get_property(reference, "referenceName")))
        parameters = get_property(reference, "parameters") or {}
        source = get_property(call.inputs, "source") or {}
        wanted = 1 if first_row_only else MAX_ROWS
        try:
            if dataset.type in SQL_DATASET_TYPES:
                rows = _sql_rows(call, dataset, parameters, source)[:wanted]
            else:
                rows = _file_rows(call, dataset, parameters, source, wanted)
        except DatasetAccessError as exc:
            raise ActivityFailed(LOOKUP_FAILED, f"Failure happened on 'Source' side. {exc.message} (activity "
                                 f"`{call.activity.name}`, dataset `{dataset.name}`)") from exc
        values = [{key: json_value(value) for key, value in row.items()} for row in rows]
        output: dict[str, Any]
        if first_row_only:
            output = {"firstRow": values[0]} if values else {}
        else:
            # Learn's sample prints "count": "2"; the service returns a number, which expressions compare as one.
            output = {"count": len(values), "value": values}
        output["effectiveIntegrationRuntime"] = EFFECTIVE_RUNTIME
        size = len(json.dumps(output, ensure_ascii=False).encode("utf-8"))
        if size > MAX_OUTPUT_BYTES:
            raise ActivityFailed(LOOKUP_FAILED, f"The size {size} of the lookup activity `{call.activity.name}` result "
                                 f"exceeds the limitation {MAX_OUTPUT_BYTES} (4 MB; Learn, Lookup activity): look up fewer "
                                 "rows or columns, e.g. an outer pipeline iterating over an inner one")
        elapsed = time.monotonic() - started
        if elapsed > MAX_DURATION.total_seconds():
            raise ActivityFailed("ActivityTimeout", f"activity `{call.activity.name}` ran {elapsed:.0f}s: a Lookup times "
                                 "out after 24 hours (Learn, Lookup activity)")
        return output


def _dataset_name(activity: Activity) -> str:
    reference = get_property(activity.type_properties, "dataset")
    name = get_property(reference, "referenceName") if isinstance(reference, Mapping) else None
    if not isinstance(name, str) or not name:
        raise RunnerError(f"activity `{activity.name}`: typeProperties.dataset must be a dataset reference "
                          '{"referenceName": ..., "type": "DatasetReference"}')
    return name


def _file_rows(call: ActivityCall, dataset: Dataset, parameters: Mapping[str, Any], source: Mapping[str, Any],
               wanted: int) -> list[dict[str, Any]]:
    resolved = resolve_file_dataset(dataset, parameters, call.state)
    where = f"activity `{call.activity.name}`"
    settings = read_settings(get_property(source, "storeSettings"), where)
    reader = file_format(dataset.type, resolved.properties, get_property(source, "formatSettings"), dataset.name)
    services = call.engine.services
    if services is None:
        raise RunnerError("the engine has no RunnerServices: Lookup activities need storage")
    rows: list[dict[str, Any]] = []
    with storage_errors("Source"):
        storage = services.open_storage(resolved.location.linked_service)
        files = select_files(storage, resolved.location, settings)
    for found in files:
        with storage_errors("Source"):
            data = storage.read_bytes(resolved.location.container, found.path)
        read = reader.read(data, f"{resolved.location.container}/{found.path}")
        read = add_columns(read, get_property(source, "additionalColumns"), found.relative, where)
        rows += read.records[: wanted - len(rows)]
        if len(rows) >= wanted:
            break
    return rows


def _check_sql(dataset: Dataset, source: Any, factory: Factory, activity: Activity, pipeline: Pipeline) -> None:
    linked_service = factory.linked_service(dataset.linked_service_name.name)
    if linked_service.type not in SQL_LINKED_SERVICE_TYPES:
        raise UnsupportedDatasetError(dataset.name, f"linked service `{linked_service.name}` is of type "
                                      f"`{linked_service.type}`; a {dataset.type} is looked up on "
                                      f"{', '.join(SQL_LINKED_SERVICE_TYPES)} (Synapse SQL, run locally on DuckDB)",
                                      activity.name, pipeline.name)
    block = source if isinstance(source, Mapping) else {}
    kind = get_property(block, "type")
    if kind is not None and str(kind).lower() != "sqldwsource":
        raise UnsupportedDatasetError(dataset.name, f"source.type is `{kind}`, but an {dataset.type} needs `SqlDWSource`",
                                      activity.name, pipeline.name)
    for key in block:
        if key.lower() not in _SQL_SOURCE_KEYS:
            raise UnsupportedDatasetError(dataset.name, f"source.{key} is not supported by the local runner",
                                          activity.name, pipeline.name)
    option = get_property(block, "partitionOption")
    if option not in (None, "None"):
        raise UnsupportedDatasetError(dataset.name, f"source.partitionOption {option!r} is not supported by the local "
                                      "runner (use None)", activity.name, pipeline.name)


def _sql_rows(call: ActivityCall, dataset: Dataset, parameters: Mapping[str, Any],
              source: Mapping[str, Any]) -> list[dict[str, Any]]:
    from offline.synapse_duckdb.errors import SqlTranslationError

    services = call.engine.services
    if services is None:
        raise RunnerError("the engine has no RunnerServices: a SQL Lookup needs a SQL engine")
    query = get_property(source, "sqlReaderQuery")
    if not query:
        properties = evaluate_dataset(dataset, parameters, call.state)
        schema, table = get_property(properties, "schema"), get_property(properties, "table")
        if not isinstance(table, str) or not table:
            raise DatasetAccessError("Source", f"dataset `{dataset.name}` names no table and source.sqlReaderQuery is "
                                     "empty: give one of them")
        query = f"SELECT * FROM [{schema or 'dbo'}].[{table}]"
    if not isinstance(query, str):
        raise DatasetAccessError("Source", f"source.sqlReaderQuery must be a string, got {query!r}")
    engine = services.sql_engine(dataset.linked_service_name.name)
    try:
        outcome = engine.execute_script(query)
    except SqlTranslationError as exc:
        raise DatasetAccessError("Source", f"the query failed on `{dataset.linked_service_name.name}`: {exc}") from exc
    if len(outcome.result_sets) != 1:
        raise DatasetAccessError("Source", f"the query returned {len(outcome.result_sets)} result sets; a Lookup needs "
                                 "exactly one (Learn, Lookup activity)")
    return list(outcome.result_sets[0])
