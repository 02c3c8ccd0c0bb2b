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


__all__ = [
    "ActivityConfigError",
    "ActivityError",
    "BlobNotFoundError",
    "OutputsError",
    "SecretNotFoundError",
    "SecretStoreError",
    "StorageError",
]
