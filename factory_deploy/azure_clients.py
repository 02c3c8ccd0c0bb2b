"""The Azure SDK clients deploy talks through, built for the public cloud or for a stand-in on 127.0.0.1.

Every client is the real SDK client; only the endpoints, the credential and the transport settings differ
(tests point them at the fake ARM in ``tests/fake_arm.py`` with a static token and its self-signed
certificate). This is the only module that constructs clients, so what deploy sends is what a real deploy sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from factory_deploy.env_config import EnvironmentConfig

ARM_SCOPE = "https://management.azure.com/.default"
LOG_ALERTS_API = "2022-08-01-preview"


@dataclass(frozen=True)
class Endpoints:
    """Where each service lives. Defaults are Azure's public cloud."""

    arm: str = "https://management.azure.com"
    blob: str = ""  # "" = https://<account>.blob.core.windows.net ; else <blob>/<account> (IP-style, as Azurite)
    vault: str = ""  # "" = the config's https://<vault>.vault.azure.net/
    transport: dict[str, Any] = field(default_factory=dict)  # e.g. {"connection_verify": "<ca.pem>"}
    # A vault on 127.0.0.1 cannot answer a challenge naming vault.azure.net; only a stand-in turns this off.
    verify_vault_challenge: bool = True


class AzureClients:
    """Lazily built SDK clients for one environment."""

    def __init__(self, config: EnvironmentConfig, credential: Any, endpoints: Endpoints | None = None) -> None:
        self.config = config
        self.credential = credential
        self.endpoints = endpoints or Endpoints()

    @cached_property
    def datafactory(self) -> Any:
        from azure.mgmt.datafactory import DataFactoryManagementClient

        return DataFactoryManagementClient(
            self.credential, self.config.factory.subscription_id, base_url=self.endpoints.arm,
            credential_scopes=[ARM_SCOPE], **self.endpoints.transport,
        )

    @cached_property
    def batch(self) -> Any:
        from azure.mgmt.batch import BatchManagementClient

        return BatchManagementClient(
            self.credential, self.config.factory.subscription_id, base_url=self.endpoints.arm,
            credential_scopes=[ARM_SCOPE], **self.endpoints.transport,
        )

    @cached_property
    def monitor(self) -> Any:
        """Diagnostic settings, action groups and metric alerts, at azure-mgmt-monitor 6's default api-versions."""
        from azure.mgmt.monitor import MonitorManagementClient

        return MonitorManagementClient(
            self.credential, self.config.factory.subscription_id, base_url=self.endpoints.arm,
            credential_scopes=[ARM_SCOPE], **self.endpoints.transport,
        )

    @cached_property
    def monitor_log_alerts(self) -> Any:
        """Log search alerts: the 2022-08-01-preview scheduledQueryRules (the profile's default, 2018-04-16, is the
        legacy Log Analytics alert API)."""
        from azure.mgmt.monitor import MonitorManagementClient

        return MonitorManagementClient(
            self.credential, self.config.factory.subscription_id, api_version=LOG_ALERTS_API, base_url=self.endpoints.arm,
            credential_scopes=[ARM_SCOPE], **self.endpoints.transport,
        )

    @cached_property
    def loganalytics(self) -> Any:
        """The monitoring workspace's saved searches (its subscription may differ from the factory's)."""
        from azure.mgmt.loganalytics import LogAnalyticsManagementClient

        subscription = self.config.monitoring.workspace()[0]
        return LogAnalyticsManagementClient(
            self.credential, subscription, base_url=self.endpoints.arm, credential_scopes=[ARM_SCOPE], **self.endpoints.transport,
        )

    @property
    def blob_account_url(self) -> str:
        account = self.config.storage.account
        return f"{self.endpoints.blob.rstrip('/')}/{account}" if self.endpoints.blob else f"https://{account}.blob.core.windows.net"

    @cached_property
    def code_container(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient(self.blob_account_url, credential=self.credential, **self.endpoints.transport)
        return service.get_container_client(self.config.storage.code_container)

    @cached_property
    def secrets(self) -> Any:
        from azure.keyvault.secrets import SecretClient

        return SecretClient(
            self.endpoints.vault or self.config.key_vault.base_url, self.credential,
            verify_challenge_resource=self.endpoints.verify_vault_challenge, **self.endpoints.transport,
        )
