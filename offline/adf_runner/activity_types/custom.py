"""The Custom activity: a command on an Azure Batch pool, emulated by `offline.adf_runner.batch`."""

from __future__ import annotations

from typing import Any

from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.batch import run_custom_activity
from offline.adf_runner.errors import RunnerError

__all__ = ["CustomActivity"]


class CustomActivity(ActivityType):
    type_name = "Custom"
    enforces_timeout = True

    def run(self, call: ActivityCall) -> Any:
        engine = call.engine
        if engine.services is None:
            raise RunnerError("the engine has no RunnerServices: Custom activities need a workdir and storage")
        return run_custom_activity(call, engine.services, engine.options.verbose, engine.options.log_stream)
