"""Check factory JSON against the azure-mgmt-datafactory models, the same models ARM deployment uses.

azure-mgmt-datafactory 10.x finds a concrete class through nested discriminator maps: `Activity.__mapping__`
holds `Execution` -> `ExecutionActivity`, whose own `__mapping__` holds `Custom` -> `CustomActivity`. A plain
`Activity(...)` therefore deserializes to the base class and silently drops every typeProperties key, so the
concrete class is looked up here by walking the maps.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_deploy.json_keys import find_key
from factory_deploy.resource_files import read_resource_files

# Keys ADF Studio writes that neither the models nor the 2018-06-01 REST spec hold, as (model class, key): ADF keeps
# them and ignores them, so reporting them would cry wolf. Each is taken from a Microsoft source, not guessed:
STUDIO_KEYS = frozenset({
    # The pipeline definition on https://learn.microsoft.com/azure/data-factory/how-to-use-trigger-parameterization
    ("Pipeline", "lastPublishTime"),
    # `"policy": {"elapsedTimeMetric": {}, "cancelAfter": {}}` in Studio's export of Microsoft's template gallery
    # (Azure/Azure-DataFactory, templates/Copy Dataverse data into Azure SQL/DataverseToSQL_Orchestrator.json);
    # the spec's PipelinePolicy (entityTypes/Pipeline.json) has only elapsedTimeMetric.
    ("PipelinePolicy", "cancelAfter"),
    # Data flows in the first format carry one script line per source, sink and transformation and no
    # typeProperties.script (Microsoft's gallery, templates/Slowly Changing Dimension Type 2); the spec's
    # Transformation (entityTypes/DataFlow.json) has no `script`.
    ("DataFlowSource", "script"),
    ("DataFlowSink", "script"),
    ("Transformation", "script"),
})
# Not among them: `timeout`/`retry`/`retryIntervalInSeconds` on a control activity. The spec gives ExecutionActivity
# the ActivityPolicy that holds them; ControlActivity has no policy, ExecutePipeline's policy holds only secureInput
# and SetVariable's/WebHook's only secureInput/secureOutput; the gallery exports read for this (the two above and
# templates/Data Anonymization with Presidio HTTP) put no policy on IfCondition, ForEach, Filter, ExecutePipeline or
# SetVariable. ADF accepts such keys (Activity allows additionalProperties) but never applies them, so the check
# names them and says why.
_STUDIO_KEYS_FOLDED = frozenset((model, key.lower()) for model, key in STUDIO_KEYS)  # ADF reads names case-insensitively
_EXECUTION_POLICY_KEYS = frozenset({"timeout", "retry", "retryIntervalInSeconds"})
_CONTROL_POLICIES = frozenset({"ExecutePipelineActivityPolicy", "SecureInputOutputPolicy"})

# Resource folder -> (resource model, polymorphic base of `properties`).
_KINDS = {
    "pipelines": ("PipelineResource", None),
    "datasets": ("DatasetResource", "Dataset"),
    "linkedServices": ("LinkedServiceResource", "LinkedService"),
    "triggers": ("TriggerResource", "Trigger"),
    "dataflows": ("DataFlowResource", "DataFlow"),
}


@dataclass(frozen=True)
class ModelProblem:
    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


def concrete_class(base: type, type_name: str) -> type | None:
    """The model class for discriminator value `type_name` under `base`, searching nested maps."""
    # Only a class's own map counts: subclasses inherit the attribute, which would loop forever.
    mapping: dict[str, type] = vars(base).get("__mapping__") or {}
    direct = mapping.get(type_name)
    if direct is not None and not vars(direct).get("__mapping__"):
        return direct
    for sub in mapping.values():
        if sub is not base and vars(sub).get("__mapping__"):
            found = concrete_class(sub, type_name)
            if found is not None:
                return found
    return direct


def check_factory(adf_dir: Path) -> list[ModelProblem]:
    """Every problem found deserializing the factory folder with the SDK models."""
    from azure.mgmt.datafactory import models  # heavy import, only when checking

    def relative(path: Path) -> str:
        return str(path.relative_to(adf_dir.parent)) if adf_dir.parent in path.parents else str(path)

    files, file_problems = read_resource_files(adf_dir)
    problems = [ModelProblem(relative(p.path), f"line {p.line}" if p.line else "file", p.detail) for p in file_problems]
    for resource in files.values():
        resource_name, base_name = _KINDS[resource.folder]
        rel, props = relative(resource.path), resource.body["properties"]
        if base_name is None:
            problems += _check_pipeline(models, rel, props)
        else:
            problems += _check_typed(models, getattr(models, base_name), rel, "properties", props)
        getattr(models, resource_name)(resource.body)  # the resource envelope itself must construct
    return problems


def _check_pipeline(models: Any, rel: str, props: dict[str, Any]) -> list[ModelProblem]:
    body = {key: value for key, value in props.items() if key != "activities"}
    problems = unknown_keys(models.Pipeline(body), body, rel, "properties")
    for index, activity in enumerate(props.get("activities", [])):
        problems += _check_activity(models, rel, f"activities[{index}]", activity)
    return problems


def _check_activity(models: Any, rel: str, where: str, activity: dict[str, Any]) -> list[ModelProblem]:
    where = f"{where} `{activity.get('name', '?')}`"
    # Control activities hold activities of their own (ForEach, If, Until, Switch): check those on their own.
    nested_keys = ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities", "cases")
    type_props = activity.get("typeProperties", {}) or {}
    shallow = dict(activity)
    if isinstance(type_props, dict):
        shallow["typeProperties"] = {k: v for k, v in type_props.items() if k not in nested_keys}
    problems = _check_typed(models, models.Activity, rel, where, shallow)
    if not isinstance(type_props, dict):
        return problems
    for key in nested_keys[:4]:
        for index, inner in enumerate(type_props.get(key, []) or []):
            problems += _check_activity(models, rel, f"{where}.{key}[{index}]", inner)
    for case_index, case in enumerate(type_props.get("cases", []) or []):
        for index, inner in enumerate(case.get("activities", [])):
            problems += _check_activity(models, rel, f"{where}.cases[{case_index}][{index}]", inner)
    return problems


def _check_typed(models: Any, base: type, rel: str, where: str, body: dict[str, Any]) -> list[ModelProblem]:
    type_name = body.get("type")
    cls = concrete_class(base, type_name) if isinstance(type_name, str) else None
    if cls is None:
        return [ModelProblem(rel, where, f"type `{type_name}` is not a {base.__name__} type known to azure-mgmt-datafactory")]
    body = copy.deepcopy(body)
    try:
        instance = cls(body)
        # The SDK matches keys case-sensitively, ADF does not (factory_deploy.json_keys): spell each key as the
        # model does and build again, until a pass renames nothing (one pass per nesting level at most).
        while _canonicalize_keys(instance, body):
            instance = cls(body)
    except Exception as exc:  # the SDK raises assorted errors for malformed bodies; report them all the same way
        return [ModelProblem(rel, where, f"does not deserialize as {cls.__name__}: {exc}")]
    return unknown_keys(instance, body, rel, where)


def _rest_names(instance: Any) -> dict[str, str]:
    """REST key -> attribute name of a model instance."""
    return {field._rest_name: attr for attr, field in type(instance)._attr_to_rest_field.items()}


def _sub_models(instance: Any, body: dict[str, Any]) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(key suffix, sub-model, its raw body) for every typed sub-model under `body`'s known keys.

    The SDK resolves a sub-model's `type` one map deep only: a Copy source `AzureSqlSource` sits under
    CopySource -> TabularSource, so it arrives as a bare CopySource that knows none of `sqlReaderQuery`,
    `queryTimeout`, `partitionOption`. Such a sub-model is rebuilt here as its concrete class.
    """
    by_rest = _rest_names(instance)
    for key, raw in body.items():
        value = getattr(instance, by_rest[key], None) if key in by_rest else None
        if _is_model(value) and isinstance(raw, dict):
            yield f".{key}", _concrete(value, raw), raw
        elif isinstance(value, list) and isinstance(raw, list):
            for index, (item, raw_item) in enumerate(zip(value, raw)):
                if _is_model(item) and isinstance(raw_item, dict):
                    yield f".{key}[{index}]", _concrete(item, raw_item), raw_item


