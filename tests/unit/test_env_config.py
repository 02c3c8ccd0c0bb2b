import json
import shutil
from pathlib import Path

import pytest

from factory_deploy.env_config import ENVIRONMENTS, ConfigError, factory_overrides, global_parameters, load_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def _copy_config(tmp_path: Path, env: str = "dev") -> Path:
    shutil.copy(CONFIG_DIR / f"{env}.json", tmp_path / f"{env}.json")
    return tmp_path / f"{env}.json"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_when_loading_each_committed_config_then_it_is_typed(env: str) -> None:
    config = load_config(env)

    assert config.environment == env
    assert all(len(market) == 2 for market in config.spotify.markets)
    assert isinstance(config.spotify.new_releases_limit, int)


def test_when_file_is_missing_then_error_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"prod\.json not found: create it"):
        load_config("prod", tmp_path)


def test_when_key_is_missing_then_error_names_the_dotted_key(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    del raw["storage"]["rawContainer"]
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"key `storage\.rawContainer` is missing"):
        load_config("dev", tmp_path)


def test_when_type_is_wrong_then_error_names_key_and_types(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["spotify"]["newReleasesLimit"] = "100"
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"`spotify\.newReleasesLimit` must be int, got a string"):
        load_config("dev", tmp_path)


def test_when_list_holds_wrong_items_then_error_says_list_of(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["spotify"]["markets"] = ["US", 1]
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"`spotify\.markets` must be a list of str"):
        load_config("dev", tmp_path)


def test_when_key_is_unknown_then_error_suggests_spelling(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["batch"]["poool"] = "x"
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"unknown key\(s\) `batch\.poool`"):
        load_config("dev", tmp_path)


def test_when_json_is_malformed_then_error_gives_line(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text('{"environment": "dev",\n  oops}')

    with pytest.raises(ConfigError, match=r"not valid JSON at line 2"):
        load_config("dev", tmp_path)


def test_when_environment_is_unknown_then_error_lists_choices() -> None:
    with pytest.raises(ConfigError, match=r"choose one of local, dev, prod"):
        load_config("staging")


def test_when_prod_config_is_applied_then_names_follow_the_environment() -> None:
    config = load_config("prod")

    overrides = factory_overrides(config)
    params = global_parameters(config)

    assert overrides["Ls_Blob_Storage"]["typeProperties.serviceEndpoint"] == "https://stspotifyprod.blob.core.windows.net/"
    assert overrides["Ls_KeyVault"]["typeProperties.baseUrl"] == "https://kv-spotify-prod.vault.azure.net/"
    assert "stspotifyprod" in overrides["TR_Raw_Landed"]["typeProperties.scope"]
    assert params["spotifyMarkets"] == list(config.spotify.markets)
    assert params["activitiesFolderPath"] == "batch-code/activities"


def test_when_local_config_is_applied_then_secrets_come_from_the_environment() -> None:
    assert factory_overrides(load_config("local"))["Ls_KeyVault"]["typeProperties.baseUrl"] == "env:"


def test_when_extract_shards_exceed_the_foreach_batch_count_then_error_names_the_key(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["extract"]["shards"] = 51
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"`extract\.shards` must be between 1 and 50 \(ForEach batchCount\), got 51"):
        load_config("dev", tmp_path)


def test_when_seed_ids_hold_a_number_then_error_says_list_of_str(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["spotify"]["artistIds"] = [42]
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=r"`spotify\.artistIds` must be a list of str"):
        load_config("dev", tmp_path)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_when_config_is_applied_then_extraction_settings_become_global_parameters(env: str) -> None:
    config = load_config(env)

    params = global_parameters(config)

    assert params["extractShards"] == config.extract.shards
    assert params["spotifySources"] == list(config.spotify.sources)
    assert params["spotifyRestrictedSources"] == []  # restricted endpoints are never on the default path
    assert params["spotifyRefreshTokenSecretName"] == "spotify-refresh-token"
    assert all(isinstance(params[name], list) for name in (
        "spotifyLookupSources", "spotifyArtistIds", "spotifySearchQueries", "spotifyPlaylistIds",
        "spotifyPlaylistDiscovery"))


def test_when_local_config_is_read_then_every_source_of_its_access_mode_runs_at_small_scale() -> None:
    from activities.sources import names

    spotify = load_config("local").spotify

    assert spotify.access_mode == "development"
    assert set(spotify.sources) == set(names(mode="development")) and spotify.restricted_sources == ()
    assert {"search", "playlist_items", "artist_albums", "saved_tracks"} <= set(spotify.lookup_sources)
    assert 0 < len(spotify.artist_ids) <= 3 and 0 < len(spotify.search_queries) <= 3


def test_when_users_and_a_budget_are_configured_then_the_factory_gets_them_as_global_parameters(tmp_path: Path) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["spotify"]["users"] = [{"name": "ana", "refreshTokenSecretName": "spotify-refresh-token-ana"}]
    raw["spotify"]["requestBudget"] = 300
    del raw["extract"]["retryBudget"]  # optional: its default applies
    path.write_text(json.dumps(raw))

    config = load_config("dev", tmp_path)
    params = global_parameters(config)

    assert params["spotifyUsers"] == [{"name": "ana", "refreshTokenSecretName": "spotify-refresh-token-ana"}]
    assert (params["spotifyRequestBudget"], params["extractRetryBudget"], params["spotifyAccessMode"]) == (
        300, 0, "development")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("users", [{"name": f"u{i}", "refreshTokenSecretName": f"t-{i}"} for i in range(6)], r"at most 5 allow-listed"),
    ("users", [{"name": "ana"}], r"key `spotify\.users\[0\]\.refreshTokenSecretName` is missing"),
    ("requestBudget", -1, r"`spotify\.requestBudget` must not be negative"),
])
def test_when_users_or_the_budget_are_wrong_then_the_error_names_the_key(tmp_path: Path, key: str, value: object,
                                                                         message: str) -> None:
    path = _copy_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["spotify"][key] = value
    path.write_text(json.dumps(raw))

    with pytest.raises(ConfigError, match=message):
        load_config("dev", tmp_path)
