"""Run a pipeline as ADF does: activities ordered by `dependsOn`, independent ones in parallel threads,
dependency conditions, retries, timeouts, secure input/output, and ADF's rule for the pipeline's result.

Dependency conditions. An activity runs when *every* dependency is met; a dependency on activity A with
conditions [c1, c2] is met when A's status is one of them (`Completed` = Succeeded or Failed). Otherwise the
activity is Skipped (and recorded in monitoring as Skipped, without start time).

Pipeline result (ADF's documented rule, "Pipeline failure and error handling",
https://learn.microsoft.com/azure/data-factory/tutorial-pipeline-failure-error-handling):
evaluate every leaf activity (one no other activity depends on); a skipped leaf is replaced by its parents,
recursively. The pipeline succeeds if and only if no evaluated activity failed. So "try/catch" (A -> B on
failure) succeeds when B succeeds, while "do-if-else" (A -> B on success, A -> C on failure) fails when A
fails, because the skipped leaf B is evaluated as its failed parent A. The same rule decides whether an
iteration of a ForEach or a branch of an IfCondition failed.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from factory_deploy.json_keys import get_property
from factory_deploy.limits import check_activity_payload
from offline.adf_runner.activity_types import ACTIVITY_TYPES, ActivityCall, ActivityType
from offline.adf_runner.batch_pool import DEFAULT_BATCH_SLOTS
from offline.adf_runner.clock import Clock, SystemClock
from offline.adf_runner.errors import (
    ActivityFailed,
    ExpressionError,
    PipelineParameterError,
    RunnerError,
    UnsupportedActivityTypeError,
)
from offline.adf_runner.expressions import EvaluationState, evaluate_value, validate_value
from offline.adf_runner.expressions.datetimes import format_datetime
from offline.adf_runner.factory import Activity, Factory, Pipeline, find_resource
from offline.adf_runner.monitor import (
    SECURE,
    ActivityRun,
    ActivityRunError,
    Monitor,
    PipelineRun,
)
from offline.adf_runner.services import RunnerServices

__all__ = ["ActivityResult", "PipelineEngine", "RunContext", "RunnerOptions", "Scope", "ScopeOutcome"]

SUCCEEDED, FAILED, SKIPPED = "Succeeded", "Failed", "Skipped"
_CONDITION_STATUSES = {
    "Succeeded": {SUCCEEDED},
    "Failed": {FAILED},
    "Skipped": {SKIPPED},
    "Completed": {SUCCEEDED, FAILED},
}
# errorCode of an expression that fails at run time (ADF reports these as InvalidTemplate).
INVALID_TEMPLATE = "InvalidTemplate"
# An activity the local runner refused while it ran (a RunnerError): recorded as failed, then the error is raised.
RUNNER_REFUSED = "LocalRunnerRefused"


@dataclass(frozen=True)
class RunnerOptions:
    """Knobs for local runs. `retry_interval_cap_seconds` shortens `policy.retryIntervalInSeconds` (None =
    as in the factory). `verbose` streams Custom activities' stdout/stderr, prefixed, to `log`. `batch_slots`
    is the Batch pool's task slots, shared by every Custom activity of the factory; `batch_python` a folder holding
    the pool's `python3` (None: prepared from activities/requirements.txt, see batch_pool)."""

    retry_interval_cap_seconds: float | None = None
    verbose: bool = False
    log: TextIO | None = None
    max_parallel_activities: int = 50
    data_factory_name: str = "local-factory"
    batch_slots: int = DEFAULT_BATCH_SLOTS
    batch_python: Path | None = None

    @property
    def log_stream(self) -> TextIO:
        return self.log or sys.stdout


@dataclass(frozen=True)
class ActivityResult:
    name: str
    status: str
    output: Any = None
    error: ActivityRunError | None = None
    activity_run_id: str | None = None

    def as_expression_value(self) -> dict[str, Any]:
        """What `activity('name')` returns."""
        error = None
        if self.error is not None:
            error = {"errorCode": self.error.errorCode, "message": self.error.message, "failureType": self.error.failureType}
        return {"output": self.output, "status": self.status, "error": error, "activityRunId": self.activity_run_id}


