"""HTTP wiring: a ThreadingHTTPServer that applies latency, auth and faults, then the route table.

`TwinServer` runs it in a background thread (tests, the CLI). Everything Spotify-shaped lives in the pure
modules; this one only moves bytes, sleeps, and keeps the request log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from offline.spotify_twin import routes
from offline.spotify_twin.access import (
    MAX_ALLOWLISTED_USERS,
    PREMIUM_REQUIRED,
    QUOTA_EXCEEDED_MESSAGE,
    QUOTA_EXCEEDED_REASON,
    QUOTA_RETRY_AFTER_S,
    AccessMode,
)
from offline.spotify_twin.auth import Secret, TokenKind, TokenStore
from offline.spotify_twin.catalog import Catalog, build_catalog
from offline.spotify_twin.errors import TwinError, TwinStartupError
from offline.spotify_twin.faults import FAULT_MESSAGES, RETRY_AFTER_S, Fault, FaultInjector, FaultSpec, parse_faults
from offline.spotify_twin.routes import ApiResponse
from offline.spotify_twin.served import ServedIds
from offline.spotify_twin.truth import Truth, export_truth

logger = logging.getLogger("offline.spotify_twin")

API_PREFIX = "/v1"
TOKEN_PATH = "/api/token"
RESET_STATUS = 0  # request_log status of a connection closed without any response
DEFAULT_CLIENT_ID = "spotify-twin-client"
_SENSITIVE_QUERY_WORDS = ("secret", "token", "password", "code", "key")
_LOG_PATH_CHARS = 160

RequestLogEntry = tuple[str, str, int]


class _App:
    """State shared by all handler threads of one server."""

    def __init__(
        self,
        catalog: Catalog,
        tokens: TokenStore,
        faults: FaultInjector,
        *,
        legacy_app: bool,
        access_mode: AccessMode,
        daily_quota: int | None,
    ) -> None:
        self.catalog = catalog
        self.tokens = tokens
        self.faults = faults
        self.legacy_app = legacy_app
        self.access_mode = access_mode
        self.daily_quota = daily_quota
        self.api_requests = 0  # authenticated /v1 requests: what the daily quota and the Premium lapse count
        self.base_url = ""  # set once the port is known
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.request_log: list[RequestLogEntry] = []
        self.in_flight = 0  # requests being handled (a timeout fault's answer may still be on its way)
        self.idle = threading.Condition(self.lock)
        self.connections: set[socket.socket] = set()
        self.served: ServedIds | None = None  # on request only: walking every body costs CPU the twin's callers share

    def standing(self) -> ApiResponse | None:
        """Count one authenticated API request; the refusal when the app may no longer call the API."""
        with self.lock:
            self.api_requests += 1
            count = self.api_requests
        lapse_after = self.faults.spec.premium_lapse_after
        if lapse_after is not None and count > lapse_after:
            return routes.error_response(403, PREMIUM_REQUIRED)
        if self.daily_quota is not None and count > self.daily_quota:
            # July 2026 changelog: the daily quota's 429 names its reason and asks to wait many hours.
            return routes.error_response(
                429, QUOTA_EXCEEDED_MESSAGE, {"Retry-After": str(QUOTA_RETRY_AFTER_S)}, reason=QUOTA_EXCEEDED_REASON
            )
        return None

    def pause(self, seconds: float) -> bool:
        """Sleep unless the server stops first; True when the full time passed."""
        return seconds <= 0 or not self.stopping.wait(seconds)

    def record(self, method: str, path: str, status: int, started: float) -> None:
        with self.lock:
            self.request_log.append((method, path, status))
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %s %.1fms", method, _loggable_path(path), status or "reset", elapsed_ms)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # extractors open several connections at once

    def __init__(self, address: tuple[str, int], app: _App) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on machines without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API; every response carries Content-Length
    server_version = "SpotifyTwin/1.0"
    timeout = 30  # idle keep-alive connections are dropped instead of pinning a thread
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms per request.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.app.lock:
            self.server.app.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.app.lock:
            self.server.app.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the client (or a reset fault) already closed the socket
            super().finish()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request is written by _App.record, which knows the final status

    def _handle(self, method: str) -> None:
        app = self.server.app
        with app.lock:
            app.in_flight += 1
        try:
            self._answer(method)
        finally:
            with app.lock:
                app.in_flight -= 1
                app.idle.notify_all()

    def _answer(self, method: str) -> None:
        app = self.server.app
        started = time.perf_counter()
        body = self._read_body()
        split = urlsplit(self.path)
        path = split.path
        if not app.pause(app.faults.spec.latency_ms / 1000):
            app.record(method, self.path, RESET_STATUS, started)  # stopping: drop instead of answering late
            self._reset()
            return
        if path == TOKEN_PATH:
            if method == "POST":
                response = app.tokens.token_endpoint(self.headers.get("Authorization"), body)
            else:
                response = routes.error_response(405, "Method not allowed")
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            response_or_none = self._api(method, path, split.query)
            if response_or_none is None:
                app.record(method, self.path, RESET_STATUS, started)
                self._reset()
                return
            response = response_or_none
        else:
            response = routes.error_response(404, "Service not found")
        # Recorded before the bytes leave, so a client that got its answer always finds it in the log.
        app.record(method, self.path, response.status, started)
        self._send(response)

    def _api(self, method: str, path: str, query_string: str) -> ApiResponse | None:
        """Auth, the app's standing (Premium, daily quota), faults, then the route table.

        None means: drop the connection without answering.
        """
        app = self.server.app
        bearer = app.tokens.check_bearer(self.headers.get("Authorization"))
        if bearer.rejection is not None:
            return bearer.rejection
        standing = app.standing()
        if standing is not None:
            return standing
        fault = app.faults.draw()
        if fault is Fault.RESET:
            return None
        if fault is Fault.TIMEOUT and not app.pause(app.faults.spec.timeout_s):
            return None
        if fault is not None and fault.status is not None:
            headers = {"Retry-After": str(RETRY_AFTER_S)} if fault is Fault.TOO_MANY_REQUESTS else {}
            return routes.error_response(fault.status, FAULT_MESSAGES[fault], headers)
        query = parse_qs(query_string, keep_blank_values=True)
        user = app.catalog.listeners[bearer.user] if bearer.kind is TokenKind.USER and bearer.user is not None else None
        return routes.dispatch(
            method, path, query, app.catalog, app.base_url, user=user, legacy_app=app.legacy_app,
            access_mode=app.access_mode,
        )

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length or not length.isdigit():
            return b""
        return self.rfile.read(int(length))

    def _send(self, response: ApiResponse) -> None:
        payload = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        served = self.server.app.served
        if served is not None and response.status == 200:
            served.collect(response.body)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up (typically after a timeout fault); nothing left to tell it.
            self.close_connection = True

    def _reset(self) -> None:
        """Close the socket with an RST so the client sees a connection reset, not a clean EOF."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


