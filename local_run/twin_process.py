"""Run the Spotify twin as a separate process, as the real API would be: reached only over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from local_adf_runner.errors import RunnerError
from local_run.processes import stop_process


class TwinStartError(RunnerError):
    """The Spotify twin did not start."""


@dataclass
class TwinProcess:
    api_base_url: str
    token_url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        stop_process(self.process)


def start_twin(
    *, seed: int, scale: float, faults: str, client_id: str, client_secret: str, refresh_token: str, truth_out: Path,
    served_out: Path, log_file: Path, access_mode: str, daily_quota: int | None = None,
) -> TwinProcess:
    command = [
        sys.executable, "-m", "spotify_twin", "--port", "0", "--seed", str(seed), "--scale", str(scale),
        "--faults", faults, "--client-id", client_id, "--truth-out", str(truth_out),
        "--served-out", str(served_out), "--access-mode", access_mode,
    ]
    if daily_quota is not None:
        command += ["--daily-quota", str(daily_quota)]
    # Secrets reach the twin through its environment only, never its command line.
    env = {**os.environ, "SPOTIFY_TWIN_CLIENT_SECRET": client_secret, "SPOTIFY_TWIN_REFRESH_TOKEN": refresh_token}
    log = log_file.open("w", encoding="utf-8")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not line or not line[0].strip():
        process.kill()
        process.wait()
        log.close()
        detail = log_file.read_text(encoding="utf-8").strip().splitlines()
        raise TwinStartError(f"the Spotify twin did not start: {detail[-1] if detail else 'no output'} (log: {log_file})")
    event = json.loads(line[0])
    return TwinProcess(event["api_base_url"], event["token_url"], process)
