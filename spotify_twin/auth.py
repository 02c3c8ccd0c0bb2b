"""Accounts service (token endpoint) and bearer token checks.

Two grants, both with the client's id and secret (HTTP Basic, or form fields):

- `client_credentials` issues an app token: catalog endpoints only.
- `refresh_token` (the authorization-code flow's refresh step) issues a user token for the listener. Only
  the refresh token the twin was given is accepted (`SPOTIFY_TWIN_REFRESH_TOKEN` for the CLI); with none
  given, every refresh answers `invalid_grant`. The answer carries `scope` and no new refresh token.

Tokens are random and only live in memory; they expire after `expires_in` seconds of wall time or, when the
`expire_token_after` fault is set, after that many API requests, so clients exercise re-authentication.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs

from spotify_twin import objects
from spotify_twin.api import ApiResponse, error_response

TOKEN_LIFETIME_S = 3600
# Every scope the /me endpoints need; the twin grants them all to the listener.
USER_SCOPES = (
    "playlist-read-collaborative playlist-read-private user-follow-read user-library-read "
    "user-read-email user-read-private user-read-recently-played user-top-read"
)


class TokenKind(Enum):
    APP = "client_credentials"
    USER = "refresh_token"


class Secret:
    """A string that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, candidate: str) -> bool:
        return hmac.compare_digest(self._value.encode(), candidate.encode())

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass
class _TokenState:
    issued_at: float
    kind: TokenKind
    uses: int = 0


@dataclass(frozen=True)
class BearerCheck:
    """Outcome of checking an API request's bearer: the token's kind, or the 401 to send back."""

    kind: TokenKind | None
    rejection: ApiResponse | None


class TokenStore:
    """Issues tokens and answers "is this bearer valid right now". Thread-safe."""

    def __init__(
        self,
        client_id: str,
        client_secret: Secret,
        *,
        refresh_token: Secret | None = None,
        expire_after_requests: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._expire_after_requests = expire_after_requests
        self._clock = clock
        self._tokens: dict[str, _TokenState] = {}
        self._lock = threading.Lock()

    def token_endpoint(self, authorization: str | None, body: bytes) -> ApiResponse:
        """Handle `POST /api/token` given its Authorization header and form body."""
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        grant_type = form.get("grant_type")
        if not grant_type:
            return _accounts_error("unsupported_grant_type", "grant_type parameter is missing")
        if grant_type not in (TokenKind.APP.value, TokenKind.USER.value):
            return _accounts_error("unsupported_grant_type", "grant_type must be client_credentials or refresh_token")
        client_id, client_secret = _client_credentials(authorization, form)
        if client_id != self.client_id or client_secret is None or not self._client_secret.matches(client_secret):
            return _accounts_error("invalid_client", "Invalid client")
        if grant_type == TokenKind.APP.value:
            return self._issue(TokenKind.APP)
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return _accounts_error("invalid_request", "refresh_token must be supplied")
        if self._refresh_token is None or not self._refresh_token.matches(refresh_token):
            return _accounts_error("invalid_grant", "Invalid refresh token")
        return self._issue(TokenKind.USER)

    def _issue(self, kind: TokenKind) -> ApiResponse:
        token = "BQ" + secrets.token_urlsafe(80)
        with self._lock:
            self._tokens[token] = _TokenState(issued_at=self._clock(), kind=kind)
        body: dict[str, object] = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
        if kind is TokenKind.USER:
            body["scope"] = USER_SCOPES
        return ApiResponse(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def check_bearer(self, authorization: str | None) -> BearerCheck:
        """Validate an API request's Authorization header and count the use."""
        if not authorization:
            return BearerCheck(None, _unauthorized("No token provided"))
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return BearerCheck(None, _unauthorized("Only valid bearer authentication supported"))
        with self._lock:
            state = self._tokens.get(token.strip())
            if state is None:
                return BearerCheck(None, _unauthorized("Invalid access token"))
            expired_by_time = self._clock() - state.issued_at >= TOKEN_LIFETIME_S
            limit = self._expire_after_requests
            if expired_by_time or (limit is not None and state.uses >= limit):
                return BearerCheck(None, _unauthorized("The access token expired"))
            state.uses += 1
            return BearerCheck(state.kind, None)


def _client_credentials(authorization: str | None, form: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic auth, falling back to form fields as Spotify allows."""
    if authorization:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            client_id, sep, client_secret = decoded.partition(":")
            return (client_id, client_secret) if sep else (None, None)
    return form.get("client_id"), form.get("client_secret")


def _accounts_error(error: str, description: str) -> ApiResponse:
    return ApiResponse(400, objects.accounts_error_body(error, description))


def _unauthorized(message: str) -> ApiResponse:
    return error_response(401, message, {"WWW-Authenticate": 'Bearer realm="spotify", error="invalid_token"'})

