"""Publish the factory: the factory resource, its global parameters and its resources, changing only what differs.

- The factory resource is read, merged and written back (an ARM PUT replaces the whole resource, so settings made
  elsewhere, such as the Purview link, git configuration, encryption, network access and tags, are sent back
  as they were); it is written only when what deploy owns (location, system-assigned identity) differs.
- Global parameters go through their own resource, ``factories/{f}/globalParameters/default``.
- A resource is written only when its properties differ from the factory's, read-only fields aside.
- Only the started triggers that start a changed or deleted pipeline, or are themselves changed or deleted, are
  stopped (ADF refuses to update a started trigger), and each is started again afterwards, also when a step fails.
  A trigger an operator paused stays paused; a new trigger is started once everything else succeeded.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory_deploy.errors import DeployError, azure_reason
from factory_deploy.graph import Resource, publish_order
from factory_deploy.plan import CREATE, DELETE, STOP, UNCHANGED, UPDATE, Change
from factory_deploy.references import KINDS, edges
from factory_deploy.render import RenderedResource

Log = Callable[[str], None]
PART = "factory"
GLOBAL_PARAMETERS = "default"  # the one global parameters resource a factory has
_OPERATIONS = {
    "linkedServices": "linked_services",
    "datasets": "datasets",
    "dataflows": "data_flows",
    "pipelines": "pipelines",
    "triggers": "triggers",
}
# Fields ARM adds to what was PUT (Trigger.runtimeState and the factory's provisioningState, createTime and version
# are readOnly in the Microsoft.DataFactory 2018-06-01 spec); they are never the repo's to compare or send.
_READ_ONLY_PROPERTIES = ("runtimeState", "lastPublishTime")
_FACTORY_READ_ONLY = ("id", "name", "type", "eTag", "etag")
_FACTORY_READ_ONLY_PROPERTIES = ("provisioningState", "createTime", "version")
_IDENTITY_READ_ONLY = ("principalId", "tenantId")
STARTED = "Started"


@dataclass(frozen=True)
class FactoryState:
    """What the factory in Azure holds now (raw REST JSON), read with GETs only."""

    body: dict[str, Any] | None  # None: the factory does not exist
    global_parameters: dict[str, Any] | None
    resources: dict[tuple[str, str], dict[str, Any]]  # (folder, name) -> properties
    trigger_states: dict[str, str]  # name -> runtimeState


@dataclass(frozen=True)
class FactoryPlan:
    changes: list[Change]
    factory_body: dict[str, Any] | None  # what to PUT; None: unchanged
    global_parameters: dict[str, Any] | None  # what to PUT; None: unchanged
    puts: list[RenderedResource]  # dependency order
    deletes: list[tuple[str, str]]  # reverse dependency order
    stop: list[str]  # started triggers to stop around the update and start again after it
    start_new: list[str]  # triggers created by this deploy, started once everything else succeeded


def read_state(client: Any, group: str, factory: str) -> FactoryState:
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        try:
            body = dict(client.factories.get(group, factory))
        except ResourceNotFoundError:
            return FactoryState(None, None, {}, {})
        try:
            params = dict(client.global_parameters.get(group, factory, GLOBAL_PARAMETERS)).get("properties", {})
        except ResourceNotFoundError:
            params = None
        resources: dict[tuple[str, str], dict[str, Any]] = {}
        for folder, operations in _OPERATIONS.items():
            for item in getattr(client, operations).list_by_factory(group, factory):
                raw = dict(item)
                resources[(folder, raw["name"])] = _json(raw.get("properties", {}))
    except AzureError as exc:
        raise DeployError(f"reading factory `{factory}` in resource group `{group}` failed: {azure_reason(exc)}") from exc
    states = {name: props.get("runtimeState", "Stopped") for (folder, name), props in resources.items() if folder == "triggers"}
    return FactoryState(_json(body), _json(params) if params is not None else None, resources, states)


def plan_factory(
    state: FactoryState, location: str, global_parameters: dict[str, Any], rendered: list[RenderedResource], prune: bool,
    purview_resource_id: str = "",
) -> FactoryPlan:
    factory_body = merged_factory(state.body, location, purview_resource_id)
    params = global_parameters if state.global_parameters != global_parameters else None
    changes = [_factory_change(state.body, factory_body), _global_parameters_change(state.global_parameters, global_parameters)]
    puts, resource_changes = _resource_puts(state, rendered)
    changes += resource_changes
    deletes = _deletion_order(state, {(r.folder, r.name) for r in rendered}) if prune else []
    changes += [Change(PART, DELETE, f"{folder}/{name}", "not in adf/") for folder, name in deletes]
    stop = _triggers_to_stop(state, rendered, puts, deletes)
    changes += [Change(PART, STOP, f"triggers/{name}", "restarted after the update") for name in stop]
    start_new = [r.name for r in puts if r.folder == "triggers" and ("triggers", r.name) not in state.resources]
    return FactoryPlan(changes, factory_body, params, puts, deletes, stop, start_new)


def _factory_change(current: dict[str, Any] | None, factory_body: dict[str, Any] | None) -> Change:
    """The factory resource's line of the plan (``factory_body`` is None when nothing deploy owns differs)."""
    action = CREATE if current is None else UPDATE if factory_body else UNCHANGED
    detail = "" if factory_body is None or current is None else _factory_changes(current, factory_body)
    return Change(PART, action, "factory", detail)


