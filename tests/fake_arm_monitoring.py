"""Azure Monitor and Log Analytics routes of the fake ARM (tests/fake_arm.py): diagnostic settings on a factory,
action groups, metric alerts, log search alerts (scheduledQueryRules) and a workspace's saved searches.

Reached through the real azure-mgmt-monitor 6.x / azure-mgmt-loganalytics 13.x clients. Every request body is
checked against the vendored REST spec (tests/arm_specs/insights-loganalytics.json) and each api-version against
the one the SDK sends; beyond the spec, what Azure refuses here:

- a diagnostic setting on a factory that does not exist, to a workspace that does not exist, with a category the
  factory does not have (Microsoft Learn, "Supported categories for Azure Monitor resource logs",
  Microsoft.DataFactory/factories), with the same category and workspace as another setting of the resource
  ("Data sinks can't be reused in different settings on the same category for the same resource"), or a sixth
  setting (Microsoft Learn, "Diagnostic settings in Azure Monitor": at most five per resource);
- a metric alert on a metric or dimension the factory does not emit (Microsoft Learn, "Supported metrics -
  Microsoft.DataFactory/factories"), with a frequency or window Azure does not offer or a window shorter than the
  frequency (Microsoft Learn, "Create or edit a metric alert rule"), scoped to a missing resource or notifying a
  missing action group;
- a log search alert with a window longer than two days or shorter than its frequency (Microsoft Learn, "Create or
  edit a log search alert rule"), on a missing scope or action group;
- an action group whose receivers share a name (actionGroups_API.json: "Names must be unique across all receivers");
- a saved search in a workspace that does not exist.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

from tests.arm_spec import SpecValidator, _Specs

SPEC = Path(__file__).resolve().parent / "arm_specs" / "insights-loganalytics.json"
API_VERSIONS = {  # what azure-mgmt-monitor 6.0.x / azure-mgmt-loganalytics 13.1.x send (factory_deploy.azure_clients)
    "diagnosticsettings": "2021-05-01-preview",
    "actiongroups": "2023-01-01",
    "metricalerts": "2018-03-01",
    "scheduledqueryrules": "2022-08-01-preview",
    "savedsearches": "2025-07-01",
}
DEFINITIONS = {
    "diagnosticsettings": "DiagnosticSettingsResource",
    "actiongroups": "ActionGroupResource",
    "metricalerts": "MetricAlertResource",
    "scheduledqueryrules": "ScheduledQueryRuleResource",
    "savedsearches": "SavedSearch",
}
TYPES = {
    "diagnosticsettings": "Microsoft.Insights/diagnosticSettings",
    "actiongroups": "Microsoft.Insights/ActionGroups",
    "metricalerts": "Microsoft.Insights/metricAlerts",
    "scheduledqueryrules": "Microsoft.Insights/scheduledQueryRules",
    "savedsearches": "Microsoft.OperationalInsights/workspaces/savedSearches",
}
FACTORY_LOG_CATEGORIES = {
    "ActivityRuns", "PipelineRuns", "TriggerRuns", "SandboxActivityRuns", "SandboxPipelineRuns", "SSISIntegrationRuntimeLogs",
    "SSISPackageEventMessageContext", "SSISPackageEventMessages", "SSISPackageExecutableStatistics",
    "SSISPackageExecutionComponentPhases", "SSISPackageExecutionDataStatistics",
}
_RUN_DIMENSIONS = {"FailureType", "Name"}
_ACTIVITY_DIMENSIONS = {"ActivityType", "PipelineName", "FailureType", "Name"}
FACTORY_METRICS = {
    "PipelineFailedRuns": _RUN_DIMENSIONS, "PipelineSucceededRuns": _RUN_DIMENSIONS, "PipelineCancelledRuns": _RUN_DIMENSIONS,
    "ActivityFailedRuns": _ACTIVITY_DIMENSIONS, "ActivitySucceededRuns": _ACTIVITY_DIMENSIONS,
    "ActivityCancelledRuns": _ACTIVITY_DIMENSIONS,
    "TriggerFailedRuns": _RUN_DIMENSIONS, "TriggerSucceededRuns": _RUN_DIMENSIONS, "TriggerCancelledRuns": _RUN_DIMENSIONS,
}
METRIC_FREQUENCIES = {"PT1M", "PT5M", "PT15M", "PT30M", "PT1H"}
METRIC_WINDOWS = {"PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D"}
MAX_DIAGNOSTIC_SETTINGS = 5
# The kinds whose spec answers a new resource's PUT with 201 (the others: 200 only, as the SDK expects).
CREATED_IS_201 = {"actiongroups", "scheduledqueryrules"}
_DIAGNOSTICS = re.compile(
    r"^(?P<parent>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/[^/]+/[^/]+)"
    r"/providers/Microsoft\.Insights/(?P<kind>diagnosticSettings)(?:/(?P<name>[^/]+))?$", re.IGNORECASE)
_INSIGHTS = re.compile(
    r"^(?P<parent>/subscriptions/[^/]+/resourceGroups/[^/]+)"
    r"/providers/Microsoft\.Insights/(?P<kind>actionGroups|metricAlerts|scheduledQueryRules)(?:/(?P<name>[^/]+))?$",
    re.IGNORECASE)
_SEARCHES = re.compile(
    r"^(?P<parent>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.OperationalInsights/workspaces/[^/]+)"
    r"/(?P<kind>savedSearches)(?:/(?P<name>[^/]+))?$", re.IGNORECASE)
_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?)?$")


class _Validator(SpecValidator):
    """tests.arm_spec's rules over the one monitoring spec file (its $refs are local)."""

    def __init__(self) -> None:
        definitions = {(SPEC, name): schema for name, schema in json.loads(SPEC.read_text(encoding="utf-8"))["definitions"].items()}
        subtypes: dict[tuple[Path, str], list[tuple[Path, str]]] = {}
        for key, schema in definitions.items():
            for part in schema.get("allOf", []):
                subtypes.setdefault((SPEC, part["$ref"].rsplit("/", 1)[1]), []).append(key)
        self.specs = _Specs(definitions, subtypes)


