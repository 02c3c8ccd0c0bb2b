"""activities.common.storage: the local folder storage and choosing storage by linked service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from activities.common import (
    ActivityConfigError,
    BlobNotFoundError,
    LinkedService,
    LocalFolderStorage,
    StorageError,
    open_storage,
)


def test_when_bytes_are_written_then_they_land_under_root_container_path(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)

    # Act
    info = storage.write_bytes("raw", "spotify/a/part-00000.json.gz", b"\x1f\x8b data", metadata={"k": "v"})

    # Assert
    assert (tmp_path / "raw" / "spotify" / "a" / "part-00000.json.gz").read_bytes() == b"\x1f\x8b data"
    assert (info.container, info.path, info.size) == ("raw", "spotify/a/part-00000.json.gz", 7)
    assert info.last_modified.tzinfo is not None
    assert storage.read_bytes("raw", "spotify/a/part-00000.json.gz") == b"\x1f\x8b data"
    assert storage.exists("raw", "spotify/a/part-00000.json.gz")
    # Metadata is dropped locally (documented): no sidecar appears next to the blob.
    assert os.listdir(tmp_path / "raw" / "spotify" / "a") == ["part-00000.json.gz"]


def test_when_a_write_fails_midway_then_the_old_blob_is_untouched_and_no_temp_file_remains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("raw", "x.json", b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)

    # Act / Assert
    with pytest.raises(StorageError, match="cannot write raw/x.json: No space left on device"):
        storage.write_bytes("raw", "x.json", b"new")
    monkeypatch.undo()
    assert storage.read_bytes("raw", "x.json") == b"old"
    assert os.listdir(tmp_path / "raw") == ["x.json"]


def test_when_listing_then_blobs_come_sorted_by_path_and_filtered_by_string_prefix(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    for path in ("b/2.json", "a/z.json", "b/1.json", "a-b.json", "c.json"):
        storage.write_bytes("raw", path, path.encode())
    (tmp_path / "raw" / "b" / ".tmp-inflight").write_bytes(b"partial")  # a write in progress

    # Act
    everything = [info.path for info in storage.list_blobs("raw")]
    under_b = [info.path for info in storage.list_blobs("raw", "b/")]
    starting_a = [info.path for info in storage.list_blobs("raw", "a")]

    # Assert
    assert everything == ["a-b.json", "a/z.json", "b/1.json", "b/2.json", "c.json"]
    assert under_b == ["b/1.json", "b/2.json"]
    assert starting_a == ["a-b.json", "a/z.json"]
    assert list(storage.list_blobs("raw", "nothing/here/")) == []
    assert list(storage.list_blobs("absent")) == []


def test_when_deleting_a_missing_blob_then_there_is_no_error(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("raw", "d.json", b"{}")

    # Act
    storage.delete("raw", "d.json")
    storage.delete("raw", "d.json")
    storage.delete("nocontainer", "never/was.json")

    # Assert
    assert not storage.exists("raw", "d.json")


def test_when_reading_a_missing_blob_then_blob_not_found_names_container_and_path(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)

    # Act / Assert
    with pytest.raises(BlobNotFoundError, match="cannot read raw/missing.json") as caught:
        storage.read_bytes("raw", "missing.json")
    assert (caught.value.operation, caught.value.container, caught.value.path) == ("read", "raw", "missing.json")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../outside.json", "'..' segment"),
        ("a/../../outside.json", "'..' segment"),
        ("/etc/passwd", "must be relative"),
        ("a\\b.json", "must be relative"),
        ("C:/x.json", "must be relative"),
        ("a//b.json", "empty segments"),
        ("a/./b.json", "'.' segment"),
        ("", "empty"),
    ],
)
def test_when_a_path_would_escape_or_is_malformed_then_it_is_rejected(tmp_path: Path, path: str, problem: str) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path / "root")

    # Act / Assert
    with pytest.raises(StorageError, match=problem):
        storage.write_bytes("raw", path, b"x")
    with pytest.raises(StorageError):
        storage.read_bytes("raw", path)
    assert not (tmp_path / "outside.json").exists()


@pytest.mark.parametrize("container", ["..", "a/b", "Raw", "x", "", "a--b"])
def test_when_a_container_name_is_invalid_then_it_is_rejected(tmp_path: Path, container: str) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)

    # Act / Assert
    with pytest.raises(StorageError, match="container name"):
        storage.write_bytes(container, "x.json", b"x")


def test_when_a_symlink_leads_out_of_the_container_then_writes_through_it_are_rejected(tmp_path: Path) -> None:
    # Arrange
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root" / "raw").mkdir(parents=True)
    (tmp_path / "root" / "raw" / "link").symlink_to(outside)
    storage = LocalFolderStorage(tmp_path / "root")

    # Act / Assert
    with pytest.raises(StorageError, match="resolves outside"):
        storage.write_bytes("raw", "link/x.json", b"x")
    assert list(outside.iterdir()) == []


def test_when_the_linked_service_is_a_file_uri_then_open_storage_gives_the_local_folder(tmp_path: Path) -> None:
    # Arrange
    root = tmp_path / "with space"
    service = LinkedService("Ls_Storage", "AzureBlobStorage", {"serviceEndpoint": root.as_uri()})

    # Act
    storage = open_storage(service, None)

    # Assert
    assert isinstance(storage, LocalFolderStorage)
    assert storage.root == root


def test_when_the_connection_string_is_a_key_vault_reference_without_a_store_then_the_error_says_so() -> None:
    # Arrange
    service = LinkedService("Ls_Storage", "AzureBlobStorage", {"connectionString": {
        "type": "AzureKeyVaultSecret", "store": {"referenceName": "Ls_KeyVault"}, "secretName": "storage-conn"}})

    # Act / Assert
    with pytest.raises(ActivityConfigError, match="Key Vault secret `storage-conn`, but no secret store"):
        open_storage(service, None)


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (LinkedService("Ls_X", "AzureKeyVault", {}), "expected AzureBlobStorage"),
        (LinkedService("Ls_X", "AzureBlobStorage", {}), "needs typeProperties.serviceEndpoint"),
        (LinkedService("Ls_X", "AzureBlobStorage", {"serviceEndpoint": "file://server/share"}), "file:///absolute/path"),
    ],
)
def test_when_the_linked_service_is_unusable_then_open_storage_names_it(service: LinkedService, message: str) -> None:
    # Act / Assert
    with pytest.raises(ActivityConfigError, match=f"`Ls_X`.*{message}"):
        open_storage(service, None)
