"""synapse/setup: users from Microsoft Entra ID, the reader role and the grants, idempotent and valid T-SQL.

Forms follow Microsoft Learn "CREATE USER (Transact-SQL)", "GRANT Database Scoped Credential Permissions
(Transact-SQL)", "GRANT Schema Permissions (Transact-SQL)"; what serverless SQL needs from a caller of a view
over OPENROWSET is on "Control storage account access for serverless SQL pool in Azure Synapse Analytics".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from factory_deploy.env_config import load_config, sql_variables
from factory_deploy.synapse_publish import load_scripts
from offline.synapse_duckdb import LocalServerlessPool, SqlTranslationError
from offline.synapse_duckdb.engine import data_sources_from_setup, substitute_variables
from offline.synapse_duckdb.security import check_security_statement, check_security_statements

REPO = Path(__file__).resolve().parents[2]
SETUP_FILES = sorted((REPO / "synapse" / "setup").glob("*.sql"))
SETUP = "\n".join(p.read_text(encoding="utf-8") for p in SETUP_FILES)


def _setup(env: str) -> str:
    return substitute_variables(SETUP, {**sql_variables(load_config(env)), "MasterKeyPassword": "x"})


def test_when_the_setup_runs_twice_on_the_local_pool_then_both_runs_succeed(tmp_path: Path) -> None:
    pool = LocalServerlessPool(tmp_path, data_sources_from_setup(SETUP, sql_variables(load_config("local"))))

    assert pool.apply_setup(_setup("local")) == ["spotify"]
    assert pool.apply_setup(_setup("local")) == ["spotify"]


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_when_substituted_for_an_environment_then_users_come_from_entra_id_with_the_configured_names(env: str) -> None:
    config = load_config(env)
    statements = check_security_statements(_setup(env))

    assert f"CREATE USER [{config.synapse.loader_identity}] FROM EXTERNAL PROVIDER" in statements
    assert f"CREATE USER [{config.synapse.analyst_group}] FROM EXTERNAL PROVIDER" in statements
    assert f"ALTER ROLE spotify_reader ADD MEMBER [{config.synapse.analyst_group}]" in statements


def test_when_the_reader_role_is_granted_then_it_can_read_the_views_and_nothing_else() -> None:
    grants = [s for s in check_security_statements(SETUP) if s.startswith("GRANT") and s.endswith("spotify_reader")]

    assert grants == [
        "GRANT SELECT ON SCHEMA::spotify TO spotify_reader",
        "GRANT ADMINISTER DATABASE BULK OPERATIONS TO spotify_reader",
        "GRANT REFERENCES ON DATABASE SCOPED CREDENTIAL::spotify_serving_identity TO spotify_reader",
    ]
    # Only the serving data source uses the credential analysts may reference.
    assert re.search(r"DATA SOURCE spotify_serving\s+WITH \([^;]*CREDENTIAL = spotify_serving_identity", SETUP)
    assert re.search(r"DATA SOURCE spotify_curated\s+WITH \([^;]*CREDENTIAL = spotify_workspace_identity", SETUP)


def test_when_the_factory_identity_is_granted_then_it_can_create_and_alter_views_in_schema_spotify() -> None:
    grants = {s for s in check_security_statements(SETUP) if s.endswith("[$(LoaderIdentity)]")}

    assert {"GRANT CREATE VIEW TO [$(LoaderIdentity)]", "GRANT ALTER ON SCHEMA::spotify TO [$(LoaderIdentity)]",
            "GRANT ADMINISTER DATABASE BULK OPERATIONS TO [$(LoaderIdentity)]",
            "GRANT REFERENCES ON DATABASE SCOPED CREDENTIAL::spotify_serving_identity TO [$(LoaderIdentity)]"} <= grants


def test_when_a_principal_is_created_then_a_catalog_lookup_of_the_same_name_guards_it() -> None:
    text = "\n".join(line for line in SETUP.splitlines() if not line.lstrip().startswith("--"))
    creates = re.findall(r"(CREATE USER \[([^\]]+)\]|CREATE ROLE (\w+)|ALTER ROLE (\w+) ADD MEMBER \[([^\]]+)\])", text)

    assert len(creates) == 4
    for statement, user, role, member_role, member in creates:
        guard = text[: text.index(statement)].rsplit("IF NOT EXISTS", 1)[-1]
        for name in filter(None, (user, role, member_role, member)):
            assert f"'{name}'" in guard, statement
        assert guard.rstrip().endswith("BEGIN"), statement


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("GRANT ADMINISTER BULK OPERATIONS TO spotify_reader", "not a permission on the database"),
        ("GRANT SELECT ON SCHEMA spotify TO spotify_reader", "`SELECT ON SCHEMA SPOTIFY` is not a permission"),
        ("GRANT REFERENCE ON DATABASE SCOPED CREDENTIAL::c TO r", "not a permission on DATABASE SCOPED CREDENTIAL"),
        ("GRANT SELECT ON CREDENTIAL::c TO r", "securable class `CREDENTIAL`"),
        ("CREATE USER [analyst@contoso.com] FROM LOGIN x", "not valid T-SQL"),
        ("CREATE USER [analyst@contoso.com] WITH PASSWORD = ''", "not valid T-SQL"),
    ],
)
def test_when_a_security_statement_is_not_t_sql_then_it_is_refused_naming_it(statement: str, message: str) -> None:
    with pytest.raises(SqlTranslationError, match=re.escape(message)):
        check_security_statement(statement)


def test_when_deploy_plans_the_synapse_scripts_then_the_principals_script_runs_in_the_database_after_the_sources() -> None:
    config = load_config("prod")

    scripts = load_scripts(REPO / "synapse", sql_variables(config))

    names = [script.name for script in scripts]
    assert names.index("setup/03_principals.sql") == names.index("setup/02_data_sources.sql") + 1
    principals = scripts[names.index("setup/03_principals.sql")]
    assert principals.database == config.synapse.database
    assert f"CREATE USER [{config.synapse.analyst_group}] FROM EXTERNAL PROVIDER" in principals.sql
