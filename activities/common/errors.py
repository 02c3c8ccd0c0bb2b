"""Errors every activity can raise.

``ActivityError`` is the base the entrypoint knows: anything derived from it is an
expected failure (bad configuration, a missing secret, a storage or API outage) and
ends the activity with one ``ERROR <name>: <message>`` line. Anything else is a bug
and ends with a traceback.
"""

from __future__ import annotations


class ActivityError(Exception):
    """Base of every expected activity failure; the message must name the object and the fix."""


class ActivityConfigError(ActivityError):
    """activity.json / linkedServices.json / datasets.json is missing, malformed or lacks a property."""


class OutputsError(ActivityError):
    """outputs.json could not be written (not JSON-serialisable, or it would carry a secret)."""


class StorageError(ActivityError):
    """A storage operation failed; names the operation, container and path."""

    def __init__(self, message: str, *, operation: str, container: str, path: str) -> None:
        super().__init__(message)
        self.operation = operation
        self.container = container
        self.path = path


class BlobNotFoundError(StorageError):
    """The blob (or file) does not exist."""


class SecretStoreError(ActivityError):
    """The secret store could not be reached or refused access."""


class SecretNotFoundError(SecretStoreError):
    """The named secret does not exist in the store."""

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message)
        self.name = name


class AtlasError(ActivityError):
    """A Purview (Apache Atlas v2) request failed; classified once, where the response enters (common/atlas.py).

    Names the HTTP method, the path under the data map API, what the request was for, and the HTTP status
    (None: no response, e.g. a connection error or a token that could not be obtained).
    """

    def __init__(self, message: str, *, method: str, path: str, status: int | None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status


class AtlasRetriableError(AtlasError):
    """429, 5xx, a connection error or a timeout: worth another attempt after ``retry_after`` seconds
    (None: the server did not say; the client backs off exponentially)."""

    def __init__(self, message: str, *, method: str, path: str, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.retry_after = retry_after


class AtlasAuthError(AtlasError):
    """401: the token was refused (refreshed once, then fatal), or no token could be obtained."""


class AtlasFatalError(AtlasError):
    """Any other 4xx, or a 2xx body that is not JSON: retrying cannot help."""


class AtlasRetriesExhaustedError(AtlasError):
    """A retriable failure that did not go away within the attempt or waiting budget."""


__all__ = [
    "ActivityConfigError",
    "ActivityError",
    "AtlasAuthError",
    "AtlasError",
    "AtlasFatalError",
    "AtlasRetriableError",
    "AtlasRetriesExhaustedError",
    "BlobNotFoundError",
    "OutputsError",
    "SecretNotFoundError",
    "SecretStoreError",
    "StorageError",
]
