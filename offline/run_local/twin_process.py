"""Run the Spotify twin as a separate process, as the real API would be: reached only over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from offline.adf_runner.errors import RunnerError
from offline.run_local.processes import stop_process


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
    *, seed: int, scale: float, faults: str, client_id: str, client_secret: str, refresh_tokens: Sequence[str],
    truth_out: Path, served_out: Path, log_file: Path, access_mode: str, as_of: date, daily_quota: int | None = None,
    rotate_refresh_tokens: bool = True,
) -> TwinProcess:
    """The twin for one run: standing at the end of `as_of`, the allow-listed users' refresh tokens in
    `refresh_tokens` (token i for user i), writing the run's record to `served_out` when stopped."""
    command = [
        sys.executable, "-m", "offline.spotify_twin", "--port", "0", "--seed", str(seed), "--scale", str(scale),
        "--faults", faults, "--client-id", client_id, "--truth-out", str(truth_out),
        "--served-out", str(served_out), "--access-mode", access_mode, "--as-of", as_of.isoformat(),
    ]
    if daily_quota is not None:
        command += ["--daily-quota", str(daily_quota)]
    if rotate_refresh_tokens:
        command.append("--rotate-refresh-tokens")
    # Secrets reach the twin through its environment only, never its command line.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_TWIN_")}
    env = {**inherited, "SPOTIFY_TWIN_CLIENT_SECRET": client_secret,
           "SPOTIFY_TWIN_REFRESH_TOKENS": json.dumps(list(refresh_tokens))}
    try:
        log = log_file.open("w", encoding="utf-8")
    except OSError as exc:
        raise TwinStartError(f"cannot write the Spotify twin's log {log_file}: {exc.strerror}; free space there or "
                             "fix the folder's permissions") from exc
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    log.close()  # the child holds its own handle
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not line or not line[0].strip():
        process.kill()
        code = process.wait()
        detail = log_file.read_text(encoding="utf-8").strip().splitlines()
        if not detail:  # it could not even say why: typically no space left for its log
            raise TwinStartError(f"the Spotify twin did not start (exit code {code}) and its log {log_file} is empty: "
                                 "check the free space and permissions of that folder")
        raise TwinStartError(f"the Spotify twin did not start: {detail[-1]} (log: {log_file})")
    event = json.loads(line[0])
    return TwinProcess(event["api_base_url"], event["token_url"], process)
