"""Deploy the factory's monitoring (factory_deploy.monitoring_resources) through azure-mgmt-monitor and
azure-mgmt-loganalytics: read what Azure holds, plan create/update/unchanged/delete, then write only what differs.

A resource is updated when a value the repo sets differs from Azure's (Azure adds defaults and read-only fields,
which are not differences); with --prune, resources tagged as deploy's (`managedBy`) that the repo no longer
declares are deleted, alerts before the action group they notify. A diagnostic setting made elsewhere that already
sends the run categories to the same workspace is refused before anything is written: Azure refuses a second
setting with the same category and destination ("Data sinks can't be reused in different settings on the same
category for the same resource"), and a resource holds at most five settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from factory_deploy.env_config import EnvironmentConfig
from factory_deploy.errors import DeployError, azure_reason
from factory_deploy.monitoring_resources import (
    DIAGNOSTIC_SETTING,
    MANAGED_BY,
    PART,
    RUN_CATEGORIES,
    MonitoringResource,
    desired_resources,
    factory_id,
)
from factory_deploy.plan import CREATE, DELETE, UNCHANGED, UPDATE, Change

Log = Callable[[str], None]
MAX_DIAGNOSTIC_SETTINGS = 5  # per resource (Microsoft Learn, "Diagnostic settings in Azure Monitor")
# Deletion order: what notifies or reads something goes before it.
DELETE_ORDER = ("savedSearches", "scheduledQueryRules", "metricAlerts", "diagnosticSettings", "actionGroups")


@dataclass(frozen=True)
class Kind:
    """How one resource kind is listed, written and deleted through the SDK clients."""

    put: Callable[[str, dict[str, Any]], Any]
    delete: Callable[[str], Any]
    listing: Callable[[], Iterable[Any]]


@dataclass(frozen=True)
class MonitoringPlan:
    changes: list[Change]
    writes: list[MonitoringResource]  # created or updated, in creation order
    deletes: list[tuple[str, str]]  # (kind, name), in deletion order


def kinds(clients: Any, config: EnvironmentConfig) -> dict[str, Kind]:
    """The SDK operations per kind; savedSearches only when a workspace is configured."""
    group = config.factory.resource_group
    monitor, log_alerts = clients.monitor, clients.monitor_log_alerts
    factory = factory_id(config)
    table = {
        "actionGroups": _kind(monitor.action_groups, (group,), lambda: monitor.action_groups.list_by_resource_group(group)),
        "diagnosticSettings": _kind(monitor.diagnostic_settings, (factory,), lambda: monitor.diagnostic_settings.list(factory)),
        "metricAlerts": _kind(monitor.metric_alerts, (group,), lambda: monitor.metric_alerts.list_by_resource_group(group)),
        "scheduledQueryRules": _kind(log_alerts.scheduled_query_rules, (group,),
                                     lambda: log_alerts.scheduled_query_rules.list_by_resource_group(group)),
    }
    if config.monitoring.enabled:
        _, workspace_group, workspace = config.monitoring.workspace()
        searches = clients.loganalytics.saved_searches
        table["savedSearches"] = _kind(searches, (workspace_group, workspace),
                                       lambda: searches.list_by_workspace(workspace_group, workspace).value or [])
    return table


def _kind(operations: Any, parent: tuple[str, ...], listing: Callable[[], Iterable[Any]]) -> Kind:
    """An SDK operation group whose create_or_update/delete take the parent's path arguments, then the name."""
    return Kind(lambda name, body: operations.create_or_update(*parent, name, body),
                lambda name: operations.delete(*parent, name), listing)


