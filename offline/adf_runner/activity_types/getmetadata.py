"""The Get Metadata activity over file datasets (Blob Storage, ADLS Gen2), against the local folder or Azurite, and
over Synapse SQL tables on the local Synapse (getmetadata_sql.py).

Rules, from Microsoft Learn "Get Metadata activity" (https://learn.microsoft.com/azure/data-factory/
control-flow-get-metadata-activity) unless noted:
- fieldList takes itemName, itemType, size, created, lastModified, childItems, contentMD5, structure, columnCount,
  exists. The "Supported connectors" rows of Azure Blob storage and ADLS Gen2 mark `created` as not supported, so it
  fails here as it cannot succeed there.
- size, contentMD5, structure and columnCount apply to files; childItems to folders ("Applicable only to ..."): a field
  that does not apply to the item is left out of the output. lastModified applies to a blob and a container but "not
  to the virtual folder" of Blob storage; ADLS Gen2 folders have one, which the flat local stand-ins cannot give, so
  that case is refused by name.
- structure and columnCount "are not supported when getting metadata from Binary, JSON, or XML files"; a delimited
  text file without firstRowAsHeader has the columns Prop_0, Prop_1, ... (formats.py), all String. Parquet columns
  carry the interim type names of Learn "Schema and data type mapping in copy activity".
- exists: with `exists` in the list, a missing item is `{"exists": false}` and the activity succeeds; without it the
  activity fails (UserErrorSourceBlobNotExist, "The required Blob is missing", as the Blob connector words it). A Blob
  folder exists when a blob lies under it (flat namespace: folders are virtual).
- "Wildcard filter on folders/files is not supported for Get Metadata activity".
- modifiedDatetimeStart/End filter the childItems: "includes only the files ... modified within the specified range
  but not folders".
- "The maximum size of returned metadata is 4 MB."
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.activity_types.base import ActivityCall, ActivityType
from offline.adf_runner.activity_types.getmetadata_sql import check_sql_dataset, sql_metadata
from offline.adf_runner.activity_types.lookup import SQL_DATASET_TYPES
from offline.adf_runner.datasets import (
    DatasetAccessError,
    FileDataset,
    check_file_dataset,
    child_items,
    file_format,
    read_settings,
    resolve_file_dataset,
)
from offline.adf_runner.datasets.settings import check_source_settings
from offline.adf_runner.errors import ActivityFailed, RunnerError, UnsupportedActivityFeatureError
from offline.adf_runner.expressions import is_expression
from offline.adf_runner.factory import Activity, Factory, Pipeline

if TYPE_CHECKING:
    from activities.common.storage import BlobInfo, Storage

__all__ = ["FIELDS", "GetMetadataActivity", "check_dataset", "resolve_dataset"]

FIELDS = ("itemName", "itemType", "size", "created", "lastModified", "childItems", "contentMD5", "structure",
          "columnCount", "exists")
FILE_ONLY = frozenset({"size", "contentMD5", "structure", "columnCount"})
MAX_OUTPUT_BYTES = 4 * 1024 * 1024
MISSING = "UserErrorSourceBlobNotExist"
INVALID = "InvalidActivityDefinition"
# Learn, "Schema and data type mapping in copy activity", interim data types; keyed by Arrow type id.
_INTERIM_TYPES = {
    "bool": "Boolean", "int8": "SByte", "int16": "Int16", "int32": "Int32", "int64": "Int64", "uint8": "Byte",
    "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "halffloat": "Single", "float": "Single",
    "double": "Double", "string": "String", "large_string": "String", "binary": "Byte[]", "large_binary": "Byte[]",
    "fixed_size_binary": "Byte[]", "date32": "DateTime", "date64": "DateTime", "time32": "TimeSpan",
    "time64": "TimeSpan", "decimal128": "Decimal", "decimal256": "Decimal", "timestamp": "DateTime",
    "timestamp_tz": "DateTimeOffset",
}


def dataset_reference(activity: Activity) -> str | None:
    """The literal referenceName of typeProperties.dataset (None when it is an expression)."""
    reference = get_property(activity.type_properties, "dataset")
    name = get_property(reference, "referenceName") if isinstance(reference, Mapping) else None
    return name if isinstance(name, str) and not is_expression(name) else None


def check_dataset(activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
    """Before the run (GetMetadata, Delete): the literal dataset is a file dataset the runner reads, and storeSettings
    and formatSettings hold only what it honours, checked as a source's are (datasets/settings.py): both activities
    read the dataset as a source does."""
    name = dataset_reference(activity)
    if name is None:
        return
    dataset = factory.dataset(name)
    if dataset.type in SQL_DATASET_TYPES:
        check_sql_dataset(dataset, factory, activity.name, pipeline.name)
        return
    check_file_dataset(dataset, factory, activity.name, pipeline.name)
    location_type = str(get_property(get_property(dataset.type_properties, "location"), "type"))
    properties = activity.type_properties
    source = {"type": f"{dataset.type}Source", "storeSettings": get_property(properties, "storeSettings"),
              "formatSettings": get_property(properties, "formatSettings")}
    check_source_settings(source, dataset.name, dataset.type, location_type, activity.name, pipeline.name)


class GetMetadataActivity(ActivityType):
    type_name = "GetMetadata"

    @classmethod
    def validate(cls, activity: Activity, pipeline: Pipeline, factory: Factory) -> None:
        check_dataset(activity, pipeline, factory)

    def run(self, call: ActivityCall) -> Any:
        where = f"activity `{call.activity.name}`"
        fields = _fields(call)
        reference = call.require("dataset", dict, 'a dataset reference {"referenceName": ...}')
        definition = call.engine.factory.dataset(str(get_property(reference, "referenceName")))
        if definition.type in SQL_DATASET_TYPES:
            check_sql_dataset(definition, call.engine.factory, call.activity.name, call.scope.run.pipeline.name)
            return sql_metadata(call, definition, get_property(reference, "parameters") or {}, fields)
        dataset = resolve_dataset(call)
        if "created" in fields:
            raise ActivityFailed(INVALID, f"{where}: metadata `created` is not supported for {_connector(dataset)} "
                                          "(Learn, Get Metadata activity, Supported connectors); use lastModified")
        settings = _settings(call, dataset, where)
        services = call.engine.services
        if services is None:
            raise RunnerError("the engine has no RunnerServices: GetMetadata needs the linked services' storage")
        storage = services.open_storage(dataset.location.linked_service)
        location = dataset.location
        if location.file_name:
            item = _file(storage, dataset)
        else:
            item = _folder(storage, dataset)
        if item is None:
            if "exists" in fields:
                return {"exists": False}
            raise ActivityFailed(MISSING, f"The required Blob is missing. Container: {location.container}, path: "
                                          f"{location.path or '(root)'} ({where}, dataset `{dataset.name}`)")
        output: dict[str, Any] = {}
        for field in fields:
            value = item.field(field, call, dataset, storage, settings)
            if value is not _ABSENT:
                output[field] = value
        size = len(json.dumps(output).encode("utf-8"))
        if size > MAX_OUTPUT_BYTES:
            raise ActivityFailed(INVALID, f"{where}: the metadata is {size} bytes; Get Metadata returns at most 4 MB: "
                                          "filter the folder (modifiedDatetimeStart/End) or point at a smaller one")
        return output


_ABSENT = object()


def _fields(call: ActivityCall) -> list[str]:
    fields = call.require("fieldList", list, "a list of metadata field names")
    for field in fields:
        if field not in FIELDS:
            raise ActivityFailed(INVALID, f"activity `{call.activity.name}`: fieldList entry {field!r} is not a Get "
                                          f"Metadata field; use {', '.join(FIELDS)}")
    return list(dict.fromkeys(fields))


def resolve_dataset(call: ActivityCall) -> FileDataset:
    """The file dataset typeProperties.dataset names (GetMetadata, Delete), with its expressions evaluated."""
    reference = call.require("dataset", dict, 'a dataset reference {"referenceName": ...}')
    factory = call.engine.factory
    dataset = factory.dataset(str(get_property(reference, "referenceName")))
    check_file_dataset(dataset, factory, call.activity.name, call.scope.run.pipeline.name)
    try:
        return resolve_file_dataset(dataset, get_property(reference, "parameters") or {}, call.state)
    except DatasetAccessError as exc:
        raise ActivityFailed(INVALID, f"activity `{call.activity.name}`: {exc.message}") from exc


def _settings(call: ActivityCall, dataset: FileDataset, where: str) -> Any:
    store = get_property(call.inputs, "storeSettings")
    try:
        settings = read_settings(store if isinstance(store, Mapping) else None, where)
    except DatasetAccessError as exc:
        raise ActivityFailed(INVALID, exc.message) from exc
    wildcard = settings.wildcard_folder or settings.wildcard_file or any(c in dataset.location.path for c in "*?")
    if wildcard:
        raise ActivityFailed(INVALID, f"{where}: Wildcard filter on folders/files is not supported for Get Metadata "
                                      "activity (Learn): name one file or folder, and filter childItems with a Filter")
    return settings


class _Item:
    """The file or folder a dataset names, with what the storage tells about it."""

    def __init__(self, kind: str, name: str, blob: BlobInfo | None = None, children: list[BlobInfo] | None = None) -> None:
        self.kind, self.name, self.blob, self.children = kind, name, blob, children or []

    def field(self, field: str, call: ActivityCall, dataset: FileDataset, storage: Storage, settings: Any) -> Any:
        if field == "exists":
            return True
        if field == "itemName":
            return self.name
        if field == "itemType":
            return self.kind
        if field == "childItems":
            return _children(self.children, dataset, settings) if self.kind == "Folder" else _ABSENT
        if field in FILE_ONLY and self.kind != "File":
            return _ABSENT
        if field == "lastModified":
            return self._last_modified(call, dataset)
        assert self.blob is not None
        if field == "size":
            return self.blob.size
        data = storage.read_bytes(dataset.location.container, self.blob.path)
        if field == "contentMD5":
            return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")  # noqa: S324 - the blob's Content-MD5
        structure = _structure(data, dataset, f"activity `{call.activity.name}`")
        return structure if field == "structure" else len(structure)

    def _last_modified(self, call: ActivityCall, dataset: FileDataset) -> Any:
        if self.blob is not None:
            return _timestamp(self.blob.last_modified)
        if dataset.location.location_type == "AzureBlobStorageLocation" and dataset.location.folder_path:
            return _ABSENT  # Learn: "not to the virtual folder"
        what = "an ADLS Gen2 folder" if dataset.location.folder_path else "a container"
        raise UnsupportedActivityFeatureError(
            call.activity.name, call.scope.run.pipeline.name, f"lastModified of {what} (`{dataset.location.describe()}`)",
            "lastModified of files; the local stand-ins (a folder, Azurite) keep no folder or container times",
        )


def _file(storage: Storage, dataset: FileDataset) -> _Item | None:
    location = dataset.location
    blob = next((b for b in storage.list_blobs(location.container, location.path) if b.path == location.path), None)
    return None if blob is None else _Item("File", location.file_name, blob)


def _folder(storage: Storage, dataset: FileDataset) -> _Item | None:
    location = dataset.location
    prefix = f"{location.folder_path}/" if location.folder_path else ""
    blobs = list(storage.list_blobs(location.container, prefix))
    if not blobs:
        return None
    name = location.folder_path.rpartition("/")[2] if location.folder_path else location.container
    return _Item("Folder", name, children=blobs)


def _children(blobs: list[BlobInfo], dataset: FileDataset, settings: Any) -> list[dict[str, str]]:
    folder = dataset.location.folder_path
    filtered = settings.modified_start is not None or settings.modified_end is not None
    if filtered:  # files directly in the folder, modified within the window; no folders
        prefix = f"{folder}/" if folder else ""
        blobs = [b for b in blobs if "/" not in b.path[len(prefix):] and _within(b.last_modified, settings)]
    return [{"name": item.name, "type": item.type} for item in child_items(blobs, folder)]


def _within(moment: datetime, settings: Any) -> bool:
    if settings.modified_start is not None and moment < settings.modified_start:
        return False
    return settings.modified_end is None or moment < settings.modified_end


def _structure(data: bytes, dataset: FileDataset, where: str) -> list[dict[str, str]]:
    if dataset.format not in ("Parquet", "DelimitedText"):
        raise ActivityFailed(INVALID, f"{where}: structure and columnCount are not supported for {dataset.format} files "
                                      "(Learn, Get Metadata activity: not for Binary, JSON or XML)")
    try:
        rows = file_format(dataset.format, dataset.properties, None, dataset.name).read(data, f"dataset `{dataset.name}`")
    except DatasetAccessError as exc:
        raise ActivityFailed(INVALID, f"{where}: {exc.message}") from exc
    if rows.arrow is None:
        return [{"name": column, "type": "String"} for column in rows.columns]
    columns = []
    for arrow_field in rows.arrow.schema:
        kind = _INTERIM_TYPES.get(_type_name(arrow_field.type))
        if kind is None:
            raise ActivityFailed(INVALID, f"{where}: column `{arrow_field.name}` of dataset `{dataset.name}` is of type "
                                          f"{arrow_field.type}, which has no interim data type of copy activity")
        columns.append({"name": arrow_field.name, "type": kind})
    return columns


def _type_name(arrow_type: Any) -> str:
    """The Arrow type's family name (`timestamp[us, tz=UTC]` -> timestamp, `decimal128(10, 2)` -> decimal128)."""
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type):
        return "timestamp_tz" if arrow_type.tz else "timestamp"
    return str(arrow_type).split("[")[0].split("(")[0]


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _connector(dataset: FileDataset) -> str:
    return "Azure Blob storage" if dataset.location.location_type == "AzureBlobStorageLocation" else "ADLS Gen2"
