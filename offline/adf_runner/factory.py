"""Load a factory folder (`pipelines/ datasets/ linkedServices/ triggers/ dataflows/`, or the singular folders
ADF's git integration writes) into frozen dataclasses.

The loader checks what ADF itself refuses on publish, so a broken factory fails here with the file and the
fix rather than half-way through a run: malformed JSON, a file without `name`/`properties`, a file name that
differs from its resource name, duplicate names (ADF names are case-insensitive), references to resources that
do not exist, duplicate activity names and `dependsOn` pointing nowhere, and the limits and nesting rules of
`factory_deploy.limits` (checked after the overrides, so the environment's values are what is checked).

Environment differences are applied after load, as deploy applies them: `overrides` maps a resource name to
dotted paths under `properties` (`{"Ls_Blob_Storage": {"typeProperties.serviceEndpoint": "file:///…"}}`) and
`global_parameters` are the values of `@pipeline().globalParameters.*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from factory_deploy.limits import check_factory_limits
from factory_deploy.references import GIT_FOLDER, KINDS, dangling_references, name_key
from factory_deploy.render import OverrideError as SharedOverrideError
from factory_deploy.render import apply_overrides
from factory_deploy.resource_files import FileProblem, ProblemKind, read_resource_files
from offline.adf_runner.errors import (
    DependencyError,
    DuplicateActivityError,
    DuplicateResourceError,
    EmptyFactoryFolderError,
    FactoryError,
    FactoryFolderNotFoundError,
    FactoryLimitError,
    MalformedJsonError,
    OverrideError,
    ResourceNameMismatchError,
    ResourceNotFoundError,
    ResourceShapeError,
    UnknownReferenceError,
    UnsupportedPolicyError,
)

__all__ = [
    "Activity",
    "ActivityPolicy",
    "DataFlow",
    "Dataset",
    "DependsOn",
    "Factory",
    "LinkedService",
    "Parameter",
    "Pipeline",
    "Reference",
    "Trigger",
    "TriggerPipeline",
    "Variable",
    "find_resource",
    "load_factory",
    "parse_timespan",
]

# ADF's default activity timeout when policy.timeout is omitted: 7 days.
DEFAULT_TIMEOUT = timedelta(days=7)
DEFAULT_RETRY_INTERVAL_SECONDS = 30

# typeProperties keys that hold nested activities in control-flow activities.
NESTED_ACTIVITY_KEYS = ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities")


@dataclass(frozen=True)
class Reference:
    name: str
    type: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DependsOn:
    activity: str
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class ActivityPolicy:
    timeout: timedelta = DEFAULT_TIMEOUT
    retry: int = 0
    retry_interval_seconds: int = DEFAULT_RETRY_INTERVAL_SECONDS
    secure_input: bool = False
    secure_output: bool = False


@dataclass(frozen=True)
class Activity:
    """One activity. `type_properties` is the raw JSON (expressions not evaluated); treat it as read-only.

    `nested` holds the parsed activities of control-flow containers, keyed by their typeProperties key
    (`activities` for ForEach, `ifTrueActivities`/`ifFalseActivities` for IfCondition, ...)."""

    name: str
    type: str
    depends_on: tuple[DependsOn, ...]
    policy: ActivityPolicy
    type_properties: Mapping[str, Any]
    linked_service_name: Reference | None
    description: str = ""
    state: str = "Active"
    on_inactive_mark_as: str = "Succeeded"
    nested: Mapping[str, tuple[Activity, ...]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameter:
    type: str
    has_default: bool
    default_value: Any = None


@dataclass(frozen=True)
class Variable:
    type: str
    default_value: Any = None


@dataclass(frozen=True)
class Pipeline:
    name: str
    parameters: Mapping[str, Parameter]
    variables: Mapping[str, Variable]
    activities: tuple[Activity, ...]
    description: str = ""
    concurrency: int | None = None
    annotations: tuple[Any, ...] = ()
    source: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def all_activities(self) -> Iterator[Activity]:
        """Every activity, nested ones included (depth first)."""
        yield from _walk(self.activities)


@dataclass(frozen=True)
class Dataset:
    name: str
    type: str
    linked_service_name: Reference
    parameters: Mapping[str, Any]
    type_properties: Mapping[str, Any]
    source: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkedService:
    name: str
    type: str
    type_properties: Mapping[str, Any]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TriggerPipeline:
    pipeline: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class Trigger:
    name: str
    type: str
    type_properties: Mapping[str, Any]
    pipelines: tuple[TriggerPipeline, ...]
    runtime_state: str = "Started"
    source: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataFlow:
    name: str
    type: str
    type_properties: Mapping[str, Any]
    source: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


_R = TypeVar("_R")


@dataclass(frozen=True)
class Factory:
    root: Path
    pipelines: Mapping[str, Pipeline]
    datasets: Mapping[str, Dataset]
    linked_services: Mapping[str, LinkedService]
    triggers: Mapping[str, Trigger]
    dataflows: Mapping[str, DataFlow]
    global_parameters: Mapping[str, Any] = field(default_factory=dict)

    def pipeline(self, name: str) -> Pipeline:
        return self._get(self.pipelines, name, "pipelines")

    def dataset(self, name: str) -> Dataset:
        return self._get(self.datasets, name, "datasets")

    def linked_service(self, name: str) -> LinkedService:
        return self._get(self.linked_services, name, "linkedServices")

    def trigger(self, name: str) -> Trigger:
        return self._get(self.triggers, name, "triggers")

    def dataflow(self, name: str) -> DataFlow:
        return self._get(self.dataflows, name, "dataflows")

    def _get(self, resources: Mapping[str, _R], name: str, folder: str) -> _R:
        found = find_resource(resources, name)
        if found is None:
            raise ResourceNotFoundError(KINDS[folder].label, name, f"{self.root.name}/{folder}")
        return found


def find_resource(resources: Mapping[str, _R], name: str) -> _R | None:
    """The resource named `name` in any case (ADF names are case-insensitive, factory_deploy.references.name_key:
    `pl_copy` runs `PL_Copy`), or None."""
    if name in resources:
        return resources[name]
    wanted = name_key("", name)
    return next((resource for candidate, resource in resources.items() if name_key("", candidate) == wanted), None)


def _walk(activities: tuple[Activity, ...]) -> Iterator[Activity]:
    for activity in activities:
        yield activity
        for children in activity.nested.values():
            yield from _walk(children)


# --- loading -----------------------------------------------------------------------------------------------


def load_factory(
    root: Path | str,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    global_parameters: Mapping[str, Any] | None = None,
) -> Factory:
    """Load and check the factory under `root`, then apply the environment's overrides."""
    root = Path(root)
    if not root.is_dir():
        raise FactoryFolderNotFoundError(root)
    layouts = tuple(name for folder in KINDS for name in (folder, GIT_FOLDER[folder]))
    if not any((root / name).is_dir() for name in layouts):
        raise EmptyFactoryFolderError(root, layouts)
    documents = _read_documents(root)
    _apply_overrides(documents, overrides or {})
    problems = check_factory_limits((folder, doc) for folder, found in documents.items() for _, doc in found.values())
    if problems:
        raise FactoryLimitError(problems)
    factory = Factory(
        root=root,
        pipelines={n: _parse_pipeline(p, d) for n, (p, d) in documents["pipelines"].items()},
        datasets={n: _parse_dataset(p, d) for n, (p, d) in documents["datasets"].items()},
        linked_services={n: _parse_linked_service(p, d) for n, (p, d) in documents["linkedServices"].items()},
        triggers={n: _parse_trigger(p, d) for n, (p, d) in documents["triggers"].items()},
        dataflows={n: _parse_dataflow(p, d) for n, (p, d) in documents["dataflows"].items()},
        global_parameters=dict(global_parameters or {}),
    )
    _check_references(root, documents)
    return factory


