"""The Script activity against Synapse serverless SQL, run by ``offline.synapse_duckdb`` on a local DuckDB database.

Each script block's text is one T-SQL batch (a ``CREATE OR ALTER VIEW`` must be alone in its batch, as on
Synapse). The linked service must be an ``AzureSqlDW`` (Synapse SQL) linked service, wired to a local
engine through ``LocalFactoryRunner(sql_opener=...)``; any other type stops the runner when the pipeline is
validated. The output mirrors ADF's: ``resultSetCount``, ``recordsAffected``, ``resultSets[].rows``.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.errors import (
    ActivityFailed,
    RunnerError,
    UnsupportedLinkedServiceError,
)
from offline.adf_runner.factory import Activity, Factory, Pipeline

__all__ = ["SCRIPT_FAILED", "SQL_LINKED_SERVICE_TYPES", "ScriptActivity"]

SQL_LINKED_SERVICE_TYPES = ("AzureSqlDW",)
SCRIPT_FAILED = "ScriptActivityFailed"
EFFECTIVE_RUNTIME = "local (DuckDB serverless SQL emulation)"


class ScriptActivity(ActivityType):
    type_name = "Script"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        reference = activity.linked_service_name
        if reference is None:
            raise UnsupportedLinkedServiceError(activity.name, pipeline.name, "(none)", "none",
                                                "a Script activity needs linkedServiceName")
        linked_service = factory.linked_service(reference.name)
        if linked_service.type not in SQL_LINKED_SERVICE_TYPES:
            raise UnsupportedLinkedServiceError(
                activity.name, pipeline.name, linked_service.name, linked_service.type,
                f"{', '.join(SQL_LINKED_SERVICE_TYPES)} (Synapse serverless SQL, run by offline.synapse_duckdb on DuckDB)",
            )

    def run(self, call: ActivityCall) -> Any:
        from offline.synapse_duckdb.errors import SqlTranslationError

        services = call.engine.services
        if services is None:
            raise RunnerError("the engine has no RunnerServices: Script activities need a SQL engine")
        assert call.activity.linked_service_name is not None  # validate() checked it
        name = call.activity.linked_service_name.name
        sql = services.sql_engine(name)
        blocks = call.require("scripts", list, "a list of script blocks {\"type\", \"text\"}")
        started = time.monotonic()
        result_sets: list[dict[str, Any]] = []
        for index, block in enumerate(blocks):
            text = block.get("text") if isinstance(block, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise ActivityFailed(SCRIPT_FAILED, f"activity `{call.activity.name}`: scripts[{index}].text is empty")
            if block.get("parameters"):
                raise ActivityFailed(SCRIPT_FAILED, f"activity `{call.activity.name}`: scripts[{index}] has parameters, "
                                     "which the local runner does not bind; put the values in the text")
            try:
                outcome = sql.execute_script(text)
            except SqlTranslationError as exc:
                raise ActivityFailed(
                    SCRIPT_FAILED, f"activity `{call.activity.name}`: scripts[{index}] failed on `{name}`: {exc}"
                ) from exc
            if block.get("type", "Query") == "Query":
                result_sets += [{"rowCount": len(rows), "rows": [_json_row(r) for r in rows]} for rows in outcome.result_sets]
        return {
            "resultSetCount": len(result_sets),
            "recordsAffected": 0,
            "resultSets": result_sets,
            "outputParameters": {},
            "outputLogs": "",
            "outputLogsLocation": "",
            "outputTruncated": False,
            "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
            "executionDuration": round(time.monotonic() - started, 3),
        }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date, clock_time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value
