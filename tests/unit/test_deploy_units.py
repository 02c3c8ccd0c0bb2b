"""Deploy's pure parts: secret escaping, code version pruning, pool diff, preflight checks, plan rendering."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from factory_deploy import preflight
from factory_deploy.code_publish import StoredVersion, prunable
from factory_deploy.env_config import load_config
from factory_deploy.errors import DeployError
from factory_deploy.plan import Change, render_plan
from factory_deploy.pool_publish import autoscale_formula, desired_pool, plan_pool
from factory_deploy.synapse_publish import (
    Script,
    SynapseState,
    escape_in_literal,
    grants_in,
    members_in,
    plan_synapse,
    substitute_secrets,
)

REPO = Path(__file__).resolve().parents[2]


def _unescape(literal_body: str) -> str:
    return literal_body.replace("''", "'")


@pytest.mark.parametrize("secret", ["plain", "it's", "''", "a'''b", "'; DROP DATABASE x; --"])
def test_when_a_secret_sits_in_a_nested_literal_then_unescaping_twice_gives_it_back(secret: str) -> None:
    sql = "EXEC ('CREATE MASTER KEY ENCRYPTION BY PASSWORD = ''$(MasterKeyPassword)''');"

    text = substitute_secrets(sql, {"MasterKeyPassword": secret})

    outer = text[len("EXEC ('"):-len("');")]
    inner = _unescape(outer)  # what EXEC runs
    assert inner.startswith("CREATE MASTER KEY ENCRYPTION BY PASSWORD = '") and inner.endswith("'")
    assert _unescape(inner[len("CREATE MASTER KEY ENCRYPTION BY PASSWORD = '"):-1]) == secret
    assert escape_in_literal("it's", 1) == "it''s"


def test_when_a_secret_placeholder_is_outside_a_literal_then_deploy_refuses_to_paste_it() -> None:
    with pytest.raises(DeployError, match="must sit inside a string literal"):
        substitute_secrets("CREATE LOGIN x WITH PASSWORD = $(MasterKeyPassword)", {"MasterKeyPassword": "p"})


def test_when_versions_are_superseded_then_only_those_replaced_longer_than_the_grace_ago_are_pruned() -> None:
    now = dt.datetime(2026, 12, 5, tzinfo=dt.UTC)
    versions = [StoredVersion(name, {"activities.pyz": 1}, now - dt.timedelta(hours=age))
                for name, age in (("a", 100), ("b", 50), ("c", 10), ("d", 1))]

    assert [v.version for v in prunable(versions, "d", now, dt.timedelta(hours=48))] == ["a"]  # b was replaced 10 h ago
    assert [v.version for v in prunable(versions, "a", now, dt.timedelta(hours=5))] == ["b"]  # the version in use is kept


def test_when_the_pool_is_built_then_it_scales_to_zero_and_installs_python_311_and_the_requirements() -> None:
    config = load_config("prod")
    body = desired_pool(config, "https://x/requirements.txt")

    properties = body["properties"]
    assert properties["taskSlotsPerNode"] == config.batch.task_slots_per_node
    assert "min($wanted, 8)" in autoscale_formula(4, 8) and ": 0;" in autoscale_formula(4, 8)
    assert "python3.11 -m pip install" in properties["startTask"]["commandLine"]
    assert properties["startTask"]["resourceFiles"][0]["identityReference"]["resourceId"].endswith(
        "/userAssignedIdentities/id-spotify-activities-prod")
    identity = properties["startTask"]["resourceFiles"][0]["identityReference"]["resourceId"]
    assert list(body["identity"]["userAssignedIdentities"]) == [identity]
    current = {"identity": body["identity"], "properties": {**properties, "allocationState": "Steady"}}
    assert plan_pool("p", current, body).changes[0].action == "unchanged"
    with pytest.raises(DeployError, match="taskSlotsPerNode differ"):
        plan_pool("p", {"identity": body["identity"], "properties": {**properties, "taskSlotsPerNode": 1}}, body)


def test_when_an_sdk_has_an_untested_major_version_then_preflight_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = preflight.metadata.version
    monkeypatch.setattr(preflight.metadata, "version", lambda name: "9.0.0" if name == "azure-mgmt-datafactory" else real(name))

    with pytest.raises(DeployError, match=r"azure-mgmt-datafactory 9.0.0 is installed, deploy is tested with 10.x"):
        preflight.check_sdk_versions()


def test_when_config_holds_a_placeholder_then_it_is_named_with_its_key() -> None:
    assert preflight.placeholders(load_config("prod")) == [
        "`spotify.clientId` = 'replace-with-prod-spotify-client-id'",
        "`monitoring.emailReceivers[0].emailAddress` = 'replace-with-prod-oncall-email'",
    ]


def test_when_the_plan_is_rendered_then_deletions_come_first_and_unchanged_ones_are_summed_up() -> None:
    changes = [Change("factory", "unchanged", "pipelines/A"), Change("factory", "update", "pipelines/B", "differs: x"),
               Change("factory", "delete", "pipelines/C")]

    text = render_plan([("factory", changes)])

    assert text.splitlines() == ["factory: 1 delete, 1 update, 1 unchanged", "  delete    pipelines/C",
                                 "  update    pipelines/B  (differs: x)", "  unchanged 1: pipelines/A"]


def test_when_pyodbc_or_the_odbc_driver_is_missing_then_preflight_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    monkeypatch.setitem(sys.modules, "pyodbc", None)  # import fails as when pyodbc is not installed
    with pytest.raises(DeployError, match=r"Synapse needs pyodbc .* pip install -e '\.\[deploy\]'"):
        preflight.check_odbc()

    fake = types.ModuleType("pyodbc")
    fake.drivers = lambda: ["ODBC Driver 17 for SQL Server"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyodbc", fake)
    with pytest.raises(DeployError, match="Microsoft ODBC Driver 18 for SQL Server: install msodbcsql18"):
        preflight.check_odbc()


def test_when_a_resource_holds_an_inline_secret_then_the_arm_template_asks_for_it_as_a_secure_parameter() -> None:
    from factory_deploy.arm_export import arm_template
    from factory_deploy.render import RenderedResource

    linked = RenderedResource("linkedServices", "Ls_Sql", {"name": "Ls_Sql", "properties": {
        "type": "AzureSqlDatabase", "typeProperties": {"connectionString": "[literal]",
                                                        "password": {"type": "SecureString", "value": "hunter2"}}}})

    template, values = arm_template([linked], {}, "adf-x", {})

    assert template["parameters"]["Ls_Sql_properties_typeProperties_password"] == {"type": "securestring"}
    (resource,) = [r for r in template["resources"] if r["type"].endswith("/linkedServices")]
    assert resource["properties"]["typeProperties"]["password"]["value"] == "[parameters('Ls_Sql_properties_typeProperties_password')]"
    assert resource["properties"]["typeProperties"]["connectionString"] == "[[literal]"  # a literal `[` is escaped for ARM
    assert "hunter2" not in json.dumps(template) and "hunter2" not in json.dumps(values)


PRINCIPALS = """IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = 'spotify_reader')
BEGIN
    CREATE ROLE spotify_reader;
