"""Publish a rendered factory, the activity code and the Synapse SQL to Azure (the only module here that talks to Azure)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from env_config import EnvironmentConfig
from factory_deploy.render import RenderedResource

_OPERATIONS = {
    "linkedServices": "linked_services",
    "datasets": "datasets",
    "dataflows": "data_flows",
    "pipelines": "pipelines",
    "triggers": "triggers",
}

Log = Callable[[str], None]


class DeployError(Exception):
    """Publishing failed; the message names the resource and what Azure said."""


def publish_factory(
    config: EnvironmentConfig, factory_body: dict[str, Any], resources: list[RenderedResource], log: Log
) -> None:
    from azure.core.exceptions import AzureError, ResourceNotFoundError
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.datafactory import DataFactoryManagementClient, models

    client = DataFactoryManagementClient(DefaultAzureCredential(), config.factory.subscription_id)
    group, factory = config.factory.resource_group, config.factory.name
    try:
        client.factories.create_or_update(group, factory, models.Factory(factory_body))
        triggers = [r for r in resources if r.folder == "triggers"]
        for trigger in triggers:  # ADF refuses to update a started trigger
            try:
                client.triggers.begin_stop(group, factory, trigger.name).result()
            except ResourceNotFoundError:
                pass
        for resource in resources:
            operations = getattr(client, _OPERATIONS[resource.folder])
            try:
                current = operations.get(group, factory, resource.name).as_dict()
            except ResourceNotFoundError:
                current = None
            if current is not None and _same(current.get("properties"), resource.body["properties"]):
                log(f"unchanged  {resource.folder}/{resource.name}")
                continue
            operations.create_or_update(group, factory, resource.name, {"properties": resource.body["properties"]})
            log(f"published  {resource.folder}/{resource.name}")
        for trigger in triggers:
            client.triggers.begin_start(group, factory, trigger.name).result()
            log(f"started    triggers/{trigger.name}")
    except AzureError as exc:
        raise DeployError(f"publishing factory `{factory}` failed: {exc}") from exc


def upload_activity_code(config: EnvironmentConfig, files: Iterable[tuple[str, Path]], log: Log) -> int:
    from azure.core.exceptions import AzureError
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient(config.storage.blob_endpoint, credential=DefaultAzureCredential())
    container = service.get_container_client(config.storage.code_container)
    count = 0
    try:
        for blob_path, path in files:
            container.upload_blob(blob_path, path.read_bytes(), overwrite=True)
            count += 1
    except AzureError as exc:
        raise DeployError(f"uploading activity code to `{config.storage.code_container}` failed: {exc}") from exc
    log(f"uploaded   {count} activity files to {config.storage.code_container}")
    return count


def run_synapse_scripts(config: EnvironmentConfig, scripts: list[tuple[str, str, str]], log: Log) -> None:
    """Run (database, name, sql) scripts on the serverless endpoint with an Entra ID token over ODBC."""
    try:
        import pyodbc  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DeployError(
            "running Synapse SQL needs pyodbc and the Microsoft ODBC Driver 18: pip install pyodbc, then install msodbcsql18"
        ) from exc
    from azure.identity import DefaultAzureCredential

    token = DefaultAzureCredential().get_token("https://database.windows.net/.default").token.encode("utf-16-le")
    attrs = {1256: struct.pack(f"<I{len(token)}s", len(token), token)}  # SQL_COPT_SS_ACCESS_TOKEN
    for database, name, sql in scripts:
        connection = pyodbc.connect(
            f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{config.synapse.serverless_endpoint},1433;"
            f"Database={database};Encrypt=yes",
            attrs_before=attrs,
            autocommit=True,
        )
        try:
            connection.execute(sql)
        except pyodbc.Error as exc:
            raise DeployError(f"synapse script {name} failed on {database}: {exc}") from exc
        finally:
            connection.close()
        log(f"ran        synapse/{name}")


def _same(current: Any, wanted: Any) -> bool:
    return json.dumps(current, sort_keys=True) == json.dumps(wanted, sort_keys=True)
