"""The shape of `config/<env>.json`: every name that differs between environments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from activities.extract import rules
from activities.extract.config import UserConfig  # the same user the extract activity reads
from factory_deploy.env_config.errors import ConfigError
from factory_deploy.env_config.monitoring import MonitoringConfig


@dataclass(frozen=True)
class FactoryConfig:
    name: str
    subscription_id: str
    resource_group: str
    location: str


@dataclass(frozen=True)
class StorageConfig:
    account: str
    raw_container: str
    curated_container: str
    serving_container: str
    code_container: str

    @property
    def blob_endpoint(self) -> str:
        return f"https://{self.account}.blob.core.windows.net/"


@dataclass(frozen=True)
class BatchConfig:
    account: str
    region: str
    pool: str
    vm_size: str
    max_nodes: int  # the pool's autoscale ceiling; it scales to zero when idle
    task_slots_per_node: int
    identity: str  # user-assigned managed identity the activities use for Key Vault and storage (same resource group)

    def __post_init__(self) -> None:
        if not 1 <= self.max_nodes <= 1000 or not 1 <= self.task_slots_per_node <= 256:
            raise ConfigError("keys `batch.maxNodes` (1-1000) and `batch.taskSlotsPerNode` (1-256, Batch's limit) are out of range")

    @property
    def batch_uri(self) -> str:
        return f"https://{self.account}.{self.region}.batch.azure.com"


@dataclass(frozen=True)
class KeyVaultConfig:
    name: str

    @property
    def base_url(self) -> str:
        # "environment" is the local stand-in: activities read secrets from environment variables.
        if self.name == "environment":
            return "env:"
        return f"https://{self.name}.vault.azure.net/"


_PRINCIPAL = re.compile(r"^[^\]'$\[]{1,128}$")


@dataclass(frozen=True)
class SynapseConfig:
    workspace: str
    database: str
    # Microsoft Entra ID principals made database users by synapse/setup/03_principals.sql: the identity that
    # creates and alters the views (the factory's system-assigned managed identity is named after the factory),
    # and the group whose members may read the views and nothing else (role spotify_reader).
    loader_identity: str
    analyst_group: str

    def __post_init__(self) -> None:
        # The names are substituted into [bracketed] identifiers and 'quoted' literals of the setup script.
        for key, name in (("loaderIdentity", self.loader_identity), ("analystGroup", self.analyst_group)):
            if not _PRINCIPAL.match(name):
                raise ConfigError(
                    f"key `synapse.{key}` is {name!r}: give the Microsoft Entra display name of the identity or group "
                    "(1-128 characters, no ], ' or $(...))"
                )

    @property
    def serverless_endpoint(self) -> str:
        return f"{self.workspace}-ondemand.sql.azuresynapse.net"


# A config key whose field carries this metadata may be "" (the loader refuses empty strings elsewhere).
MAY_BE_EMPTY = "may_be_empty"
_PURVIEW_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,61}[A-Za-z0-9]$")


_PURVIEW_RESOURCE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Purview/accounts/(?P<account>[A-Za-z0-9-]{3,63})$",
    re.IGNORECASE,
)
_PURVIEW_COLLECTION = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


@dataclass(frozen=True)
class PurviewConfig:
    # "" = no Purview account: deploy publishes nothing to Purview and the load records lineage only in storage.
    account: str = field(metadata={MAY_BE_EMPTY: "no Purview account: nothing is registered in Purview"})
    # The account's ARM id: deploy sets it as the factory's purviewConfiguration, so ADF reports the data flow's
    # lineage itself (Learn: "Connect Data Factory to Microsoft Purview"); "" leaves the factory's link as it is.
    resource_id: str = field(default="", metadata={MAY_BE_EMPTY: "the factory's Purview link is left as it is"})
    # The data map collection (its id, the Data Map API's `collectionId`) entities are registered in; "" = the root.
    collection_id: str = field(default="", metadata={MAY_BE_EMPTY: "entities go to the root collection"})

    def __post_init__(self) -> None:
        if self.account and not _PURVIEW_ACCOUNT.match(self.account):
            raise ConfigError(
                f"key `purview.account` is {self.account!r}: give the Purview account name (3-63 letters, digits or "
                "hyphens), or \"\" for none"
            )
        match = _PURVIEW_RESOURCE_ID.match(self.resource_id) if self.resource_id else None
        if self.resource_id and (match is None or match["account"].lower() != self.account.lower()):
            raise ConfigError(
                f"key `purview.resourceId` is {self.resource_id!r}: give the ARM id of the account `purview.account` names, "
                "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Purview/accounts/<account>, or \"\""
            )
        if self.collection_id and not (self.account and _PURVIEW_COLLECTION.match(self.collection_id)):
            raise ConfigError(
                f"key `purview.collectionId` is {self.collection_id!r}: give the id of a collection of the account "
                "`purview.account` names (letters, digits, '-' or '_', as the Purview portal shows it), or \"\" for the root"
            )

    @property
    def endpoint(self) -> str:
        """The data plane endpoint, ``https://<account>.purview.azure.com``; "" when no account is configured."""
        return f"https://{self.account}.purview.azure.com" if self.account else ""


