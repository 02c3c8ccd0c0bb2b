"""The monitoring deploy creates (factory_deploy.monitoring_resources) and its config (`monitoring` in config/<env>.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from factory_deploy.env_config import ConfigError, load_config
from factory_deploy.monitoring_resources import SAVED_SEARCHES, desired_resources, freshness_query
from tests.fake_arm_monitoring import spec_problems

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_when_rendered_then_every_body_follows_the_vendored_rest_spec(environment: str) -> None:
    resources = desired_resources(load_config(environment))

    assert [r.kind for r in resources] == ["actionGroups", "diagnosticSettings", "metricAlerts", "metricAlerts",
                                           "scheduledQueryRules", "savedSearches", "savedSearches", "savedSearches"]
    assert {r.label: spec_problems(r.kind, r.body) for r in resources} == {r.label: [] for r in resources}


def test_when_a_body_breaks_the_spec_then_the_problem_is_named() -> None:
    group = next(r for r in desired_resources(load_config("dev")) if r.kind == "actionGroups")
    body = json.loads(json.dumps(group.body))
    body["properties"]["groupShortName"] = "a-name-over-twelve"
    del body["properties"]["enabled"]

    assert spec_problems("actionGroups", body) == [
        "body.properties: required property `enabled` is missing",
        "body.properties.groupShortName: 'a-name-over-twelve' is not 0..12 characters long",
    ]


def test_when_local_has_no_monitoring_section_then_nothing_is_deployed() -> None:
    assert desired_resources(load_config("local")) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"workspaceResourceId": "log-spotify-dev"}, "key `monitoring.workspaceResourceId` is 'log-spotify-dev': give the workspace"),
    ({"actionGroupShortName": "spotify-dev-oncall"}, "keys `monitoring.actionGroup` and `monitoring.actionGroupShortName` (1-12"),
    ({"emailReceivers": []}, "key `monitoring.emailReceivers` is empty: the alerts would notify nobody"),
    ({"emailReceivers": [{"name": "x", "emailAddress": "nobody"}]}, "entry `x`: 'nobody' is not an email address"),
    ({"freshnessHours": 72}, "key `monitoring.freshnessHours` must be between 1 and 48, got 72"),
    ({"receivers": []}, "unknown key(s) `monitoring.receivers`"),
])
def test_when_the_monitoring_config_is_wrong_then_one_line_names_the_key(tmp_path: Path, change: dict[str, object],
                                                                        message: str) -> None:
    config = json.loads((REPO / "config" / "dev.json").read_text())
    config["monitoring"].update(change)
    (tmp_path / "dev.json").write_text(json.dumps(config))

    with pytest.raises(ConfigError) as refused:
        load_config("dev", tmp_path)

    assert message in str(refused.value)


def test_when_the_queries_read_custom_output_then_the_activities_write_those_keys() -> None:
    """The KQL reads customOutput keys by name: a renamed key in the activities would silence the alert."""
    written = {
        "Transform raw run": (REPO / "activities" / "transform" / "run.py").read_text(),
        "Write manifest": (REPO / "activities" / "extract" / "run.py").read_text(),
    }
    read = {"Transform raw run": freshness_query(), "Write manifest": dict((s[0], s[2]) for s in SAVED_SEARCHES)[
        "spotify-requests-and-deferred-per-day"]}

    for activity, query in read.items():
        assert f'ActivityName == "{activity}"' in query
        keys = set(re.findall(r"customOutput\.(\w+)", query))
        assert keys and all(f'"{key}"' in written[activity] for key in keys), (activity, keys)
