"""File datasets on Azurite: an AzureBlobStorage and an AzureBlobFS (ADLS Gen2, account key) linked service reach the
same emulated account, list and read what the other wrote (Learn, connector-azure-data-lake-storage: url +
accountKey; ADLS Gen2 is served through the blob endpoint locally, offline/adf_runner/datasets/stores.py)."""

from __future__ import annotations

from pathlib import Path

from offline.adf_runner.datasets import FileLocation, ReadSettings, Rows, file_format, select_files
from offline.adf_runner.factory import Factory, LinkedService
from offline.adf_runner.services import RunnerServices
from offline.run_local.azurite import ACCOUNT_KEY, ACCOUNT_NAME
from tests.azurite import azurite_connection_string, unique_container  # noqa: F401 - fixture


def _blob_endpoint(connection_string: str) -> str:
    parts = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
    return parts["BlobEndpoint"].rstrip("/")


def test_when_blob_and_adls_linked_services_name_azurite_then_both_list_and_read_the_same_files(
    tmp_path: Path, azurite_connection_string: str  # noqa: F811
) -> None:
    blob = LinkedService("Ls_Blob", "AzureBlobStorage", {"connectionString": azurite_connection_string})
    adls = LinkedService("Ls_Adls", "AzureBlobFS", {"url": _blob_endpoint(azurite_connection_string),
                                                    "accountKey": {"type": "SecureString", "value": ACCOUNT_KEY}})
    assert ACCOUNT_NAME in adls.type_properties["url"]
    factory = Factory(tmp_path, {}, {}, {"Ls_Blob": blob, "Ls_Adls": adls}, {}, {})
    services = RunnerServices(factory, tmp_path)
    container = unique_container("datasets")
    json_format = file_format("Json", {}, None, "Ds")
    services.open_storage("Ls_Blob").write_bytes(container, "in/a/rows.json", json_format.write(Rows(("id",), ({"id": 1},)), "o"))
    services.open_storage("Ls_Adls").write_bytes(container, "in/b.json", b'{"id": 2}')

    location = FileLocation("Ls_Adls", "AzureBlobFSLocation", container, "in")
    storage = services.open_storage("Ls_Adls")
    files = select_files(storage, location, ReadSettings(wildcard_file="*.json"))

    assert [f.relative for f in files] == ["a/rows.json", "b.json"]
    assert [json_format.read(storage.read_bytes(container, f.path), f.path).records for f in files] == [({"id": 1},), ({"id": 2},)]
