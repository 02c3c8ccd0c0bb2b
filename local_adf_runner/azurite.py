"""Start and stop Azurite (the Blob Storage emulator, npm package `azurite`) on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from local_adf_runner.errors import RunnerError

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BLOB = ROOT / ".tools" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account: published in Microsoft's docs, not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteError(RunnerError):
    """Azurite is not installed or did not start."""


@dataclass
class Azurite:
    """A running Azurite blob service; use as a context manager."""

    port: int
    process: subprocess.Popen[bytes]
    location: Path
    _owns_location: bool

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._owns_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_azurite(location: Path | None = None, timeout_seconds: float = 30.0) -> Azurite:
    if not AZURITE_BLOB.exists():
        raise AzuriteError(
            f"Azurite is not installed at {AZURITE_BLOB}: run `make install` "
            "(or `npm install --prefix .tools azurite@3`)"
        )
    owns = location is None
    folder = Path(tempfile.mkdtemp(prefix="azurite-")) if location is None else location
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [str(AZURITE_BLOB), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder),
         "--skipApiVersionCheck", "--loose", "--silent", "--disableProductStyleUrl"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    azurite = Azurite(port, process, folder, owns)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = (process.stderr.read() if process.stderr else b"").decode(errors="replace").strip()
            azurite.stop()
            raise AzuriteError(f"Azurite exited with code {process.returncode} on start: {detail[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return azurite
        except OSError:
            time.sleep(0.1)
    azurite.stop()
    raise AzuriteError(f"Azurite did not accept connections on 127.0.0.1:{port} within {timeout_seconds:.0f} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