def _concrete(value: Any, raw: dict[str, Any]) -> Any:
    type_name = raw.get("type")
    if not isinstance(type_name, str) or not vars(type(value)).get("__mapping__"):
        return value
    cls = concrete_class(type(value), type_name)
    return cls(raw) if cls is not None and cls is not type(value) else value


def _canonicalize_keys(instance: Any, body: dict[str, Any]) -> bool:
    """Rename, in place, the keys of `body` that differ from the model's only in case; True if one was."""
    by_rest = _rest_names(instance)
    renamed = False
    for key in list(body):
        rest = find_key(by_rest, key)
        if rest is not None and rest != key and rest not in body:
            body[rest] = body.pop(key)
            renamed = True
    if renamed:
        return True
    return any([_canonicalize_keys(sub, raw) for _, sub, raw in _sub_models(instance, body)])


def unknown_keys(instance: Any, body: dict[str, Any], rel: str, where: str) -> list[ModelProblem]:
    """Keys of `body` that the model does not know, at any depth where the model has a typed sub-model.

    The SDK keeps unknown keys without complaint and drops them when ARM serializes: this is where a typo
    in a typeProperties key would otherwise vanish silently.
    """
    by_rest = _rest_names(instance)
    model = type(instance).__name__
    problems = [
        ModelProblem(rel, where, f"key `{key}` is unknown to {model}{_why_unknown(model, key)}")
        for key in body
        if key not in by_rest and (model, key.lower()) not in _STUDIO_KEYS_FOLDED
    ]
    for suffix, sub, raw in _sub_models(instance, body):
        problems += unknown_keys(sub, raw, rel, where + suffix)
    return problems


def _why_unknown(model: str, key: str) -> str:
    if model in _CONTROL_POLICIES and key in _EXECUTION_POLICY_KEYS:
        return f" (ADF applies `{key}` to execution activities only; on a control activity it is ignored: remove it)"
    return ""


def _is_model(value: Any) -> bool:
    return hasattr(type(value), "_attr_to_rest_field")
