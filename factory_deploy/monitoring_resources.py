"""What the factory's monitoring is, as the REST bodies deploy PUTs (pure: config in, resources out).

- A resource-specific diagnostic setting on the factory: pipeline, activity and trigger runs to the Log Analytics
  workspace in the dedicated tables ADFPipelineRun, ADFActivityRun and ADFTriggerRun (logAnalyticsDestinationType
  "Dedicated"; Microsoft Learn, "Monitor Data Factory with Azure Monitor": ADF keeps run history 45 days).
- An action group from config (email receivers, the common alert schema).
- Metric alerts on the factory's PipelineFailedRuns and TriggerFailedRuns, split by pipeline or trigger name
  (Microsoft Learn, "Supported metrics - Microsoft.DataFactory/factories": both Count/Total with the dimensions
  Name and FailureType).
- A freshness alert: a log search alert scoped to the factory that fires when no run of "Transform raw run"
  published a curated snapshot within `freshnessHours`. Why this signal: the transform is the one activity that
  publishes a snapshot, and its customOutput says so (`snapshotMarker`; a duplicate event's run only says
  `skipped`), so a succeeded run that published nothing does not hide a stale day. A failed metric alert says
  something broke; this one also catches what fails silently: a stopped trigger, an extraction that never ran.
- Saved searches in the workspace, the queries an operator starts from: failed runs by activity, the run duration
  trend, Spotify requests and deferred work per day (the extraction's customOutput in ADFActivityRun.Output).

Every resource deploy owns is tagged (`managedBy`, `factory`) so `--prune` deletes only what it created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from factory_deploy.env_config import EnvironmentConfig

PART = "monitoring"
MANAGED_BY = "scripts/deploy.py"
DIAGNOSTIC_SETTING = "adf-runs-to-log-analytics"
# Microsoft Learn, "Supported categories for Azure Monitor resource logs", Microsoft.DataFactory/factories.
RUN_CATEGORIES = ("PipelineRuns", "ActivityRuns", "TriggerRuns")
FACTORY_METRICS_NAMESPACE = "Microsoft.DataFactory/factories"
TRANSFORM_PIPELINE = "PL_Transform_Spotify"
TRANSFORM_ACTIVITY = "Transform raw run"
EXTRACT_PIPELINE = "PL_Extract_Spotify"
EXTRACT_SUMMARY_ACTIVITY = "Write manifest"  # its customOutput sums the run: requests, quota, deferred lookups


@dataclass(frozen=True)
class MonitoringResource:
    kind: str  # diagnosticSettings, actionGroups, metricAlerts, scheduledQueryRules, savedSearches
    name: str
    body: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


def factory_id(config: EnvironmentConfig) -> str:
    factory = config.factory
    return (f"/subscriptions/{factory.subscription_id}/resourceGroups/{factory.resource_group}"
            f"/providers/Microsoft.DataFactory/factories/{factory.name}")


def action_group_id(config: EnvironmentConfig) -> str:
    factory = config.factory
    return (f"/subscriptions/{factory.subscription_id}/resourceGroups/{factory.resource_group}"
            f"/providers/Microsoft.Insights/actionGroups/{config.monitoring.action_group}")


def tags(config: EnvironmentConfig) -> dict[str, str]:
    return {"managedBy": MANAGED_BY, "factory": config.factory.name}


def desired_resources(config: EnvironmentConfig) -> list[MonitoringResource]:
    """In the order they are created: what an alert names (the action group, the factory's logs) first."""
    if not config.monitoring.enabled:
        return []
    return [_action_group(config), _diagnostic_setting(config), *_metric_alerts(config), _freshness_alert(config),
            *_saved_searches(config)]


def _action_group(config: EnvironmentConfig) -> MonitoringResource:
    monitoring = config.monitoring
    receivers = [{"name": r.name, "emailAddress": r.email_address, "useCommonAlertSchema": True} for r in monitoring.email_receivers]
    body = {"location": "Global", "tags": tags(config),
            "properties": {"groupShortName": monitoring.action_group_short_name, "enabled": True, "emailReceivers": receivers}}
    return MonitoringResource("actionGroups", monitoring.action_group, body)


def _diagnostic_setting(config: EnvironmentConfig) -> MonitoringResource:
    body = {"properties": {
        "workspaceId": config.monitoring.workspace_resource_id,
        "logAnalyticsDestinationType": "Dedicated",  # ADFPipelineRun/ADFActivityRun/ADFTriggerRun, not AzureDiagnostics
        "logs": [{"category": category, "enabled": True} for category in RUN_CATEGORIES],
    }}
    return MonitoringResource("diagnosticSettings", DIAGNOSTIC_SETTING, body)


def _metric_alerts(config: EnvironmentConfig) -> list[MonitoringResource]:
    alerts = []
    for metric, what in (("PipelineFailedRuns", "A pipeline run"), ("TriggerFailedRuns", "A trigger run")):
        criterion = {
            "criterionType": "StaticThresholdCriterion", "name": metric, "metricName": metric,
            "metricNamespace": FACTORY_METRICS_NAMESPACE, "operator": "GreaterThan", "threshold": 0, "timeAggregation": "Total",
            # One alert per pipeline (trigger) name, so the notification names the one that failed.
            "dimensions": [{"name": "Name", "operator": "Include", "values": ["*"]}],
        }
        body = {"location": "global", "tags": tags(config), "properties": {
            "description": f"{what} of factory {config.factory.name} failed: open Monitor in ADF Studio, or the saved "
                           "search 'Failed runs by activity', for the activity and its reason.",
            "severity": 1, "enabled": True, "scopes": [factory_id(config)],
            "evaluationFrequency": "PT5M", "windowSize": "PT5M", "autoMitigate": True,
            "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [criterion]},
            "actions": [{"actionGroupId": action_group_id(config)}],
        }}
        alerts.append(MonitoringResource("metricAlerts", f"{config.factory.name}-{metric}", body))
    return alerts


def freshness_query() -> str:
    """Rows = transform runs that published a curated snapshot; the alert fires when there are none in the window."""
    return "\n".join([
        "ADFActivityRun",
        f'| where PipelineName == "{TRANSFORM_PIPELINE}" and ActivityName == "{TRANSFORM_ACTIVITY}" and Status == "Succeeded"',
        "| extend customOutput = parse_json(Output).customOutput",
        "| where isnotempty(tostring(customOutput.snapshotMarker))",
        "| project TimeGenerated, SnapshotDate = tostring(customOutput.snapshotDate), PipelineRunId",
    ])


def _freshness_alert(config: EnvironmentConfig) -> MonitoringResource:
    hours = config.monitoring.freshness_hours
    window = "P1D" if hours == 24 else "P2D" if hours == 48 else f"PT{hours}H"
    body = {"location": config.factory.location, "kind": "LogAlert", "tags": tags(config), "properties": {
        "displayName": f"No curated snapshot for {hours} h ({config.factory.name})",
        "description": f"No run of `{TRANSFORM_ACTIVITY}` in {TRANSFORM_PIPELINE} published a curated snapshot in the last "
                       f"{hours} hours: check that TR_Daily_Extract and TR_Raw_Landed are started and that the last "
                       "PL_Extract_Spotify and PL_Transform_Spotify runs succeeded (docs/operations.md).",
        "severity": 2, "enabled": True, "scopes": [factory_id(config)],
        "evaluationFrequency": "PT1H", "windowSize": window, "autoMitigate": True,
        "criteria": {"allOf": [{"query": freshness_query(), "timeAggregation": "Count", "operator": "LessThan", "threshold": 1,
                                "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}}]},
        "actions": {"actionGroups": [action_group_id(config)]},
    }}
    return MonitoringResource("scheduledQueryRules", f"{config.factory.name}-curated-freshness", body)


# The saved searches: (id, display name, query). Run them over the time range picked in Log Analytics.
SAVED_SEARCHES = (
    ("spotify-failed-runs-by-activity", "Failed runs by activity", "\n".join([
        "ADFActivityRun",
        '| where Status == "Failed"',
        "| summarize Failures = count(), arg_max(TimeGenerated, ErrorMessage, UserProperties, PipelineRunId)"
        " by PipelineName, ActivityName, ErrorCode",
        "| project PipelineName, ActivityName, ErrorCode, Failures, LastFailure = TimeGenerated, LastError = ErrorMessage,",
        "    LastUserProperties = UserProperties, LastPipelineRunId = PipelineRunId",
        "| order by Failures desc",
    ])),
    ("spotify-run-duration-trend", "Pipeline run duration trend", "\n".join([
        "ADFPipelineRun",
        '| where Status in ("Succeeded", "Failed", "Cancelled")',
        "| extend Minutes = (End - Start) / 1m",
        "| summarize Runs = count(), AvgMinutes = avg(Minutes), P95Minutes = percentile(Minutes, 95), MaxMinutes = max(Minutes)"
        " by PipelineName, Day = bin(Start, 1d)",
        "| order by Day asc",
        "| render timechart",
    ])),
    ("spotify-requests-and-deferred-per-day", "Spotify requests and deferred work per day", "\n".join([
        "ADFActivityRun",
        f'| where PipelineName == "{EXTRACT_PIPELINE}" and ActivityName == "{EXTRACT_SUMMARY_ACTIVITY}" and Status == "Succeeded"',
        "| extend customOutput = parse_json(Output).customOutput",
        "| summarize Requests = sum(toint(customOutput.requests)), DeferredLookups = sum(toint(customOutput.deferredTotal)),",
        "    QuotaExceededRuns = countif(tobool(customOutput.quotaExceeded)), Runs = count() by Day = bin(Start, 1d)",
        "| order by Day asc",
    ])),
)


def _saved_searches(config: EnvironmentConfig) -> list[MonitoringResource]:
    category = f"Spotify pipeline ({config.factory.name})"
    owned = [{"name": key, "value": value} for key, value in tags(config).items()]
    return [MonitoringResource("savedSearches", search_id, {"properties": {
        "category": category, "displayName": name, "query": query, "version": 2, "tags": owned}})
        for search_id, name, query in SAVED_SEARCHES]
