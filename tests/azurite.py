"""Azurite (the Azure Storage emulator), blob service only, for integration tests.

Test modules import the fixture they use (``from tests.azurite import azurite_connection_string``).
Azurite is installed by ``make test`` (``npm install --prefix .tools azurite@3``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
AZURITE_BLOB = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development key: published in Microsoft's docs, not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STARTUP_TIMEOUT_S = 30.0


def connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME};"
    )


def unique_container(prefix: str = "test") -> str:
    """A fresh valid container name, so tests sharing one Azurite never see each other's blobs."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class AzuriteProcess:
    """One Azurite blob process on a free 127.0.0.1 port with a temporary workspace."""

    def __init__(self) -> None:
        self.port = 0
        self._location = Path(tempfile.mkdtemp(prefix="azurite-"))
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self._location / "azurite.log"

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def start(self) -> AzuriteProcess:
        if not AZURITE_BLOB.exists():
            pytest.fail(
                f"Azurite is not installed ({AZURITE_BLOB} is missing): run `make test`, which installs it "
                "(or `npm install --prefix .tools azurite@3`)",
                pytrace=False,
            )
        # Another process may grab the port between probing and binding: try a few ports.
        for _ in range(3):
            self.port = _free_port()
            with self._log.open("wb") as log:
                self._process = subprocess.Popen(
                    [
                        str(AZURITE_BLOB),
                        "--blobHost", "127.0.0.1",
                        "--blobPort", str(self.port),
                        "--location", str(self._location),
                        "--skipApiVersionCheck",
                        "--loose",
                        "--silent",
                        "--disableTelemetry",  # no traffic beyond 127.0.0.1
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break  # exited: maybe the port was taken; try another
                if _accepts_connections(self.port):
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                pytest.fail(f"Azurite did not listen on 127.0.0.1:{self.port} within {STARTUP_TIMEOUT_S:.0f} s:\n"
                            f"{self._log_tail()}", pytrace=False)
        pytest.fail(f"Azurite exited at startup:\n{self._log_tail()}", pytrace=False)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._location, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """Start Azurite blob-only for the test session; yield its connection string; stop it."""
    azurite = AzuriteProcess().start()
    try:
        yield azurite.connection_string
    finally:
        azurite.cleanup()
