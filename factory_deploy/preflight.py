"""Checks made before deploy's first write: config, SDK versions, credentials, drivers and Key Vault secrets."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from factory_deploy.env_config import EnvironmentConfig
from factory_deploy.errors import DeployError, azure_reason

# The SDK major versions deploy is tested with (pyproject.toml pins the same ranges). azure-mgmt-datafactory 9.x
# builds msrest models: `Factory(dict)` and the model check in sdk_models.py fail with it.
SDK_VERSIONS = {
    "azure-mgmt-datafactory": (10, 11),
    "azure-mgmt-batch": (19, 20),
    "azure-mgmt-monitor": (6, 7),  # 7.x dropped diagnostic settings
    "azure-mgmt-loganalytics": (13, 14),
    "azure-storage-blob": (12, 13),
    "azure-keyvault-secrets": (4, 5),
    "azure-identity": (1, 2),
    "azure-core": (1, 2),
}
ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
PLACEHOLDER = "replace-with-"


def refuse_local(environment: str) -> None:
    if environment == "local":
        raise DeployError("--env local is the offline stand-in, not an Azure environment: run scripts/run_local.py, or deploy dev/prod")


def placeholders(config: EnvironmentConfig) -> list[str]:
    """Config keys still holding a `replace-with-...` value."""
    return [f"`{key}` = {value!r}" for key, value in _leaves(config, "") if isinstance(value, str) and value.startswith(PLACEHOLDER)]


def check_config(config: EnvironmentConfig) -> None:
    found = placeholders(config)
    if found:
        raise DeployError(f"config/{config.environment}.json still has placeholder {', '.join(found)}: set the real value first")


def check_sdk_versions() -> None:
    for package, (low, high) in SDK_VERSIONS.items():
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            raise DeployError(f"{package} is not installed: pip install -e '.[deploy]'") from None
        major = int(version.split(".")[0])
        if not low <= major < high:
            raise DeployError(f"{package} {version} is installed, deploy is tested with {low}.x: pip install -e '.[deploy]'")


def check_credential(credential: Any, scope: str) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    try:
        credential.get_token(scope)
    except ClientAuthenticationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeployError(f"no usable Azure credentials ({first}): run `az login` or set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
                          "AZURE_CLIENT_SECRET, or run where a managed identity is available") from None


def check_odbc() -> None:
    """pyodbc importable and the ODBC Driver 18 registered, before anything is written."""
    try:
        import pyodbc  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DeployError(f"Synapse needs pyodbc ({exc}): pip install -e '.[deploy]' (and unixODBC: apt-get install unixodbc)") from None
    if ODBC_DRIVER not in pyodbc.drivers():
        raise DeployError(f"Synapse needs the Microsoft {ODBC_DRIVER}: install msodbcsql18 "
                          "(learn.microsoft.com: Install the Microsoft ODBC driver for SQL Server (Linux)), or deploy with --only")


def check_secrets(secret_client: Any, names: list[str]) -> dict[str, str]:
    """Every named Key Vault secret exists (one GET each); returns their values (never logged)."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    values: dict[str, str] = {}
    missing = []
    for name in sorted(set(names)):
        try:
            values[name] = secret_client.get_secret(name).value or ""
        except ResourceNotFoundError:
            missing.append(name)
        except AzureError as exc:
            raise DeployError(f"reading Key Vault secret `{name}` failed: {azure_reason(exc)}") from exc
    if missing:
        raise DeployError(f"Key Vault `{secret_client.vault_url}` lacks secret(s) {', '.join(missing)}: "
                          f"az keyvault secret set --vault-name <vault> --name {missing[0]} --value ...")
    return values


def key_vault_secret_names(bodies: list[dict[str, Any]]) -> list[str]:
    """Secret names the factory's resources read through AzureKeyVaultSecret references (expressions skipped)."""
    return sorted({name for body in bodies for name in _secret_names(body) if not name.startswith("@")})


def _secret_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "AzureKeyVaultSecret" and isinstance(node.get("secretName"), str):
            yield node["secretName"]
        for value in node.values():
            yield from _secret_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _secret_names(value)


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            head, *rest = field.name.split("_")
            key = head + "".join(p.capitalize() for p in rest)
            yield from _leaves(getattr(node, field.name), f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, tuple):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{prefix}[{index}]")
    else:
        yield prefix, node
