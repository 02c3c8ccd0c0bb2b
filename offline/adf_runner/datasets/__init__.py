"""File datasets of the local runner: where a dataset points (`model`), which files a source selects (`listing`),
how their formats read and write (`formats`), and the storage an ADLS Gen2 linked service stands for (`stores`).

Shared by the activity types that touch files (Copy, Lookup, GetMetadata, Delete). Typical use in an activity:

    dataset = factory.dataset(reference_name)
    check_file_dataset(dataset, factory, activity.name, pipeline.name)        # in validate(): refuses by name
    resolved = resolve_file_dataset(dataset, reference_parameters, call.state)  # in run(): expressions evaluated
    storage = call.engine.services.open_storage(resolved.location.linked_service)
    files = select_files(storage, resolved.location, read_settings(store_settings, where))
"""

from offline.adf_runner.datasets.errors import DatasetAccessError, UnsupportedDatasetError, storage_errors
from offline.adf_runner.datasets.formats import FileFormat, Rows, file_format, json_value
from offline.adf_runner.datasets.listing import (
    ChildItem,
    ReadSettings,
    SourceFile,
    child_items,
    read_settings,
    select_files,
)
from offline.adf_runner.datasets.model import (
    FILE_FORMATS,
    LOCATION_TYPES,
    FileDataset,
    FileLocation,
    check_file_dataset,
    dataset_parameters,
    evaluate_dataset,
    resolve_file_dataset,
)
from offline.adf_runner.datasets.stores import as_blob_linked_service

__all__ = [
    "FILE_FORMATS",
    "LOCATION_TYPES",
    "ChildItem",
    "DatasetAccessError",
    "FileDataset",
    "FileFormat",
    "FileLocation",
    "ReadSettings",
    "Rows",
    "SourceFile",
    "UnsupportedDatasetError",
    "as_blob_linked_service",
    "check_file_dataset",
    "child_items",
    "dataset_parameters",
    "evaluate_dataset",
    "file_format",
    "json_value",
    "read_settings",
    "resolve_file_dataset",
    "select_files",
    "storage_errors",
]
