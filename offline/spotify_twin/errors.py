"""Errors raised by the Spotify twin.

One class per failure, each carrying the fields that name the offending object, so callers (the CLI, tests)
can print one clear line without parsing messages.
"""

from __future__ import annotations


class TwinError(Exception):
    """Base class for every error the twin raises on purpose."""


class CatalogError(TwinError):
    """The catalog cannot be built from the given seed and scale."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"catalog {field}={value!r}: {reason}")


class FaultSpecError(TwinError):
    """A fault specification string is malformed; names the bad key and value."""

    def __init__(self, key: str, value: str, reason: str) -> None:
        self.key = key
        self.value = value
        self.reason = reason
        shown = f"{key}={value}" if value else key
        super().__init__(f"bad fault spec entry `{shown}`: {reason}")


class TwinStartupError(TwinError):
    """The server could not start (port in use, missing secret, ...)."""


class ApiError(TwinError):
    """Raised by a route handler; the server turns it into Spotify's error JSON.

    Handlers raise instead of returning so the happy path stays a plain function of its inputs.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")