def _read_documents(root: Path) -> dict[str, dict[str, tuple[Path, dict[str, Any]]]]:
    """Deploy's reader (factory_deploy.resource_files); the runner stops at the first broken file."""
    files, problems = read_resource_files(root)
    if problems:
        raise _file_error(problems[0])
    documents: dict[str, dict[str, tuple[Path, dict[str, Any]]]] = {folder: {} for folder in KINDS}
    for resource in files.values():
        documents[resource.folder][resource.name] = (resource.path, resource.body)
    return documents


def _file_error(problem: FileProblem) -> FactoryError:
    if problem.kind is ProblemKind.MALFORMED_JSON:
        return MalformedJsonError(problem)
    if problem.kind is ProblemKind.NAME_MISMATCH:
        return ResourceNameMismatchError(problem)
    if problem.kind is ProblemKind.DUPLICATE:
        return DuplicateResourceError(problem)
    return ResourceShapeError(problem.path, problem.detail)


def _apply_overrides(
    documents: dict[str, dict[str, tuple[Path, dict[str, Any]]]], overrides: Mapping[str, Mapping[str, Any]]
) -> None:
    """Deploy's overrides, with deploy's meaning (factory_deploy.render.apply_overrides), so both see the same bodies."""
    bodies = {(folder, name): doc for folder, found in documents.items() for name, (_, doc) in found.items()}
    try:
        applied = apply_overrides(bodies, overrides)
    except SharedOverrideError as exc:
        raise OverrideError(exc.resource, exc.path, exc.problem) from None
    for (folder, name), body in applied.items():
        documents[folder][name] = (documents[folder][name][0], body)


