"""activities.extract.config.ExtractConfig: typed settings from the extended properties."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from activities.common import ActivityConfigError, load_context
from activities.extract.config import ExtractConfig
from factory_deploy.env_config import ConfigError
from factory_deploy.env_config.model import ExtractSettings

GOOD: dict[str, Any] = {
    "ingestDate": "2026-11-24", "runId": "5f1c9a1e-0000-4000-8000-000000000001",
    "apiBaseUrl": "https://api.spotify.com/v1/", "tokenUrl": "https://accounts.spotify.com/api/token",
    "clientId": "cid", "clientSecretName": "spotify-client-secret", "markets": "[\"us\", \"GB\"]",
    "newReleasesLimit": "100", "storageLinkedService": "Ls_Storage", "keyVaultLinkedService": "Ls_KeyVault",
    "rawContainer": "raw", "accessMode": "extended",
}


def config_from(tmp_path: Path, **changes: Any) -> ExtractConfig:
    extended = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    (tmp_path / "activity.json").write_text(json.dumps(
        {"name": "Extract Spotify", "typeProperties": {"extendedProperties": extended}}))
    return ExtractConfig.from_context(load_context(tmp_path))


def test_when_every_property_is_given_then_the_config_is_typed(tmp_path: Path) -> None:
    # Act
    config = config_from(tmp_path)

    # Assert
    assert config.ingest_date == date(2026, 11, 24)
    assert config.api_base_url == "https://api.spotify.com/v1"
    assert config.markets == ("US", "GB") and config.market == "US"
    assert config.new_releases_limit == 100
    assert (config.http_max_attempts, config.http_backoff_seconds) == (5, 1.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ingestDate": "24/11/2026"}, r"`ingestDate` .* must be a date YYYY-MM-DD"),
        ({"runId": "../escape"}, r"`runId` .* \(it names a folder\)"),
        ({"markets": []}, r"`markets` .* non-empty array"),
        ({"markets": ["USA"]}, r"`markets` .* ISO 3166-1 alpha-2"),
        ({"newReleasesLimit": 0}, r"`newReleasesLimit` .* at least 1"),
        ({"apiBaseUrl": "api.spotify.com"}, r"`apiBaseUrl` .* http\(s\) URL"),
        ({"rawContainer": None}, r"`rawContainer` is missing from activity\.json"),
        ({"httpMaxAttempts": 0}, r"`httpMaxAttempts` .* at least 1"),
        ({"mode": "everything"}, r"`mode` .* one of all, discover, shard, manifest"),
        ({"mode": "shard", "shardCount": 51}, r"`shardCount` .* between 1 and 50"),
        ({"mode": "shard", "shardCount": 2, "shardIndex": 2}, r"`shardIndex` .* between 0 and shardCount-1 \(1\)"),
        ({"shardCount": 2}, r"`shardCount` .* must be 1 in mode `all`"),
        ({"sources": ["related_artists"]}, r"`sources` .* restricted for new apps; list it in restrictedSources"),
        ({"sources": ["albumz"]}, r"`sources` .* unknown `albumz`"),
        ({"artistIds": ["not an id!"]}, r"`artistIds` .* Spotify ids"),
        ({"includeGroups": "album,bootleg"}, r"`includeGroups` .* subset"),
    ],
)
def test_when_a_property_is_wrong_then_the_error_names_it(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    # Act / Assert
    with pytest.raises(ActivityConfigError, match=message):
        config_from(tmp_path, **changes)


def test_when_extraction_properties_are_given_then_they_are_typed_and_fingerprinted(tmp_path: Path) -> None:
    # Act
    config = config_from(tmp_path, mode="shard", shardIndex="1", shardCount=3, sources=["new_releases", "search",
                         "user_profile"], restrictedSources="[\"audio_features\"]", searchQueries=["night", "night"],
                         artistIds=["uxrQ1NB1OdihPsUYP8RbJr"], maxConcurrency=4, requestsPerSecond="7.5")
    other_shard = config_from(tmp_path, mode="shard", shardIndex="2", shardCount=3, sources=["new_releases", "search",
                              "user_profile"], restrictedSources="[\"audio_features\"]", searchQueries=["night"],
                              artistIds=["uxrQ1NB1OdihPsUYP8RbJr"], maxConcurrency=8)

    # Assert
    assert (config.mode, config.shard_index, config.shard_count) == ("shard", 1, 3)
    assert config.search_queries == ("night",) and config.requests_per_second == 7.5
    assert config.runs("audio_features") and not config.runs("albums") and config.needs_user_token
    assert config.fingerprint == other_shard.fingerprint  # same plan: shards agree whatever their pacing


def test_when_no_extraction_properties_are_given_then_the_first_slice_runs(tmp_path: Path) -> None:
    config = config_from(tmp_path)

    assert config.sources == ("new_releases", "albums", "tracks", "artists") and config.restricted_sources == ()
    assert config.runs("album_tracks") and not config.needs_user_token


def test_when_no_access_mode_is_given_then_development_runs_every_source_it_serves(tmp_path: Path) -> None:
    config = config_from(tmp_path, accessMode=None)

    assert config.development and "new_releases" not in config.sources
    assert {"user_profile", "recently_played", "search", "albums", "artists"} <= set(config.sources)
    assert config.user_list[0].refresh_token_secret_name == "spotify-refresh-token"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accessMode": "legacy"}, r"`accessMode` .* one of development, extended"),
        ({"users": [{"name": f"u{i}", "refreshTokenSecretName": f"t-{i}"} for i in range(6)]},
         r"`users` .* at most 5 allow-listed users"),
        ({"users": [{"name": "a", "refreshTokenSecretName": "bad name"}]}, r"`users` .*<Key Vault secret name>"),
        ({"requestBudget": -1}, r"`requestBudget` .* must not be negative"),
        ({"level": 4}, r"`level` .* 1, 2 or 3"),
    ],
)
def test_when_a_development_setting_is_wrong_then_the_error_names_it(tmp_path: Path, changes: dict[str, Any],
                                                                     message: str) -> None:
    with pytest.raises(ActivityConfigError, match=message):
        config_from(tmp_path, **changes)


def test_when_users_are_listed_then_each_has_its_secret_and_the_fingerprint_depends_on_them(tmp_path: Path) -> None:
    users = [{"name": "ana", "refreshTokenSecretName": "spotify-refresh-token-ana"},
             {"name": "bo", "refreshTokenSecretName": "spotify-refresh-token-bo"}]

    config = config_from(tmp_path, accessMode=None, users=users, requestBudget=300)

    assert [u.refresh_token_secret_name for u in config.user_list] == [u["refreshTokenSecretName"] for u in users]
    assert config.request_budget == 300
    assert config.fingerprint != config_from(tmp_path, accessMode=None, users=users[:1]).fingerprint


# Each rule config/<env>.json and the extended properties share: (extended properties, env_config key, the
# ExtractSettings fields that break it there).
_SETTINGS = {"shards": 1, "max_concurrency": 8, "requests_per_second": 20}
SHARED_RULES = [
    ({"mode": "shard", "shardCount": 51}, "extract.shards", {**_SETTINGS, "shards": 51}),
    ({"maxConcurrency": 65}, "extract.maxConcurrency", {**_SETTINGS, "max_concurrency": 65}),
    ({"requestsPerSecond": -1.5}, "extract.requestsPerSecond", {**_SETTINGS, "requests_per_second": -1.5}),
    ({"retryBudget": -2}, "extract.retryBudget", {**_SETTINGS, "retry_budget": -2}),
    ({"refreshAfterDays": -3}, "extract.refreshAfterDays", {**_SETTINGS, "refresh_after_days": -3}),
]


@pytest.mark.parametrize(("extended", "key", "fields"), SHARED_RULES, ids=[key for _, key, _ in SHARED_RULES])
def test_when_a_shared_rule_is_broken_then_env_config_and_the_activity_state_the_same_problem(
    tmp_path: Path, extended: dict[str, Any], key: str, fields: dict[str, Any],
) -> None:
    # Act
    with pytest.raises(ActivityConfigError) as in_activity:
        config_from(tmp_path, **extended)
    with pytest.raises(ConfigError) as in_env_config:
        ExtractSettings(**fields)

    # Assert: one wording (activities.extract.rules), each prefixed with its own file's key
    problem = str(in_env_config.value).removeprefix(f"key `{key}` ")
    assert problem != str(in_env_config.value)
    assert f"`{next(iter(extended.keys() - {'mode'}))}` in activity.json {problem};" in str(in_activity.value)
