"""Blob storage for activities: Azure Blob Storage, or a local folder standing in for it.

Both implement :class:`Storage`. Paths are blob names (``a/b/c.json``) relative to a container;
the local folder lays them out as ``<root>/<container>/<path>``.

Metadata: Azure stores it as blob metadata. The local folder *drops* it (no sidecar files): nothing
in the pipeline reads metadata back, and a sidecar would have to be kept atomic with its blob and
hidden from listings for no reader.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from activities.common.context import LinkedService, SecureString
from activities.common.errors import ActivityConfigError, BlobNotFoundError, StorageError
from activities.common.logs import register_secret
from activities.common.oserrors import describe_os_error

if TYPE_CHECKING:
    from activities.common.secrets import SecretStore

# Azure's rule, enforced locally too so a name that works on this machine works in Azure.
_CONTAINER_RE = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_MAX_PATH = 1024
_TEMP_PREFIX = ".tmp-"  # in-flight local writes; never listed


@dataclass(frozen=True)
class BlobInfo:
    container: str
    path: str
    size: int
    last_modified: datetime


class Storage(Protocol):
    def write_bytes(
        self, container: str, path: str, data: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> BlobInfo: ...

    def read_bytes(self, container: str, path: str) -> bytes: ...

    def exists(self, container: str, path: str) -> bool: ...

    def list_blobs(self, container: str, prefix: str = "") -> Iterator[BlobInfo]: ...

    def delete(self, container: str, path: str) -> None: ...

    def delete_abandoned_writes(self, container: str, prefix: str, before: datetime) -> list[str]:
        """Remove the leftovers of writes that never completed (started before ``before``) under ``prefix``;
        returns their paths. Only a caller that knows no write under ``prefix`` is still in flight may call it."""
        ...


# -- names -----------------------------------------------------------------------------------


def check_container(container: str, operation: str = "access") -> str:
    """Return ``container`` if it is a valid Azure container name, else raise StorageError."""
    if not isinstance(container, str) or not _CONTAINER_RE.match(container):
        raise StorageError(
            f"cannot {operation} in container {container!r}: a container name is 3-63 characters of "
            "lower-case letters, digits and single hyphens",
            operation=operation,
            container=str(container),
            path="",
        )
    return container


def check_path(container: str, path: str, operation: str = "access") -> str:
    """Return ``path`` if it is a safe relative blob name, else raise StorageError.

    Rejected: empty names, absolute paths, backslashes, NUL, empty segments and ``.``/``..`` segments —
    locally any of them could escape the container folder; in Azure they are confusing at best.
    """
    problem = _path_problem(path, allow_partial_last=False)
    if problem:
        raise StorageError(
            f"cannot {operation} {container}/{path!r}: {problem}",
            operation=operation,
            container=container,
            path=str(path),
        )
    return path


def check_prefix(container: str, prefix: str) -> str:
    """Return ``prefix`` if it is a safe listing prefix (a blob path whose last segment may be partial), else raise."""
    problem = _path_problem(prefix, allow_partial_last=True)
    if problem:
        raise StorageError(
            f"cannot list {container}/{prefix!r}: {problem}", operation="list", container=container, path=prefix
        )
    return prefix


def _path_problem(path: str, *, allow_partial_last: bool) -> str | None:
    if not isinstance(path, str):
        return "a blob path must be a string"
    if not path and not allow_partial_last:
        return "the blob path is empty"
    if len(path) > _MAX_PATH:
        return f"the blob path is longer than {_MAX_PATH} characters"
    if path.startswith("/") or "\\" in path or "\x00" in path or re.match(r"^[A-Za-z]:", path):
        return "the blob path must be relative, with '/' separators"
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in (".", ".."):
            return f"the blob path must not contain a {segment!r} segment"
        if not segment and not (last and allow_partial_last):
            return "the blob path must not contain empty segments"
    return None


# -- local folder ------------------------------------------------------------------------------


class LocalFolderStorage:
    """Containers are folders under ``root``; writes are atomic (temp file + ``os.replace``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # Folders whose resolved path was seen inside their container: a run reads thousands of
        # blobs from a few folders, and resolving every path twice cost more than reading it.
        # (A folder swapped for a symlink while this object lives is not noticed: the check is
        # against mistakes in a local stand-in, not against an attacker on this machine.)
        self._checked_folders: set[Path] = set()

    def __repr__(self) -> str:
        return f"LocalFolderStorage({str(self.root)!r})"

    def _file(self, container: str, path: str, operation: str) -> Path:
        check_container(container, operation)
        check_path(container, path, operation)
        target = self.root / container / path
        # Symlinks inside the root could still lead out of it; the resolved path must stay inside.
        if target.parent in self._checked_folders and not target.is_symlink():
            return target
        base = (self.root / container).resolve()
        if not target.resolve().is_relative_to(base):
            raise StorageError(
                f"cannot {operation} {container}/{path}: it resolves outside {base}",
                operation=operation,
                container=container,
                path=path,
            )
        if target.parent.is_dir():
            self._checked_folders.add(target.parent)
        return target

    def write_bytes(
        self, container: str, path: str, data: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> BlobInfo:
        target = self._file(container, path, "write")
        with _os_errors("write", container, path, target):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    os.fchmod(handle.fileno(), 0o644)  # mkstemp makes 0600; blobs are ordinary files
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())  # the bytes are on disk before the name appears
                os.replace(temp_name, target)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
            stat = target.stat()
        return BlobInfo(container, path, stat.st_size, _mtime(stat.st_mtime))

    def read_bytes(self, container: str, path: str) -> bytes:
        target = self._file(container, path, "read")
        try:
            return target.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFoundError(
                f"cannot read {container}/{path}: no such blob under {self.root}",
                operation="read",
                container=container,
                path=path,
            ) from exc
        except OSError as exc:
            raise _storage_error("read", container, path, exc, target) from exc

    def exists(self, container: str, path: str) -> bool:
        return self._file(container, path, "check").is_file()

    def list_blobs(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        check_container(container, "list")
        check_prefix(container, prefix)
        base = self.root / container
        # A prefix is a string prefix (as in Azure), not a folder: walk only the folder it fully names.
        folder, _, _ = prefix.rpartition("/")
        start = base / folder if folder else base
        found: list[BlobInfo] = []
        with _os_errors("list", container, prefix, start):
            if not start.is_dir():
                return iter(())
            for dirpath, _dirnames, filenames in os.walk(start):
                for file_name in filenames:
                    if file_name.startswith(_TEMP_PREFIX):
                        continue
                    full = Path(dirpath, file_name)
                    name = full.relative_to(base).as_posix()
                    if not name.startswith(prefix):
                        continue
                    try:
                        stat = full.stat()
                    except FileNotFoundError:
                        continue  # deleted while we walked
                    found.append(BlobInfo(container, name, stat.st_size, _mtime(stat.st_mtime)))
        found.sort(key=lambda info: info.path)
        return iter(found)

    def delete(self, container: str, path: str) -> None:
        target = self._file(container, path, "delete")
        with _os_errors("delete", container, path, target):
            target.unlink(missing_ok=True)

    def delete_abandoned_writes(self, container: str, prefix: str, before: datetime) -> list[str]:
        """``.tmp-*`` files a killed writer left (write_bytes renames them into place when it completes)."""
        check_container(container, "clean")
        check_prefix(container, prefix)
        base = self.root / container
        folder, _, _ = prefix.rpartition("/")
        start = base / folder if folder else base
        removed = []
        with _os_errors("clean", container, prefix, start):
            if not start.is_dir():
                return []
            for dirpath, _dirnames, filenames in os.walk(start):
                for file_name in filenames:
                    full = Path(dirpath, file_name)
                    name = full.relative_to(base).as_posix()
                    if not file_name.startswith(_TEMP_PREFIX) or not name.startswith(prefix):
                        continue
                    with suppress(FileNotFoundError):
                        if _mtime(full.stat().st_mtime) < before:
                            full.unlink()
                            removed.append(name)
        return sorted(removed)


def _mtime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _storage_error(operation: str, container: str, path: str, exc: OSError, local: Path) -> StorageError:
    # Blob name first (what the pipeline knows), then the file and the fix (what the user acts on). A failed
    # write() names no file (a full disk): then the blob's own file is the one to name.
    where = exc.filename or local
    return StorageError(
        f"cannot {operation} {container}/{path}: {describe_os_error(exc, where, other='another storage folder')}",
        operation=operation,
        container=container,
        path=path,
    )


@contextmanager
def _os_errors(operation: str, container: str, path: str, local: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _storage_error(operation, container, path, exc, local) from exc


# -- Azure -------------------------------------------------------------------------------------


class AzureBlobStorage:
    """Azure Blob Storage (or Azurite) through azure-storage-blob; containers are created on first write."""

    def __init__(self, service_client: Any) -> None:
        """Wrap an ``azure.storage.blob.BlobServiceClient``; prefer the ``from_*`` constructors."""
        self._service = service_client

    def __repr__(self) -> str:
        return f"AzureBlobStorage({self._service.url!r})"

    @classmethod
    def from_connection_string(cls, conn: SecureString | str, **client_kwargs: Any) -> AzureBlobStorage:
        from azure.storage.blob import BlobServiceClient

        text = conn.reveal() if isinstance(conn, SecureString) else conn
        register_secret(text)  # it carries the account key
        try:
            return cls(BlobServiceClient.from_connection_string(text, **client_kwargs))
        except ValueError as exc:
            # The SDK's message may quote the string; ours does not.
            raise ActivityConfigError(
                "the storage connection string is malformed; expected "
                "DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…;BlobEndpoint=…"
            ) from exc

    @classmethod
    def from_endpoint(cls, endpoint: str, credential: Any, **client_kwargs: Any) -> AzureBlobStorage:
        from azure.storage.blob import BlobServiceClient

        return cls(BlobServiceClient(account_url=endpoint, credential=credential, **client_kwargs))

    def write_bytes(
        self, container: str, path: str, data: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> BlobInfo:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

        check_container(container, "write")
        check_path(container, path, "write")
        blob = self._service.get_blob_client(container, path)
        meta = dict(metadata) if metadata else None
        with _azure_errors("write", container, path):
            try:
                result = blob.upload_blob(data, overwrite=True, metadata=meta)
            except ResourceNotFoundError as exc:
                if getattr(exc, "error_code", None) != "ContainerNotFound":
                    raise
                # First write to this container: create it (another writer may win the race) and retry.
                with suppress(ResourceExistsError):
                    self._service.create_container(container)
                result = blob.upload_blob(data, overwrite=True, metadata=meta)
        last_modified = result.get("last_modified") or datetime.now(UTC)
        return BlobInfo(container, path, len(data), last_modified)

    def read_bytes(self, container: str, path: str) -> bytes:
        check_container(container, "read")
        check_path(container, path, "read")
        with _azure_errors("read", container, path):
            data: bytes = self._service.get_blob_client(container, path).download_blob().readall()
        return data

    def exists(self, container: str, path: str) -> bool:
        check_container(container, "check")
        check_path(container, path, "check")
        with _azure_errors("check", container, path):
            return bool(self._service.get_blob_client(container, path).exists())

    def list_blobs(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        from azure.core.exceptions import ResourceNotFoundError

        check_container(container, "list")
        check_prefix(container, prefix)
        client = self._service.get_container_client(container)
        # The service lists in name order (UTF-8 binary), the order Storage promises; pages are
        # fetched lazily as the caller iterates.
        with _azure_errors("list", container, prefix):
            try:
                for item in client.list_blobs(name_starts_with=prefix or None):
                    yield BlobInfo(container, item.name, int(item.size or 0), item.last_modified)
            except ResourceNotFoundError:
                return  # no container yet: nothing to list, as for a missing local folder

    def delete(self, container: str, path: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        check_container(container, "delete")
        check_path(container, path, "delete")
        with _azure_errors("delete", container, path):
            # Deleting what is not there is not an error (as locally).
            with suppress(ResourceNotFoundError):
                self._service.get_blob_client(container, path).delete_blob()

    def delete_abandoned_writes(self, container: str, prefix: str, before: datetime) -> list[str]:
        """Nothing to remove: a blob appears only when its upload commits, and the service discards uncommitted
        blocks after seven days (Microsoft Learn, "Put Block" REST API)."""
        check_container(container, "clean")
        check_prefix(container, prefix)
        return []


@contextmanager
def _azure_errors(operation: str, container: str, path: str) -> Iterator[None]:
    """The one place Azure SDK errors become StorageError / BlobNotFoundError."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError, ResourceNotFoundError

    try:
        yield
    except ResourceNotFoundError as exc:
        raise BlobNotFoundError(
            f"cannot {operation} {container}/{path}: not found ({_error_code(exc)})",
            operation=operation,
            container=container,
            path=path,
        ) from exc
    except ClientAuthenticationError as exc:
        raise StorageError(
            f"cannot {operation} {container}/{path}: authentication failed ({_error_code(exc)}); "
            "check the connection string or the identity's role on the storage account",
            operation=operation,
            container=container,
            path=path,
        ) from exc
    except AzureError as exc:
        raise StorageError(
            f"cannot {operation} {container}/{path}: {_error_code(exc)}",
            operation=operation,
            container=container,
            path=path,
        ) from exc


def _error_code(exc: BaseException) -> str:
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "status_code", None)
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    parts = [type(exc).__name__]
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(str(code))
    else:
        parts.append(first_line)
    return ", ".join(parts)


# -- choosing by linked service ----------------------------------------------------------------


def open_storage(linked_service: LinkedService, secrets: SecretStore | None) -> Storage:
    """Return the storage an ``AzureBlobStorage`` linked service points at.

    - ``serviceEndpoint`` ``file:///abs/path`` → :class:`LocalFolderStorage` rooted there (local runs);
    - ``connectionString`` (a Key Vault reference, a SecureString or a string) → Azure via the connection string;
    - ``serviceEndpoint`` ``https://…`` → Azure with ``DefaultAzureCredential`` (the pool's managed identity).
    """
    name = linked_service.name
    if linked_service.type != "AzureBlobStorage":
        raise ActivityConfigError(
            f"linked service `{name}` has type {linked_service.type}, expected AzureBlobStorage"
        )
    properties = linked_service.type_properties
    endpoint = properties.get("serviceEndpoint")
    connection = properties.get("connectionString")

    if isinstance(endpoint, str) and endpoint.startswith("file:"):
        return LocalFolderStorage(_path_from_file_uri(endpoint, name))
    if connection is not None:
        return AzureBlobStorage.from_connection_string(_resolve_connection(connection, secrets, name))
    if isinstance(endpoint, str) and endpoint.startswith("https://"):
        from azure.identity import DefaultAzureCredential

        return AzureBlobStorage.from_endpoint(endpoint, DefaultAzureCredential())
    raise ActivityConfigError(
        f"linked service `{name}` needs typeProperties.serviceEndpoint (https://<account>.blob.core.windows.net/ "
        "or file:///abs/path) or typeProperties.connectionString (a Key Vault reference)"
    )


def _resolve_connection(value: Any, secrets: SecretStore | None, name: str) -> SecureString:
    if isinstance(value, SecureString):
        return value
    if isinstance(value, str):
        return SecureString(value)
    if isinstance(value, Mapping) and value.get("type") == "AzureKeyVaultSecret":
        secret_name = value.get("secretName")
        if not isinstance(secret_name, str) or not secret_name:
            raise ActivityConfigError(
                f"linked service `{name}`: typeProperties.connectionString.secretName must be a string"
            )
        if secrets is None:
            raise ActivityConfigError(
                f"linked service `{name}` takes its connection string from Key Vault secret `{secret_name}`, "
                "but no secret store was given; pass the Key Vault linked service's store to open_storage"
            )
        return secrets.get(secret_name)
    raise ActivityConfigError(
        f"linked service `{name}`: typeProperties.connectionString must be a string, a SecureString or an "
        "AzureKeyVaultSecret reference"
    )


def _path_from_file_uri(uri: str, name: str) -> Path:
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise ActivityConfigError(
            f"linked service `{name}` has serviceEndpoint {uri!r}; a local folder is file:///absolute/path"
        )
    return Path(unquote(parts.path))


__all__ = [
    "AzureBlobStorage",
    "BlobInfo",
    "LocalFolderStorage",
    "Storage",
    "check_container",
    "check_path",
    "check_prefix",
    "open_storage",
]