def plan_monitoring(config: EnvironmentConfig, table: dict[str, Kind], prune: bool) -> MonitoringPlan:
    """Reads only. Raises DeployError naming the resource when Azure cannot be read or would refuse the setting."""
    desired = desired_resources(config)
    if not desired and not prune:
        return MonitoringPlan([Change(PART, UNCHANGED, "(no Log Analytics workspace configured: monitoring.workspaceResourceId)")],
                              [], [])
    existing = {kind: _list(kind, ops, config) for kind, ops in table.items()}
    _check_diagnostic_settings(config, existing["diagnosticSettings"])
    changes: list[Change] = []
    writes: list[MonitoringResource] = []
    for resource in desired:
        current = existing[resource.kind].get(resource.name.lower())
        if current is None:
            changes.append(Change(PART, CREATE, resource.label))
            writes.append(resource)
            continue
        differing = _differences(resource, current)
        if differing:
            changes.append(Change(PART, UPDATE, resource.label, "differs: " + ", ".join(differing)))
            writes.append(resource)
        else:
            changes.append(Change(PART, UNCHANGED, resource.label))
    deletes: list[tuple[str, str]] = []
    if prune:
        wanted = {(r.kind, r.name.lower()) for r in desired}
        for kind in DELETE_ORDER:
            for key, body in sorted(existing.get(kind, {}).items()):
                if (kind, key) not in wanted and _owned(kind, body, config):
                    deletes.append((kind, body["name"]))
                    changes.append(Change(PART, DELETE, f"{kind}/{body['name']}", "no longer in the repo or config"))
    return MonitoringPlan(changes, writes, deletes)


def apply_monitoring(table: dict[str, Kind], plan: MonitoringPlan, log: Log) -> None:
    for resource in plan.writes:
        _call(resource.label, "writing", partial(table[resource.kind].put, resource.name, resource.body))
        log(f"{PART}: wrote {resource.label}")
    for kind, name in plan.deletes:
        _call(f"{kind}/{name}", "deleting", partial(table[kind].delete, name))
        log(f"{PART}: deleted {kind}/{name}")


