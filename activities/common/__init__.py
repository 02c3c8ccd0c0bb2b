"""Shared by every activity (and by the local runner): context, outputs, storage, secrets, logs.

Importing this package is cheap: the Azure SDK is imported only when Azure storage or Key Vault
is actually opened.
"""

from activities.common.context import (
    ActivityContext,
    Dataset,
    LinkedService,
    SecureString,
    load_context,
)
from activities.common.entrypoint import run_activity
from activities.common.errors import (
    ActivityConfigError,
    ActivityError,
    BlobNotFoundError,
    OutputsError,
    SecretNotFoundError,
    SecretStoreError,
    StorageError,
)
from activities.common.logs import get_logger, redact, register_secret
from activities.common.outputs import write_outputs
from activities.common.secrets import (
    EnvironmentSecretStore,
    FolderSecretStore,
    KeyVaultSecretStore,
    SecretStore,
    open_secret_store,
)
from activities.common.storage import (
    AzureBlobStorage,
    BlobInfo,
    LocalFolderStorage,
    Storage,
    open_storage,
)

__all__ = [
    "ActivityConfigError",
    "ActivityContext",
    "ActivityError",
    "AzureBlobStorage",
    "BlobInfo",
    "BlobNotFoundError",
    "Dataset",
    "EnvironmentSecretStore",
    "FolderSecretStore",
    "KeyVaultSecretStore",
    "LinkedService",
    "LocalFolderStorage",
    "OutputsError",
    "SecretNotFoundError",
    "SecretStore",
    "SecretStoreError",
    "SecureString",
    "Storage",
    "StorageError",
    "get_logger",
    "load_context",
    "open_secret_store",
    "open_storage",
    "redact",
    "register_secret",
    "run_activity",
    "write_outputs",
]
