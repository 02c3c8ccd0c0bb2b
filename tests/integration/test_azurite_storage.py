"""AzureBlobStorage against Azurite: the same behaviour the local folder storage promises."""

from __future__ import annotations

import pytest

from activities.common import (
    AzureBlobStorage,
    BlobNotFoundError,
    LinkedService,
    SecureString,
    StorageError,
    open_storage,
)
from activities.common.secrets import EnvironmentSecretStore
from tests.azurite import azurite_connection_string, unique_container  # noqa: F401 - fixture


@pytest.fixture()
def storage(azurite_connection_string: str) -> AzureBlobStorage:  # noqa: F811
    # Few retries: a failing test should fail fast, not back off for a minute.
    return AzureBlobStorage.from_connection_string(SecureString(azurite_connection_string), retry_total=1)


def test_when_writing_to_a_new_container_then_it_is_created_and_the_bytes_read_back(storage: AzureBlobStorage) -> None:
    # Arrange
    container = unique_container()
    data = b"\x00\x01 exact bytes \xff"

    # Act
    info = storage.write_bytes(container, "a/b/part-00000.json.gz", data, metadata={"entity": "albums"})

    # Assert
    assert (info.container, info.path, info.size) == (container, "a/b/part-00000.json.gz", len(data))
    assert info.last_modified.tzinfo is not None
    assert storage.read_bytes(container, "a/b/part-00000.json.gz") == data
    assert storage.exists(container, "a/b/part-00000.json.gz")


def test_when_writing_twice_then_the_second_write_replaces_the_first(storage: AzureBlobStorage) -> None:
    # Arrange
    container = unique_container()
    storage.write_bytes(container, "x.json", b"old")

    # Act
    storage.write_bytes(container, "x.json", b"new")

    # Assert
    assert storage.read_bytes(container, "x.json") == b"new"


def test_when_listing_with_a_prefix_then_matching_blobs_come_sorted_by_path(storage: AzureBlobStorage) -> None:
    # Arrange
    container = unique_container()
    for path in ("b/2.json", "a/z.json", "b/1.json", "a-b.json", "c.json"):
        storage.write_bytes(container, path, path.encode())

    # Act
    everything = [info.path for info in storage.list_blobs(container)]
    under_b = [info.path for info in storage.list_blobs(container, "b/")]
    starting_a = [info.path for info in storage.list_blobs(container, "a")]

    # Assert
    assert everything == ["a-b.json", "a/z.json", "b/1.json", "b/2.json", "c.json"]
    assert under_b == ["b/1.json", "b/2.json"]
    assert starting_a == ["a-b.json", "a/z.json"]
    assert [info.size for info in storage.list_blobs(container, "c")] == [len(b"c.json")]


def test_when_listing_a_container_that_does_not_exist_then_nothing_is_listed(storage: AzureBlobStorage) -> None:
    # Act
    listed = list(storage.list_blobs(unique_container()))

    # Assert
    assert listed == []


def test_when_reading_a_missing_blob_then_blob_not_found_names_it(storage: AzureBlobStorage) -> None:
    # Arrange
    container = unique_container()
    storage.write_bytes(container, "present.json", b"{}")

    # Act / Assert
    with pytest.raises(BlobNotFoundError, match=f"{container}/missing.json") as caught:
        storage.read_bytes(container, "missing.json")
    assert caught.value.operation == "read"
    assert not storage.exists(container, "missing.json")


def test_when_deleting_then_the_blob_is_gone_and_deleting_again_is_no_error(storage: AzureBlobStorage) -> None:
    # Arrange
    container = unique_container()
    storage.write_bytes(container, "d.json", b"{}")

    # Act
    storage.delete(container, "d.json")
    storage.delete(container, "d.json")
    storage.delete(unique_container(), "never/was.json")

    # Assert
    assert not storage.exists(container, "d.json")


def test_when_the_account_key_is_wrong_then_a_storage_error_names_the_operation(
    azurite_connection_string: str,  # noqa: F811
) -> None:
    # Arrange
    bad_key = "A" * 86 + "=="
    start = azurite_connection_string.index("AccountKey=") + len("AccountKey=")
    end = azurite_connection_string.index(";", start)
    wrong = azurite_connection_string[:start] + bad_key + azurite_connection_string[end:]
    storage = AzureBlobStorage.from_connection_string(wrong, retry_total=0)

    # Act / Assert
    with pytest.raises(StorageError, match="cannot write") as caught:
        storage.write_bytes(unique_container(), "x.json", b"{}")
    assert not isinstance(caught.value, BlobNotFoundError)
    assert bad_key not in str(caught.value)


def test_when_a_path_escapes_the_container_then_azure_storage_refuses_it_too(storage: AzureBlobStorage) -> None:
    # Act / Assert
    with pytest.raises(StorageError, match="'..' segment"):
        storage.write_bytes(unique_container(), "a/../../b.json", b"{}")


def test_when_the_linked_service_has_a_key_vault_connection_string_then_open_storage_reaches_azurite(
    azurite_connection_string: str,  # noqa: F811
) -> None:
    # Arrange
    linked_service = LinkedService(
        name="Ls_Storage",
        type="AzureBlobStorage",
        type_properties={
            "connectionString": {
                "type": "AzureKeyVaultSecret",
                "store": {"referenceName": "Ls_KeyVault", "type": "LinkedServiceReference"},
                "secretName": "storage-connection-string",
            }
        },
    )
    secrets = EnvironmentSecretStore({"STORAGE_CONNECTION_STRING": azurite_connection_string})
    container = unique_container()

    # Act
    storage = open_storage(linked_service, secrets)
    storage.write_bytes(container, "via/key-vault.json", b"{}")

    # Assert
    assert isinstance(storage, AzureBlobStorage)
    assert storage.read_bytes(container, "via/key-vault.json") == b"{}"
