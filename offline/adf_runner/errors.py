"""One error class per failure of the local runner; every message names the object and, where it can, the fix.

Two families:
- `RunnerError` and its subclasses stop the runner (a broken factory, an expression the runner cannot
  evaluate, a feature the runner does not support). They are raised to the caller.
- `ActivityFailed` is how an activity type reports that *the activity* failed, as ADF would show it
  (errorCode, message, failureType). The engine records it in monitoring and follows the Failed paths;
  it never escapes a pipeline run.
"""

from __future__ import annotations

import copy
from pathlib import Path

from factory_deploy.references import KINDS, DanglingReference
from factory_deploy.resource_files import FileProblem


class RunnerError(Exception):
    """Base of every error the local runner raises to its caller."""


# --- factory loading -------------------------------------------------------------------------------------


class FactoryError(RunnerError):
    """The factory folder cannot be loaded as ADF would accept it."""


class FactoryLimitError(FactoryError):
    """The factory breaks a limit or structural rule ADF enforces (factory_deploy.limits)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


class FactoryFolderNotFoundError(FactoryError):
    def __init__(self, root: Path) -> None:
        self.root = root
        super().__init__(f"factory folder {root} does not exist: pass the folder holding pipelines/, datasets/, ...")


class EmptyFactoryFolderError(FactoryError):
    def __init__(self, root: Path, folders: tuple[str, ...]) -> None:
        self.root = root
        super().__init__(
            f"factory folder {root} holds none of {', '.join(f + '/' for f in folders)}: pass the folder that holds "
            "the factory's resources (this project's layout or the one ADF's git integration writes)"
        )


class MalformedJsonError(FactoryError):
    def __init__(self, problem: FileProblem) -> None:
        self.path, self.line, self.column = problem.path, problem.line, problem.column
        super().__init__(problem.message)


class ResourceShapeError(FactoryError):
    """A resource file lacks `name` or `properties`, or a field has the wrong JSON type."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path, self.problem = path, problem
        super().__init__(f"{path}: {problem}")


class ResourceNameMismatchError(FactoryError):
    def __init__(self, problem: FileProblem) -> None:
        self.path, self.resource_name = problem.path, problem.name
        super().__init__(problem.message)


class DuplicateResourceError(FactoryError):
    def __init__(self, problem: FileProblem) -> None:
        self.kind, self.name = KINDS[problem.folder].label, problem.name
        self.paths = (problem.other_path, problem.path) if problem.other_path else (problem.path,)
        super().__init__(problem.message)


class DuplicateActivityError(FactoryError):
    def __init__(self, pipeline: str, activity: str) -> None:
        self.pipeline, self.activity = pipeline, activity
        super().__init__(
            f"activity name `{activity}` is used more than once in pipeline `{pipeline}`; "
            "ADF requires unique activity names within a pipeline (nested activities included)"
        )


class DependencyError(FactoryError):
    """`dependsOn` names an activity that is not a sibling, or the dependencies form a cycle."""

    def __init__(self, pipeline: str, activity: str, problem: str) -> None:
        self.pipeline, self.activity, self.problem = pipeline, activity, problem
        super().__init__(f"activity `{activity}` in pipeline `{pipeline}`: {problem}")


class UnknownReferenceError(FactoryError):
    """A `referenceName` points at no resource; worded as deploy words it (one message for one problem)."""

    def __init__(self, reference: DanglingReference, factory_folder: str) -> None:
        self.reference = reference
        self.kind, self.name = KINDS[reference.edge.folder].label, reference.edge.name
        self.referenced_by = reference.referenced_by
        self.folder = f"{factory_folder}/{reference.edge.folder}"
        super().__init__(reference.message(factory_folder))


class OverrideError(FactoryError):
    def __init__(self, resource: str, path: str, problem: str) -> None:
        self.resource, self.path, self.problem = resource, path, problem
        super().__init__(f"override `{path}` of `{resource}`: {problem}")


class ResourceNotFoundError(FactoryError):
    def __init__(self, kind: str, name: str, folder: str) -> None:
        self.kind, self.name, self.folder = kind, name, folder
        super().__init__(f"{kind} `{name}` not found in {folder}")


class UnsupportedPolicyError(FactoryError):
    def __init__(self, pipeline: str, activity: str, field: str, value: object) -> None:
        self.pipeline, self.activity, self.field = pipeline, activity, field
        super().__init__(
            f"activity `{activity}` in pipeline `{pipeline}`: policy.{field} = {value!r} is not supported by "
            "the local runner (use a literal value)"
        )


# --- expressions ------------------------------------------------------------------------------------------


class ExpressionError(RunnerError):
    """An expression cannot be parsed or evaluated. `where` names the activity/property when known."""

    def __init__(self, message: str, expression: str | None = None, where: str | None = None) -> None:
        self.message, self.expression, self.where = message, expression, where
        self.json_path: str | None = None  # set by evaluate_value: the innermost property being evaluated
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message
        if self.expression is not None:
            text += f" (expression `{self.expression}`)"
        if self.where:
            text += f" (in {self.where})"
        return text

    def located(self, where: str) -> ExpressionError:
        """The same error naming where it happened; the first location set wins (it is the innermost)."""
        if self.where:
            return self
        clone = copy.copy(self)
        clone.where = where
        return clone


class ExpressionSyntaxError(ExpressionError):
    pass