def _global_parameters_change(current: dict[str, Any] | None, wanted: dict[str, Any]) -> Change:
    action = UNCHANGED if current == wanted else CREATE if current is None else UPDATE
    return Change(PART, action, f"globalParameters/{GLOBAL_PARAMETERS}", _differing_keys(current, wanted))


def _resource_puts(state: FactoryState, rendered: list[RenderedResource]) -> tuple[list[RenderedResource], list[Change]]:
    """The rendered resources to write (new, or differing in what deploy owns) and each one's line of the plan."""
    puts: list[RenderedResource] = []
    changes: list[Change] = []
    for resource in rendered:
        current = state.resources.get((resource.folder, resource.name))
        desired = resource.body["properties"]
        target = f"{resource.folder}/{resource.name}"
        if current is None:
            puts.append(resource)
            changes.append(Change(PART, CREATE, target))
        elif _owned(current) != _owned(desired):
            puts.append(resource)
            changes.append(Change(PART, UPDATE, target, _differing_keys(_owned(current), _owned(desired))))
        else:
            changes.append(Change(PART, UNCHANGED, target))
    return puts, changes


def _triggers_to_stop(state: FactoryState, rendered: list[RenderedResource], puts: list[RenderedResource],
                      deletes: list[tuple[str, str]]) -> list[str]:
    """Started triggers to stop during the deploy (restarted after it), by name: a started trigger must be stopped before
    it is updated (Learn, continuous-integration-delivery), and one that starts a changed pipeline must not fire while
    the pipeline is half written. A trigger paused on purpose stays paused."""
    changed_pipelines = {r.name for r in puts if r.folder == "pipelines"} | {n for f, n in deletes if f == "pipelines"}
    touched_triggers = {r.name for r in puts if r.folder == "triggers"} | {n for f, n in deletes if f == "triggers"}
    desired_triggers = {r.name: r.body["properties"] for r in rendered if r.folder == "triggers"}
    stop = []
    for name, runtime_state in sorted(state.trigger_states.items()):
        if runtime_state != STARTED:
            continue  # paused on purpose, or never started: left as it is
        started = _started_pipelines(state.resources[("triggers", name)]) | _started_pipelines(desired_triggers.get(name, {}))
        if name in touched_triggers or started & changed_pipelines:
            stop.append(name)
    return stop


def apply_factory(client: Any, group: str, factory: str, plan: FactoryPlan, log: Log) -> None:
    """Carry out `plan`; on any failure the stopped triggers are restarted and the error names the resource."""
    from azure.core.exceptions import AzureError

    stopped: list[str] = []
    deleted: set[str] = set()
    failure: DeployError | None = None
    try:
        with _step(factory, "write the factory resource"):
            if plan.factory_body is not None:
                client.factories.create_or_update(group, factory, plan.factory_body)
                log(f"factory: wrote factory `{factory}`")
        with _step(factory, f"write globalParameters/{GLOBAL_PARAMETERS}"):
            if plan.global_parameters is not None:
                client.global_parameters.create_or_update(group, factory, GLOBAL_PARAMETERS, {"properties": plan.global_parameters})
                log(f"factory: wrote globalParameters/{GLOBAL_PARAMETERS}")
        for name in plan.stop:
            with _step(factory, f"stop triggers/{name}"):
                client.triggers.begin_stop(group, factory, name).result()
                stopped.append(name)
                log(f"factory: stopped triggers/{name}")
        for resource in plan.puts:
            with _step(factory, f"write {resource.folder}/{resource.name}"):
                operations = getattr(client, _OPERATIONS[resource.folder])
                operations.create_or_update(group, factory, resource.name, {"properties": resource.body["properties"]})
                log(f"factory: wrote {resource.folder}/{resource.name}")
        for folder, name in plan.deletes:
            with _step(factory, f"delete {folder}/{name}"):
                getattr(client, _OPERATIONS[folder]).delete(group, factory, name)
                if folder == "triggers":
                    deleted.add(name)
                log(f"factory: deleted {folder}/{name}")
        for name in plan.start_new:
            with _step(factory, f"start new triggers/{name}"):
                client.triggers.begin_start(group, factory, name).result()
                log(f"factory: started new triggers/{name}")
    except DeployError as exc:
        failure = exc
    finally:
        not_restarted = []
        for name in stopped:
            if name in deleted:
                continue
            try:
                client.triggers.begin_start(group, factory, name).result()
                log(f"factory: restarted triggers/{name}")
            except AzureError as exc:
                not_restarted.append(f"triggers/{name} ({azure_reason(exc)})")
    if failure is None and not not_restarted:
        return
    restart = (f"could NOT restart {', '.join(not_restarted)}: start them in ADF Studio" if not_restarted
               else f"restarted {', '.join(n for n in stopped if n not in deleted)}" if stopped else "no trigger was stopped")
    raise DeployError(f"{failure or f'factory `{factory}`: deploy finished'}; {restart}") from (failure.__cause__ if failure else None)


