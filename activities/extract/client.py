"""Spotify Web API client: app and user tokens, GET with bounded, jittered retries, safe to share
between threads.

Two OAuth grants: client credentials (the app token, catalog sources) and, when a refresh token is
given, the authorization-code flow's refresh grant (the user token, ``/me`` sources). Each token is
fetched by one thread at a time and shared; a 401 invalidates only the token that was refused, so
many threads seeing the same expiry refresh it once.

Errors are classified here, once, as responses arrive: 429/5xx/connection errors/timeouts become
:class:`RetriableError`, 401 :class:`AuthError` (token refreshed once, then fatal), other 4xx
:class:`FatalError`. Nothing else in the extraction looks at status codes. Every request passes a
shared :class:`RateLimiter` first.

Sleeping, the monotonic clock, wall-clock time and jitter are injectable so tests never sleep.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from activities.common.context import SecureString
from activities.common.logs import get_logger, register_secret
from activities.common.retry import GiveUp, RetryBudget, RetryPolicy
from activities.common.retry_after import retry_after_seconds
from activities.extract.errors import (
    AuthError,
    FatalError,
    PremiumRequiredError,
    QuotaExceededError,
    RetriableError,
    RetriesExhaustedError,
)
from activities.extract.ratelimit import RateLimiter

_log = get_logger("activities.extract.client")

# Refresh the token this long before Spotify says it expires, so a request never carries a dead one.
_TOKEN_MARGIN_SECONDS = 60.0
_USER_AGENT = "spotify-adf-pipeline-extract/0.1"
_SPOTIFY_RETRY = RetryPolicy(max_attempts=5)
APP = "app"  # client-credentials token
USER = "user"  # refresh-token (authorization code) token


@dataclass
class _TokenState:
    lock: threading.Lock
    token: str | None = None
    expires_at: float = 0.0
    generation: int = 0  # bumped per token fetched; a 401 invalidates only the generation it saw


@dataclass(frozen=True)
class ApiResponse:
    """One successful API response: the body bytes exactly as received and where/when they came from."""

    url: str  # the request URL (no token: that travels in a header)
    status: int
    body: bytes
    fetched_at: datetime

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FatalError(
                f"GET {self.path} returned HTTP {self.status} with a body that is not JSON ({exc})",
                status=self.status,
                path=self.path,
            ) from exc


class SpotifyClient:
    """GETs from the Spotify Web API (or its twin); one instance is shared by every worker thread."""

    def __init__(
        self,
        *,
        api_base_url: str,
        token_url: str,
        client_id: str,
        client_secret: SecureString,
        refresh_token: SecureString | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy = _SPOTIFY_RETRY,
        timeout: tuple[float, float] = (5.0, 30.0),
        rate_limiter: RateLimiter | None = None,
        max_connections: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
        retry_budget: RetryBudget | None = None,
        on_refresh_token: Callable[[SecureString], None] | None = None,
    ) -> None:
        """
        Args:
            refresh_token: the user's refresh token; without it ``get(..., user=True)`` is refused.
            session: one session for every thread (tests); by default each thread gets its own,
                since ``requests.Session`` is not documented as thread-safe.
            retry: attempts per request and the backoff between them; past them RetriesExhaustedError.
            rate_limiter: shared by every thread; None = unlimited.
            max_connections: keep-alive connections per thread's session pool.
            retry_budget: retries shared by the run; when given, a request retries while the budget lasts
                (and ``retry.max_wait_seconds`` allows) instead of stopping after ``retry.max_attempts``.
            on_refresh_token: called with the new refresh token when the token endpoint rotates it, so it
                can be written back to Key Vault before the old one stops working.
        """
        self.api_base_url = api_base_url.rstrip("/")
        self._base_path = urlsplit(self.api_base_url).path.rstrip("/")
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        register_secret(client_secret)  # whoever built the SecureString, it is now redacted from logs
        if refresh_token is not None:
            register_secret(refresh_token)
        self._shared_session = session
        if session is not None:
            session.headers.setdefault("User-Agent", _USER_AGENT)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._max_connections = max(1, max_connections)
        self._retry = retry
        self._timeout = timeout
        self._limiter = rate_limiter or RateLimiter(None)
        self._sleep = sleep
        self._monotonic = monotonic
        self._now = now
        self._jitter = jitter
        self._retry_budget = retry_budget
        self._on_refresh_token = on_refresh_token
        self._tokens = {APP: _TokenState(threading.Lock()), USER: _TokenState(threading.Lock())}
        self._count_lock = threading.Lock()
        self.request_count = 0  # API GETs sent, every attempt counted; token requests are not
        self.token_request_count = 0

    @property
    def has_user_token(self) -> bool:
        return self._refresh_token is not None

    # -- public -------------------------------------------------------------------------------

    def relative(self, url: str) -> str:
        """``/albums?ids=…`` for an absolute request URL under ``api_base_url`` (a host-free key)."""
        return url[len(self.api_base_url):] if url.startswith(self.api_base_url) else url

    def url_for(self, path_or_url: str, params: Mapping[str, str | int] | None = None) -> str:
        """Return the absolute request URL for an API path (``/albums``) or a ``next`` link.

        A ``next`` link is re-based onto ``api_base_url``: the token is only ever sent to the
        configured API, whatever host a response names.
        """
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            if parts.path != self._base_path and not parts.path.startswith(self._base_path + "/"):
                raise FatalError(
                    f"refusing to follow link {parts.path}: it is not under the API base path {self._base_path or '/'}",
                    status=None,
                    path=parts.path,
                )
            url = self.api_base_url + parts.path[len(self._base_path):]
            query = parts.query
        else:
            if not path_or_url.startswith("/"):
                path_or_url = "/" + path_or_url
            url = self.api_base_url + path_or_url
            query = ""
        if params:
            extra = urlencode({key: str(value) for key, value in params.items()}, safe=",:")
            query = f"{query}&{extra}" if query else extra
        return f"{url}?{query}" if query else url

    def get(
        self, path_or_url: str, params: Mapping[str, str | int] | None = None, *, user: bool = False
    ) -> ApiResponse:
        """GET an API path or ``next`` link, retrying what is worth retrying.

        Args:
            user: send the user's token (authorization-code flow) instead of the app token.

        Raises:
            FatalError: a 4xx other than 401/429, or the token request was refused.
            AuthError: 401 again after one token refresh.
            RetriesExhaustedError: retriable failures beyond ``max_attempts`` or ``max_wait_seconds``.
        """
        url = self.url_for(path_or_url, params)
        path = urlsplit(url).path
        kind = USER if user else APP
        if user and self._refresh_token is None:
            raise FatalError(
                f"GET {path} needs the user's token, but no refresh token was configured", status=None, path=path
            )
        waited = 0.0
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            generation = -1
            try:
                token, generation = self._access_token(kind)
                return self._get_once(url, token)
            except AuthError:
                if refreshed:
                    raise
                refreshed = True
                self._invalidate(kind, generation)  # the next attempt fetches a fresh token
                attempt -= 1  # a refresh is not a failed attempt
            except RetriableError as exc:
                delay = self._next_delay(exc, attempt, waited, path)
                _log.warning(
                    "%s; retrying in %.2f s (attempt %d of %d)", exc, delay, attempt + 1, self._retry.max_attempts
                )
                self._sleep(delay)
                waited += delay

    def close(self) -> None:
        if self._shared_session is not None:
            self._shared_session.close()
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SpotifyClient({self.api_base_url!r}, client_id={self._client_id!r})"

    # -- internals ------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = _USER_AGENT
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self._max_connections)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._count_lock:
                self._sessions.append(session)
        return session

    def _next_delay(self, exc: RetriableError, attempt: int, waited: float, path: str) -> float:
        try:
            return self._retry.next_delay(attempt, waited, exc.retry_after, self._jitter(), self._retry_budget)
        except GiveUp as stop:
            raise RetriesExhaustedError(f"{exc}; {stop}", status=exc.status, path=path) from exc

    def _invalidate(self, kind: str, generation: int) -> None:
        state = self._tokens[kind]
        with state.lock:
            if state.generation == generation:
                state.token = None

    def _access_token(self, kind: str) -> tuple[str, int]:
        state = self._tokens[kind]
        with state.lock:  # one thread fetches; the others wait for its token instead of fetching their own
            if state.token is not None and self._monotonic() < state.expires_at:
                return state.token, state.generation
            token, expires_in = self._request_token(kind)
            state.token = token
            state.expires_at = self._monotonic() + max(0.0, expires_in - _TOKEN_MARGIN_SECONDS)
            state.generation += 1
            return token, state.generation

    def _request_token(self, kind: str) -> tuple[str, float]:
        path = urlsplit(self.token_url).path or "/"
        with self._count_lock:
            self.token_request_count += 1
        if kind == USER:
            assert self._refresh_token is not None
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token.reveal()}
            what, check = "user token request", "check clientId, the client secret and the refresh token"
        else:
            form = {"grant_type": "client_credentials"}
            what, check = "token request", "check clientId and the client secret"
        try:
            response = self._session().post(
                self.token_url,
                data=form,
                auth=(self._client_id, self._client_secret.reveal()),  # HTTP Basic, as Spotify requires
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise _transport_error("POST", path, exc) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetriableError(
                f"{what} POST {path} returned HTTP {response.status_code}",
                status=response.status_code,
                path=path,
                retry_after=self._retry_after(response),
            )
        if response.status_code != 200:
            raise FatalError(
                f"{what} POST {path} was refused: HTTP {response.status_code}{_error_detail(response)}; {check}",
                status=response.status_code,
                path=path,
            )
        try:
            payload = response.json()
            token = payload["access_token"]
            expires_in = float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalError(f"{what} response from POST {path} has no access_token", status=200, path=path) from exc
        if not isinstance(token, str) or not token:
            raise FatalError(f"{what} response from POST {path} has an empty access_token", status=200, path=path)
        register_secret(token)  # a bearer token is a credential too
        rotated = payload.get("refresh_token")
        if kind == USER and isinstance(rotated, str) and rotated:
            register_secret(rotated)  # Spotify may rotate it; the new one is as secret as the old
            changed = self._refresh_token is None or rotated != self._refresh_token.reveal()
            self._refresh_token = SecureString(rotated)
            if changed and self._on_refresh_token is not None:
                self._on_refresh_token(self._refresh_token)
        return token, expires_in

    def _get_once(self, url: str, token: str) -> ApiResponse:
        path = urlsplit(url).path
        self._limiter.acquire()
        with self._count_lock:
            self.request_count += 1
        try:
            response = self._session().get(
                url, headers={"Authorization": f"Bearer {token}"}, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise _transport_error("GET", path, exc) from exc
        status = response.status_code
        if 200 <= status < 300:
            return ApiResponse(url=url, status=status, body=response.content, fetched_at=self._now())
        detail = _error_detail(response)
        if status == 429 and _error_reason(response) == "QUOTA_EXCEEDED":
            # The daily quota, not the 30-second rate limit: retrying only spends hours (issue 9).
            raise QuotaExceededError(f"GET {path} returned HTTP 429{detail} (the daily request quota is spent)",
                                     path=path, retry_after=self._retry_after(response))
        if status == 429 or status >= 500:
            raise RetriableError(
                f"GET {path} returned HTTP {status}{detail}",
                status=status,
                path=path,
                retry_after=self._retry_after(response),
            )
        if status == 401:
            raise AuthError(f"GET {path} returned HTTP 401{detail}", status=status, path=path)
        message = detail.removeprefix(": ")
        if status == 403 and "premium" in message.lower():
            raise PremiumRequiredError(f"GET {path} returned HTTP 403{detail}; the app owner's Spotify Premium must "
                                       "be active for a Development Mode app to work", status=403, path=path,
                                       detail=message)
        raise FatalError(f"GET {path} returned HTTP {status}{detail}", status=status, path=path, detail=message)

    def _retry_after(self, response: requests.Response) -> float | None:
        """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
        return retry_after_seconds(response.headers.get("Retry-After"), self._now())


