"""Deploy's monitoring part against the fake ARM (tests/fake_arm_monitoring.py) through azure-mgmt-monitor and
azure-mgmt-loganalytics: the diagnostic setting, alerts, action group and saved searches in the plan, written once,
then left alone; refused where Azure refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from factory_deploy.cli import main
from factory_deploy.env_config import load_config
from factory_deploy.monitoring_resources import desired_resources
from tests.deploy_harness import FACTORY, Harness, harness  # noqa: F401 - the fixture

REPO = Path(__file__).resolve().parents[2]
GROUP = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-spotify-dev"
FACTORY_ID = f"{GROUP}/providers/Microsoft.DataFactory/factories/{FACTORY}"
WORKSPACE = f"{GROUP}/providers/Microsoft.OperationalInsights/workspaces/log-spotify-dev"
MONITORING = ("--only", "monitoring")
CREATED = [
    "actionGroups/ag-spotify-dev", "diagnosticSettings/adf-runs-to-log-analytics",
    f"metricAlerts/{FACTORY}-PipelineFailedRuns", f"metricAlerts/{FACTORY}-TriggerFailedRuns",
    f"scheduledQueryRules/{FACTORY}-curated-freshness", "savedSearches/spotify-failed-runs-by-activity",
    "savedSearches/spotify-run-duration-trend", "savedSearches/spotify-requests-and-deferred-per-day",
]


@pytest.fixture
def monitored(harness: Harness) -> Harness:  # noqa: F811 - the imported fixture
    harness.azure.workspaces.add(WORKSPACE.lower())
    assert harness.deploy(*MONITORING) == 0, harness.out
    return harness


def _puts(harness: Harness, mark: int) -> list[str]:
    return [r.path for r in harness.azure.requests[mark:] if r.method == "PUT"]


def _stored(harness: Harness, resource_id: str) -> dict[str, object]:
    return harness.azure.monitoring[resource_id.lower()]


def test_when_the_plan_is_dry_run_on_an_empty_environment_then_every_monitoring_resource_is_a_create(harness: Harness) -> None:  # noqa: F811
    harness.azure.workspaces.add(WORKSPACE.lower())

    assert harness.deploy(*MONITORING, "--dry-run") == 0

    plan = "\n".join(harness.out)
    assert "monitoring: 8 create" in plan
    assert all(f"  create    {label}" in plan for label in CREATED), plan
    assert harness.writes_since(0) == []


def test_when_deployed_then_the_factory_comes_first_and_its_runs_go_to_log_analytics_with_alerts_and_queries(
        monitored: Harness) -> None:
    puts = _puts(monitored, 0)
    factory_put = puts.index(FACTORY_ID)
    action_group = puts.index(f"{GROUP}/providers/Microsoft.Insights/actionGroups/ag-spotify-dev")
    alerts = [i for i, p in enumerate(puts) if "/metricAlerts/" in p or "/scheduledQueryRules/" in p]
    assert factory_put < puts.index(f"{FACTORY_ID}/providers/Microsoft.Insights/diagnosticSettings/adf-runs-to-log-analytics")
    assert action_group < min(alerts) and len(alerts) == 3

    setting = _stored(monitored, f"{FACTORY_ID}/providers/Microsoft.Insights/diagnosticSettings/adf-runs-to-log-analytics")
    assert setting["properties"] == {"workspaceId": WORKSPACE, "logAnalyticsDestinationType": "Dedicated", "logs": [
        {"category": c, "enabled": True} for c in ("PipelineRuns", "ActivityRuns", "TriggerRuns")]}
    failed = _stored(monitored, f"{GROUP}/providers/Microsoft.Insights/metricAlerts/{FACTORY}-PipelineFailedRuns")
    (criterion,) = failed["properties"]["criteria"]["allOf"]  # type: ignore[index]
    assert (criterion["metricName"], criterion["operator"], criterion["threshold"]) == ("PipelineFailedRuns", "GreaterThan", 0)
    assert failed["properties"]["actions"] == [{"actionGroupId": f"{GROUP}/providers/Microsoft.Insights/actionGroups/ag-spotify-dev"}]  # type: ignore[index]
    freshness = _stored(monitored, f"{GROUP}/providers/Microsoft.Insights/scheduledQueryRules/{FACTORY}-curated-freshness")
    (condition,) = freshness["properties"]["criteria"]["allOf"]  # type: ignore[index]
    assert (freshness["properties"]["windowSize"], condition["operator"], condition["threshold"]) == ("P1D", "LessThan", 1)  # type: ignore[index]
    assert "customOutput.snapshotMarker" in condition["query"] and "ADFActivityRun" in condition["query"]
    group = _stored(monitored, f"{GROUP}/providers/Microsoft.Insights/actionGroups/ag-spotify-dev")
    assert [r["emailAddress"] for r in group["properties"]["emailReceivers"]] == ["spotify-data-dev@contoso.com"]  # type: ignore[index]
    searches = {k.rsplit("/", 1)[1]: v for k, v in monitored.azure.monitoring.items() if "/savedsearches/" in k}
    assert sorted(searches) == sorted(label.split("/")[1] for label in CREATED if label.startswith("savedSearches/"))
    assert all(s["properties"]["category"] == f"Spotify pipeline ({FACTORY})" for s in searches.values())


def test_when_nothing_changed_then_a_second_deploy_sends_no_put(monitored: Harness) -> None:
    mark = monitored.mark()

    assert monitored.deploy(*MONITORING) == 0

    assert _puts(monitored, mark) == [] and monitored.writes_since(mark) == []
    assert any("unchanged 8:" in line for line in "\n".join(monitored.out).splitlines())


def test_when_an_alert_was_changed_in_the_portal_then_only_it_is_updated(monitored: Harness) -> None:
    alert = _stored(monitored, f"{GROUP}/providers/Microsoft.Insights/metricAlerts/{FACTORY}-TriggerFailedRuns")
    alert["properties"]["enabled"] = False  # type: ignore[index]
    mark = monitored.mark()

    assert monitored.deploy(*MONITORING) == 0

    assert _puts(monitored, mark) == [f"{GROUP}/providers/Microsoft.Insights/metricAlerts/{FACTORY}-TriggerFailedRuns"]
    assert any(f"update    metricAlerts/{FACTORY}-TriggerFailedRuns  (differs: properties.enabled)" in line
               for line in "\n".join(monitored.out).splitlines())


def test_when_pruning_then_only_the_monitoring_deploy_owns_and_no_longer_declares_is_deleted(monitored: Harness) -> None:
    old = f"{GROUP}/providers/Microsoft.Insights/metricAlerts/{FACTORY}-OldAlert"
    theirs = f"{GROUP}/providers/Microsoft.Insights/metricAlerts/someone-elses-alert"
    template = _stored(monitored, f"{GROUP}/providers/Microsoft.Insights/metricAlerts/{FACTORY}-PipelineFailedRuns")
    monitored.azure.monitoring[old.lower()] = json.loads(json.dumps(template)) | {"id": old, "name": f"{FACTORY}-OldAlert"}
    monitored.azure.monitoring[theirs.lower()] = json.loads(json.dumps(template)) | {"id": theirs, "name": "someone-elses-alert",
                                                                                       "tags": {}}
    mark = monitored.mark()

    assert monitored.deploy(*MONITORING) == 0  # without --prune nothing goes
    assert monitored.deploy(*MONITORING, "--prune", "--dry-run") == 0
    assert any(f"delete    metricAlerts/{FACTORY}-OldAlert" in line for line in "\n".join(monitored.out).splitlines())
    assert monitored.writes_since(mark) == []
    assert monitored.deploy(*MONITORING, "--prune") == 0

    assert [f"{r.method} {r.path}" for r in monitored.azure.requests[mark:] if r.write] == [f"DELETE {old}"]
    assert theirs.lower() in monitored.azure.monitoring


def test_when_another_setting_already_sends_the_runs_to_the_workspace_then_deploy_refuses_before_writing(
        harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    harness.azure.workspaces.add(WORKSPACE.lower())
    assert harness.deploy() == 0  # the factory exists; someone adds a setting in the portal
    portal = f"{FACTORY_ID}/providers/Microsoft.Insights/diagnosticSettings/portal-setting"
    harness.azure.monitoring[portal.lower()] = {"id": portal, "name": "portal-setting", "properties": {
        "workspaceId": WORKSPACE, "logs": [{"category": "PipelineRuns", "enabled": True}]}}
    mark = harness.mark()

    assert harness.deploy(*MONITORING) == 1

    error = capsys.readouterr().err.strip()
    assert error.startswith("deploy: error: monitoring: diagnostic setting `portal-setting` on factory `adf-spotify-dev` "
                            "already sends PipelineRuns to workspace `log-spotify-dev`")
    assert "\n" not in error and harness.writes_since(mark) == []


def test_when_the_workspace_does_not_exist_then_nothing_is_written_and_one_line_says_so(
        harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert harness.deploy(*MONITORING) == 1  # no workspace seeded

    error = capsys.readouterr().err.strip()
    assert error == (f"deploy: error: monitoring: Log Analytics workspace `{WORKSPACE}` does not exist: create it (deploy "
                     "creates none) or fix monitoring.workspaceResourceId")
    assert harness.writes_since(0) == []


def test_when_monitoring_is_not_configured_then_the_part_plans_nothing_and_calls_no_monitoring_api(
        harness: Harness, tmp_path: Path) -> None:  # noqa: F811
    config = json.loads((tmp_path / "config" / "dev.json").read_text())
    del config["monitoring"]
    (tmp_path / "config" / "dev.json").write_text(json.dumps(config))

    assert harness.deploy(*MONITORING, "--dry-run") == 0

    assert "monitoring: 1 unchanged" in "\n".join(harness.out)
    assert not any("Microsoft.Insights" in r.path or "savedSearches" in r.path for r in harness.azure.requests)


def test_when_the_receiver_is_still_a_placeholder_then_monitoring_is_refused_in_one_line(
        harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    config = json.loads((tmp_path / "config" / "dev.json").read_text())
    config["monitoring"]["emailReceivers"][0]["emailAddress"] = "replace-with-oncall-email"
    (tmp_path / "config" / "dev.json").write_text(json.dumps(config))
    harness.azure.workspaces.add(WORKSPACE.lower())

    assert main(["--env", "dev", *MONITORING], harness.seams) == 1

    assert "placeholder `monitoring.emailReceivers[0].emailAddress`" in capsys.readouterr().err
    assert harness.writes_since(0) == []


def test_when_an_offline_dry_run_renders_then_the_monitoring_bodies_are_written(tmp_path: Path) -> None:
    out = tmp_path / "rendered"

    assert main(["--env", "dev", "--dry-run", "--out", str(out)]) == 0

    plan = json.loads((out / "plan.json").read_text())
    assert plan["monitoring"] == CREATED
    body = json.loads((out / "monitoring" / "diagnosticSettings" / "adf-runs-to-log-analytics.json").read_text())
    assert body["properties"]["logAnalyticsDestinationType"] == "Dedicated"


@pytest.mark.parametrize("case", ["unknown metric", "window below frequency", "short name too long", "log window over two days",
                                  "same category and sink", "unknown category", "missing action group"])
def test_when_a_monitoring_request_breaks_an_azure_rule_then_the_fake_refuses_it(monitored: Harness, case: str) -> None:
    from factory_deploy.azure_clients import AzureClients

    config = load_config("dev", monitored.seams.config_dir)
    clients = AzureClients(config, monitored.seams.credential, monitored.seams.endpoints)
    bodies = {r.label: json.loads(json.dumps(r.body)) for r in desired_resources(config)}
    alert = bodies[f"metricAlerts/{FACTORY}-PipelineFailedRuns"]
    log_alert = bodies[f"scheduledQueryRules/{FACTORY}-curated-freshness"]
    setting = bodies["diagnosticSettings/adf-runs-to-log-analytics"]
    group = bodies["actionGroups/ag-spotify-dev"]
    calls = {
        "unknown metric": lambda: clients.monitor.metric_alerts.create_or_update(
            "rg-spotify-dev", "x", _set(alert, ["properties", "criteria", "allOf", 0, "metricName"], "PipelineFailedRun")),
        "window below frequency": lambda: clients.monitor.metric_alerts.create_or_update(
            "rg-spotify-dev", "x", _set(alert, ["properties", "windowSize"], "PT1M")),
        "short name too long": lambda: clients.monitor.action_groups.create_or_update(
            "rg-spotify-dev", "x", _set(group, ["properties", "groupShortName"], "spotify-dev-oncall")),
        "log window over two days": lambda: clients.monitor_log_alerts.scheduled_query_rules.create_or_update(
            "rg-spotify-dev", "x", _set(log_alert, ["properties", "windowSize"], "P3D")),
        "same category and sink": lambda: clients.monitor.diagnostic_settings.create_or_update(FACTORY_ID, "second", setting),
        "unknown category": lambda: clients.monitor.diagnostic_settings.create_or_update(
            FACTORY_ID, "adf-runs-to-log-analytics", _set(setting, ["properties", "logs", 0, "category"], "PipelineRun")),
        "missing action group": lambda: clients.monitor.metric_alerts.create_or_update(
            "rg-spotify-dev", "x", _set(alert, ["properties", "actions", 0, "actionGroupId"], f"{GROUP}/providers/"
                                        "Microsoft.Insights/actionGroups/none")),
    }

    with pytest.raises(HttpResponseError) as refused:
        calls[case]()

    assert refused.value.status_code in (400, 409)


def _set(body: dict[str, object], path: list[object], value: object) -> dict[str, object]:
    copy = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return copy