@dataclass
class RunContext:
    """One pipeline run: its parameters, variables and the `pipeline()` object of its expressions."""

    pipeline: Pipeline
    run_id: str
    parameters: dict[str, Any]
    variables: dict[str, Any]
    system: dict[str, Any]  # the pipeline() object
    trigger: Mapping[str, Any] | None
    group_id: str
    variables_lock: threading.Lock = field(default_factory=threading.Lock)
    return_value: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scope:
    """Activities that see each other's outputs: the pipeline's top level, one ForEach iteration, one If
    branch. Inner scopes also see the outputs of their enclosing scopes (ADF lets a ForEach's inner
    activity reference an activity that ran before the ForEach)."""

    run: RunContext
    parent: Scope | None = None
    item: Any = None
    has_item: bool = False
    # ForEach item indexes from the outermost ForEach in: (2,) in one loop, (2, 0) in a nested one.
    iterations: tuple[int, ...] = ()
    results: dict[str, ActivityResult] = field(default_factory=dict)

    @property
    def iteration(self) -> int | None:
        """Index of the innermost ForEach item (what monitoring shows), None outside a ForEach."""
        return self.iterations[-1] if self.iterations else None

    def child(self, item: Any = None, has_item: bool = False, iteration: int | None = None) -> Scope:
        """An inner scope: a ForEach iteration (has_item, iteration) or an If branch (same item)."""
        if has_item:
            return Scope(self.run, self, item, True, (*self.iterations, iteration if iteration is not None else 0))
        return Scope(self.run, self, self.item, self.has_item, self.iterations)

    def lookup(self, name: str) -> ActivityResult | None:
        scope: Scope | None = self
        while scope is not None:
            found = scope.results.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None


@dataclass(frozen=True)
class ScopeOutcome:
    status: str
    failed: tuple[ActivityResult, ...] = ()

    @property
    def message(self) -> str:
        if not self.failed:
            return ""
        first = self.failed[0]
        detail = first.error.message if first.error else "failed"
        return f"Operation on target {first.name} failed: {detail}"