END;
ALTER ROLE spotify_reader ADD MEMBER [sg-analysts];
GRANT SELECT ON SCHEMA::spotify TO spotify_reader;
GRANT REFERENCES ON DATABASE SCOPED CREDENTIAL::spotify_serving_identity TO [adf-spotify-dev];
GRANT ADMINISTER DATABASE BULK OPERATIONS TO [adf-spotify-dev];
"""


def test_when_a_setup_script_grants_then_each_grant_reads_as_sys_database_permissions_names_it() -> None:
    assert sorted(grants_in(PRINCIPALS)) == [
        ("adf-spotify-dev", "administer database bulk operations", "database", ""),
        ("adf-spotify-dev", "references", "database_scoped_credential", "spotify_serving_identity"),
        ("spotify_reader", "select", "schema", "spotify"),
    ]
    assert members_in(PRINCIPALS) == {("spotify_reader", "sg-analysts"): "ALTER ROLE spotify_reader ADD MEMBER [sg-analysts]"}


def test_when_a_grant_was_revoked_then_only_its_script_runs_again_and_nothing_when_all_are_held() -> None:
    script = Script("spotify", "setup/03_principals.sql", PRINCIPALS)
    held = frozenset(grants_in(PRINCIPALS))
    state = SynapseState(True, {("sys.database_principals", "spotify_reader")}, {}, {}, held, frozenset(members_in(PRINCIPALS)))

    assert [c.action for c in plan_synapse([script], state, prune=False).changes] == ["unchanged"]

    revoked = SynapseState(True, state.objects, {}, {}, held - {("spotify_reader", "select", "schema", "spotify")}, state.members)
    plan = plan_synapse([script], revoked, prune=False)
    assert [(c.action, c.detail) for c in plan.changes] == [("update", "missing: GRANT SELECT ON SCHEMA::spotify TO spotify_reader")]
    assert [what for _, what, _ in plan.statements] == ["setup/03_principals.sql"]
