"""Activity types the local runner executes: one class per ADF activity type, one registry row each.

To support a new type (WebActivity, Lookup, ...): write a subclass of `ActivityType` with
`type_name` and `run(call)`, and add it to `ACTIVITY_TYPES` below.
"""

from __future__ import annotations

from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.activity_types.control import (
    AppendVariableActivity,
    ExecutePipelineActivity,
    FailActivity,
    FilterActivity,
    ForEachActivity,
    IfConditionActivity,
    SetVariableActivity,
    UntilActivity,
    WaitActivity,
)
from offline.adf_runner.activity_types.copy import CopyActivity
from offline.adf_runner.activity_types.custom import CustomActivity
from offline.adf_runner.activity_types.dataflow import ExecuteDataFlowActivity
from offline.adf_runner.activity_types.delete import DeleteActivity
from offline.adf_runner.activity_types.getmetadata import GetMetadataActivity
from offline.adf_runner.activity_types.lookup import LookupActivity
from offline.adf_runner.activity_types.script import ScriptActivity
from offline.adf_runner.activity_types.web import WebActivity

__all__ = ["ACTIVITY_TYPES", "ActivityCall", "ActivityType"]

ACTIVITY_TYPES: dict[str, type[ActivityType]] = {
    kind.type_name: kind
    for kind in (
        CustomActivity,
        ExecutePipelineActivity,
        ForEachActivity,
        IfConditionActivity,
        SetVariableActivity,
        AppendVariableActivity,
        WaitActivity,
        FailActivity,
        FilterActivity,
        ExecuteDataFlowActivity,
        ScriptActivity,
        UntilActivity,
        WebActivity,
        GetMetadataActivity,
        DeleteActivity,
        CopyActivity,
        LookupActivity,
    )
}
