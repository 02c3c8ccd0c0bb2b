"""Run the factory's pipelines on this machine as Azure Data Factory and Azure Batch would.

Public surface: `load_factory` (the factory folder as frozen dataclasses), `LocalFactoryRunner` (triggers,
pipelines, storage events, monitoring), `RunnerOptions`, `publish_code_package` (the activity code to storage, as deploy uploads it),
and the errors. See runner.py for a script example.

Offline only. May import the factory model of `factory_deploy` (the one loader deploy uses) and the local
Synapse; it runs `activities` as Azure Batch does, from the shipped code package.
"""

from offline.adf_runner.engine import RunnerOptions
from offline.adf_runner.errors import (
    ActivityFailed,
    ExpressionError,
    FactoryError,
    RunnerError,
    UnsupportedActivityTypeError,
    UnsupportedFunctionError,
)
from offline.adf_runner.factory import Factory, load_factory
from offline.adf_runner.monitor import ActivityRun, Monitor, PipelineRun
from offline.adf_runner.publish import publish_code_package, publish_package
from offline.adf_runner.runner import LocalFactoryRunner, RunResult

__all__ = [
    "ActivityFailed",
    "ActivityRun",
    "ExpressionError",
    "Factory",
    "FactoryError",
    "LocalFactoryRunner",
    "Monitor",
    "PipelineRun",
    "RunResult",
    "RunnerError",
    "RunnerOptions",
    "UnsupportedActivityTypeError",
    "UnsupportedFunctionError",
    "load_factory",
    "publish_code_package",
    "publish_package",
]
