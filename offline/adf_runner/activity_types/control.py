"""Control-flow activities: ExecutePipeline, ForEach, IfCondition, SetVariable, AppendVariable, Wait,
Fail, Filter, Until. Each mirrors the ADF activity of the same name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from factory_deploy.json_keys import get_property
from factory_deploy.limits import TIMESPAN_PATTERN, check_foreach_items
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.errors import ActivityDefinitionError, ActivityFailed, PipelineParameterError, RunnerError
from offline.adf_runner.expressions import evaluate, evaluate_value, is_expression
from offline.adf_runner.factory import Activity, Factory, Pipeline, parse_timespan

if TYPE_CHECKING:
    from offline.adf_runner.engine import ScopeOutcome

__all__ = [
    "AppendVariableActivity",
    "ExecutePipelineActivity",
    "FailActivity",
    "FilterActivity",
    "ForEachActivity",
    "IfConditionActivity",
    "SetVariableActivity",
    "UntilActivity",
    "WaitActivity",
]

# ForEach: ADF's default batchCount and its maximum.
DEFAULT_BATCH_COUNT = 20
MAX_BATCH_COUNT = 50


def _inner_failure(outcome: ScopeOutcome) -> ActivityFailed:
    first = outcome.failed[0]
    code = first.error.errorCode if first.error else "ActivityFailed"
    detail = first.error.message if first.error else "failed"
    return ActivityFailed(
        code, f"Activity failed because an inner activity failed; Inner activity name: {first.name}, Error: {detail}"
    )


class ExecutePipelineActivity(ActivityType):
    type_name = "ExecutePipeline"

    def run(self, call: ActivityCall) -> Any:
        reference = call.require("pipeline", dict, "a pipeline reference {\"referenceName\": ...}")
        name = reference.get("referenceName")
        parameters = dict(call.inputs.get("parameters") or {})
        # ADF's default is false: the activity succeeds as soon as the child run is started.
        wait_on_completion = bool(call.inputs.get("waitOnCompletion", False))
        parent = call.scope.run
        invoked_by = {
            "name": call.activity.name,
            "invokedByType": "PipelineActivity",
            "pipelineName": parent.pipeline.name,
            "pipelineRunId": parent.run_id,
        }
        engine = call.engine
        try:
            # Unknown parameters/missing values fail this activity, as in ADF, not the whole runner.
            engine.check_parameters(name, parameters)
        except PipelineParameterError as exc:
            raise ActivityFailed("InvalidPipelineParameters", str(exc)) from exc
        except RunnerError as exc:  # a pipeline named at run time that is not in the factory
            raise _child_refused(call, exc) from exc
        if not wait_on_completion:
            run_id = engine.new_run_id()
            engine.start_pipeline_in_background(
                lambda: engine.run_pipeline(name, parameters, invoked_by, None, parent, run_id=run_id)
            )
            return {"pipelineName": name, "pipelineRunId": run_id}
        try:
            child = engine.run_pipeline(name, parameters, invoked_by, None, parent)
        except RunnerError as exc:  # a child the runner refuses (a name known only now): this activity fails
            raise _child_refused(call, exc) from exc
        output = {"pipelineName": name, "pipelineRunId": child.runId}
        return_value = engine.return_values.get(child.runId)
        if return_value:
            output["pipelineReturnValue"] = return_value
        if not child.succeeded:
            raise ActivityFailed(
                "PipelineRunFailed",
                f"Operation on target {call.activity.name} failed: child pipeline `{name}` run {child.runId} "
                f"{child.status}: {child.message}",
                output=output,
            )
        return output


def _child_refused(call: ActivityCall, exc: RunnerError) -> ActivityFailed:
    return ActivityFailed("PipelineRunFailed", f"Operation on target {call.activity.name} failed: {exc}")


class ForEachActivity(ActivityType):
    type_name = "ForEach"
    nested_properties = frozenset({"activities"})

    def run(self, call: ActivityCall) -> Any:
        items = call.inputs.get("items")
        if not isinstance(items, list):
            raise ActivityFailed(
                "InvalidTemplate", f"ForEach `{call.activity.name}`: items must evaluate to an array, got {items!r}"
            )
        too_many = check_foreach_items(call.activity.name, len(items))
        if too_many:
            raise ActivityFailed("InvalidTemplate", too_many)
        sequential = bool(call.inputs.get("isSequential", False))
        batch_count = int(call.inputs.get("batchCount") or DEFAULT_BATCH_COUNT)
        workers = 1 if sequential else max(1, min(batch_count, MAX_BATCH_COUNT, len(items) or 1))
        inner = call.activity.nested.get("activities", ())
        engine = call.engine

        def iteration(indexed: tuple[int, Any]) -> ScopeOutcome:
            index, item = indexed
            return engine.run_activities(inner, call.scope.child(item, has_item=True, iteration=index))

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"foreach-{call.activity.name}") as pool:
            outcomes = list(pool.map(iteration, enumerate(items)))
        failed = [o for o in outcomes if o.failed]
        if failed:
            raise _inner_failure(failed[0])
        return {}


class IfConditionActivity(ActivityType):
    type_name = "IfCondition"
    nested_properties = frozenset({"ifTrueActivities", "ifFalseActivities"})

    def run(self, call: ActivityCall) -> Any:
        value = call.inputs.get("expression")
        if not isinstance(value, bool):
            raise ActivityFailed(
                "InvalidTemplate", f"IfCondition `{call.activity.name}`: expression must evaluate to a boolean, got {value!r}"
            )
        branch = call.activity.nested.get("ifTrueActivities" if value else "ifFalseActivities", ())
        outcome = call.engine.run_activities(branch, call.scope.child())
        if outcome.failed:
            raise _inner_failure(outcome)
        return {}


def _check_variable(call: ActivityCall, name: Any) -> str:
    pipeline = call.scope.run.pipeline
    if not isinstance(name, str) or name not in pipeline.variables:
        declared = ", ".join(pipeline.variables) or "none"
        raise ActivityFailed(
            "InvalidVariable", f"variable `{name}` is not declared in pipeline `{pipeline.name}` (declared: {declared})"
        )
    return name


_VARIABLE_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "bool": (bool,),
    "boolean": (bool,),
    "array": (list,),
    "integer": (int,),
    "int": (int,),
}


def _type_label(value: Any) -> str:
    for label, kinds in (("Boolean", (bool,)), ("Integer", (int,)), ("Float", (float,)), ("String", (str,)),
                         ("Array", (list,)), ("Object", (dict,))):
        if isinstance(value, kinds):
            return label
    return "Null" if value is None else type(value).__name__


class SetVariableActivity(ActivityType):
    type_name = "SetVariable"

    def run(self, call: ActivityCall) -> Any:
        name = call.inputs.get("variableName")
        value = call.inputs.get("value")
        run = call.scope.run
        if call.inputs.get("setSystemVariable") and name == "pipelineReturnValue":
            returned = self._return_value(call, value)
            with run.variables_lock:
                run.return_value.update(returned)
            call.engine.return_values[run.run_id] = dict(run.return_value)
            return {"name": name, "value": returned}
        name = _check_variable(call, name)
        kind = run.pipeline.variables[name].type
        allowed = _VARIABLE_TYPES.get(kind.lower())
        if allowed and (not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed)):
            raise ActivityFailed(
                "InvalidVariableType",
                f"The variable `{name}` of type `{kind}` cannot be updated with a value of type `{_type_label(value)}`",
            )
        with run.variables_lock:
            run.variables[name] = value
        return {"name": name, "value": value}

    @staticmethod
    def _return_value(call: ActivityCall, value: Any) -> dict[str, Any]:
        # [{"key": k, "value": {"type": "Expression"|"String"|..., "content": ...}}]
        returned: dict[str, Any] = {}
        for entry in value or []:
            content = (entry.get("value") or {}).get("content")
            if (entry.get("value") or {}).get("type") == "Expression" and isinstance(content, str):
                content = evaluate(content, call.state)
            returned[str(entry.get("key"))] = content
        return returned


class AppendVariableActivity(ActivityType):
    type_name = "AppendVariable"

    def run(self, call: ActivityCall) -> Any:
        name = _check_variable(call, call.inputs.get("variableName"))
        run = call.scope.run
        kind = run.pipeline.variables[name].type
        if kind.lower() != "array":
            raise ActivityFailed(
                "InvalidVariableType", f"AppendVariable needs an Array variable; `{name}` is of type `{kind}`"
            )
        with run.variables_lock:
            # A new list, so values already read by other activities (and monitoring) do not change.
            run.variables[name] = [*run.variables.get(name, []), call.inputs.get("value")]
        return {}


class WaitActivity(ActivityType):
    type_name = "Wait"
    enforces_timeout = True

    def run(self, call: ActivityCall) -> Any:
        seconds = call.inputs.get("waitTimeInSeconds")
        if isinstance(seconds, str) and seconds.strip().isdigit():
            seconds = int(seconds)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ActivityFailed(
                "InvalidActivityDefinition", f"Wait `{call.activity.name}`: waitTimeInSeconds must be a number, got {seconds!r}"
            )
        limit = call.timeout.total_seconds()
        if seconds > limit:
            call.engine.clock.sleep(limit)
            raise ActivityFailed("ActivityTimeout", f"activity `{call.activity.name}` timed out after {limit:g}s (policy.timeout)")
        call.engine.clock.sleep(float(seconds))
        return {}


class FailActivity(ActivityType):
    type_name = "Fail"

    def run(self, call: ActivityCall) -> Any:
        message = call.inputs.get("message")
        code = call.inputs.get("errorCode")
        raise ActivityFailed(str(code if code is not None else ""), str(message if message is not None else ""))


class FilterActivity(ActivityType):
    type_name = "Filter"
    nested_properties = frozenset({"condition"})

    def run(self, call: ActivityCall) -> Any:
        items = call.inputs.get("items")
        if not isinstance(items, list):
            raise ActivityFailed("InvalidTemplate", f"Filter `{call.activity.name}`: items must evaluate to an array, got {items!r}")
        condition = call.activity.type_properties.get("condition")
        kept = []
        for item in items:
            verdict = evaluate_value(
                condition, call.state.with_item(item), "typeProperties.condition", where=f"activity `{call.activity.name}`"
            )
            if not isinstance(verdict, bool):
                raise ActivityFailed(
                    "InvalidTemplate", f"Filter `{call.activity.name}`: condition must evaluate to a boolean, got {verdict!r}"
                )
            if verdict:
                kept.append(item)
        return {"ItemsCount": len(items), "FilteredItemsCount": len(kept), "Value": kept}


# Until: ADF's default loop timeout and its maximum (Learn, "Until activity", Type properties: "timeout ... d.hh:mm:ss
# (or) hh:mm:ss. The default value is seven days. Maximum value is: 90 days").
UNTIL_DEFAULT_TIMEOUT = timedelta(days=7)
UNTIL_MAX_TIMEOUT = timedelta(days=90)


def until_timeout(value: Any, activity: str) -> timedelta:
    """typeProperties.timeout of Until `activity` (None: seven days), or ValueError naming the rule."""
    if value is None:
        return UNTIL_DEFAULT_TIMEOUT
    if not isinstance(value, str) or not TIMESPAN_PATTERN.match(value):
        raise ValueError(f"Until `{activity}`: typeProperties.timeout {value!r} is not a d.hh:mm:ss or hh:mm:ss timespan")
    timeout = parse_timespan(value)
    if timeout > UNTIL_MAX_TIMEOUT:
        raise ValueError(f"Until `{activity}`: typeProperties.timeout {value} is beyond ADF's maximum of 90 days")
    return timeout


class UntilActivity(ActivityType):
    """Learn, "Until activity": the inner activities run, then the expression is evaluated; false runs them again,
    true completes the loop. "If an inner activity fails, the Until activity doesn't stop": the loop goes on, and the
    Until fails at the end as a ForEach with a failed iteration does. When the timeout elapses with the expression
    still false, the Until fails."""

    type_name = "Until"
    nested_properties = frozenset({"activities", "expression"})

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        timeout = get_property(activity.type_properties, "timeout")
        if not is_expression(timeout):  # an expression's value is checked when the loop starts
            try:
                until_timeout(timeout, activity.name)
            except ValueError as exc:
                raise ActivityDefinitionError(activity.name, pipeline.name, str(exc)) from None
        if get_property(activity.type_properties, "expression") is None:
            raise ActivityDefinitionError(
                activity.name, pipeline.name, "Until needs typeProperties.expression (the loop's exit condition)"
            )

    def run(self, call: ActivityCall) -> Any:
        try:
            timeout = until_timeout(get_property(call.inputs, "timeout"), call.activity.name)
        except ValueError as exc:
            raise ActivityFailed("InvalidTemplate", str(exc)) from None
        condition = get_property(call.activity.type_properties, "expression")
        inner = call.activity.nested.get("activities", ())
        engine = call.engine
        started = engine.clock.now()
        first_failure: ScopeOutcome | None = None
        iterations = 0
        while True:
            scope = call.scope.child()
            outcome = engine.run_activities(inner, scope)
            iterations += 1
            if outcome.failed and first_failure is None:
                first_failure = outcome
            done = evaluate_value(
                condition, engine.state_for(scope), "typeProperties.expression", where=f"activity `{call.activity.name}`"
            )
            if not isinstance(done, bool):
                raise ActivityFailed(
                    "InvalidTemplate", f"Until `{call.activity.name}`: expression must evaluate to a boolean, got {done!r}"
                )
            if done:
                break
            if engine.clock.now() - started >= timeout:
                raise ActivityFailed(
                    "ActivityTimeout",
                    f"Until `{call.activity.name}` timed out: its expression was still false after {iterations} "
                    f"iteration(s) and its timeout {timeout} (typeProperties.timeout) elapsed",
                )
        if first_failure is not None:
            raise _inner_failure(first_failure)
        return {}