@functools.cache
def _validator() -> _Validator:
    return _Validator()


def spec_problems(kind: str, body: Any) -> list[str]:
    return _validator().check(DEFINITIONS[kind.lower()], body, SPEC)


def monitoring_route(state: Any, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]] | None:
    """The answer to a monitoring request, or None when the path is not one of these routes."""
    from tests.fake_arm import ArmError

    match = _DIAGNOSTICS.match(path) or _INSIGHTS.match(path) or _SEARCHES.match(path)
    if match is None:
        return None
    kind = match["kind"].lower()
    if query.get("api-version") != API_VERSIONS[kind]:
        raise ArmError(400, "InvalidApiVersionParameter",
                       f"The api-version '{query.get('api-version')}' is invalid for {TYPES[kind]}; this fake serves "
                       f"'{API_VERSIONS[kind]}'.")
    parent = match["parent"]
    if kind == "diagnosticsettings" and not _resource_exists(state, parent):
        raise ArmError(404, "ResourceNotFound", f"The Resource '{parent}' was not found.")
    if kind == "savedsearches" and parent.lower() not in state.workspaces:
        raise ArmError(404, "ResourceNotFound", f"The Resource '{parent}' was not found.")
    prefix = f"{parent}/{'providers/Microsoft.Insights/' if kind != 'savedsearches' else ''}{kind}/".lower()
    if match["name"] is None:
        if method != "GET":
            raise ArmError(405, "MethodNotAllowed", method)
        return 200, {"value": [copy.deepcopy(b) for key, b in sorted(state.monitoring.items()) if key.startswith(prefix)
                               and "/" not in key[len(prefix):]]}, {}
    key = match.group(0).lower()
    current = state.monitoring.get(key)
    if method == "GET":
        if current is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource '{match.group(0)}' was not found.")
        return 200, copy.deepcopy(current), {}
    if method == "DELETE":
        if state.monitoring.pop(key, None) is None:
            return 204, None, {}
        return 200, None, {}
    if method != "PUT":
        raise ArmError(405, "MethodNotAllowed", method)
    problems = spec_problems(kind, body)
    if problems:
        raise ArmError(400, "InvalidRequestContent", f"{TYPES[kind]} PUT: " + "; ".join(problems[:5]))
    _RULES[kind](state, match, body)
    stored = copy.deepcopy(body)
    stored.update({"id": match.group(0), "name": match["name"], "type": TYPES[kind]})
    if kind == "actiongroups":  # Azure reports each receiver's status
        for receiver in stored["properties"].get("emailReceivers", []):
            receiver["status"] = "Enabled"
    state.monitoring[key] = stored
    return (201 if current is None and kind in CREATED_IS_201 else 200), copy.deepcopy(stored), {}


def _resource_exists(state: Any, resource_id: str) -> bool:
    head, _, name = resource_id.rpartition("/")
    if re.search(r"/providers/Microsoft\.DataFactory/factories$", head, re.IGNORECASE):
        return name.lower() in state.factories
    return resource_id.lower() in state.monitoring or resource_id.lower() in state.workspaces