class PipelineEngine:
    def __init__(
        self,
        factory: Factory,
        monitor: Monitor,
        services: RunnerServices | None,
        clock: Clock | None = None,
        options: RunnerOptions | None = None,
    ) -> None:
        """`services` is what activity types need from outside (workdir, linked services' storage); None
        is enough to validate pipelines."""
        self.factory = factory
        self.monitor = monitor
        self.services = services
        self.clock = clock or SystemClock()
        self.options = options or RunnerOptions()
        self._validated: set[str] = set()
        self._validating: set[str] = set()
        self._background: list[threading.Thread] = []
        self._background_errors: list[BaseException] = []
        # pipelineReturnValue of each run (SetVariable with setSystemVariable), read by ExecutePipeline.
        self.return_values: dict[str, dict[str, Any]] = {}
        self._concurrency: dict[str, threading.BoundedSemaphore] = {}
        self._concurrency_lock = threading.Lock()

    @staticmethod
    def new_run_id() -> str:
        return str(uuid.uuid4())

    # --- pipelines -------------------------------------------------------------------------------------------

    def run_pipeline(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        invoked_by: Mapping[str, Any] | None = None,
        trigger: Mapping[str, Any] | None = None,
        parent: RunContext | None = None,
        run_id: str | None = None,
    ) -> PipelineRun:
        """Run pipeline `name` to its end and return its monitoring record."""
        pipeline = self.factory.pipeline(name)
        self.validate(pipeline)
        slot = self._run_slot(pipeline)
        if slot is None:
            return self._run_pipeline(pipeline, parameters, invoked_by, trigger, parent, run_id)
        with slot:  # queued until an earlier run of this pipeline ends
            return self._run_pipeline(pipeline, parameters, invoked_by, trigger, parent, run_id)

    def _run_pipeline(
        self,
        pipeline: Pipeline,
        parameters: Mapping[str, Any] | None,
        invoked_by: Mapping[str, Any] | None,
        trigger: Mapping[str, Any] | None,
        parent: RunContext | None,
        run_id: str | None,
    ) -> PipelineRun:
        values = self._parameters(pipeline, parameters or {})
        invoked_by = dict(invoked_by or {"name": "Manual", "invokedByType": "Manual"})
        run_id = run_id or self.new_run_id()
        start = self.clock.now()
        group_id = parent.group_id if parent else run_id
        trigger_info = trigger or {}
        system = {
            "DataFactory": self.options.data_factory_name,
            "Pipeline": pipeline.name,
            "RunId": run_id,
            "TriggerType": invoked_by.get("invokedByType", "Manual"),
            "TriggerName": invoked_by.get("name", "Manual"),
            "TriggerId": invoked_by.get("id", run_id if not parent else parent.run_id),
            "TriggerTime": _iso(trigger_info.get("startTime")) if trigger_info.get("startTime") else _iso(start),
            "GroupId": group_id,
            "parameters": values,
            "globalParameters": dict(self.factory.global_parameters),
        }
        if parent is not None:
            system["TriggeredByPipelineName"] = parent.pipeline.name
            system["TriggeredByPipelineRunId"] = parent.run_id
        run = RunContext(
            pipeline=pipeline,
            run_id=run_id,
            parameters=values,
            variables={k: _variable_default(v.type, v.default_value) for k, v in pipeline.variables.items()},
            system=system,
            trigger=trigger,
            group_id=group_id,
        )
        self.monitor.pipeline_started(
            PipelineRun(
                runId=run_id, pipelineName=pipeline.name, parameters=dict(values), invokedBy=invoked_by,
                runStart=start, groupId=group_id, parentRunId=parent.run_id if parent else None,
                annotations=tuple(pipeline.annotations),
            )
        )
        try:
            outcome = self.run_activities(pipeline.activities, Scope(run))
        except RunnerError as exc:  # refused mid-run: the record says so before the error reaches the caller
            self.monitor.pipeline_finished(run_id, FAILED, str(exc), self.clock.now())
            raise
        return self.monitor.pipeline_finished(run_id, outcome.status, outcome.message, self.clock.now())

    def _run_slot(self, pipeline: Pipeline) -> threading.BoundedSemaphore | None:
        """The pipeline's `concurrency`: "the maximum number of concurrent runs the pipeline can have ... additional
        pipeline runs are queued until earlier ones complete" (Microsoft Learn, "Pipelines and activities")."""
        if not pipeline.concurrency:
            return None
        with self._concurrency_lock:
            return self._concurrency.setdefault(pipeline.name, threading.BoundedSemaphore(int(pipeline.concurrency)))

    def start_pipeline_in_background(self, run: Callable[[], PipelineRun]) -> None:
        """ExecutePipeline without waitOnCompletion: the child runs on; `join_background` waits for it."""

        def target() -> None:
            try:
                run()
            except BaseException as exc:  # noqa: BLE001 - handed to join_background, raised in the caller's thread
                self._background_errors.append(exc)

        thread = threading.Thread(target=target, daemon=True)
        self._background.append(thread)
        thread.start()

    def join_background(self) -> None:
        """Wait for child runs started without waitOnCompletion; re-raise a runner error one of them hit."""
        while self._background:
            self._background.pop(0).join()
        if self._background_errors:
            raise self._background_errors.pop(0)

    def validate(self, pipeline: Pipeline) -> None:
        """Before anything runs (as ADF validates on publish): every activity type is supported and every
        expression parses and calls only known functions, in this pipeline and in every pipeline its
        ExecutePipeline activities call by a literal name (the whole call graph)."""
        if pipeline.name in self._validated or pipeline.name in self._validating:  # done, or a call cycle
            return
        self._validating.add(pipeline.name)
        try:
            self._validate_one(pipeline)
            for activity in pipeline.all_activities():
                if activity.type == "ExecutePipeline":
                    reference = get_property(activity.type_properties, "pipeline")
                    name = get_property(reference, "referenceName") if isinstance(reference, Mapping) else None
                    if isinstance(name, str) and not name.startswith("@"):  # an expression is checked when it runs
                        self.validate(self.factory.pipeline(name))
        finally:
            self._validating.discard(pipeline.name)
        self._validated.add(pipeline.name)

    def _validate_one(self, pipeline: Pipeline) -> None:
        for activity in pipeline.all_activities():
            kind = ACTIVITY_TYPES.get(activity.type)
            if kind is None:
                raise UnsupportedActivityTypeError(activity.type, activity.name, pipeline.name)
            kind.validate(activity, pipeline, self.factory)
            # Nested activities are validated as activities of their own (all_activities yields them).
            nested = frozenset(key for key in activity.nested if key in activity.type_properties)
            validate_value(activity.type_properties, f"activity `{activity.name}`", "typeProperties", nested)

    def check_parameters(self, name: str, given: Mapping[str, Any]) -> None:
        """Raise PipelineParameterError if `given` does not fit pipeline `name`'s parameters."""
        self._parameters(self.factory.pipeline(name), given)

    def _parameters(self, pipeline: Pipeline, given: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in given:
            if key not in pipeline.parameters:
                declared = ", ".join(pipeline.parameters) or "none"
                raise PipelineParameterError(pipeline.name, key, f"is not declared (declared: {declared})")
        for key, spec in pipeline.parameters.items():
            if key in given:
                values[key] = given[key]
            elif spec.has_default:
                values[key] = spec.default_value
            else:
                raise PipelineParameterError(
                    pipeline.name, key, "has no default value and no value was passed: pass it or give it a defaultValue"
                )
        return values

    # --- activities -----------------------------------------------------------------------------------------

    def run_activities(self, activities: Sequence[Activity], scope: Scope) -> ScopeOutcome:
        """Run a set of sibling activities in dependency order and apply ADF's leaf rule."""
        pending = {a.name: a for a in activities}
        results = scope.results
        if not activities:
            return ScopeOutcome(SUCCEEDED)
        workers = max(1, min(len(activities), self.options.max_parallel_activities))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="activity") as pool:
            running: dict[Future[ActivityResult], str] = {}
            while pending or running:
                ready = True
                while ready:
                    ready = False
                    for name, activity in list(pending.items()):
                        if any(d.activity not in results for d in activity.depends_on):
                            continue
                        del pending[name]
                        ready = True
                        if all(results[d.activity].status in _met_by(d.conditions) for d in activity.depends_on):
                            running[pool.submit(self.execute_activity, activity, scope)] = name
                        else:
                            results[name] = self._skipped(activity, scope)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    results[name] = future.result()  # a RunnerError propagates: the runner itself is stuck
        return self._outcome(activities, results)

    @staticmethod
    def _outcome(activities: Sequence[Activity], results: Mapping[str, ActivityResult]) -> ScopeOutcome:
        by_name = {a.name: a for a in activities}
        upstream = {d.activity for a in activities for d in a.depends_on}
        failed: list[ActivityResult] = []
        seen: set[str] = set()

        def evaluate(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            result = results[name]
            if result.status == SKIPPED:
                for dependency in by_name[name].depends_on:
                    evaluate(dependency.activity)
            elif result.status == FAILED:
                failed.append(result)

        for activity in activities:
            if activity.name not in upstream:
                evaluate(activity.name)
        # The run's error is a failed Fail activity's when there is one: that is what a Fail activity is for ("fail the
        # pipeline run with a customized error message and error code", Microsoft Learn, "Fail activity"), also when
        # the activity it reports on is a failed leaf too (its Succeeded path skipped); otherwise declaration order.
        order = {a.name: (by_name[a.name].type != "Fail", i) for i, a in enumerate(activities)}
        failed.sort(key=lambda r: order[r.name])
        return ScopeOutcome(FAILED if failed else SUCCEEDED, tuple(failed))

    def _skipped(self, activity: Activity, scope: Scope) -> ActivityResult:
        run_id = str(uuid.uuid4())
        self.monitor.activity_started(
            ActivityRun(
                activityRunId=run_id, activityName=activity.name, activityType=activity.type,
                linkedServiceName=_linked_service(activity),
                pipelineRunId=scope.run.run_id, pipelineName=scope.run.pipeline.name, status=SKIPPED,
                activityRunStart=None, iteration=scope.iteration,
            )
        )
        return ActivityResult(activity.name, SKIPPED, activity_run_id=run_id)

    def state_for(self, scope: Scope) -> EvaluationState:
        """The expression state an activity in `scope` sees."""

        def lookup(name: str) -> Mapping[str, Any] | None:
            found = scope.lookup(name)
            if found is None or found.status == SKIPPED:
                return None
            return found.as_expression_value()

        state = EvaluationState(
            pipeline=scope.run.system,
            variables=scope.run.variables,
            activity_lookup=lookup,
            now=self.clock.now,
            pipeline_name=scope.run.pipeline.name,
        )
        return state.with_item(scope.item) if scope.has_item else state

    def execute_activity(self, activity: Activity, scope: Scope) -> ActivityResult:
        """Run one activity with its retry policy; every attempt is one activity run in monitoring."""
        if activity.state.lower() == "inactive":
            return self._inactive(activity, scope)
        kind: type[ActivityType] = ACTIVITY_TYPES[activity.type]
        policy = activity.policy
        attempts = max(0, policy.retry) + 1
        result = ActivityResult(activity.name, FAILED)
        for attempt in range(1, attempts + 1):
            result = self._attempt(kind, activity, scope, attempt)
            if result.status == SUCCEEDED or attempt == attempts:
                break
            interval = float(policy.retry_interval_seconds)
            if self.options.retry_interval_cap_seconds is not None:
                interval = min(interval, self.options.retry_interval_cap_seconds)
            self.clock.sleep(interval)
        return result

    def _attempt(self, kind: type[ActivityType], activity: Activity, scope: Scope, attempt: int) -> ActivityResult:
        run_id = str(uuid.uuid4())
        policy = activity.policy
        start = self.clock.now()
        self.monitor.activity_started(
            ActivityRun(
                activityRunId=run_id, activityName=activity.name, activityType=activity.type,
                linkedServiceName=_linked_service(activity),
                pipelineRunId=scope.run.run_id, pipelineName=scope.run.pipeline.name, status="InProgress",
                activityRunStart=start, attempt=attempt, iteration=scope.iteration,
            )
        )
        state = self.state_for(scope)
        output: Any = None
        error: ActivityRunError | None = None
        try:
            self.monitor.activity_user_properties(run_id, _user_properties(activity, state))
            inputs = evaluate_value(
                activity.type_properties, state, "typeProperties", kind.nested_properties, where=f"activity `{activity.name}`"
            )
            self.monitor.activity_input(run_id, SECURE if policy.secure_input else mask_secure_strings(inputs))
            too_large = check_activity_payload(activity.name, self._payload(activity, inputs))
            if too_large:
                raise ActivityFailed("PayloadTooLarge", too_large)
            call = ActivityCall(
                activity=activity, inputs=inputs, attempt=attempt, activity_run_id=run_id, scope=scope,
                state=state, engine=self, timeout=policy.timeout,
            )
            started = self.clock.monotonic()
            try:
                output = kind().run(call)
            except ExpressionError:
                raise  # the activity fails with InvalidTemplate below
            except RunnerError as exc:  # no activity run stays InProgress once the runner has returned
                refused = ActivityRunError(RUNNER_REFUSED, str(exc), "UserError", activity.name)
                self.monitor.activity_finished(run_id, FAILED, self.clock.now(), None, refused)
                raise
            elapsed = self.clock.monotonic() - started
            if not kind.enforces_timeout and elapsed > policy.timeout.total_seconds():
                raise ActivityFailed(
                    "ActivityTimeout",
                    f"activity `{activity.name}` ran {elapsed:.0f}s, beyond its policy.timeout {policy.timeout}",
                    output=output,
                )
        except ActivityFailed as failure:
            error = ActivityRunError(failure.error_code, failure.message, failure.failure_type, activity.name)
            output = failure.output
        except ExpressionError as exc:
            error = ActivityRunError(INVALID_TEMPLATE, str(exc), "UserError", activity.name)
        status = FAILED if error else SUCCEEDED
        shown = SECURE if policy.secure_output and output is not None else output
        self.monitor.activity_finished(run_id, status, self.clock.now(), shown, error)
        return ActivityResult(activity.name, status, output, error, run_id)

    def _payload(self, activity: Activity, inputs: Any) -> list[Any]:
        """What an activity run carries: its evaluated configuration and the configurations of the datasets and
        linked services it references (Azure Data Factory limits, footnote on "Bytes per payload")."""
        payload = [inputs]
        references = [activity.linked_service_name.name] if activity.linked_service_name else []
        for kind, name in _references(inputs):
            dataset = find_resource(self.factory.datasets, name) if kind == "DatasetReference" else None
            if dataset is not None:
                payload.append(dataset.raw)
            elif kind == "LinkedServiceReference":
                references.append(name)
        linked_services = (find_resource(self.factory.linked_services, name) for name in references)
        return payload + [linked.raw for linked in linked_services if linked is not None]

    def _inactive(self, activity: Activity, scope: Scope) -> ActivityResult:
        # An Inactive activity does not run; it reports onInactiveMarkAs (default Succeeded).
        status = {"succeeded": SUCCEEDED, "failed": FAILED, "skipped": SKIPPED}.get(
            activity.on_inactive_mark_as.lower(), SUCCEEDED
        )
        run_id = str(uuid.uuid4())
        now = self.clock.now()
        error = None
        if status == FAILED:
            error = ActivityRunError("Inactive", f"activity `{activity.name}` is inactive", "UserError", activity.name)
        self.monitor.activity_started(
            ActivityRun(
                activityRunId=run_id,
                activityName=activity.name,
                activityType=activity.type,
                linkedServiceName=_linked_service(activity),
                pipelineRunId=scope.run.run_id,
                pipelineName=scope.run.pipeline.name,
                status=status,
                activityRunStart=now,
                activityRunEnd=now,
                durationInMs=0,
                error=error,
                iteration=scope.iteration,
            )
        )
        return ActivityResult(activity.name, status, None, error, run_id)


def _linked_service(activity: Activity) -> str:
    return activity.linked_service_name.name if activity.linked_service_name else ""


def _user_properties(activity: Activity, state: EvaluationState) -> dict[str, str]:
    """The activity's userProperties, evaluated where the activity starts (the factory check has their shape).
    Each value is a string or an expression of resultType string (2018-06-01 spec, UserProperty)."""
    values: dict[str, str] = {}
    for item in activity.raw.get("userProperties") or []:
        name = item["name"]
        value = evaluate_value(item["value"], state, f"userProperties.{name}", where=f"activity `{activity.name}`")
        if not isinstance(value, str):
            raise ActivityFailed(
                INVALID_TEMPLATE,
                f"activity `{activity.name}`: user property `{name}` evaluated to {type(value).__name__}, not a "
                "string: wrap the expression in string()",
            )
        values[name] = value
    return values


def _references(value: Any) -> list[tuple[str, str]]:
    """(type, referenceName) of every dataset or linked service reference under `value`."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("referenceName"), str) and isinstance(value.get("type"), str):
            found.append((value["type"], value["referenceName"]))
        for item in value.values():
            found += _references(item)
    elif isinstance(value, list):
        for item in value:
            found += _references(item)
    return found


def mask_secure_strings(value: Any) -> Any:
    """Monitoring never shows the value of a SecureString (ADF masks them in activity inputs)."""
    if isinstance(value, dict):
        if value.get("type") == "SecureString":
            return {**value, "value": "***"}
        return {k: mask_secure_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secure_strings(v) for v in value]
    return value


def _met_by(conditions: tuple[str, ...]) -> set[str]:
    statuses: set[str] = set()
    for condition in conditions:
        statuses |= _CONDITION_STATUSES[condition]
    return statuses


def _variable_default(kind: str, default: Any) -> Any:
    if default is not None:
        return default
    return {"array": [], "bool": False, "boolean": False, "integer": 0, "int": 0}.get(kind.lower(), "")


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return format_datetime(value)
    return str(value)
