"""Accounts service (token endpoint) and bearer token checks.

Two grants, both with the client's id and secret (HTTP Basic, or form fields):

- `client_credentials` issues an app token: catalog endpoints only.
- `refresh_token` (the authorization-code flow's refresh step) issues a user token for one of the allow-listed
  users: refresh token i belongs to user i (`SPOTIFY_TWIN_REFRESH_TOKENS` for the CLI); with none given, every
  refresh answers `invalid_grant`. The answer carries `scope`.

Rotation (`rotate=True`; Spotify may return a new refresh token on refresh, and then the client must keep it):
at most once per user per twin run, the first grant presenting the user's token T0 answers with a new
`refresh_token` T1, derived deterministically from the seed and T0. T0 stays valid until T1 is first presented,
and every grant presenting T0 meanwhile answers with the same T1, so several processes of one run that refresh
with T0 at once all converge on T1. Once a grant has presented T1, T0 answers 400 `invalid_grant`. Grants with
T1 return no new refresh token (the client keeps T1); the next twin run is started with T1 and may rotate again.

Every refresh grant is recorded with sha256 fingerprints of the tokens (`fingerprint`), never the tokens, so
tests and the ground truth can show which token each run presented.

Tokens are random and only live in memory; they expire after `expires_in` seconds of wall time or, when the
`expire_token_after` fault is set, after that many API requests, so clients exercise re-authentication.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs

from offline.spotify_twin import objects
from offline.spotify_twin.api import ApiResponse, error_response

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
    user: int | None = None  # index of the allow-listed user behind a user token
    uses: int = 0


@dataclass(frozen=True)
class BearerCheck:
    """Outcome of checking an API request's bearer: the token's kind (and user), or the 401 to send back."""

    kind: TokenKind | None
    rejection: ApiResponse | None
    user: int | None = None


@dataclass(frozen=True)
class RefreshGrant:
    """One refresh-token grant as the ground truth keeps it: fingerprints only, never a token."""

    user: int | None  # allow-listed user index; None when the token matched nobody
    presented_sha256: str
    outcome: str  # "ok" or the OAuth error
    issued_sha256: str | None  # the new refresh token handed out, when rotated


@dataclass
class _UserTokens:
    """The refresh tokens one allow-listed user may present during this run (see the module docstring)."""

    current: Secret  # what the twin was started with, or the rotated one once presented
    successor: Secret | None = None  # issued but not yet presented: `current` still works
    rotated: bool = False


def fingerprint(token: str) -> str:
    """First 16 hex digits of sha256(token): names a token in logs and truth without revealing it."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class TokenStore:
    """Issues tokens and answers "is this bearer valid right now". Thread-safe."""

    def __init__(
        self,
        client_id: str,
        client_secret: Secret,
        *,
        refresh_tokens: Sequence[Secret] = (),
        rotate: bool = False,
        rotation_seed: int = 0,
        expire_after_requests: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self._users = [_UserTokens(current=token) for token in refresh_tokens]
        self._rotate = rotate
        self._rotation_seed = rotation_seed
        self._expire_after_requests = expire_after_requests
        self._clock = clock
        self._tokens: dict[str, _TokenState] = {}
        self._grants: list[RefreshGrant] = []
        self._lock = threading.Lock()
        self.started_with = [fingerprint(u.current.reveal()) for u in self._users]

    @property
    def grants(self) -> list[RefreshGrant]:
        with self._lock:
            return list(self._grants)

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
        with self._lock:
            user, new_refresh = self._redeem(refresh_token)
            issued = fingerprint(new_refresh.reveal()) if new_refresh is not None else None
            outcome = "ok" if user is not None else "invalid_grant"
            self._grants.append(RefreshGrant(user, fingerprint(refresh_token), outcome, issued))
        if user is None:
            return _accounts_error("invalid_grant", "Invalid refresh token")
        return self._issue(TokenKind.USER, user, new_refresh)

    def _redeem(self, presented: str) -> tuple[int | None, Secret | None]:
        """The user a presented refresh token belongs to, and the new refresh token to hand out (lock held)."""
        for index, tokens in enumerate(self._users):
            if tokens.successor is not None and tokens.successor.matches(presented):
                # The new token's first use: from now on it is the user's token and the old one is revoked.
                tokens.current, tokens.successor = tokens.successor, None
                return index, None
            if tokens.current.matches(presented):
                if tokens.successor is not None:
                    return index, tokens.successor  # rotated, the new one not yet used: same answer again
                if self._rotate and not tokens.rotated:
                    tokens.rotated = True
                    tokens.successor = Secret(_rotated(presented, self._rotation_seed))
                    return index, tokens.successor
                return index, None
        return None, None

    def _issue(self, kind: TokenKind, user: int | None = None, new_refresh: Secret | None = None) -> ApiResponse:
        token = "BQ" + secrets.token_urlsafe(80)
        with self._lock:
            self._tokens[token] = _TokenState(issued_at=self._clock(), kind=kind, user=user)
        body: dict[str, object] = {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_S}
        if kind is TokenKind.USER:
            body["scope"] = USER_SCOPES
        if new_refresh is not None:
            body["refresh_token"] = new_refresh.reveal()
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
            return BearerCheck(state.kind, None, state.user)


def _rotated(token: str, seed: int) -> str:
    """The refresh token that replaces `token`: deterministic, so a rerun of a run rotates the same way."""
    digest = hashlib.sha256(f"spotify-twin-rotation:{seed}:{token}".encode()).digest()
    return "AQ" + base64.urlsafe_b64encode(digest * 2).decode("ascii").rstrip("=")


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