def _reference(value: Any) -> Reference | None:
    if isinstance(value, dict) and isinstance(value.get("referenceName"), str):
        return Reference(value["referenceName"], str(value.get("type", "")), dict(value.get("parameters") or {}))
    return None


def _parse_pipeline(path: Path, document: dict[str, Any]) -> Pipeline:
    name = document["name"]
    props = document["properties"]
    parameters = {
        key: Parameter(str(spec.get("type", "String")), "defaultValue" in spec, spec.get("defaultValue"))
        for key, spec in (props.get("parameters") or {}).items()
    }
    variables = {
        key: Variable(str(spec.get("type", "String")), spec.get("defaultValue"))
        for key, spec in (props.get("variables") or {}).items()
    }
    raw_activities = props.get("activities") or []
    if not isinstance(raw_activities, list):
        raise ResourceShapeError(path, f"pipeline `{name}`: `properties.activities` must be a list")
    activities = _parse_activities(raw_activities, name, path)
    pipeline = Pipeline(
        name=name,
        parameters=parameters,
        variables=variables,
        activities=activities,
        description=str(props.get("description", "")),
        concurrency=props.get("concurrency"),
        annotations=tuple(props.get("annotations") or ()),
        source=path,
        raw=document,
    )
    seen: set[str] = set()
    for activity in pipeline.all_activities():
        if activity.name in seen:
            raise DuplicateActivityError(name, activity.name)
        seen.add(activity.name)
    return pipeline


def _parse_activities(raw: list[Any], pipeline: str, path: Path) -> tuple[Activity, ...]:
    activities = tuple(_parse_activity(item, pipeline, path) for item in raw)
    names = {a.name for a in activities}
    for activity in activities:
        for dependency in activity.depends_on:
            if dependency.activity not in names:
                raise DependencyError(
                    pipeline,
                    activity.name,
                    f"dependsOn `{dependency.activity}`, which is not an activity at the same level "
                    "(ADF only allows dependencies between siblings)",
                )
    _check_acyclic(activities, pipeline)
    return activities


def _check_acyclic(activities: tuple[Activity, ...], pipeline: str) -> None:
    graph = {a.name: [d.activity for d in a.depends_on] for a in activities}
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join(trail[trail.index(node):] + [node])
            raise DependencyError(pipeline, node, f"dependsOn forms a cycle: {cycle}")
        state[node] = 1
        for upstream in graph[node]:
            visit(upstream, trail + [node])
        state[node] = 2

    for name in graph:
        visit(name, [])


_CONDITIONS = {"succeeded": "Succeeded", "failed": "Failed", "skipped": "Skipped", "completed": "Completed"}


def _parse_activity(raw: Any, pipeline: str, path: Path) -> Activity:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not isinstance(raw.get("type"), str):
        raise ResourceShapeError(path, f"pipeline `{pipeline}`: every activity needs a string `name` and `type`")
    name = raw["name"]
    depends_on = []
    for dependency in raw.get("dependsOn") or []:
        conditions = []
        for condition in dependency.get("dependencyConditions") or []:
            canonical = _CONDITIONS.get(str(condition).lower())
            if canonical is None:
                raise DependencyError(
                    pipeline, name, f"unknown dependency condition `{condition}` (use Succeeded, Failed, Skipped or Completed)"
                )
            conditions.append(canonical)
        depends_on.append(DependsOn(str(dependency.get("activity")), tuple(conditions)))
    type_properties = raw.get("typeProperties") or {}
    nested = {
        key: _parse_activities(type_properties[key], pipeline, path)
        for key in NESTED_ACTIVITY_KEYS
        if isinstance(type_properties.get(key), list)
    }
    # Switch keeps its activities inside `cases[i].activities`; key them as `cases[<value>]`.
    for case in type_properties.get("cases") or []:
        if isinstance(case, dict) and isinstance(case.get("activities"), list):
            nested[f"cases[{case.get('value')}]"] = _parse_activities(case["activities"], pipeline, path)
    return Activity(
        name=name,
        type=raw["type"],
        depends_on=tuple(depends_on),
        policy=_parse_policy(raw.get("policy") or {}, pipeline, name),
        type_properties=type_properties,
        linked_service_name=_reference(raw.get("linkedServiceName")),
        description=str(raw.get("description", "")),
        state=str(raw.get("state", "Active")),
        on_inactive_mark_as=str(raw.get("onInactiveMarkAs", "Succeeded")),
        nested=nested,
        raw=raw,
    )


