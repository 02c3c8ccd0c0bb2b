"""`purview.account` in config/<env>.json: the endpoint it implies, "" for none, and the global parameters it feeds."""

import json
import shutil
from pathlib import Path

import pytest

from factory_deploy.env_config import ConfigError, global_parameters, load_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def _with_account(tmp_path: Path, account: str) -> Path:
    shutil.copy(CONFIG_DIR / "dev.json", tmp_path / "dev.json")
    raw = json.loads((tmp_path / "dev.json").read_text())
    raw["purview"]["account"] = account
    (tmp_path / "dev.json").write_text(json.dumps(raw))
    return tmp_path


def test_when_an_account_is_configured_then_lineage_is_registered_at_its_data_plane_endpoint() -> None:
    config = load_config("prod")

    params = global_parameters(config)

    assert params["purviewEndpoint"] == "https://pv-spotify-prod.purview.azure.com"
    assert params["storageAccount"] == "stspotifyprod"


def test_when_the_account_is_empty_then_the_endpoint_is_empty_and_registration_is_skipped(tmp_path: Path) -> None:
    config = load_config("dev", _with_account(tmp_path, ""))

    assert (config.purview.endpoint, global_parameters(config)["purviewEndpoint"]) == ("", "")


def test_when_the_account_is_not_a_purview_name_then_the_error_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"key `purview.account` is 'pv spotify': give the Purview account name"):
        load_config("dev", _with_account(tmp_path, "pv spotify"))


def test_when_another_key_is_empty_then_it_is_still_refused(tmp_path: Path) -> None:
    shutil.copy(CONFIG_DIR / "dev.json", tmp_path / "dev.json")
    raw = json.loads((tmp_path / "dev.json").read_text())
    raw["synapse"]["database"] = " "
    (tmp_path / "dev.json").write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"key `synapse.database` is empty"):
        load_config("dev", tmp_path)


def test_when_running_locally_then_no_purview_account_is_configured() -> None:
    assert global_parameters(load_config("local"))["purviewEndpoint"] == ""


def _with_purview(tmp_path: Path, **keys: str) -> Path:
    shutil.copy(CONFIG_DIR / "dev.json", tmp_path / "dev.json")
    raw = json.loads((tmp_path / "dev.json").read_text())
    raw["purview"].update(keys)
    (tmp_path / "dev.json").write_text(json.dumps(raw))
    return tmp_path


RESOURCE_ID = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-governance"
               "/providers/Microsoft.Purview/accounts/pv-spotify-dev")


def test_when_a_resource_id_and_collection_are_configured_then_they_reach_deploy_and_the_global_parameters(
        tmp_path: Path) -> None:
    assert (load_config("dev").purview.resource_id, load_config("dev").purview.collection_id) == ("", "")  # optional keys

    config = load_config("dev", _with_purview(tmp_path, resourceId=RESOURCE_ID, collectionId="spotify-dev"))

    assert (config.purview.resource_id, global_parameters(config)["purviewCollectionId"]) == (RESOURCE_ID, "spotify-dev")


def test_when_the_resource_id_names_another_account_or_is_not_an_arm_id_then_the_key_is_named(tmp_path: Path) -> None:
    for wrong in (RESOURCE_ID.replace("pv-spotify-dev", "pv-other"), "pv-spotify-dev"):
        with pytest.raises(ConfigError, match=r"key `purview.resourceId` is .*: give the ARM id of the account"):
            load_config("dev", _with_purview(tmp_path, resourceId=wrong))


def test_when_a_collection_is_set_without_an_account_or_with_spaces_then_the_key_is_named(tmp_path: Path) -> None:
    for keys in ({"account": "", "collectionId": "spotify"}, {"collectionId": "spotify dev"}):
        with pytest.raises(ConfigError, match=r"key `purview.collectionId` is .*: give the id of a collection"):
            load_config("dev", _with_purview(tmp_path, **keys))