class UnsupportedFunctionError(ExpressionError):
    """A function the local runner does not have: a documented ADF function it cannot reproduce (`reason`
    says why), or a name that is no ADF function at all."""

    def __init__(self, function: str, expression: str | None = None, where: str | None = None, reason: str | None = None) -> None:
        message = (
            f"not supported locally: {function} ({reason})" if reason
            else f"function `{function}` is not supported by the local runner"
        )
        super().__init__(message, expression, where)
        self.function, self.reason = function, reason

    def __str__(self) -> str:
        # The function name is the point; the whole expression would only bury it.
        return self.message + (f" (in {self.where})" if self.where else "")


# --- pipeline runs ----------------------------------------------------------------------------------------


class UnsupportedActivityTypeError(RunnerError):
    def __init__(self, activity_type: str, activity: str, pipeline: str) -> None:
        self.activity_type, self.activity, self.pipeline = activity_type, activity, pipeline
        super().__init__(
            f"Activity type `{activity_type}` (activity `{activity}` in pipeline `{pipeline}`) "
            "is not supported by the local runner"
        )


class ActivityDefinitionError(FactoryError):
    """An activity definition ADF itself refuses (a required property missing, a value beyond ADF's limit)."""

    def __init__(self, activity: str, pipeline: str, problem: str) -> None:
        self.activity, self.pipeline, self.problem = activity, pipeline, problem
        super().__init__(f"activity `{activity}` in pipeline `{pipeline}`: {problem}")


class UnsupportedActivityFeatureError(RunnerError):
    """A setting ADF runs but the local runner cannot (nothing here stands in for it): names it and what is supported."""

    def __init__(self, activity: str, pipeline: str, feature: str, supported: str) -> None:
        self.activity, self.pipeline, self.feature = activity, pipeline, feature
        super().__init__(
            f"activity `{activity}` in pipeline `{pipeline}`: {feature} is not supported by the local runner; "
            f"supported: {supported}"
        )


class NonLoopbackUrlError(RunnerError):
    """A Web activity URL outside this machine: nothing else is reachable here. Names the host, never the whole URL
    (a query string may carry a token)."""

    def __init__(self, activity: str, pipeline: str, host: str) -> None:
        self.activity, self.pipeline, self.host = activity, pipeline, host
        super().__init__(
            f"Web activity `{activity}` in pipeline `{pipeline}`: URL host `{host}` is not a loopback address; the "
            "local runner calls only http(s) on 127.0.0.1, ::1 or localhost: point the URL at a local stand-in "
            "(e.g. through a pipeline parameter)"
        )


class PipelineParameterError(RunnerError):
    def __init__(self, pipeline: str, parameter: str, problem: str) -> None:
        self.pipeline, self.parameter, self.problem = pipeline, parameter, problem
        super().__init__(f"pipeline `{pipeline}` parameter `{parameter}`: {problem}")


class TriggerError(RunnerError):
    def __init__(self, trigger: str, problem: str) -> None:
        self.trigger, self.problem = trigger, problem
        super().__init__(f"trigger `{trigger}`: {problem}")


class EventLoopError(RunnerError):
    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        super().__init__(
            f"storage events still firing pipelines after {rounds} rounds: a pipeline probably writes a blob "
            "that triggers itself; check blobPathBeginsWith/blobPathEndsWith of the BlobEventsTriggers"
        )


class ActivityFailed(Exception):
    """An activity failed as ADF reports it: `{errorCode, message, failureType}`. Not a RunnerError:
    the engine turns it into a Failed activity run and carries on along the dependency conditions."""

    def __init__(self, error_code: str, message: str, failure_type: str = "UserError", output: object = None) -> None:
        self.error_code, self.message, self.failure_type = error_code, message, failure_type
        self.output = output  # what Monitor still shows for the failed run (a Custom activity's exit code, logs)
        super().__init__(f"{error_code}: {message}")


# --- data flows and SQL -------------------------------------------------------------------------------------


class DataFlowError(RunnerError):
    """A mapping data flow the local runner cannot execute (raised when the pipeline is validated)."""


class DataFlowScriptError(DataFlowError):
    """The data flow script is not valid data flow script."""

    def __init__(self, where: str, line: int, column: int, problem: str) -> None:
        self.where, self.line, self.column, self.problem = where, line, column, problem
        super().__init__(f"{where}, script line {line} column {column}: {problem}")


class UnsupportedDataFlowFeatureError(DataFlowError):
    """A transformation kind, option or function the local data flow engine does not implement."""

    def __init__(self, dataflow: str, transformation: str | None, feature: str, supported: str = "") -> None:
        self.dataflow, self.transformation, self.feature = dataflow, transformation, feature
        where = f" (transformation `{transformation}`)" if transformation else ""
        hint = f"; supported: {supported}" if supported else ""
        super().__init__(f"data flow `{dataflow}`{where}: {feature} is not supported by the local runner{hint}")


class UnsupportedLinkedServiceError(RunnerError):
    """An activity needs a linked service type the local runner has no stand-in for."""

    def __init__(self, activity: str, pipeline: str, linked_service: str, service_type: str, supported: str) -> None:
        self.activity, self.pipeline, self.linked_service, self.service_type = activity, pipeline, linked_service, service_type
        super().__init__(
            f"activity `{activity}` in pipeline `{pipeline}`: linked service `{linked_service}` is of type "
            f"`{service_type}`, which the local runner does not run; supported: {supported}"
        )
