"""The storage an AzureBlobFS (ADLS Gen2) linked service stands for, as the AzureBlobStorage one the activities'
storage opener (activities.common.storage.open_storage) understands.

ADLS Gen2 is Blob Storage with a hierarchical namespace: the same account answers on its blob endpoint, so the local
stand-ins (a folder, Azurite, which has no dfs endpoint) serve it through the blob API. Learn,
connector-azure-data-lake-storage, "Linked service properties": `url` (https://<account>.dfs.core.windows.net) with
account key (`accountKey`), or managed identity. Locally `url` may be a folder (file:///abs/path) or Azurite's blob
endpoint (http://127.0.0.1:<port>/<account>) with `accountKey`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from factory_deploy.json_keys import get_property
from offline.adf_runner.errors import RunnerError
from offline.adf_runner.factory import LinkedService

__all__ = ["as_blob_linked_service"]

_DFS_HOST = re.compile(r"^(?P<account>[a-z0-9]+)\.dfs\.(?P<suffix>core\.windows\.net|core\.chinacloudapi\.cn)$")


def as_blob_linked_service(linked_service: LinkedService) -> LinkedService:
    """`linked_service` itself unless it is an AzureBlobFS one, which becomes the AzureBlobStorage linked service of
    the same account (what open_storage opens). A connection string written as ADF's SecureString object (Learn,
    connector-azure-blob-storage, account key authentication) is handed on as its value."""
    if linked_service.type != "AzureBlobFS":
        connection = get_property(linked_service.type_properties, "connectionString")
        if isinstance(connection, Mapping) and get_property(connection, "type") == "SecureString":
            revealed = {**linked_service.type_properties, "connectionString": _account_key(connection, linked_service.name)}
            return dataclasses.replace(linked_service, type_properties=revealed)
        return linked_service
    name = linked_service.name
    url = get_property(linked_service.type_properties, "url")
    if not isinstance(url, str) or not url:
        raise RunnerError(f"linked service `{name}` (AzureBlobFS) needs typeProperties.url: https://<account>.dfs.core."
                          "windows.net, or locally file:///abs/path or Azurite's http://127.0.0.1:<port>/<account>")
    parts = urlsplit(url)
    key = _account_key(get_property(linked_service.type_properties, "accountKey"), name)
    if parts.scheme == "file":
        properties: dict[str, Any] = {"serviceEndpoint": url}
    elif parts.scheme == "https" and _DFS_HOST.match(parts.hostname or ""):
        match = _DFS_HOST.match(parts.hostname or "")
        assert match is not None
        endpoint = f"https://{match['account']}.blob.{match['suffix']}/"
        properties = ({"connectionString": f"DefaultEndpointsProtocol=https;AccountName={match['account']};AccountKey={key};"
                                           f"EndpointSuffix={match['suffix']}"} if key else {"serviceEndpoint": endpoint})
    elif parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and key:
        account = parts.path.strip("/").split("/")[0]
        properties = {"connectionString": f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
                                          f"BlobEndpoint={url.rstrip('/')};"}
    else:
        raise RunnerError(f"linked service `{name}` (AzureBlobFS) has url {url!r}: the local runner opens "
                          "https://<account>.dfs.core.windows.net, file:///abs/path, or http://127.0.0.1:<port>/<account> "
                          "with accountKey (Azurite)")
    return dataclasses.replace(linked_service, type="AzureBlobStorage", type_properties=properties)


def _account_key(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and get_property(value, "type") == "SecureString":
        return str(get_property(value, "value"))
    raise RunnerError(f"linked service `{name}` (AzureBlobFS): accountKey from Key Vault is not supported locally; "
                      "override it with a SecureString for local runs")
