"""Integration tests: `python -m offline.spotify_twin` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from offline.spotify_twin import TwinServer
from tests.twin_fixtures import (
    HTTP_TIMEOUT_S,
    TWIN_CLIENT_ID,
    TWIN_REFRESH_TOKEN,
    TWIN_SECRET,
    fetch_token,
    refresh_grant,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_ENV = "SPOTIFY_TWIN_CLIENT_SECRET"
REFRESH_TOKEN_ENV = "SPOTIFY_TWIN_REFRESH_TOKEN"


def _env(secret: str | None = TWIN_SECRET, refresh_token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (SECRET_ENV, REFRESH_TOKEN_ENV)}
    if secret is not None:
        env[SECRET_ENV] = secret
    if refresh_token is not None:
        env[REFRESH_TOKEN_ENV] = refresh_token
    return env


def _start(*args: str, refresh_token: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "offline.spotify_twin", "--port", "0", "--client-id", TWIN_CLIENT_ID, *args],
        cwd=REPO_ROOT, env=_env(refresh_token=refresh_token), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def _run(*args: str, secret: str | None = TWIN_SECRET) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.spotify_twin", *args],
        cwd=REPO_ROOT, env=_env(secret), capture_output=True, text=True, timeout=20,
    )


def _listening_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"twin exited early: {process.communicate(timeout=5)[1]}"
    event: dict[str, Any] = json.loads(line)
    return event


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_when_started_then_prints_listening_line_serves_and_stops_cleanly_on_signal(
    stop_signal: signal.Signals, tmp_path: Path
) -> None:
    truth_path = tmp_path / "truth.json"
    process = _start("--seed", "3", "--scale", "0.1", "--truth-out", str(truth_path))
    try:
        event = _listening_line(process)
        token = fetch_token(event["token_url"])
        response = requests.get(
            f"{event['api_base_url']}/search?q=night&type=album", headers={"Authorization": f"Bearer {token}"},
            timeout=HTTP_TIMEOUT_S,
        )
        refresh = refresh_grant(event["token_url"])  # no SPOTIFY_TWIN_REFRESH_TOKEN: user endpoints are closed
    finally:
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=10)

    assert set(event) == {"event", "api_base_url", "token_url", "pid", "access_mode"}
    assert event["event"] == "listening" and event["pid"] == process.pid
    assert event["access_mode"] == "development"  # the default: a new app in 2026
    assert event["api_base_url"].startswith("http://127.0.0.1:") and event["api_base_url"].endswith("/v1")
    assert response.status_code == 200
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert token not in stderr and TWIN_SECRET not in stderr
    assert json.loads(truth_path.read_text(encoding="utf-8")) == TwinServer(seed=3, scale=0.1).truth()


def test_when_refresh_token_env_and_legacy_app_are_given_then_user_and_restricted_endpoints_answer() -> None:
    process = _start("--scale", "0.1", "--access-mode", "extended", "--legacy-app", refresh_token=TWIN_REFRESH_TOKEN)
    try:
        event = _listening_line(process)
        user_token = refresh_grant(event["token_url"]).json()["access_token"]
        headers = {"Authorization": f"Bearer {user_token}"}
        me = requests.get(f"{event['api_base_url']}/me", headers=headers, timeout=HTTP_TIMEOUT_S)
        related = requests.get(f"{event['api_base_url']}/browse/featured-playlists", headers=headers,
                               timeout=HTTP_TIMEOUT_S)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)

    assert me.status_code == 200 and me.json()["type"] == "user"
    assert related.status_code == 200
    assert process.returncode == 0
    assert TWIN_REFRESH_TOKEN not in stderr and user_token not in stderr
    assert TWIN_REFRESH_TOKEN not in str(process.args)  # never on the command line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--scale", "-1"], "--scale"),
        (["--scale", "abc"], "--scale"),
        (["--faults", "429=2"], "429=2"),
        (["--faults", "bogus=1"], "bogus"),
        (["--port", "70000"], "--port"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_when_cli_value_is_bad_then_one_line_error_and_exit_2(args: list[str], expected: str) -> None:
    result = _run(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert "Traceback" not in result.stderr


def test_when_secret_env_is_unset_then_refuses_to_start_naming_the_variable() -> None:
    result = _run("--port", "0", secret=None)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and SECRET_ENV in lines[0]


def test_when_stopped_with_served_out_then_every_returned_object_id_is_written(tmp_path: Path) -> None:
    served_file = tmp_path / "served.json"
    env = {**os.environ, "SPOTIFY_TWIN_CLIENT_SECRET": "s3cret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "offline.spotify_twin", "--port", "0", "--scale", "0.1", "--client-id", "cid",
         "--access-mode", "extended", "--served-out", str(served_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        event = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        token = requests.post(event["token_url"], data={"grant_type": "client_credentials"}, auth=("cid", "s3cret"),
                              timeout=10).json()["access_token"]
        body = requests.get(f"{event['api_base_url']}/browse/new-releases?limit=3",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    record = json.loads(served_file.read_text())
    served = record["served"]
    assert record["run"]["access_mode"] == "extended" and record["run"]["as_of"] == "2026-11-20"
    assert record["run"]["api_requests"] == 1 and record["refresh_grants"] == []
    albums = [item["id"] for item in body["albums"]["items"]]
    artists = {artist["id"] for item in body["albums"]["items"] for artist in item["artists"]}
    assert served["albums"] == sorted(albums)
    assert set(served["artists"]) == artists
    assert served["tracks"] == []