def _loggable_path(path_with_query: str) -> str:
    """Path for the log: values of secret-looking query parameters masked, long id lists cut."""
    split = urlsplit(path_with_query)
    if split.query:
        pairs = [
            (k, "***" if any(word in k.lower() for word in _SENSITIVE_QUERY_WORDS) else v)
            for k, v in parse_qsl(split.query, keep_blank_values=True)
        ]
        shown = f"{split.path}?{urlencode(pairs, safe=',*')}"
    else:
        shown = split.path
    return shown if len(shown) <= _LOG_PATH_CHARS else shown[: _LOG_PATH_CHARS - 3] + "..."


def _refresh_tokens(single: str | Secret | None, several: Sequence[str | Secret]) -> list[Secret]:
    if single and several:
        raise TwinError("give the refresh token of one user or the list of several, not both")
    given: list[str | Secret] = [single] if single else list(several)  # a single "" accepts nothing, like None
    if len(given) > MAX_ALLOWLISTED_USERS:
        raise TwinError(f"{len(given)} refresh tokens given: a Development Mode app has at most "
                        f"{MAX_ALLOWLISTED_USERS} allow-listed users (February 2026 migration guide)")
    tokens = [token if isinstance(token, Secret) else Secret(token) for token in given]
    for index, token in enumerate(tokens):
        if not token.reveal():
            raise TwinError(f"refresh token {index} is empty")
    if len({token.reveal() for token in tokens}) < len(tokens):
        raise TwinError("two allow-listed users were given the same refresh token")
    return tokens