@dataclass(frozen=True)
class SpotifyConfig:
    api_base_url: str
    token_url: str
    client_id: str
    client_secret_name: str
    markets: tuple[str, ...]
    new_releases_limit: int
    # Which sources the extraction runs and what it starts from (docs/architecture.md, extract section).
    sources: tuple[str, ...]
    restricted_sources: tuple[str, ...]
    lookup_sources: tuple[str, ...]
    artist_ids: tuple[str, ...]
    search_queries: tuple[str, ...]
    playlist_ids: tuple[str, ...]
    playlist_discovery: tuple[str, ...]
    refresh_token_secret_name: str
    # What Spotify lets the app call: "development" (a new app in 2026, the default) or "extended" (extended
    # quota granted before the February 2026 changes). run_local starts the twin in this mode.
    access_mode: str
    # Up to 5 allow-listed users; none: one user whose token is `refreshTokenSecretName`.
    users: tuple[UserConfig, ...] = ()
    # API requests per run, spent on user data first, then unseen entities, then refreshes (0: no limit).
    request_budget: int = 0

    def __post_init__(self) -> None:
        _check("spotify.accessMode", rules.access_mode_problem(self.access_mode))
        _check("spotify.users", rules.user_count_problem(len(self.users)))
        _check("spotify.requestBudget", rules.budget_problem(self.request_budget))


@dataclass(frozen=True)
class ExtractSettings:
    """How the extraction is split and paced."""

    shards: int
    max_concurrency: int
    requests_per_second: int
    # Retries shared by every request of a run (0: httpMaxAttempts per request); known entities older than
    # refreshAfterDays are refreshed with what is left of the request budget.
    retry_budget: int = 0
    refresh_after_days: int = 7

    def __post_init__(self) -> None:
        # The rules the extract activity checks again on Batch, worded once (activities.extract.rules).
        _check("extract.shards", rules.shard_count_problem(self.shards))
        _check("extract.maxConcurrency", rules.concurrency_problem(self.max_concurrency))
        _check("extract.requestsPerSecond", rules.rate_problem(self.requests_per_second))
        _check("extract.retryBudget", rules.budget_problem(self.retry_budget))
        _check("extract.refreshAfterDays", rules.budget_problem(self.refresh_after_days))


def _check(key: str, problem: str | None) -> None:
    if problem:
        raise ConfigError(f"key `{key}` {problem}")


@dataclass(frozen=True)
class EnvironmentConfig:
    environment: str
    factory: FactoryConfig
    storage: StorageConfig
    batch: BatchConfig
    key_vault: KeyVaultConfig
    synapse: SynapseConfig
    purview: PurviewConfig
    spotify: SpotifyConfig
    extract: ExtractSettings
    monitoring: MonitoringConfig = MonitoringConfig()  # optional: no workspace, no monitoring deployed

    @property
    def storage_account_id(self) -> str:
        return (
            f"/subscriptions/{self.factory.subscription_id}/resourceGroups/{self.factory.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{self.storage.account}"
        )