def _parse_policy(raw: Mapping[str, Any], pipeline: str, activity: str) -> ActivityPolicy:
    def literal(key: str, kind: type, default: Any) -> Any:
        value = raw.get(key, default)
        if value is None:
            return default
        if kind is int and isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise UnsupportedPolicyError(pipeline, activity, key, value)
        return value

    timeout_raw = raw.get("timeout")
    if timeout_raw is None:
        timeout = DEFAULT_TIMEOUT
    elif isinstance(timeout_raw, str):
        try:
            timeout = parse_timespan(timeout_raw)
        except ValueError:
            raise UnsupportedPolicyError(pipeline, activity, "timeout", timeout_raw) from None
    else:
        raise UnsupportedPolicyError(pipeline, activity, "timeout", timeout_raw)
    return ActivityPolicy(
        timeout=timeout,
        retry=literal("retry", int, 0),
        retry_interval_seconds=literal("retryIntervalInSeconds", int, DEFAULT_RETRY_INTERVAL_SECONDS),
        secure_input=literal("secureInput", bool, False),
        secure_output=literal("secureOutput", bool, False),
    )


_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2}):(?P<seconds>\d{1,2}(?:\.\d+)?)$")


def parse_timespan(text: str) -> timedelta:
    """Parse ADF's `d.hh:mm:ss` / `hh:mm:ss` (a .NET TimeSpan) into a timedelta."""
    match = _TIMESPAN.match(text.strip())
    if not match:
        raise ValueError(f"`{text}` is not a d.hh:mm:ss timespan")
    return timedelta(
        days=int(match["days"] or 0),
        hours=int(match["hours"]),
        minutes=int(match["minutes"]),
        seconds=float(match["seconds"]),
    )


def _parse_dataset(path: Path, document: dict[str, Any]) -> Dataset:
    props = document["properties"]
    linked = _reference(props.get("linkedServiceName"))
    if linked is None:
        raise ResourceShapeError(path, f"dataset `{document['name']}` has no linkedServiceName reference: add one")
    return Dataset(
        name=document["name"],
        type=str(props.get("type", "")),
        linked_service_name=linked,
        parameters=dict(props.get("parameters") or {}),
        type_properties=props.get("typeProperties") or {},
        source=path,
        raw=document,
    )


def _parse_linked_service(path: Path, document: dict[str, Any]) -> LinkedService:
    props = document["properties"]
    return LinkedService(
        name=document["name"],
        type=str(props.get("type", "")),
        type_properties=props.get("typeProperties") or {},
        parameters=dict(props.get("parameters") or {}),
        source=path,
        raw=document,
    )


def _parse_trigger(path: Path, document: dict[str, Any]) -> Trigger:
    props = document["properties"]
    pipelines = []
    for entry in props.get("pipelines") or []:
        reference = _reference((entry or {}).get("pipelineReference"))
        if reference is None:
            raise ResourceShapeError(path, f"trigger `{document['name']}`: each pipelines[] entry needs a pipelineReference")
        pipelines.append(TriggerPipeline(reference.name, dict(entry.get("parameters") or {})))
    return Trigger(
        name=document["name"],
        type=str(props.get("type", "")),
        type_properties=props.get("typeProperties") or {},
        pipelines=tuple(pipelines),
        runtime_state=str(props.get("runtimeState", "Started")),
        source=path,
        raw=document,
    )


def _parse_dataflow(path: Path, document: dict[str, Any]) -> DataFlow:
    props = document["properties"]
    return DataFlow(
        name=document["name"],
        type=str(props.get("type", "")),
        type_properties=props.get("typeProperties") or {},
        source=path,
        raw=document,
    )


def _check_references(root: Path, documents: dict[str, dict[str, tuple[Path, dict[str, Any]]]]) -> None:
    existing = {(folder, name) for folder, found in documents.items() for name in found}
    for folder, found in documents.items():
        for name, (_, document) in found.items():
            for dangling in dangling_references(folder, name, document["properties"], existing):
                # Expressions as reference names (`@pipeline().parameters.x`) are resolved at run time.
                if not dangling.edge.dynamic:
                    raise UnknownReferenceError(dangling, root.name)
