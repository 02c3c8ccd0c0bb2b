"""Errors of the Spotify extraction, classified once where HTTP responses enter (client.py)."""

from __future__ import annotations

from activities.common.errors import ActivityError


class ApiError(ActivityError):
    """A Spotify Web API call failed; names the method, path and HTTP status (None: no response), and the
    message of Spotify's error body ("" if it had none)."""

    def __init__(self, message: str, *, status: int | None, path: str, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.path = path
        self.detail = detail


class RetriableError(ApiError):
    """429, 5xx, a connection error or a timeout: worth another attempt after ``retry_after`` seconds
    (None: the server did not say; the client backs off exponentially)."""

    def __init__(self, message: str, *, status: int | None, path: str, retry_after: float | None = None) -> None:
        super().__init__(message, status=status, path=path)
        self.retry_after = retry_after


class AuthError(ApiError):
    """401 from the API: the access token expired or was revoked; refreshed once, then fatal."""


class FatalError(ApiError):
    """Any other 4xx (or a token request refused): retrying cannot help."""


class RetriesExhaustedError(ApiError):
    """A retriable failure that did not go away within the attempt or waiting budget."""


class PremiumRequiredError(FatalError):
    """403 "Active premium subscription required for the owner of the app": nothing works until the app
    owner's Premium is back (Spotify, 2026-02 Development Mode changes); the run fails with that message."""


class QuotaExceededError(ApiError):
    """429 with reason ``QUOTA_EXCEEDED``: the developer account's daily request quota is spent; its
    Retry-After is hours, so the run stops asking, keeps what it fetched and defers the rest."""

    def __init__(self, message: str, *, path: str, retry_after: float | None) -> None:
        super().__init__(message, status=429, path=path)
        self.retry_after = retry_after


class BudgetExhaustedError(ActivityError):
    """The run's request budget (``requestBudget``) is spent: the rest of the work is deferred."""


__all__ = ["ApiError", "AuthError", "BudgetExhaustedError", "FatalError", "PremiumRequiredError", "QuotaExceededError",
           "RetriableError", "RetriesExhaustedError"]


class PayloadError(ActivityError):
    """A 2xx response body does not have the shape of the Spotify object it should be."""


__all__ += ["PayloadError"]


class ProgressError(ActivityError):
    """The run's progress blobs (checkpoints of the discovery step and the shards) are missing,
    unreadable, or were written with other settings; names the blob and the fix."""


__all__ += ["ProgressError"]
