"""File datasets as ADF defines them: a format (Json, Parquet, DelimitedText, Binary) at a location
(AzureBlobStorageLocation, AzureBlobFSLocation) reached through a linked service (AzureBlobStorage, AzureBlobFS).

`check_file_dataset` refuses, before anything runs, every type the local runner has no stand-in for, naming it;
`resolve_file_dataset` evaluates the dataset's expressions with its parameters (`@dataset().x`) as ADF does when an
activity uses the dataset. Sources: Learn "Datasets" (concepts-datasets-linked-services), "Copy and transform data
in Azure Blob Storage" (connector-azure-blob-storage, Dataset properties: container, folderPath, fileName) and
"... Azure Data Lake Storage Gen2" (connector-azure-data-lake-storage: fileSystem, folderPath, fileName).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from factory_deploy.json_keys import find_key, get_property
from offline.adf_runner.datasets.errors import DatasetAccessError, UnsupportedDatasetError
from offline.adf_runner.expressions import EvaluationState, evaluate_value
from offline.adf_runner.factory import Dataset, Factory

__all__ = [
    "FILE_FORMATS",
    "LOCATION_TYPES",
    "FileDataset",
    "FileLocation",
    "check_file_dataset",
    "dataset_parameters",
    "evaluate_dataset",
    "resolve_file_dataset",
]

FILE_FORMATS = ("Json", "Parquet", "DelimitedText", "Binary")
# location type -> (linked service type, the key naming the container, storeSettings read/write types)
LOCATION_TYPES: Mapping[str, tuple[str, str, str, str]] = {
    "AzureBlobStorageLocation": ("AzureBlobStorage", "container", "AzureBlobStorageReadSettings", "AzureBlobStorageWriteSettings"),
    "AzureBlobFSLocation": ("AzureBlobFS", "fileSystem", "AzureBlobFSReadSettings", "AzureBlobFSWriteSettings"),
}
_SUPPORTED = (f"{', '.join(FILE_FORMATS)} datasets at {' or '.join(LOCATION_TYPES)} "
              f"({' or '.join(v[0] for v in LOCATION_TYPES.values())} linked services)")


@dataclass(frozen=True)
class FileLocation:
    """Where a file dataset points: `folder_path` without leading/trailing '/', '' for the container root;
    `file_name` '' when the dataset names a folder."""

    linked_service: str
    location_type: str
    container: str
    folder_path: str = ""
    file_name: str = ""

    @property
    def path(self) -> str:
        """The blob path the dataset names (a folder when `file_name` is empty)."""
        return "/".join(part for part in (self.folder_path, self.file_name) if part)

    def describe(self) -> str:
        return f"{self.container}/{self.path}".rstrip("/")


@dataclass(frozen=True)
class FileDataset:
    """A file dataset with its expressions evaluated: `properties` is its evaluated typeProperties."""

    name: str
    format: str
    location: FileLocation
    properties: Mapping[str, Any] = field(default_factory=dict)


def check_file_dataset(dataset: Dataset, factory: Factory, activity: str | None = None, pipeline: str | None = None) -> None:
    """Refuse a dataset that is not a file dataset the runner reads and writes, naming its type."""

    def refuse(problem: str) -> UnsupportedDatasetError:
        return UnsupportedDatasetError(dataset.name, problem, activity, pipeline)

    if dataset.type not in FILE_FORMATS:
        hint = " (a legacy dataset: define it as DelimitedText/Json/Parquet/Binary with a location)" if dataset.type in (
            "AzureBlob", "AzureBlobFSFile") else ""
        raise refuse(f"type `{dataset.type}` is not supported by the local runner{hint}; supported: {_SUPPORTED}")
    location = get_property(dataset.type_properties, "location")
    kind = get_property(location, "type") if isinstance(location, Mapping) else None
    if kind not in LOCATION_TYPES:
        raise refuse(f"location type `{kind}` is not supported by the local runner; supported: {', '.join(LOCATION_TYPES)}")
    linked_service = factory.linked_service(dataset.linked_service_name.name)
    expected = LOCATION_TYPES[str(kind)][0]
    if linked_service.type != expected:
        raise refuse(f"an {kind} needs an {expected} linked service, but `{linked_service.name}` is of type "
                     f"`{linked_service.type}`, which the local runner does not run as storage")
    if linked_service.parameters or dataset.linked_service_name.parameters:
        raise refuse(f"linked service `{linked_service.name}` is parameterized, which the local runner does not support "
                     "(each linked service opens one storage): give it literal values")


def dataset_parameters(dataset: Dataset, given: Mapping[str, Any]) -> dict[str, Any]:
    """The values `@dataset()` sees: declared defaults overridden by the reference's (evaluated) parameters.
    A value for an undeclared parameter or a missing value without default fails naming the parameter."""
    declared = {name.lower(): name for name in dataset.parameters}
    values: dict[str, Any] = {}
    for name, spec in dataset.parameters.items():
        key = find_key(spec, "defaultValue") if isinstance(spec, Mapping) else None
        if key is not None:
            values[name] = spec[key]
    for name, value in given.items():
        if name.lower() not in declared:
            raise DatasetAccessError("Source", f"dataset `{dataset.name}` has no parameter `{name}` "
                                     f"(declared: {', '.join(dataset.parameters) or 'none'})")
        values[declared[name.lower()]] = value
    missing = [name for name in dataset.parameters if name not in values]
    if missing:
        raise DatasetAccessError("Source", f"dataset `{dataset.name}` parameter `{missing[0]}` has no value and no "
                                 "defaultValue: pass it in the dataset reference's parameters")
    return values


def evaluate_dataset(dataset: Dataset, given: Mapping[str, Any], state: EvaluationState) -> Mapping[str, Any]:
    """The dataset's typeProperties with its expressions evaluated. Only `@dataset()` is in scope there, as in ADF
    (a dataset cannot read pipeline() or activity()); the clock is the run's."""
    values = dataset_parameters(dataset, given)
    scope = EvaluationState(dataset=values, now=state.now)
    evaluated = evaluate_value(dict(dataset.type_properties), scope, "typeProperties", where=f"dataset `{dataset.name}`")
    return evaluated if isinstance(evaluated, Mapping) else {}


def resolve_file_dataset(dataset: Dataset, given: Mapping[str, Any], state: EvaluationState, side: str = "Source") -> FileDataset:
    """The file dataset `dataset` as an activity using it with parameters `given` sees it."""
    properties = evaluate_dataset(dataset, given, state)
    location = get_property(properties, "location") or {}
    kind = str(get_property(location, "type"))
    container_key = LOCATION_TYPES[kind][1]
    container = get_property(location, container_key)
    if not isinstance(container, str) or not container:
        raise DatasetAccessError(side, f"dataset `{dataset.name}`: location.{container_key} is empty; name the "
                                 f"{'container' if container_key == 'container' else 'file system'}")
    folder = _text(get_property(location, "folderPath"), dataset.name, "location.folderPath", side).strip("/")
    file_name = _text(get_property(location, "fileName"), dataset.name, "location.fileName", side)
    if "/" in file_name:
        raise DatasetAccessError(side, f"dataset `{dataset.name}`: location.fileName {file_name!r} holds a '/': "
                                 "put the folders in folderPath")
    return FileDataset(dataset.name, dataset.type, FileLocation(dataset.linked_service_name.name, kind, container, folder,
                                                                file_name), properties)


def _text(value: Any, dataset: str, key: str, side: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DatasetAccessError(side, f"dataset `{dataset}`: {key} must be a string, got {value!r}")
    return value
