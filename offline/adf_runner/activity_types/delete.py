"""The Delete activity over file datasets (Blob Storage, ADLS Gen2), against the local folder or Azurite.

Rules, from Microsoft Learn "Delete Activity in Azure Data Factory" (https://learn.microsoft.com/azure/data-factory/
delete-activity) unless noted:
- The dataset names a file, a folder, or files by wildcard (`fileName` like `*.txt` in the dataset, or
  storeSettings.wildcardFileName); `recursive` (storeSettings, or typeProperties in the older syntax) defaults to
  false: only the folder's own files go, true deletes the subfolders' files as well (the folder itself goes with its
  last blob: Blob folders are virtual). "Delete activity does not support deleting list of folders described by
  wildcard": a wildcard in wildcardFolderPath fails.
- modifiedDatetimeStart/End select the files by last modified time (the connector's filter, datasets/listing.py).
- maxConcurrentConnections: "The number of the connections to connect to storage store concurrently", default 1.
- Nothing to delete is "The required Blob is missing" (the Blob connector's words), which fails the activity.
- enableLogging with logStorageSettings (an Azure Storage or ADLS Gen2 linked service and a path) writes the log file:
  one row per file with the columns Name, Category, Status, Error ("Sample log file of the Delete activity"). It goes
  in a folder named by the activity run id under `path`, as the sample `logPath` (ending in a GUID) shows; the file's
  own name there is ours, Learn does not give it. Without `path` "the service creates a container for you" whose name
  Learn does not give either, so that is refused by name rather than guessed.
- The output has the fields of "Sample output of the Delete activity": datasetName, type, the dataset's location
  properties (there the S3 `bucketName`/`prefix`; here `container` or `fileSystem`, `folderPath`, `fileName`),
  recursive, isWildcardUsed, maxConcurrentConnections, filesDeleted, logPath (when logging), effectiveIntegrationRuntime,
  executionDuration.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from activities.common.errors import StorageError
from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.activity_types.getmetadata import INVALID, MISSING, check_dataset, resolve_dataset
from offline.adf_runner.datasets import (
    LOCATION_TYPES,
    DatasetAccessError,
    FileDataset,
    ReadSettings,
    SourceFile,
    read_settings,
    select_files,
)
from offline.adf_runner.errors import ActivityDefinitionError, ActivityFailed, RunnerError, UnsupportedActivityFeatureError
from offline.adf_runner.expressions import is_expression
from offline.adf_runner.factory import Activity, Factory, Pipeline

if TYPE_CHECKING:
    from activities.common.storage import Storage

__all__ = ["DeleteActivity"]

DEFAULT_CONNECTIONS = 1
LOG_COLUMNS = ("Name", "Category", "Status", "Error")
# Learn: the log goes to "Azure Storage ... Azure Data Lake Storage Gen1, or Azure Data Lake Storage Gen2"; Gen1 has
# no stand-in here.
LOG_LINKED_SERVICE_TYPES = ("AzureBlobStorage", "AzureBlobFS")
EFFECTIVE_RUNTIME = "local (folder or Azurite)"
DELETE_FAILED = "DeleteActivityFailed"


class DeleteActivity(ActivityType):
    type_name = "Delete"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        check_dataset(activity, pipeline, factory)
        properties = activity.type_properties

        def refuse(problem: str) -> ActivityDefinitionError:
            return ActivityDefinitionError(activity.name, pipeline.name, problem)

        connections = _connections_setting(properties)
        if connections is not None and not is_expression(connections) and not _positive_int(connections):
            raise refuse(f"maxConcurrentConnections {connections!r} must be an integer of at least 1")
        if get_property(properties, "enableLogging") is not True:
            return
        log = get_property(properties, "logStorageSettings")
        reference = get_property(log, "linkedServiceName") if isinstance(log, Mapping) else None
        log_service = get_property(reference, "referenceName") if isinstance(reference, Mapping) else None
        if not isinstance(log_service, str):
            raise refuse("enableLogging is true: give logStorageSettings.linkedServiceName, the storage the log goes to")
        service_type = factory.linked_service(log_service).type
        if service_type not in LOG_LINKED_SERVICE_TYPES:
            raise refuse(f"logStorageSettings.linkedServiceName `{log_service}` is of type `{service_type}`; the log goes "
                         f"to {' or '.join(LOG_LINKED_SERVICE_TYPES)}")
        if not get_property(log, "path"):
            raise UnsupportedActivityFeatureError(
                activity.name, pipeline.name, "logging without logStorageSettings.path (ADF creates a container whose "
                "name Learn does not give)", "logStorageSettings.path = \"<container>/<folder>\"",
            )

    def run(self, call: ActivityCall) -> Any:
        where = f"activity `{call.activity.name}`"
        started = time.monotonic()
        services = call.engine.services
        if services is None:
            raise RunnerError("the engine has no RunnerServices: Delete needs the linked services' storage")
        dataset = resolve_dataset(call)
        plan = _plan(call, dataset, where)
        storage = services.open_storage(dataset.location.linked_service)
        try:
            files = select_files(storage, dataset.location, plan.settings)
        except DatasetAccessError as exc:
            raise ActivityFailed(MISSING, f"{where}: {exc.message}") from exc
        outcomes = _delete(storage, dataset.location.container, files, plan.connections)
        output: dict[str, Any] = {"datasetName": dataset.name, "type": dataset.format, **_location(dataset),
                                  "recursive": plan.settings.recursive, "isWildcardUsed": plan.wildcard,
                                  "maxConcurrentConnections": plan.connections,
                                  "filesDeleted": sum(1 for _, error in outcomes if error is None)}
        if get_property(call.inputs, "enableLogging") is True:
            output["logPath"] = _write_log(call, outcomes)
        output["effectiveIntegrationRuntime"] = EFFECTIVE_RUNTIME
        output["executionDuration"] = round(time.monotonic() - started)
        failed = [(path, error) for path, error in outcomes if error is not None]
        if failed:
            path, error = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            raise ActivityFailed(DELETE_FAILED, f"{where}: could not delete {path}: {error}{more}", output=output)
        return output


@dataclass(frozen=True)
class _Plan:
    settings: ReadSettings
    wildcard: bool
    connections: int


def _plan(call: ActivityCall, dataset: FileDataset, where: str) -> _Plan:
    store = get_property(call.inputs, "storeSettings")
    store = store if isinstance(store, Mapping) else {}
    try:
        read = read_settings(store, where)
    except DatasetAccessError as exc:
        raise ActivityFailed(INVALID, exc.message) from exc
    if read.wildcard_folder is not None and re.search(r"(?<!\^)[*?]", read.wildcard_folder):
        raise ActivityFailed(INVALID, f"{where}: storeSettings.wildcardFolderPath {read.wildcard_folder!r}: Delete "
                                      "activity does not support deleting list of folders described by wildcard (Learn)")
    recursive = get_property(store, "recursive", get_property(call.inputs, "recursive", False))
    if not isinstance(recursive, bool):
        raise ActivityFailed(INVALID, f"{where}: recursive must be true or false, got {recursive!r}")
    file_wildcard = read.wildcard_file
    if file_wildcard is None and re.search(r"(?<!\^)[*?]", dataset.location.file_name):
        file_wildcard = dataset.location.file_name  # a dataset fileName like `*.txt` (Learn's examples table)
    connections = _connections_setting(call.inputs)
    connections = DEFAULT_CONNECTIONS if connections is None else connections
    if not _positive_int(connections):
        raise ActivityFailed(INVALID, f"{where}: maxConcurrentConnections {connections!r} must be an integer of at least 1")
    settings = ReadSettings(recursive=recursive, wildcard_folder=read.wildcard_folder, wildcard_file=file_wildcard,
                            prefix=read.prefix, modified_start=read.modified_start, modified_end=read.modified_end)
    wildcard = file_wildcard is not None or read.wildcard_folder is not None
    return _Plan(settings, wildcard, int(connections))


def _connections_setting(properties: Mapping[str, Any]) -> Any:
    """maxConcurrentConnections: in storeSettings (current syntax) or directly in typeProperties (older syntax)."""
    store = get_property(properties, "storeSettings")
    found = get_property(store, "maxConcurrentConnections") if isinstance(store, Mapping) else None
    return found if found is not None else get_property(properties, "maxConcurrentConnections")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _delete(storage: Storage, container: str, files: list[SourceFile], connections: int) -> list[tuple[str, str | None]]:
    """Delete `files` over `connections` parallel connections; (path, error or None) per file, in name order."""

    def remove(file: SourceFile) -> tuple[str, str | None]:
        try:
            storage.delete(container, file.path)
        except StorageError as exc:
            return file.path, str(exc)
        return file.path, None

    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="delete") as pool:
        return list(pool.map(remove, files))


def _location(dataset: FileDataset) -> dict[str, str]:
    location = dataset.location
    container_key = LOCATION_TYPES[location.location_type][1]
    shown = {container_key: location.container, "folderPath": location.folder_path, "fileName": location.file_name}
    return {key: value for key, value in shown.items() if value}


def _write_log(call: ActivityCall, outcomes: list[tuple[str, str | None]]) -> str:
    """Write the log file; return its folder as `logPath` (the storage's URL when the linked service names one)."""
    services = call.engine.services
    assert services is not None
    log = get_property(call.inputs, "logStorageSettings")
    name = str(get_property(get_property(log, "linkedServiceName"), "referenceName"))
    container, _, folder = str(get_property(log, "path")).strip("/").partition("/")
    run_folder = "/".join(part for part in (folder.strip("/"), call.activity_run_id) if part)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(LOG_COLUMNS)
    for path, error in outcomes:
        writer.writerow((path, "File", "Deleted" if error is None else "Failed", error or ""))
    storage = services.open_storage(name)
    try:
        storage.write_bytes(container, f"{run_folder}/{call.activity_run_id}.csv", text.getvalue().encode("utf-8"))
    except StorageError as exc:
        raise ActivityFailed(DELETE_FAILED, f"activity `{call.activity.name}`: the files were deleted but the log "
                                            f"could not be written to `{name}`: {exc}") from exc
    return _url(call.engine.factory.linked_service(name).type_properties, f"{container}/{run_folder}")


def _url(properties: Mapping[str, Any], path: str) -> str:
    """`path` under the account's endpoint: serviceEndpoint (or ADLS Gen2 url) when the linked service holds one in
    clear, else the container path (a connection string is a secret: never echoed)."""
    endpoint = get_property(properties, "serviceEndpoint") or get_property(properties, "url")
    if isinstance(endpoint, str) and endpoint:
        return f"{endpoint.rstrip('/')}/{path}"
    return path