def render(config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    """`<kind>/<name>` -> the body deploy would PUT (for an offline --dry-run --out)."""
    return {resource.label: resource.body for resource in desired_resources(config)}


def _call(label: str, verb: str, action: Callable[[], Any]) -> Any:
    from azure.core.exceptions import AzureError

    try:
        return action()
    except AzureError as exc:
        raise DeployError(f"{PART}: {verb} {label} failed: {azure_reason(exc)}") from exc


def _list(kind: str, ops: Kind, config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    """Lower-cased name -> REST body of every resource of the kind (none when the factory is created by this deploy).
    A missing workspace is refused here, before anything is written: deploy creates none."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        items = _call(kind, "listing", lambda: list(ops.listing()))
    except DeployError as exc:
        if not isinstance(exc.__cause__, ResourceNotFoundError):
            raise
        if kind == "savedSearches":
            raise DeployError(f"{PART}: Log Analytics workspace `{config.monitoring.workspace_resource_id}` does not exist: "
                              "create it (deploy creates none) or fix monitoring.workspaceResourceId") from exc
        return {}
    bodies = [_rest(item) for item in items]
    return {str(body.get("name", "")).lower(): body for body in bodies}


def _rest(model: Any) -> dict[str, Any]:
    """An SDK model as the REST body Azure returned (camelCase, `properties` nested)."""
    if hasattr(model, "serialize"):
        body: dict[str, Any] = model.serialize(keep_readonly=True)
        return body
    return dict(model)


def _check_diagnostic_settings(config: EnvironmentConfig, settings: dict[str, dict[str, Any]]) -> None:
    if not config.monitoring.enabled:
        return
    workspace = config.monitoring.workspace_resource_id.lower()
    for key, body in sorted(settings.items()):
        if key == DIAGNOSTIC_SETTING.lower():
            continue
        properties = body.get("properties") or {}
        if str(properties.get("workspaceId") or "").lower() != workspace:
            continue
        sent = {str(log.get("category") or "") for log in properties.get("logs") or [] if log.get("enabled")}
        groups = {str(log.get("categoryGroup") or "").lower() for log in properties.get("logs") or [] if log.get("enabled")}
        clash = sorted(sent & set(RUN_CATEGORIES)) or (list(RUN_CATEGORIES) if "alllogs" in groups else [])
        if clash:
            raise DeployError(
                f"{PART}: diagnostic setting `{body.get('name')}` on factory `{config.factory.name}` already sends "
                f"{', '.join(clash)} to workspace `{config.monitoring.workspace()[2]}`, and Azure refuses a second setting "
                f"with the same category and destination: delete `{body.get('name')}` (deploy creates `{DIAGNOSTIC_SETTING}`) "
                "or point monitoring.workspaceResourceId elsewhere"
            )
    if DIAGNOSTIC_SETTING.lower() not in settings and len(settings) >= MAX_DIAGNOSTIC_SETTINGS:
        raise DeployError(f"{PART}: factory `{config.factory.name}` already has {len(settings)} diagnostic settings, Azure's "
                          f"maximum: delete one so deploy can add `{DIAGNOSTIC_SETTING}`")


def _owned(kind: str, body: dict[str, Any], config: EnvironmentConfig) -> bool:
    if kind == "diagnosticSettings":  # settings carry no tags: deploy's is the one with its name
        return str(body.get("name", "")).lower() == DIAGNOSTIC_SETTING.lower()
    raw = body.get("tags") if kind != "savedSearches" else body.get("properties", {}).get("tags")
    tags = {t.get("name"): t.get("value") for t in raw or []} if isinstance(raw, list) else dict(raw or {})
    return tags.get("managedBy") == MANAGED_BY and tags.get("factory") == config.factory.name


def _differences(resource: MonitoringResource, current: dict[str, Any]) -> list[str]:
    differing = []
    if "location" in resource.body and _norm_location(current.get("location")) != _norm_location(resource.body["location"]):
        differing.append("location")
    for key in ("kind", "tags"):
        if key in resource.body and not _contains(current.get(key), resource.body[key]):
            differing.append(key)
    have, want = current.get("properties") or {}, resource.body["properties"]
    if resource.kind == "diagnosticSettings":
        have, want = _diagnostic_view(have), _diagnostic_view(want)
    differing += [f"properties.{key}" for key, value in want.items() if not _contains(have.get(key), value)]
    return differing


def _diagnostic_view(properties: dict[str, Any]) -> dict[str, Any]:
    """Azure may list every category of the resource, the disabled ones too: compare what is sent, and where."""
    return {"workspaceId": str(properties.get("workspaceId") or "").lower(),
            "logAnalyticsDestinationType": str(properties.get("logAnalyticsDestinationType") or "").lower(),
            "logs": sorted(str(log.get("category")) for log in properties.get("logs") or [] if log.get("enabled"))}


def _norm_location(value: Any) -> str:
    return str(value or "").replace(" ", "").lower()


def _contains(current: Any, wanted: Any) -> bool:
    """`wanted` is in `current`: every key the repo sets has its value; resource ids compare case-insensitively."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(_contains(current.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(current, list) and len(current) == len(wanted) and all(map(_contains, current, wanted))
    if isinstance(wanted, str) and wanted.startswith("/subscriptions/") and isinstance(current, str):
        return current.lower() == wanted.lower()
    return bool(current == wanted)


def monitoring_part(clients: Any, config: EnvironmentConfig, prune: bool, log: Log) -> tuple[list[Change], Callable[[Any], None]]:
    """The part's changes (reads only) and how to apply them, for factory_deploy.cli."""
    from factory_deploy.preflight import placeholders

    found = [p for p in placeholders(config) if p.startswith("`monitoring.")]
    if found and config.monitoring.enabled:
        raise DeployError(f"config/{config.environment}.json still has placeholder {', '.join(found)}: set the real value first")
    table = kinds(clients, config)
    plan = plan_monitoring(config, table, prune)
    return plan.changes, lambda _secrets: apply_monitoring(table, plan, log)
