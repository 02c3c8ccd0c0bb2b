"""Secret stores behind the AzureKeyVault linked service.

``baseUrl`` ``https://<vault>.vault.azure.net/`` → Key Vault with ``DefaultAzureCredential`` (the Batch
pool's managed identity); ``file:///<folder>/`` → a folder holding one file per secret (the local stand-in:
a Batch task gets a minimal environment, and a rotated refresh token must be written back where the next
run reads it); ``env:`` → environment variables (read-only, tests). Every secret read or written is
registered with the log redactor, so it can never be logged afterwards.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from activities.common.context import LinkedService, SecureString
from activities.common.errors import ActivityConfigError, SecretNotFoundError, SecretStoreError
from activities.common.logs import register_secret
from activities.common.oserrors import describe_os_error

ENV_SCHEME = "env:"
FILE_SCHEME = "file://"
# Key Vault secret names: 1-127 letters, digits and dashes (Microsoft Learn, "About keys, secrets and
# certificates", object names); the folder store enforces the same so a name is always a safe file name.
_SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


class SecretStore(Protocol):
    def get(self, name: str) -> SecureString: ...

    def set(self, name: str, value: SecureString) -> None: ...


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

    def set(self, name: str, value: SecureString) -> None:
        register_secret(value)
        raise SecretStoreError(
            f"cannot store secret `{name}`: the `env:` stand-in is read-only (a task cannot change its parent's "
            "environment); point the Key Vault linked service at a folder (file:///<folder>/) instead"
        )

    def __repr__(self) -> str:
        return "EnvironmentSecretStore()"


class FolderSecretStore:
    """The local Key Vault stand-in: secret ``a-b`` is the file ``<folder>/a-b`` (mode 0600).

    Writes are atomic (a temporary file renamed over the old one), so a reader sees the old or the new
    value, never half of one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        if not _SECRET_NAME.match(name):
            raise ActivityConfigError(
                f"secret name {name!r} is not a Key Vault secret name (1-127 letters, digits and dashes); fix it "
                "in the config"
            )
        return self.folder / name

    def get(self, name: str) -> SecureString:
        path = self._path(name)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            value = ""
        except OSError as exc:
            raise SecretStoreError(f"cannot read secret `{name}` from {path}: {exc.strerror or exc}") from exc
        if not value:
            raise SecretNotFoundError(f"secret `{name}` not found: create {path} holding it", name=name)
        register_secret(value)
        return SecureString(value)

    def set(self, name: str, value: SecureString) -> None:
        path = self._path(name)
        register_secret(value)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=self.folder)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(value.reveal())
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SecretStoreError(f"cannot store secret `{name}` in {self.folder}: "
                                   f"{describe_os_error(exc, other='another Key Vault folder')}") from exc

    def __repr__(self) -> str:
        return f"FolderSecretStore({str(self.folder)!r})"


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

    def set(self, name: str, value: SecureString) -> None:
        """Store a new version of ``name`` (needs the identity's 'set' permission on secrets)."""
        from azure.core.exceptions import AzureError

        register_secret(value)
        try:
            self._secret_client().set_secret(name, value.reveal())
        except AzureError as exc:
            raise SecretStoreError(
                f"cannot store secret `{name}` in Key Vault {self.vault_url}: {type(exc).__name__}: "
                f"{_first_line(exc)}; check the identity has 'set' permission on secrets"
            ) from exc

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
            "(https://<vault>.vault.azure.net/, file:///<folder>/ or env:)"
        )
    if base_url.strip() == ENV_SCHEME:
        return EnvironmentSecretStore()
    if base_url.startswith(FILE_SCHEME):
        return FolderSecretStore(Path(unquote(urlsplit(base_url).path)))
    if base_url.startswith("https://"):
        return KeyVaultSecretStore(base_url)
    raise ActivityConfigError(
        f"linked service `{linked_service.name}` has baseUrl {base_url!r}; "
        "use https://<vault>.vault.azure.net/, file:///<folder>/ or env:"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


__all__ = [
    "EnvironmentSecretStore",
    "FolderSecretStore",
    "KeyVaultSecretStore",
    "SecretStore",
    "env_var_name",
    "open_secret_store",
]
