"""The ExecuteDataFlow activity: a mapping data flow, run by ``offline.adf_runner.dataflow`` on DuckDB.

The data flow is parsed and checked when the pipeline is validated, so a transformation, option or function
the local engine does not implement stops the runner before anything runs, naming it. ``dataFlow.parameters``
are data flow expressions (``'@{pipeline().parameters.x}'`` evaluates to ``'2026-11-24'``, a string literal).
Compute, trace level, staging and integration runtime settings have no local meaning and are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.batch import slug
from offline.adf_runner.dataflow import load_dataflow, run_dataflow
from offline.adf_runner.dataflow.engine import DATAFLOW_FAILED
from offline.adf_runner.errors import (
    ActivityFailed,
    RunnerError,
    UnsupportedDataFlowFeatureError,
)
from offline.adf_runner.factory import Activity, Factory, Pipeline

__all__ = ["ExecuteDataFlowActivity"]


def _reference_name(type_properties: Mapping[str, Any]) -> str | None:
    reference = get_property(type_properties, "dataFlow")  # `dataflow` in Learn's sample and the gallery
    name = reference.get("referenceName") if isinstance(reference, Mapping) else None
    return name if isinstance(name, str) else None


class ExecuteDataFlowActivity(ActivityType):
    type_name = "ExecuteDataFlow"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        name = _reference_name(activity.type_properties)
        if name is None or name.startswith("@"):
            return  # an expression: checked when it runs
        definition = load_dataflow(factory.dataflow(name))
        dataset_parameters = get_property(get_property(activity.type_properties, "dataFlow") or {}, "datasetParameters") or {}
        if any(dataset_parameters.values()):
            raise UnsupportedDataFlowFeatureError(definition.name, None, "datasetParameters (dataset-based sources/sinks)")

    def run(self, call: ActivityCall) -> Any:
        from activities.common.errors import ActivityError

        reference = call.require("dataFlow", dict, 'a data flow reference {"referenceName": ...}')
        name = reference.get("referenceName")
        engine = call.engine
        if engine.services is None:
            raise RunnerError("the engine has no RunnerServices: ExecuteDataFlow needs a workdir and storage")
        definition = load_dataflow(engine.factory.dataflow(str(name)))
        parameters = dict(get_property(reference, "parameters") or {})
        run = call.scope.run
        folder = slug(call.activity.name) + "".join(f"-{i}" for i in call.scope.iterations)
        scratch = Path(engine.services.workdir).resolve() / "dataflow" / run.run_id / folder / f"attempt-{call.attempt}"
        try:
            return run_dataflow(definition, parameters, engine.services.open_storage, scratch)
        except ActivityError as exc:  # storage: a missing container, Azurite down, ...
            raise ActivityFailed(DATAFLOW_FAILED, f"data flow `{definition.name}`: {exc}") from exc
