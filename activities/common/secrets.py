"""Secret stores behind the AzureKeyVault linked service.

``baseUrl`` ``https://<vault>.vault.azure.net/`` → Key Vault with ``DefaultAzureCredential`` (the Batch
pool's managed identity); ``env:`` → environment variables (local runs only). Every secret read is
registered with the log redactor before it is returned, so it can never be logged afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from activities.common.context import LinkedService, SecureString
from activities.common.errors import ActivityConfigError, SecretNotFoundError, SecretStoreError
from activities.common.logs import register_secret

ENV_SCHEME = "env:"


class SecretStore(Protocol):
    def get(self, name: str) -> SecureString: ...


def env_var_name(secret_name: str) -> str:
    """``spotify-client-secret`` → ``SPOTIFY_CLIENT_SECRET``."""
    return secret_name.upper().replace("-", "_")


class EnvironmentSecretStore:
    """Reads secret ``a-b`` from environment variable ``A_B`` (local runs stand in for Key Vault)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ

    def get(self, name: str) -> SecureString:
        variable = env_var_name(name)
        value = self._environ.get(variable)
        if not value:
            raise SecretNotFoundError(
                f"secret `{name}` not found: set {variable} in the environment "
                "(the Key Vault linked service is `env:`)",
                name=name,
            )
        register_secret(value)
        return SecureString(value)

    def __repr__(self) -> str:
        return "EnvironmentSecretStore()"


class KeyVaultSecretStore:
    """Reads secrets from Azure Key Vault with azure-keyvault-secrets."""

    def __init__(self, vault_url: str, credential: Any | None = None) -> None:
        self.vault_url = vault_url
        self._credential = credential
        self._client: Any | None = None

    def _secret_client(self) -> Any:
        if self._client is None:
            # Deferred: the Azure SDK is slow to import and local runs never need it.
            from azure.keyvault.secrets import SecretClient

            credential = self._credential
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            self._client = SecretClient(vault_url=self.vault_url, credential=credential)
        return self._client

    def get(self, name: str) -> SecureString:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        try:
            secret = self._secret_client().get_secret(name)
        except ResourceNotFoundError as exc:
            raise SecretNotFoundError(
                f"secret `{name}` not found in Key Vault {self.vault_url}; create it or fix the secret name",
                name=name,
            ) from exc
        except AzureError as exc:
            raise SecretStoreError(
                f"cannot read secret `{name}` from Key Vault {self.vault_url}: {type(exc).__name__}: "
                f"{_first_line(exc)}; check the identity has 'get' permission on secrets"
            ) from exc
        if not secret.value:
            raise SecretNotFoundError(f"secret `{name}` in Key Vault {self.vault_url} is empty", name=name)
        register_secret(secret.value)
        return SecureString(secret.value)

    def __repr__(self) -> str:
        return f"KeyVaultSecretStore({self.vault_url!r})"


def open_secret_store(linked_service: LinkedService) -> SecretStore:
    """Return the store an ``AzureKeyVault`` linked service points at."""
    if linked_service.type != "AzureKeyVault":
        raise ActivityConfigError(
            f"linked service `{linked_service.name}` has type {linked_service.type}, expected AzureKeyVault"
        )
    base_url = linked_service.type_properties.get("baseUrl")
    if not isinstance(base_url, str) or not base_url:
        raise ActivityConfigError(
            f"linked service `{linked_service.name}` needs typeProperties.baseUrl "
            "(https://<vault>.vault.azure.net/ or env:)"
        )
    if base_url.strip() == ENV_SCHEME:
        return EnvironmentSecretStore()
    if base_url.startswith("https://"):
        return KeyVaultSecretStore(base_url)
    raise ActivityConfigError(
        f"linked service `{linked_service.name}` has baseUrl {base_url!r}; "
        "use https://<vault>.vault.azure.net/ or env:"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


__all__ = [
    "EnvironmentSecretStore",
    "KeyVaultSecretStore",
    "SecretStore",
    "env_var_name",
    "open_secret_store",
]
