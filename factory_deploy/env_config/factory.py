"""What an environment's config means for the factory: global parameter values and resource overrides.

Both `scripts/deploy.py` and the local runner apply these, so the committed `adf/` JSON stays the same
for every environment (it holds the dev values, like a factory's collaboration branch).
"""

from __future__ import annotations

from typing import Any

from factory_deploy.env_config.model import EnvironmentConfig

# Where deploy (and the local runner) upload the `activities` package for Batch to download.
ACTIVITIES_FOLDER = "activities"


def global_parameters(config: EnvironmentConfig) -> dict[str, Any]:
    """Values of the factory's global parameters (`@pipeline().globalParameters.<name>`)."""
    spotify = config.spotify
    return {
        "environment": config.environment,
        "spotifyApiBaseUrl": spotify.api_base_url,
        "spotifyTokenUrl": spotify.token_url,
        "spotifyClientId": spotify.client_id,
        "spotifyClientSecretName": spotify.client_secret_name,
        "spotifyMarkets": list(spotify.markets),
        "spotifyNewReleasesLimit": spotify.new_releases_limit,
        "spotifySources": list(spotify.sources),
        "spotifyRestrictedSources": list(spotify.restricted_sources),
        "spotifyLookupSources": list(spotify.lookup_sources),
        "spotifyArtistIds": list(spotify.artist_ids),
        "spotifySearchQueries": list(spotify.search_queries),
        "spotifyPlaylistIds": list(spotify.playlist_ids),
        "spotifyPlaylistDiscovery": list(spotify.playlist_discovery),
        "spotifyRefreshTokenSecretName": spotify.refresh_token_secret_name,
        "spotifyAccessMode": spotify.access_mode,
        "spotifyUsers": [{"name": user.name, "refreshTokenSecretName": user.refresh_token_secret_name}
                         for user in spotify.users],
        "spotifyRequestBudget": spotify.request_budget,
        "extractShards": config.extract.shards,
        "extractRetryBudget": config.extract.retry_budget,
        "extractRefreshAfterDays": config.extract.refresh_after_days,
        "extractMaxConcurrency": config.extract.max_concurrency,
        "extractRequestsPerSecond": config.extract.requests_per_second,
        "rawContainer": config.storage.raw_container,
        "curatedContainer": config.storage.curated_container,
        "servingContainer": config.storage.serving_container,
        "activitiesFolderPath": f"{config.storage.code_container}/{ACTIVITIES_FOLDER}",
        # Lineage registration: "" (no Purview account) skips it; the storage account scopes the qualifiedNames.
        "purviewEndpoint": config.purview.endpoint,
        "purviewCollectionId": config.purview.collection_id,
        "storageAccount": config.storage.account,
    }


def global_parameter_specs(config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    """Global parameters as the factory resource declares them (`{"type": ..., "value": ...}`)."""
    specs: dict[str, dict[str, Any]] = {}
    for name, value in global_parameters(config).items():
        kind = "Array" if isinstance(value, list) else "Int" if isinstance(value, int) else "String"
        specs[name] = {"type": kind, "value": value}
    return specs


def factory_overrides(config: EnvironmentConfig) -> dict[str, dict[str, Any]]:
    """Per-resource property overrides (dotted paths under `properties`) for this environment."""
    return {
        "Ls_Blob_Storage": {"typeProperties.serviceEndpoint": config.storage.blob_endpoint},
        "Ls_KeyVault": {"typeProperties.baseUrl": config.key_vault.base_url},
        "Ls_Batch": {
            "typeProperties.accountName": config.batch.account,
            "typeProperties.batchUri": config.batch.batch_uri,
            "typeProperties.poolName": config.batch.pool,
        },
        "Ls_Synapse_Serverless": {
            "typeProperties.connectionString": (
                f"Data Source=tcp:{config.synapse.serverless_endpoint},1433;"
                f"Initial Catalog={config.synapse.database};Encrypt=True;Connection Timeout=30"
            ),
        },
        "TR_Raw_Landed": {"typeProperties.scope": config.storage_account_id},
        "TR_Curated_Landed": {"typeProperties.scope": config.storage_account_id},
    }