def _transport_error(method: str, path: str, exc: requests.RequestException) -> Exception:
    # Connection trouble and timeouts are transient; a malformed URL or redirect loop is not.
    transient = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    kind = type(exc).__name__
    if isinstance(exc, transient):
        return RetriableError(f"{method} {path} failed: {kind}", status=None, path=path)
    return FatalError(f"{method} {path} failed: {kind}: {exc}", status=None, path=path)


def _error_reason(response: requests.Response) -> str:
    """``reason`` of a Spotify error body (``{"error": {"status": 429, "message": ..., "reason": ...}}``)."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    error = payload.get("error") if isinstance(payload, dict) else None
    reason = error.get("reason") if isinstance(error, dict) else None
    return reason if isinstance(reason, str) else ""


def _error_detail(response: requests.Response) -> str:
    """``: <message>`` from a Spotify error body (``{"error": {"message": …}}`` or OAuth ``{"error": "…"}``)."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    message: Any = None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        elif isinstance(error, str):
            message = error
            if isinstance(payload.get("error_description"), str):
                message = f"{error} ({payload['error_description']})"
    if not isinstance(message, str) or not message:
        return ""
    return ": " + " ".join(message.split())[:200]


__all__ = ["APP", "USER", "ApiResponse", "SpotifyClient"]
