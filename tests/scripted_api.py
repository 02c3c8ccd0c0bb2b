"""A scripted Spotify Web API on 127.0.0.1 for the extract client's tests: answers per path, consumed in order,
a token endpoint minting tok-1, tok-2, ...; and a fake clock, so nothing sleeps (the client gets a ``sleep`` that
records the delays it was asked for).

Import the ``server`` fixture by name into the test module that uses it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from activities.common import SecureString
from activities.common.retry import RetryPolicy
from activities.extract.client import SpotifyClient

SECRET = "client-test-s3cret"
FIXED_NOW = datetime(2026, 11, 24, 5, 0, 1, 200000, tzinfo=UTC)


@dataclass
class Scripted:
    """Answers per path, consumed in order; the last one repeats. The token endpoint mints tok-1, tok-2, …"""

    answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path+query, Authorization)
    token_status: int = 200
    tokens_issued: int = 0


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        script = self.server.script
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        script.requests.append(("POST", self.path, self.headers.get("Authorization", "")))
        if script.token_status != 200:
            self._reply(script.token_status, {}, b'{"error":"invalid_client","error_description":"Invalid client"}')
            return
        script.tokens_issued += 1
        body = json.dumps({"access_token": f"tok-{script.tokens_issued}", "token_type": "Bearer", "expires_in": 3600})
        self._reply(200, {"Content-Type": "application/json"}, body.encode())

    def do_GET(self) -> None:
        script = self.server.script
        script.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
        path = self.path.split("?")[0]
        queue = script.answers.get(path)
        if not queue:
            self._reply(404, {}, b'{"error":{"status":404,"message":"no route"}}')
            return
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        self._reply(*answer)


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Scripted) -> None:
        self.script = script
        super().__init__(("127.0.0.1", 0), ScriptedHandler)


@pytest.fixture()
def server() -> Iterator[ScriptedServer]:
    httpd = ScriptedServer(Scripted())
    # A short poll interval: shutdown() waits up to one interval, per test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def make_client(server: ScriptedServer, clock: FakeClock, **options: Any) -> SpotifyClient:
    port = server.server_address[1]
    defaults: dict[str, Any] = {
        "api_base_url": f"http://127.0.0.1:{port}/v1",
        "token_url": f"http://127.0.0.1:{port}/api/token",
        "client_id": "cid",
        "client_secret": SecureString(SECRET),
        "retry": RetryPolicy(max_attempts=4, backoff_seconds=1.0, max_wait_seconds=60.0),
        "timeout": (2.0, 5.0),
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "now": lambda: FIXED_NOW,
        "jitter": lambda: 0.0,
    }
    defaults.update(options)
    return SpotifyClient(**defaults)


def ok(body: bytes) -> tuple[int, dict[str, str], bytes]:
    return (200, {"Content-Type": "application/json"}, body)


def error(status: int, headers: dict[str, str] | None = None, message: str = "boom") -> tuple[int, dict[str, str], bytes]:
    return (status, headers or {}, json.dumps({"error": {"status": status, "message": message}}).encode())


def api_paths(server: ScriptedServer) -> list[str]:
    return [path for method, path, _ in server.script.requests if method == "GET"]
