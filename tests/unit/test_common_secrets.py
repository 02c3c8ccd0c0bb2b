"""activities.common.secrets: environment stand-in for Key Vault, and choosing the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities.common import (
    ActivityConfigError,
    EnvironmentSecretStore,
    KeyVaultSecretStore,
    LinkedService,
    SecretNotFoundError,
    SecureString,
    open_secret_store,
    redact,
)


def test_when_the_variable_is_set_then_the_secret_is_read_wrapped_and_registered() -> None:
    # Arrange
    store = EnvironmentSecretStore({"SPOTIFY_CLIENT_SECRET": "env-store-secret-1"})

    # Act
    secret = store.get("spotify-client-secret")

    # Assert
    assert isinstance(secret, SecureString)
    assert secret.reveal() == "env-store-secret-1"
    assert redact("token env-store-secret-1 used") == "token *** used"


def test_when_the_variable_is_missing_then_the_error_names_secret_and_variable() -> None:
    # Arrange
    store = EnvironmentSecretStore({})

    # Act / Assert
    with pytest.raises(SecretNotFoundError, match="secret `spotify-client-secret` not found: set SPOTIFY_CLIENT_SECRET"):
        store.get("spotify-client-secret")


def test_when_no_mapping_is_given_then_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.setenv("MY_API_KEY", "env-store-secret-2")

    # Act
    secret = EnvironmentSecretStore().get("my-api-key")

    # Assert
    assert secret.reveal() == "env-store-secret-2"


def test_when_the_key_vault_base_url_is_env_then_the_environment_store_is_chosen() -> None:
    # Act
    store = open_secret_store(LinkedService("Ls_KeyVault", "AzureKeyVault", {"baseUrl": "env:"}))

    # Assert
    assert isinstance(store, EnvironmentSecretStore)


def test_when_the_key_vault_base_url_is_https_then_the_key_vault_store_is_chosen_without_connecting() -> None:
    # Act
    store = open_secret_store(LinkedService("Ls_KeyVault", "AzureKeyVault", {"baseUrl": "https://kv-x.vault.azure.net/"}))

    # Assert
    assert isinstance(store, KeyVaultSecretStore)
    assert store.vault_url == "https://kv-x.vault.azure.net/"


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (LinkedService("Ls_KeyVault", "AzureBlobStorage", {}), "expected AzureKeyVault"),
        (LinkedService("Ls_KeyVault", "AzureKeyVault", {}), "needs typeProperties.baseUrl"),
        (LinkedService("Ls_KeyVault", "AzureKeyVault", {"baseUrl": "ftp://x"}), "use https://"),
    ],
)
def test_when_the_key_vault_linked_service_is_unusable_then_the_error_names_it(service: LinkedService, message: str) -> None:
    # Act / Assert
    with pytest.raises(ActivityConfigError, match=f"`Ls_KeyVault`.*{message}"):
        open_secret_store(service)


def test_when_the_base_url_is_a_folder_then_secrets_are_files_and_a_written_one_is_read_back(tmp_path: Path) -> None:
    # Arrange
    from activities.common import FolderSecretStore

    store = open_secret_store(LinkedService("Ls_KeyVault", "AzureKeyVault", {"baseUrl": (tmp_path / "kv").as_uri()}))
    assert isinstance(store, FolderSecretStore)

    # Act
    store.set("spotify-refresh-token", SecureString("folder-store-secret-1"))
    secret = store.get("spotify-refresh-token")

    # Assert
    assert secret.reveal() == "folder-store-secret-1"
    assert (tmp_path / "kv" / "spotify-refresh-token").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (tmp_path / "kv").iterdir()] == ["spotify-refresh-token"]  # no temporary left
    assert redact("folder-store-secret-1") == "***"


def test_when_a_folder_secret_is_missing_or_badly_named_then_the_error_names_the_file_or_the_rule(tmp_path: Path) -> None:
    from activities.common import FolderSecretStore

    store = FolderSecretStore(tmp_path)
    with pytest.raises(SecretNotFoundError, match=f"secret `nope` not found: create {tmp_path}/nope"):
        store.get("nope")
    with pytest.raises(ActivityConfigError, match="not a Key Vault secret name"):
        store.get("../etc/passwd")


def test_when_the_env_store_is_asked_to_store_then_it_refuses_naming_the_folder_store() -> None:
    from activities.common import SecretStoreError

    with pytest.raises(SecretStoreError, match="read-only.*file:///<folder>/"):
        EnvironmentSecretStore({}).set("spotify-refresh-token", SecureString("env-store-secret-3"))
