"""The KQL deploy saves and alerts on, checked by Microsoft's own parser and binder (tests/kql_reference.py) against
the Log Analytics tables the factory's resource-specific diagnostic setting fills."""

from __future__ import annotations

from factory_deploy.env_config import load_config
from factory_deploy.monitoring_resources import desired_resources
from tests.kql_reference import kql_errors


def _queries() -> dict[str, str]:
    queries = {}
    for resource in desired_resources(load_config("dev")):
        properties = resource.body["properties"]
        if resource.kind == "savedSearches":
            queries[resource.label] = properties["query"]
        elif resource.kind == "scheduledQueryRules":
            for index, condition in enumerate(properties["criteria"]["allOf"]):
                queries[f"{resource.label}[{index}]"] = condition["query"]
    return queries


def test_when_the_saved_searches_and_the_log_alert_are_parsed_by_kusto_then_none_has_an_error() -> None:
    queries = _queries()

    errors = kql_errors(queries)

    assert len(queries) == 4 and set(errors) == set(queries)
    assert errors == {name: [] for name in queries}


def test_when_a_query_names_a_column_the_table_lacks_then_kusto_reports_it() -> None:
    errors = kql_errors({"typo": 'ADFActivityRun | where PipelineNme == "PL_Extract_Spotify"',
                         "wrong table": "ADFActivityRuns | take 1"})

    assert errors["typo"] and "PipelineNme" in errors["typo"][0]
    assert errors["wrong table"] and "ADFActivityRuns" in errors["wrong table"][0]
