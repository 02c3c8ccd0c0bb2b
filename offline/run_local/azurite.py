"""Azurite (the Blob Storage emulator, npm package `azurite`), blob service only, on 127.0.0.1.

Used by `run_local.py --storage azurite` and by the integration tests. `make test` installs it into
`.tools/` (`npm install --prefix .tools azurite@3`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from offline.adf_runner.errors import RunnerError
from offline.run_local.processes import accepts_connections, free_port, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT_NAME = "devstoreaccount1"
# Azurite's well-known development key: published in Microsoft's docs, not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
STARTUP_TIMEOUT_S = 30.0


class AzuriteError(RunnerError):
    """Azurite is not installed or did not start."""


def connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME};"
    )


class Azurite:
    """One Azurite blob process on a free port; data under `location` (a temporary folder by default)."""

    def __init__(self, location: Path | None = None) -> None:
        self.port = 0
        self._owns_location = location is None
        self.location = Path(tempfile.mkdtemp(prefix="azurite-")) if location is None else location
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.location / "azurite.log"

    @property
    def connection_string(self) -> str:
        return connection_string(self.port)

    def start(self) -> Azurite:
        if not AZURITE_BLOB.exists():
            raise AzuriteError(
                f"Azurite is not installed ({AZURITE_BLOB} is missing): run `make install` "
                "(or `npm install --prefix .tools azurite@3`)"
            )
        self.location.mkdir(parents=True, exist_ok=True)
        # Another process may take the port between probing and binding: try a few.
        for _ in range(3):
            self.port = free_port()
            with self._log.open("wb") as log:
                self._process = subprocess.Popen(
                    [str(AZURITE_BLOB), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                     "--location", str(self.location), "--skipApiVersionCheck", "--loose", "--silent",
                     "--disableTelemetry"],  # no traffic beyond 127.0.0.1
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break  # exited: maybe the port was taken; try another
                if accepts_connections(self.port):
                    return self
                time.sleep(0.1)
            else:
                self.stop()
                raise AzuriteError(f"Azurite did not listen on 127.0.0.1:{self.port} within "
                                   f"{STARTUP_TIMEOUT_S:.0f} s: {self._log_tail()}")
        raise AzuriteError(f"Azurite exited at startup: {self._log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process(process)
        if self._owns_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"
