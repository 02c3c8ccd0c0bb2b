"""What activity types need from outside the engine: the working folder and the storages of linked services."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from offline.adf_runner.batch_pool import BatchPool
from offline.adf_runner.datasets.stores import as_blob_linked_service
from offline.adf_runner.errors import RunnerError
from offline.adf_runner.factory import Factory, LinkedService

if TYPE_CHECKING:
    from activities.common.secrets import SecretStore
    from activities.common.storage import Storage

__all__ = ["RunnerServices", "SqlEngine", "SqlOpener", "StorageOpener", "default_storage_opener", "key_vault_store"]

# Opens the storage an AzureBlobStorage linked service (after overrides) points at.
StorageOpener = Callable[[LinkedService, Factory], "Storage"]


class SqlScriptOutcome(Protocol):
    @property
    def result_sets(self) -> list[list[dict[str, Any]]]: ...


class SqlEngine(Protocol):
    """What a Script activity runs its T-SQL batches on (offline.synapse_duckdb.LocalServerlessPool)."""

    def execute_script(self, tsql: str) -> SqlScriptOutcome: ...


# Opens the SQL engine standing in for a SQL linked service (Synapse serverless -> offline.synapse_duckdb on DuckDB).
SqlOpener = Callable[[LinkedService, Factory], SqlEngine]


def _context_linked_service(linked_service: LinkedService) -> Any:
    from activities.common.context import LinkedService as ContextLinkedService

    return ContextLinkedService(
        name=linked_service.name, type=linked_service.type, type_properties=linked_service.type_properties
    )


def key_vault_store(secret: Mapping[str, Any], factory: Factory) -> SecretStore | None:
    """The store an `AzureKeyVaultSecret` reference's `store` linked service points at (None without one), opened
    through `activities.common.secrets.open_secret_store` as the activities open it."""
    from activities.common.secrets import open_secret_store

    store = (secret.get("store") or {}).get("referenceName")
    if not isinstance(store, str):
        return None
    return open_secret_store(_context_linked_service(factory.linked_service(store)))


def default_storage_opener(linked_service: LinkedService, factory: Factory) -> Storage:
    """The contract's `activities.common.storage.open_storage`, with the Key Vault a connection string
    refers to resolved through `key_vault_store`."""
    from activities.common.storage import open_storage

    secrets = None
    for value in linked_service.type_properties.values():
        if isinstance(value, Mapping) and value.get("type") == "AzureKeyVaultSecret":
            secrets = key_vault_store(value, factory)
            break
    return open_storage(_context_linked_service(linked_service), secrets)


@dataclass(frozen=True)
class RunnerServices:
    factory: Factory
    workdir: Path
    storage_opener: StorageOpener = default_storage_opener
    sql_opener: SqlOpener | None = None
    batch_pool: BatchPool = field(default_factory=BatchPool)
    _storages: dict[str, Storage] = field(default_factory=dict, repr=False)
    _sql_engines: dict[str, SqlEngine] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def open_storage(self, linked_service_name: str) -> Storage:
        """The storage of linked service `linked_service_name`, opened once per runner."""
        with self._lock:
            if linked_service_name not in self._storages:
                # ADLS Gen2 is served by the same account's blob endpoint (datasets.stores).
                linked_service = as_blob_linked_service(self.factory.linked_service(linked_service_name))
                self._storages[linked_service_name] = self.storage_opener(linked_service, self.factory)
            return self._storages[linked_service_name]

    def sql_engine(self, linked_service_name: str) -> SqlEngine:
        """The SQL engine of linked service `linked_service_name`, opened once per runner."""
        with self._lock:
            if linked_service_name not in self._sql_engines:
                if self.sql_opener is None:
                    raise RunnerError(
                        f"linked service `{linked_service_name}` is a SQL endpoint but the runner has no SQL engine: "
                        "pass sql_opener to LocalFactoryRunner (e.g. an offline.synapse_duckdb.LocalServerlessPool)"
                    )
                linked_service = self.factory.linked_service(linked_service_name)
                self._sql_engines[linked_service_name] = self.sql_opener(linked_service, self.factory)
            return self._sql_engines[linked_service_name]
