"""scripts/deploy.py against the fake ARM (tests/fake_arm.py) through the real SDK clients, and a recording Synapse.

Each test deploys the committed repo to `dev` (config copied with a real-looking client id and no Purview account,
which has its own tests) and asserts on the requests the fake received.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from factory_deploy.cli import main
from tests.arm_spec import SpecValidator
from tests.deploy_harness import ADF, FACTORY, PARTS, REPO, START, Harness, harness  # noqa: F401 - harness is a fixture
from tests.fake_arm import StaticCredential


@pytest.fixture
def deployed(harness: Harness) -> Harness:
    assert harness.deploy() == 0, harness.out
    return harness


def test_when_deploying_to_an_empty_environment_then_code_pool_factory_and_sql_are_written_in_dependency_order(harness: Harness) -> None:
    assert harness.deploy() == 0

    writes = harness.writes_since(0)
    code = [i for i, w in enumerate(writes) if "/batch-code/activities/" in w]
    globals_put = writes.index("PUT /globalParameters/default")
    assert code and max(code) < globals_put  # the version is uploaded before the factory switches to it
    assert writes[0].startswith("PUT /stspotifydev/batch-code")  # the container, then the version's files
    puts = [w.split("/")[-2] + "/" + w.split("/")[-1] for w in writes if w.startswith("PUT /") and w.count("/") == 2]
    assert puts.index("linkedservices/Ls_KeyVault") < puts.index("linkedservices/Ls_Batch")
    assert puts.index("datasets/Ds_Raw_Zone") < puts.index("pipelines/PL_Transform_Spotify") < puts.index("triggers/TR_Raw_Landed")
    assert writes[-3:] == [f"POST /triggers/{t}/start" for t in ("TR_Curated_Landed", "TR_Daily_Extract", "TR_Raw_Landed")]
    assert any("Microsoft.Batch/batchAccounts/baspotifydev/pools/spotify-activities" in w for w in writes)

    version = harness.azure.factories[FACTORY]["properties"]["globalParameters"]["activitiesFolderPath"]["value"]
    assert re.fullmatch(r"batch-code/activities/[0-9a-f]{16}", version)
    assert sorted(n for (_, _, n) in harness.azure.blobs) == [f"activities/{version.rsplit('/', 1)[1]}/{f}"
                                                              for f in ("activities.pyz", "requirements.txt")]
    pipeline = harness.azure.resource(FACTORY, "pipelines", "PL_Extract_Spotify")
    committed = json.loads((REPO / "adf" / "pipelines" / "PL_Extract_Spotify.json").read_text())
    assert pipeline is not None and {k: v for k, v in pipeline["properties"].items()} == committed["properties"]
    blob_ls = harness.azure.resource(FACTORY, "linkedservices", "Ls_Blob_Storage")
    assert blob_ls is not None and blob_ls["properties"]["typeProperties"]["serviceEndpoint"] == "https://stspotifydev.blob.core.windows.net/"
    assert set(harness.trigger_states().values()) == {"Started"}

    pool = harness.azure.pools[("baspotifydev", "spotify-activities")]
    assert pool["properties"]["scaleSettings"]["autoScale"]["formula"].count("$TargetDedicatedNodes = max(0, min($wanted, 2))") == 1
    assert pool["properties"]["startTask"]["resourceFiles"][0]["httpUrl"].endswith(f"{version.split('/', 1)[1]}/requirements.txt")
    assert "spotify" in harness.sql.databases
    assert harness.sql.master_key_passwords == ["Str0ng!pass"]
    assert "spotify.albums" in harness.sql.views["spotify"]


def test_when_nothing_changed_then_a_second_deploy_only_reads(deployed: Harness) -> None:
    mark, sql_mark = deployed.mark(), len(deployed.sql.executed)

    assert deployed.deploy() == 0

    assert deployed.writes_since(mark) == []
    assert [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")] == []
    assert any("up to date; nothing written" in line for line in deployed.out)


def test_when_one_pipeline_changed_then_one_put_and_only_its_trigger_is_stopped_and_restarted(deployed: Harness) -> None:
    deployed.edit("pipelines", "PL_Transform_Spotify", description="edited in the portal")
    mark = deployed.mark()

    assert deployed.deploy() == 0

    assert deployed.writes_since(mark) == [
        "POST /triggers/TR_Raw_Landed/stop", "PUT /pipelines/PL_Transform_Spotify", "POST /triggers/TR_Raw_Landed/start",
    ]
    assert set(deployed.trigger_states().values()) == {"Started"}


def test_when_a_trigger_was_paused_then_it_stays_paused_even_when_it_or_its_pipeline_changes(deployed: Harness) -> None:
    deployed.azure.children[(FACTORY, "triggers", "tr_raw_landed")]["properties"]["runtimeState"] = "Stopped"
    deployed.edit("pipelines", "PL_Transform_Spotify", description="edited")
    deployed.edit("triggers", "TR_Raw_Landed", description="edited")
    mark = deployed.mark()

    assert deployed.deploy() == 0

    assert deployed.writes_since(mark) == ["PUT /pipelines/PL_Transform_Spotify", "PUT /triggers/TR_Raw_Landed"]
    assert deployed.trigger_states() == {"TR_Curated_Landed": "Started", "TR_Daily_Extract": "Started", "TR_Raw_Landed": "Stopped"}


def test_when_dry_running_against_a_changed_environment_then_the_plan_is_printed_and_nothing_written(deployed: Harness) -> None:
    deployed.edit("pipelines", "PL_Load_Spotify", description="edited")
    deployed.sql.views["spotify"].pop("spotify.albums")
    mark, sql_mark = deployed.mark(), len(deployed.sql.executed)

    assert deployed.deploy("--dry-run") == 0

    assert deployed.writes_since(mark) == []
    assert all(s.startswith("SELECT") for _, s in deployed.sql.executed[sql_mark:])
    text = "\n".join(deployed.out)
    assert "  update    pipelines/PL_Load_Spotify" in text
    assert "  stop      triggers/TR_Curated_Landed" in text
    assert "  create    views/spotify.albums.sql" in text
    assert "code: 1 unchanged" in text and "pool: 1 unchanged" in text


# Each step a deploy takes, the request that fails there, and what the one-line error must name.
FAILURES = {
    "factory write": ("PUT", rf"/factories/{FACTORY}$", f"factory `{FACTORY}`: write the factory resource"),
    "code upload": ("PUT", r"/batch-code/activities/.*/activities\.pyz$", "activities.pyz"),
    "pool update": ("PATCH", r"/pools/spotify-activities$", "spotify-activities"),
    "global parameters": ("PUT", r"/globalParameters/default$", "globalParameters/default"),
    "trigger stop": ("POST", r"/triggers/TR_Raw_Landed/stop$", "triggers/TR_Raw_Landed"),
    "pipeline put": ("PUT", r"/pipelines/PL_Transform_Spotify$", "pipelines/PL_Transform_Spotify"),
    "trigger put": ("PUT", r"/triggers/TR_Daily_Extract$", "triggers/TR_Daily_Extract"),
    "trigger restart": ("POST", r"/triggers/TR_Raw_Landed/start$", "triggers/TR_Raw_Landed"),
}


@pytest.mark.parametrize("step", list(FAILURES))
def test_when_a_step_fails_then_triggers_are_restored_nothing_else_is_written_and_the_error_names_the_resource(
    deployed: Harness, step: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _change_every_part(deployed)
    method, pattern, named = FAILURES[step]
    deployed.azure.fail(method, pattern, code="BadRequest", message="Injected\nfailure")
    before = deployed.trigger_states()
    mark, sql_mark = deployed.mark(), len(deployed.sql.executed)
    capsys.readouterr()

    assert deployed.deploy() == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and "Injected failure" in err and "Traceback" not in err
    writes = [r for r in deployed.azure.requests[mark:] if r.write]
    failed = next(i for i, r in enumerate(writes) if r.method == method and re.search(pattern, r.path))
    assert all(r.method == "POST" and r.path.endswith("/start") for r in writes[failed + 1:])
    assert [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")] == []
    if step == "trigger restart":  # the one trigger that could not be restarted is named, with the fix
        assert "could NOT restart triggers/TR_Raw_Landed" in err and "start them in ADF Studio" in err
        assert deployed.trigger_states() == before | {"TR_Raw_Landed": "Stopped"}
    else:
        assert deployed.trigger_states() == before


def test_when_a_sql_step_fails_then_the_error_names_the_script_and_no_later_statement_runs(
    deployed: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    _change_every_part(deployed)
    deployed.sql.views["spotify"].pop("spotify.tracks")
    deployed.sql.fail(r"VIEW spotify\.albums AS", message="Invalid column name 'x'")
    sql_mark = len(deployed.sql.executed)
    capsys.readouterr()

    assert deployed.deploy() == 1

    err = capsys.readouterr().err
    assert err == "deploy: error: synapse: views/spotify.albums.sql failed on database `spotify`: Invalid column name 'x'\n"
    sql_writes = [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")]
    assert "VIEW spotify.albums AS" in sql_writes[-1] and not any("spotify.tracks AS" in s for s in sql_writes)
    assert set(deployed.trigger_states().values()) == {"Started"}


def test_when_a_sql_statement_fails_after_the_first_of_its_batch_then_nextset_surfaces_it(
    deployed: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.sql.data_sources["spotify"]["spotify_serving"] = "https://old.blob.core.windows.net/serving"
    deployed.sql.fail(r"CREATE EXTERNAL DATA SOURCE spotify_serving", at_nextset=True, message="External data source location invalid")
    capsys.readouterr()

    assert deployed.deploy() == 1

    err = capsys.readouterr().err
    assert "synapse: setup/02_data_sources.sql failed on database `spotify`: External data source location invalid" in err


def test_when_a_data_source_location_changed_then_it_is_dropped_and_created_at_the_new_location(deployed: Harness) -> None:
    deployed.sql.data_sources["spotify"]["spotify_serving"] = "https://old.blob.core.windows.net/serving"
    sql_mark = len(deployed.sql.executed)

    assert deployed.deploy() == 0

    writes = [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")]
    assert writes[0] == "DROP EXTERNAL DATA SOURCE [spotify_serving]"
    assert deployed.sql.data_sources["spotify"]["spotify_serving"] == "https://stspotifydev.blob.core.windows.net/serving"


def test_when_an_operator_revoked_a_grant_and_a_role_membership_then_deploy_puts_them_back(deployed: Harness) -> None:
    granted = {db: set(g) for db, g in deployed.sql.grants.items()}
    operator = deployed.sql.connect("spotify").cursor()
    operator.execute("REVOKE SELECT ON SCHEMA::spotify FROM spotify_reader")
    operator.execute("ALTER ROLE spotify_reader DROP MEMBER [sg-spotify-analysts-dev]")
    assert ("spotify_reader", "sg-spotify-analysts-dev") not in deployed.sql.members["spotify"]
    sql_mark = len(deployed.sql.executed)

    assert deployed.deploy() == 0

    (rerun,) = [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")]
    assert "GRANT SELECT ON SCHEMA::spotify TO spotify_reader" in rerun  # the principals script, whole and idempotent
    plan = next(line for line in deployed.out if "setup/03_principals.sql" in line)
    assert "missing: GRANT SELECT ON SCHEMA::spotify TO spotify_reader, ALTER ROLE spotify_reader ADD MEMBER" in plan
    assert deployed.sql.grants == granted
    assert ("spotify_reader", "sg-spotify-analysts-dev") in deployed.sql.members["spotify"]

    sql_mark = len(deployed.sql.executed)
    assert deployed.deploy() == 0
    assert [s for _, s in deployed.sql.executed[sql_mark:] if not s.startswith("SELECT")] == []


def test_when_the_master_key_secret_holds_quotes_then_synapse_receives_it_exactly(harness: Harness) -> None:
    harness.azure.secrets["synapse-master-key-password"] = "it's ''quoted'' & $(x)"

    assert harness.deploy() == 0

    assert harness.sql.master_key_passwords == ["it's ''quoted'' & $(x)"]
    assert all("it's" not in line for line in harness.out)


def test_when_pruning_then_removed_resources_go_in_reverse_dependency_order_with_old_code_versions_and_views(deployed: Harness) -> None:
    azure = deployed.azure
    old_pipeline = {"activities": [{"name": "Wait", "type": "Wait", "typeProperties": {"waitTimeInSeconds": 1}}]}
    azure.children[(FACTORY, "pipelines", "pl_old")] = {"name": "PL_Old", "properties": old_pipeline}
    azure.children[(FACTORY, "triggers", "tr_old")] = {"name": "TR_Old", "properties": {
        "type": "ScheduleTrigger", "runtimeState": "Started", "typeProperties": {"recurrence": {"frequency": "Day", "interval": 1}},
        "pipelines": [{"pipelineReference": {"referenceName": "PL_Old", "type": "PipelineReference"}}]}}
    azure.blobs[("stspotifydev", "batch-code", "activities/aaaaaaaaaaaaaaaa/activities.pyz")] = (b"x", START - dt.timedelta(days=9), {})
    azure.blobs[("stspotifydev", "batch-code", "activities/bbbbbbbbbbbbbbbb/activities.pyz")] = (b"y", START - dt.timedelta(days=8), {})
    deployed.sql.views["spotify"]["spotify.old_view"] = "CREATE OR ALTER VIEW spotify.old_view AS SELECT 1 AS x"
    # The load's view of the latest snapshot of a repo table is not deploy's to prune.
    deployed.sql.views["spotify"]["spotify.tracks_latest"] = "CREATE OR ALTER VIEW spotify.tracks_latest AS SELECT 1 AS x"
    deployed.clock[0] = START + dt.timedelta(hours=47)
    mark = deployed.mark()

    assert deployed.deploy("--dry-run", "--prune") == 0
    plan = "\n".join(deployed.out)
    assert plan.index("delete    triggers/TR_Old") < plan.index("delete    pipelines/PL_Old")
    assert "delete    batch-code/activities/aaaaaaaaaaaaaaaa" in plan and "bbbbbbbbbbbbbbbb" not in plan  # b replaced a 8 days ago
    assert deployed.writes_since(mark) == []

    assert deployed.deploy("--prune") == 0
    assert deployed.writes_since(mark) == [
        "DELETE /stspotifydev/batch-code/activities/aaaaaaaaaaaaaaaa/activities.pyz",
        "POST /triggers/TR_Old/stop", "DELETE /triggers/TR_Old", "DELETE /pipelines/PL_Old",
    ]
    assert "spotify.old_view" not in deployed.sql.views["spotify"]
    assert "spotify.tracks_latest" in deployed.sql.views["spotify"]
    assert set(deployed.trigger_states()) == {"TR_Curated_Landed", "TR_Daily_Extract", "TR_Raw_Landed"}


def test_when_the_factory_has_settings_made_elsewhere_then_deploy_keeps_them(harness: Harness) -> None:
    harness.azure.factories[FACTORY] = {
        "name": FACTORY, "location": "westeurope", "tags": {"owner": "data-platform"},
        "properties": {"purviewConfiguration": {"purviewResourceId": "/subscriptions/x/pv"},
                       "repoConfiguration": {"type": "FactoryGitHubConfiguration", "accountName": "org", "repositoryName": "r",
                                             "collaborationBranch": "main", "rootFolder": "/"},
                       "publicNetworkAccess": "Disabled"},
    }

    assert harness.deploy() == 0

    factory = harness.azure.factories[FACTORY]
    assert factory["tags"] == {"owner": "data-platform"}
    assert factory["identity"]["type"] == "SystemAssigned"
    assert factory["properties"]["purviewConfiguration"] == {"purviewResourceId": "/subscriptions/x/pv"}
    assert factory["properties"]["repoConfiguration"]["repositoryName"] == "r"
    assert factory["properties"]["publicNetworkAccess"] == "Disabled"


def test_when_config_names_a_purview_account_then_deploy_links_the_factory_and_an_empty_key_never_unlinks_it(
        harness: Harness) -> None:
    config_file = harness.seams.config_dir / "dev.json"  # type: ignore[operator]
    config = json.loads(config_file.read_text())
    linked = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-governance"
              "/providers/Microsoft.Purview/accounts/pv-spotify-dev")
    config["purview"] = {"account": "pv-spotify-dev", "resourceId": linked}
    config_file.write_text(json.dumps(config))

    assert harness.deploy() == 0, harness.out

    assert "PUT " in harness.writes_since(0)  # the factory resource, written with the link
    assert harness.azure.factories[FACTORY]["properties"]["purviewConfiguration"] == {"purviewResourceId": linked}
    config["purview"] = {"account": ""}
    config_file.write_text(json.dumps(config))
    mark = harness.mark()

    assert harness.deploy() == 0, harness.out

    assert harness.azure.factories[FACTORY]["properties"]["purviewConfiguration"] == {"purviewResourceId": linked}
    assert "PUT " not in harness.writes_since(mark)  # the factory resource itself is not rewritten


def test_when_prod_is_deployed_without_a_terminal_or_yes_then_nothing_is_written(harness: Harness, tmp_path: Path,
                                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads((REPO / "config" / "prod.json").read_text())
    config["spotify"]["clientId"] = "0a1b2c3d4e5f"
    config["monitoring"]["emailReceivers"][0]["emailAddress"] = "spotify-oncall@contoso.com"
    config["purview"]["account"] = ""
    (tmp_path / "config" / "prod.json").write_text(json.dumps(config))

    assert main(["--env", "prod", *PARTS], harness.seams) == 1

    assert "pass --yes" in capsys.readouterr().err
    assert harness.writes_since(0) == [] and harness.sql.writes() == []


@pytest.mark.parametrize("problem", ["no credentials", "missing secret", "local", "placeholder"])
def test_when_a_check_fails_then_one_line_names_it_and_nothing_is_written(harness: Harness, problem: str,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    env = "dev"
    if problem == "no credentials":
        harness.seams.credential = StaticCredential(fail=ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token"))
    elif problem == "missing secret":
        del harness.azure.secrets["synapse-master-key-password"]
    elif problem == "local":
        env = "local"
    else:
        harness.seams.config_dir = REPO / "config"

    assert main(["--env", env, *PARTS], harness.seams) == 1

    err = capsys.readouterr().err
    expected = {"no credentials": "az login", "missing secret": "synapse-master-key-password", "local": "--env local",
                "placeholder": "replace-with-dev-spotify-client-id"}[problem]
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert harness.writes_since(0) == [] and harness.sql.executed == []


def _change_every_part(harness: Harness) -> None:
    """Make every part differ: a code version to upload again, the pool, the factory's identity, a global parameter,
    a pipeline, a trigger and a view."""
    for key in [k for k in harness.azure.blobs if k[2].endswith("activities.pyz")]:
        del harness.azure.blobs[key]
    pool = harness.azure.pools[("baspotifydev", "spotify-activities")]
    pool["properties"]["scaleSettings"]["autoScale"]["formula"] = "$TargetDedicatedNodes = 1;"
    harness.edit("pipelines", "PL_Transform_Spotify", description="edited")
    harness.edit("triggers", "TR_Daily_Extract", description="edited")
    harness.sql.views["spotify"].pop("spotify.albums")
    harness.azure.factories[FACTORY]["properties"]["globalParameters"]["extractShards"]["value"] = 99
    del harness.azure.factories[FACTORY]["identity"]  # the factory lost its managed identity: deploy writes it back


def test_when_exporting_an_arm_template_then_it_follows_the_template_schema_and_deploys_the_same_factory(
    harness: Harness, tmp_path: Path
) -> None:
    import jsonschema

    assert main(["--env", "dev", "--export-arm", str(tmp_path / "arm")], harness.seams) == 0
    template = json.loads((tmp_path / "arm" / "ARMTemplateForFactory.json").read_text())
    values = json.loads((tmp_path / "arm" / "ARMTemplateParametersForFactory.json").read_text())
    schema = json.loads((Path(__file__).resolve().parents[1] / "arm_specs" / "deploymentTemplate.2019-04-01.json").read_text())
    jsonschema.Draft4Validator(schema).validate(template)
    assert harness.writes_since(0) == []  # exporting reads nothing and writes nothing
    assert values["parameters"]["factoryName"] == {"value": FACTORY}
    assert template["parameters"]["Ls_KeyVault_properties_typeProperties_baseUrl"]["defaultValue"] == "https://kv-spotify-dev.vault.azure.net/"
    (batch,) = [r for r in template["resources"] if r["name"].endswith("/Ls_Batch')]")]
    assert "[concat(variables('factoryId'), '/linkedServices/Ls_KeyVault')]" in batch["dependsOn"]

    # A deploy made the factory; the template then recreates its resources and global parameters in an emptied copy.
    assert harness.deploy() == 0
    expected = _factory_content(harness)
    deploy_template = _deployer(harness, values["parameters"])

    _empty_factory(harness)
    answer = deploy_template(template)

    assert answer.status_code == 200, answer.text
    assert _factory_content(harness) == expected

    _empty_factory(harness)
    answer = deploy_template({**template, "resources": [{**r, "dependsOn": []} for r in template["resources"]]})
    assert answer.status_code == 400 and "invalid reference" in answer.text  # dependsOn is what orders ARM's writes


def _factory_content(harness: Harness) -> dict[str, object]:
    content: dict[str, object] = {
        str(key): {k: v for k, v in body["properties"].items() if k != "runtimeState"} for key, body in harness.azure.children.items()
    }
    content["globalParameters"] = harness.azure.factories[FACTORY]["properties"].get("globalParameters")
    return content


def _empty_factory(harness: Harness) -> None:
    harness.azure.children.clear()
    harness.azure.factories[FACTORY]["properties"].pop("globalParameters", None)


def _deployer(harness: Harness, parameters: dict[str, object]):  # type: ignore[no-untyped-def]
    import requests

    from tests.fake_arm import TOKEN

    endpoints = harness.seams.endpoints
    assert endpoints is not None
    url = f"{endpoints.arm}{ADF.split('/providers/')[0]}/providers/Microsoft.Resources/deployments/export?api-version=2021-04-01"

    def deploy(template: dict[str, object]) -> requests.Response:
        body = {"properties": {"mode": "Incremental", "template": template, "parameters": parameters}}
        return requests.put(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"},
                            verify=endpoints.transport["connection_verify"], timeout=30)

    return deploy


def test_when_a_body_breaks_the_rest_spec_then_the_fake_refuses_it_as_arm_would() -> None:
    validator = SpecValidator()
    trigger = json.loads((REPO / "adf" / "triggers" / "TR_Raw_Landed.json").read_text())

    assert validator("triggers PUT", "", {"properties": trigger["properties"]}) == []
    broken = json.loads(json.dumps(trigger))
    del broken["properties"]["typeProperties"]["scope"]
    broken["properties"]["pipelines"][0]["pipelineReference"]["type"] = "PipelineRef"
    assert validator("triggers PUT", "", {"properties": broken["properties"]}) == [
        "body.properties.pipelines[0].pipelineReference.type: 'PipelineRef' is not one of ['PipelineReference']",
        "body.properties.typeProperties: required property `scope` is missing",
    ]
    assert validator("triggers PUT", "", {"properties": {"type": "HourlyTrigger"}})[0].startswith(
        "body.properties.type: 'HourlyTrigger' is not a Trigger type of the vendored spec (BlobEventsTrigger, BlobTrigger")
    assert validator("factories PUT", "", {"location": "westeurope", "identity": {"type": "Managed"}}) == [
        "body.identity.type: 'Managed' is not one of ['SystemAssigned']"]
    assert validator("globalParameters PUT", "", {"properties": {"x": {"type": "String"}}}) == [
        "body.properties.x: required property `value` is missing"]
    # Polymorphism resolved across files and nesting: ForEach (Pipeline.json) -> Custom -> its typeProperties ->
    # a LinkedServiceReference (datafactory.json); a linked service's Key Vault secret -> AzureKeyVaultSecretReference.
    pipeline = json.loads((REPO / "adf" / "pipelines" / "PL_Extract_Spotify.json").read_text())
    assert validator("pipelines PUT", "", {"properties": pipeline["properties"]}) == []
    shard = pipeline["properties"]["activities"][1]["typeProperties"]["activities"][0]
    shard["typeProperties"]["resourceLinkedService"]["type"] = "LinkedService"
    shard["typeProperties"]["referenceObjects"] = {"linkedServices": "Ls_Blob_Storage"}
    pipeline["properties"]["activities"][1]["typeProperties"]["batchCount"] = 64
    assert validator("pipelines PUT", "", {"properties": pipeline["properties"]}) == [
        "body.properties.activities[1].typeProperties.batchCount: 64 is outside None..50",
        "body.properties.activities[1].typeProperties.activities[0].typeProperties.resourceLinkedService.type: "
        "'LinkedService' is not one of ['LinkedServiceReference']",
        "body.properties.activities[1].typeProperties.activities[0].typeProperties.referenceObjects.linkedServices: "
        "expected array, got str",
    ]
    linked = json.loads((REPO / "adf" / "linkedServices" / "Ls_Batch.json").read_text())
    del linked["properties"]["typeProperties"]["accessKey"]["secretName"]
    assert validator("linkedservices PUT", "", {"properties": linked["properties"]}) == [
        "body.properties.typeProperties.accessKey: required property `secretName` is missing"]
    assert validator("datasets PUT", "", {"properties": {"type": "Parquet", "linkedServiceName": {
        "referenceName": "Ls_Blob_Storage", "type": "LinkedServiceReference"}, "typeProperties": {}}}) == [
        "body.properties.typeProperties: required property `location` is missing"]
    # The Batch management spec (openapi.json 2025-06-01, the api-version azure-mgmt-batch 19 sends): the body's
    # allOf base comes from common-types, another file.
    assert validator("pools PATCH", "", {"properties": {"scaleSettings": {"autoScale": {"formla": "x"}}}}) == [
        "body.properties.scaleSettings.autoScale: required property `formula` is missing"]
    assert validator("pools PUT", "", {"properties": {"taskSlotsPerNode": "4", "taskSchedulingPolicy": {"nodeFillType": "Packed"},
                                                      "startTask": {"userIdentity": {"autoUser": {"elevationLevel": "admin"}}}}}) == [
        'body.properties.taskSlotsPerNode: expected an integer, got "4"',
        "body.properties.taskSchedulingPolicy.nodeFillType: 'Packed' is not one of ['Spread', 'Pack']",
        "body.properties.startTask.userIdentity.autoUser.elevationLevel: 'admin' is not one of ['NonAdmin', 'Admin']",
    ]


def test_when_the_pool_differs_then_only_what_differs_is_patched_and_an_immutable_change_is_refused(
    deployed: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = deployed.azure.pools[("baspotifydev", "spotify-activities")]
    formula = pool["properties"]["scaleSettings"]["autoScale"]["formula"]
    pool["properties"]["scaleSettings"]["autoScale"]["formula"] = "$TargetDedicatedNodes = 3;"
    pool["properties"]["currentDedicatedNodes"] = 1  # read-only fields Batch adds are not the repo's to compare
    mark = deployed.mark()

    assert deployed.deploy() == 0
    (patch,) = [r for r in deployed.azure.requests[mark:] if r.write]
    assert patch.method == "PATCH" and patch.body == {"properties": {"scaleSettings": {"autoScale": {
        "formula": formula, "evaluationInterval": "PT5M"}}}}

    pool["properties"]["vmSize"] = "Standard_A1"
    mark = deployed.mark()
    capsys.readouterr()
    assert deployed.deploy() == 1
    assert "pool `spotify-activities`: vmSize differ" in capsys.readouterr().err
    assert deployed.writes_since(mark) == []


def test_when_prod_is_confirmed_on_a_terminal_then_it_deploys(harness: Harness, tmp_path: Path) -> None:
    config = json.loads((REPO / "config" / "prod.json").read_text())
    config["spotify"]["clientId"] = "0a1b2c3d4e5f"
    config["monitoring"]["emailReceivers"][0]["emailAddress"] = "spotify-oncall@contoso.com"
    config["purview"]["account"] = ""
    (tmp_path / "config" / "prod.json").write_text(json.dumps(config))
    asked: list[str] = []
    harness.seams.interactive = lambda: True
    harness.seams.ask = lambda prompt: asked.append(prompt) or "adf-spotify-prod"

    assert main(["--env", "prod", "--only", "factory", "--only", "code"], harness.seams) == 0

    assert "Type the factory name to confirm" in asked[0]
    assert "adf-spotify-prod" in harness.azure.factories


@pytest.mark.parametrize("case", ["started trigger", "dangling reference", "referenced delete", "api-version", "spec"])
def test_when_a_request_breaks_an_arm_rule_then_the_fake_refuses_it(deployed: Harness, case: str) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.datafactory import DataFactoryManagementClient

    endpoints = deployed.seams.endpoints
    assert endpoints is not None
    kwargs = {"api_version": "2017-09-01-preview"} if case == "api-version" else {}
    client = DataFactoryManagementClient(StaticCredential(), "11111111-1111-1111-1111-111111111111", base_url=endpoints.arm,
                                         **endpoints.transport, **kwargs)
    group = "rg-spotify-dev"
    with pytest.raises(HttpResponseError) as raised:
        if case == "started trigger":
            client.triggers.create_or_update(group, FACTORY, "TR_Raw_Landed", deployed.azure.resource(FACTORY, "triggers", "TR_Raw_Landed"))
        elif case == "dangling reference":
            body = {"properties": {"activities": [{"name": "Run", "type": "ExecutePipeline", "typeProperties": {
                "pipeline": {"referenceName": "PL_Missing", "type": "PipelineReference"}}}]}}
            client.pipelines.create_or_update(group, FACTORY, "PL_Caller", body)
        elif case == "referenced delete":
            client.linked_services.delete(group, FACTORY, "Ls_KeyVault")
        elif case == "spec":  # a Custom activity inside a ForEach whose retry interval is a string, not an integer
            body = deployed.azure.resource(FACTORY, "pipelines", "PL_Extract_Spotify")
            assert body is not None
            body["properties"]["activities"][1]["typeProperties"]["activities"][0]["policy"]["retryIntervalInSeconds"] = "60"
            client.pipelines.create_or_update(group, FACTORY, "PL_Extract_Spotify", body)
        else:
            client.pipelines.get(group, FACTORY, "PL_Load_Spotify")
    code = {"started trigger": "TriggerEnabledCannotUpdate", "dangling reference": "BadRequest",
            "referenced delete": "BadRequest", "api-version": "InvalidApiVersionParameter", "spec": "InvalidRequestContent"}[case]
    assert raised.value.error is not None and raised.value.error.code == code
    if case == "spec":
        assert "activities[1].typeProperties.activities[0].policy.retryIntervalInSeconds: expected an integer" in str(raised.value)