class TwinServer:
    """The Spotify twin on 127.0.0.1, served from a background thread.

    Use as a context manager::

        with TwinServer(seed=42, scale=0.2, client_secret="s3cret") as twin:
            requests.post(twin.token_url, data={"grant_type": "client_credentials"}, auth=(twin.client_id, "s3cret"))

    `refresh_tokens` are the allow-listed users' refresh tokens, token i for user i (at most 5); `refresh_token`
    is the older single-user form (user 0). Neither: user endpoints are out of reach. `rotate_refresh_tokens`
    makes a refresh grant hand out a new refresh token (once per user per run; rules in `auth`). `as_of` is the
    day the catalog and the users' activity stand at (default 2026-11-20, `daily`). `access_mode` is
    "development" (default: a new app in 2026) or "extended" (`offline.spotify_twin.access`).
    `legacy_app=True` (extended mode only) serves the endpoints Spotify restricted for new apps on 2024-11-27.
    `daily_quota` caps the authenticated API requests of this twin's run (one twin run stands for one day).
    """

    def __init__(
        self,
        *,
        seed: int = 42,
        scale: float = 1.0,
        faults: str | FaultSpec | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str | Secret = "spotify-twin-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        fault_seed: int | None = None,
        refresh_token: str | Secret | None = None,
        refresh_tokens: Sequence[str | Secret] = (),
        rotate_refresh_tokens: bool = False,
        legacy_app: bool = False,
        access_mode: str | AccessMode = AccessMode.DEVELOPMENT,
        daily_quota: int | None = None,
        as_of: date | None = None,
    ) -> None:
        try:
            mode = AccessMode.parse(access_mode)
        except ValueError as exc:
            raise TwinError(str(exc)) from None
        if legacy_app and mode is not AccessMode.EXTENDED:
            raise TwinError("legacy_app (--legacy-app) needs access mode extended: only apps granted extended "
                            "quota before 2024-11-27 kept those endpoints")
        if daily_quota is not None and daily_quota < 0:
            raise TwinError(f"daily_quota (--daily-quota) must be >= 0, got {daily_quota}")
        users = _refresh_tokens(refresh_token, refresh_tokens)
        self.catalog = build_catalog(seed, scale, as_of)
        self.fault_spec = faults if isinstance(faults, FaultSpec) else parse_faults(faults)
        if self.fault_spec.premium_lapse_after is not None and mode is not AccessMode.DEVELOPMENT:
            raise TwinError("fault premium_lapse_after needs access mode development: only Development Mode apps "
                            "need an owner with Premium (February 2026 migration guide)")
        self.client_id = client_id
        secret = client_secret if isinstance(client_secret, Secret) else Secret(client_secret)
        self.host = host
        self._requested_port = port
        tokens = TokenStore(
            client_id, secret, refresh_tokens=users, rotate=rotate_refresh_tokens, rotation_seed=seed,
            expire_after_requests=self.fault_spec.expire_token_after,
        )
        injector = FaultInjector(self.fault_spec, seed if fault_seed is None else fault_seed)
        self.legacy_app = legacy_app
        self.access_mode = mode
        self.daily_quota = daily_quota
        self._app = _App(
            self.catalog, tokens, injector, legacy_app=legacy_app, access_mode=mode, daily_quota=daily_quota
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> TwinServer:
        if self._httpd is not None:
            raise TwinStartupError("TwinServer already started")
        try:
            self._httpd = _HTTPServer((self.host, self._requested_port), self._app)
        except OSError as exc:
            raise TwinStartupError(f"cannot listen on {self.host}:{self._requested_port}: {exc.strerror}") from exc
        self._app.base_url = f"http://{self.host}:{self.port}{API_PREFIX}"
        # A short poll interval keeps stop() fast; the default 0.5 s adds up over many test servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="spotify-twin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._app.stopping.set()
        httpd.shutdown()
        with self._app.lock:
            open_connections = list(self._app.connections)
        for connection in open_connections:
            # Wakes handler threads blocked reading an idle keep-alive connection.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TwinServer:
        # Already-started servers are welcome too, so `with start_twin(...) as twin:` reads naturally.
        return self if self._httpd is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- what clients need ----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise TwinError("TwinServer is not running")
        return int(self._httpd.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.origin + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.origin + TOKEN_PATH

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait until no request is being handled, so `request_log` holds every request made so far.

        A client that gave up on a slow (timeout fault) answer has moved on while the twin still works on it.
        """
        with self._app.idle:
            if not self._app.idle.wait_for(lambda: self._app.in_flight == 0, timeout_s):
                raise TwinError(f"the twin still handles {self._app.in_flight} request(s) after {timeout_s:g}s")

    @property
    def request_log(self) -> list[RequestLogEntry]:
        """Copy of (method, path_with_query, status) per request; status 0 = connection reset, no response."""
        with self._app.lock:
            return list(self._app.request_log)

    def truth(self) -> Truth:
        return export_truth(self.catalog)

    def track_served(self) -> TwinServer:
        """Record the ids of every object returned from now on (see `served`)."""
        if self._app.served is None:
            self._app.served = ServedIds()
        return self

    def served(self) -> dict[str, list[str]]:
        """Sorted ids of every track, album, artist, playlist and episode object returned since `track_served`."""
        if self._app.served is None:
            raise TwinError("served ids were not recorded: call track_served() before the requests")
        return self._app.served.export()

    def refresh_grants(self) -> list[dict[str, Any]]:
        """Every refresh-token grant so far: user id, fingerprints of the presented and the issued refresh token
        (`auth.fingerprint`), outcome. Never a token."""
        listeners = self.catalog.listeners
        return [
            {
                "user_id": listeners[g.user].user.id if g.user is not None else None,
                "presented_sha256": g.presented_sha256,
                "outcome": g.outcome,
                "issued_sha256": g.issued_sha256,
            }
            for g in self._app.tokens.grants
        ]

    def run_record(self) -> dict[str, Any]:
        """What this run served and how: the ground truth of one run (`truth.write_run_record`)."""
        listeners = self.catalog.listeners
        started_with = self._app.tokens.started_with
        return {
            "run": {
                "as_of": self.catalog.as_of.isoformat(), "access_mode": self.access_mode.value,
                "seed": self.catalog.seed, "scale": self.catalog.scale, "daily_quota": self.daily_quota,
                "api_requests": self.api_requests,
            },
            "served": self.served(),
            "users": [listeners[i].user.id for i in range(len(started_with))],
            "started_with_sha256": {listeners[i].user.id: fp for i, fp in enumerate(started_with)},
            "refresh_grants": self.refresh_grants(),
        }

    def listening_event(self, pid: int) -> Mapping[str, Any]:
        return {
            "event": "listening", "api_base_url": self.api_base_url, "token_url": self.token_url, "pid": pid,
            "access_mode": self.access_mode.value,
        }

    @property
    def api_requests(self) -> int:
        """Authenticated API requests so far: what the daily quota counts."""
        with self._app.lock:
            return self._app.api_requests