def merged_factory(current: dict[str, Any] | None, location: str, purview_resource_id: str = "") -> dict[str, Any] | None:
    """The factory body to PUT (what deploy owns merged into what the factory holds), or None when unchanged.

    Deploy owns the system-assigned identity and, when config ``purview.resourceId`` names one, the Purview link
    (``properties.purviewConfiguration.purviewResourceId``: ADF then reports Copy and Data Flow lineage to that account
    itself). An empty ``purview.resourceId`` never removes a link made elsewhere.
    """
    purview = {"purviewResourceId": purview_resource_id} if purview_resource_id else None
    if current is None:
        body: dict[str, Any] = {"location": location, "identity": {"type": "SystemAssigned"}}
        if purview:
            body["properties"] = {"purviewConfiguration": purview}
        return body
    _check_location(current, location)
    identity = current.get("identity") or {}
    linked = ((current.get("properties") or {}).get("purviewConfiguration") or {})
    needs_identity = "SystemAssigned" not in str(identity.get("type", ""))
    needs_purview = purview is not None and str(linked.get("purviewResourceId", "")).lower() != purview_resource_id.lower()
    if not (needs_identity or needs_purview):
        return None
    body = _writable_copy(current)
    body["identity"] = _identity_with_system_assigned(identity) if needs_identity else \
        {k: v for k, v in identity.items() if k not in _IDENTITY_READ_ONLY}
    if needs_purview:
        body["properties"]["purviewConfiguration"] = {**linked, **(purview or {})}
    return body


def _check_location(current: dict[str, Any], location: str) -> None:
    """ARM spells a region either way (``West Europe``/``westeurope``); a different one is refused, never recreated."""
    if str(current.get("location", "")).replace(" ", "").lower() != location.replace(" ", "").lower():
        raise DeployError(
            f"factory `{current.get('name')}` is in `{current.get('location')}`, config factory.location says `{location}`: "
            "a factory cannot move; fix config/<env>.json"
        )


def _writable_copy(current: dict[str, Any]) -> dict[str, Any]:
    """The factory as read, less what ARM sets itself, so the PUT keeps every setting made elsewhere."""
    body = {k: copy.deepcopy(v) for k, v in current.items() if k not in _FACTORY_READ_ONLY}
    body["properties"] = {k: v for k, v in body.get("properties", {}).items() if k not in _FACTORY_READ_ONLY_PROPERTIES}
    return body


def _identity_with_system_assigned(identity: dict[str, Any]) -> dict[str, Any]:
    """The identity with the system-assigned one added; user-assigned identities stay."""
    kept = {k: v for k, v in identity.items() if k not in _IDENTITY_READ_ONLY}
    kept["type"] = "SystemAssigned,UserAssigned" if identity.get("userAssignedIdentities") else "SystemAssigned"
    return kept


def _factory_changes(current: dict[str, Any], body: dict[str, Any]) -> str:
    changed = []
    if (current.get("identity") or {}).get("type") != body["identity"].get("type"):
        changed.append("system-assigned identity")
    if (current.get("properties") or {}).get("purviewConfiguration") != body["properties"].get("purviewConfiguration"):
        changed.append("Purview link")
    return ", ".join(changed)


@contextmanager
def _step(factory: str, what: str) -> Iterator[None]:
    from azure.core.exceptions import AzureError

    try:
        yield
    except AzureError as exc:
        raise DeployError(f"factory `{factory}`: {what} failed: {azure_reason(exc)}") from exc


def _deletion_order(state: FactoryState, wanted: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Resources in the factory but not in the repo, dependents first (a trigger before its pipeline)."""
    existing = {
        key: Resource(key[0], key[1], Path(key[1]), {"name": key[1], "properties": props},
                      frozenset((e.folder, e.name) for e in edges(props)))
        for key, props in state.resources.items()
    }
    return [r.key for r in reversed(publish_order(existing)) if r.key not in wanted]


def _started_pipelines(trigger_properties: dict[str, Any]) -> set[str]:
    return {
        str(entry.get("pipelineReference", {}).get("referenceName"))
        for entry in trigger_properties.get("pipelines", []) or []
        if isinstance(entry, dict)
    }


def _owned(properties: dict[str, Any]) -> dict[str, Any]:
    """The part of a resource's properties the repo owns: read-only fields and empty annotations left out."""
    owned = {k: v for k, v in properties.items() if k not in _READ_ONLY_PROPERTIES}
    if owned.get("annotations") == []:
        del owned["annotations"]
    return _json(owned)


def _differing_keys(current: dict[str, Any] | None, desired: dict[str, Any]) -> str:
    if not current:
        return ""
    keys = sorted(k for k in set(current) | set(desired) if current.get(k) != desired.get(k))
    return "differs: " + ", ".join(keys) if keys else ""


def _json(value: Any) -> Any:
    """A plain-JSON copy (SDK models are mappings; round-tripping drops their types)."""
    return json.loads(json.dumps(value, default=dict))


assert set(_OPERATIONS) == set(KINDS)