def _diagnostic_setting(state: Any, match: re.Match[str], body: Any) -> None:
    from tests.fake_arm import ArmError

    properties = body["properties"]
    workspace = str(properties.get("workspaceId") or "")
    if workspace and workspace.lower() not in state.workspaces:
        raise ArmError(400, "LinkedResourceNotFound", f"Resource '{workspace}' was not found.")
    if properties.get("logAnalyticsDestinationType") not in (None, "Dedicated", "AzureDiagnostics"):
        raise ArmError(400, "BadRequest", f"logAnalyticsDestinationType '{properties['logAnalyticsDestinationType']}' is "
                                          "not one of Dedicated, AzureDiagnostics.")
    enabled = set()
    for log in properties.get("logs", []):
        if log.get("category") is not None and log["category"] not in FACTORY_LOG_CATEGORIES:
            raise ArmError(400, "BadRequest", f"Category '{log['category']}' is not supported.")
        if log.get("enabled") and log.get("category"):
            enabled.add(log["category"])
    parent, name = match["parent"].lower(), match["name"].lower()
    prefix = f"{parent}/providers/microsoft.insights/diagnosticsettings/"
    others = {k: v for k, v in state.monitoring.items() if k.startswith(prefix) and k != f"{prefix}{name}"}
    if len(others) >= MAX_DIAGNOSTIC_SETTINGS:
        raise ArmError(400, "BadRequest", f"Diagnostic settings count exceeds the maximum of {MAX_DIAGNOSTIC_SETTINGS}.")
    for other in others.values():
        theirs = other["properties"]
        if workspace and str(theirs.get("workspaceId") or "").lower() == workspace.lower():
            clash = sorted(enabled & {log["category"] for log in theirs.get("logs", []) if log.get("enabled")})
            if clash:
                raise ArmError(409, "Conflict", f"Data sink '{workspace}' is already used in diagnostic setting "
                                                f"'{other['name']}' for category '{clash[0]}'. Data sinks can't be reused in "
                                                "different settings on the same category for the same resource.")


def _action_group(state: Any, match: re.Match[str], body: Any) -> None:
    from tests.fake_arm import ArmError

    names = [r["name"] for key in ("emailReceivers", "webhookReceivers") for r in body["properties"].get(key, [])]
    if len(names) != len({n.lower() for n in names}):
        raise ArmError(400, "BadRequest", "Receiver names must be unique across all receivers within an action group.")


def _metric_alert(state: Any, match: re.Match[str], body: Any) -> None:
    from tests.fake_arm import ArmError

    properties = body["properties"]
    _check_scopes_and_actions(state, properties.get("scopes", []), [a.get("actionGroupId", "") for a in properties.get("actions", [])])
    frequency, window = properties["evaluationFrequency"], properties["windowSize"]
    if frequency not in METRIC_FREQUENCIES or window not in METRIC_WINDOWS or _minutes(window) < _minutes(frequency):
        raise ArmError(400, "BadRequest", f"evaluationFrequency {frequency} with windowSize {window} is not supported: the "
                                          f"frequency is one of {sorted(METRIC_FREQUENCIES)}, the window one of "
                                          f"{sorted(METRIC_WINDOWS)} and not shorter than the frequency.")
    if not 0 <= properties["severity"] <= 4:
        raise ArmError(400, "BadRequest", "severity must be between 0 and 4.")
    for criterion in properties["criteria"].get("allOf", []):
        dimensions = FACTORY_METRICS.get(criterion.get("metricName"))
        namespace = criterion.get("metricNamespace")
        if dimensions is None or namespace not in (None, "Microsoft.DataFactory/factories"):
            raise ArmError(400, "BadRequest", f"Couldn't find a metric named {criterion.get('metricName')} in namespace "
                                              f"{namespace}.")
        for dimension in criterion.get("dimensions", []):
            if dimension["name"] not in dimensions:
                raise ArmError(400, "BadRequest", f"Dimension '{dimension['name']}' is not a dimension of metric "
                                                  f"{criterion['metricName']} ({', '.join(sorted(dimensions))}).")


def _log_alert(state: Any, match: re.Match[str], body: Any) -> None:
    from tests.fake_arm import ArmError

    properties = body["properties"]
    _check_scopes_and_actions(state, properties["scopes"], (properties.get("actions") or {}).get("actionGroups", []))
    frequency, window = properties.get("evaluationFrequency"), properties.get("windowSize")
    if body.get("kind", "LogAlert") == "LogAlert":
        if not frequency or not window or _minutes(window) < _minutes(frequency) or _minutes(window) > 2 * 24 * 60:
            raise ArmError(400, "BadRequest", f"windowSize {window} must be at least evaluationFrequency {frequency} and "
                                              "at most two days (P2D).")
        for condition in properties["criteria"].get("allOf", []):
            missing = [key for key in ("query", "timeAggregation", "operator", "threshold") if key not in condition]
            if missing:
                raise ArmError(400, "BadRequest", f"A LogAlert condition needs {', '.join(missing)}.")


def _saved_search(state: Any, match: re.Match[str], body: Any) -> None:
    return None  # the workspace is checked with the route; the spec covers the body


_RULES = {
    "diagnosticsettings": _diagnostic_setting, "actiongroups": _action_group, "metricalerts": _metric_alert,
    "scheduledqueryrules": _log_alert, "savedsearches": _saved_search,
}


def _check_scopes_and_actions(state: Any, scopes: list[str], action_groups: list[str]) -> None:
    from tests.fake_arm import ArmError

    for scope in scopes:
        if not _resource_exists(state, scope):
            raise ArmError(400, "ScopeNotFound", f"Scope '{scope}' was not found.")
    for group in action_groups:
        if group.lower() not in state.monitoring:
            raise ArmError(400, "ActionGroupNotFound", f"Action group '{group}' was not found.")


def _minutes(duration: str) -> int:
    match = _DURATION.match(duration or "")
    if match is None or not any(match.groups()):
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    return int(match["d"] or 0) * 1440 + int(match["h"] or 0) * 60 + int(match["m"] or 0)
