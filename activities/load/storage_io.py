"""Storage and snapshot-marker access shared by the load activities."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from activities.common.context import ActivityContext
from activities.common.errors import BlobNotFoundError
from activities.common.secrets import open_secret_store
from activities.common.storage import Storage, open_storage
from activities.load.config import LoadConfig
from activities.load.errors import SnapshotMarkerError


def open_load_storage(context: ActivityContext, config: LoadConfig) -> Storage:
    """Storage behind ``storageLinkedService``; a Key Vault connection string is resolved as ADF would."""
    linked_service = context.linked_service(config.storage_linked_service)
    connection = linked_service.type_properties.get("connectionString")
    secrets = None
    if isinstance(connection, Mapping) and connection.get("type") == "AzureKeyVaultSecret":
        store = connection.get("store")
        reference = store.get("referenceName") if isinstance(store, Mapping) else None
        if isinstance(reference, str):
            secrets = open_secret_store(context.linked_service(reference))
    return open_storage(linked_service, secrets)


def read_marker(storage: Storage, config: LoadConfig) -> dict[str, Any]:
    """The curated snapshot marker (JSON object) the trigger fired on."""
    try:
        data = storage.read_bytes(config.marker_container, config.marker_path)
    except BlobNotFoundError as exc:
        raise SnapshotMarkerError(
            config.marker_blob, "not found: the transform writes it after every table of the snapshot is published"
        ) from exc
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotMarkerError(config.marker_blob, f"is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise SnapshotMarkerError(config.marker_blob, "must hold a JSON object")
    return body


def marker_tables(marker: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Tables the marker lists, each with what it says about them (rows, files), by table name.

    Accepts ``"tables": {"tracks": {"rows": …}}`` and ``"tables": [{"table": "tracks", "rows": …}]``.
    """
    tables = marker.get("tables")
    if isinstance(tables, Mapping):
        return {str(name): dict(info) if isinstance(info, Mapping) else {} for name, info in tables.items()}
    if isinstance(tables, list):
        found = {}
        for entry in tables:
            if isinstance(entry, Mapping):
                name = entry.get("table", entry.get("name"))
                if isinstance(name, str):
                    found[name] = dict(entry)
            elif isinstance(entry, str):
                found[entry] = {}
        return found
    return {}


__all__ = ["marker_tables", "open_load_storage", "read_marker"]
