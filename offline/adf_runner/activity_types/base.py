"""What every activity type implements, and what the engine hands it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from factory_deploy.json_keys import get_property
from offline.adf_runner.errors import ActivityFailed
from offline.adf_runner.factory import Activity, Factory, Pipeline

if TYPE_CHECKING:
    from offline.adf_runner.engine import PipelineEngine, Scope
    from offline.adf_runner.expressions import EvaluationState

__all__ = ["ActivityCall", "ActivityType"]


@dataclass(frozen=True)
class ActivityCall:
    """One attempt of one activity. `inputs` is `typeProperties` with expressions evaluated, except the
    type's `nested_properties`, which stay raw for the type to evaluate itself (per item, per branch)."""

    activity: Activity
    inputs: Mapping[str, Any]
    attempt: int
    activity_run_id: str
    scope: Scope
    state: EvaluationState
    engine: PipelineEngine
    timeout: timedelta

    def require(self, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        """`typeProperties.<key>` (named in any case, as ADF reads it) of the expected JSON type, or the
        activity fails naming the property."""
        value = get_property(self.inputs, key)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
            raise ActivityFailed(
                "InvalidActivityDefinition",
                f"activity `{self.activity.name}`: typeProperties.{key} must be {what}, got {value!r}",
            )
        return value


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


class ActivityType:
    """One ADF activity type. Subclasses set `type_name` and implement `run`, returning the activity's
    output (what `activity('name').output` reads) or raising ActivityFailed."""

    type_name: ClassVar[str]
    # typeProperties keys the engine must not evaluate up front (nested activities, per-item conditions).
    nested_properties: ClassVar[frozenset[str]] = frozenset()
    # True: the type stops itself at policy.timeout (a killed Batch task, a cut-short Wait). Otherwise the engine
    # fails an attempt that ran longer than policy.timeout when it returns: in-process work (DuckDB) cannot be
    # interrupted here, but the outcome is ADF's (Failed, ActivityTimeout).
    enforces_timeout: ClassVar[bool] = False

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        """Refuse, before anything runs, what this type cannot do locally (raise a RunnerError naming it).
        Called once per activity when its pipeline is validated; the default accepts everything."""

    def run(self, call: ActivityCall) -> Any:
        raise NotImplementedError
