"""Unit tests run in this process with nothing real around them: one that starts a subprocess or listens on a
socket fails here with the fix (it belongs in tests/integration/, where the `integration` marker is set)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_servers_or_subprocesses(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{request.node.nodeid} {what}: a unit test may not; move it to tests/integration/")
        return refused

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("starts a subprocess"))
    monkeypatch.setattr(socket.socket, "listen", refuse("starts a server"))
    yield
