"""CLI: ``python -m offline.spotify_twin --port 0 --seed 42 --scale 1.0 [--access-mode development|extended]
[--daily-quota N] [--as-of YYYY-MM-DD] [--rotate-refresh-tokens] [--faults SPEC] [--client-id ID]
[--truth-out PATH] [--served-out PATH] [--legacy-app]``.

Secrets come only from the environment, so none shows in a process list: the client secret from
``SPOTIFY_TWIN_CLIENT_SECRET``; the allow-listed users' refresh tokens from ``SPOTIFY_TWIN_REFRESH_TOKENS`` (a JSON
list, token i for user i, at most 5) or, for one user, ``SPOTIFY_TWIN_REFRESH_TOKEN``. Without either, every
refresh-token grant answers ``invalid_grant``.
Prints one JSON line (``{"event": "listening", ...}``) once it accepts connections, then serves until
SIGTERM or SIGINT and exits 0; with ``--served-out`` it then writes the run's record (what it served, the refresh
grants as fingerprints). Bad arguments: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
from datetime import date
from pathlib import Path
from types import FrameType
from typing import NoReturn

from offline.spotify_twin.access import AccessMode
from offline.spotify_twin.errors import TwinError, TwinStartupError
from offline.spotify_twin.faults import FaultSpec, parse_faults
from offline.spotify_twin.server import DEFAULT_CLIENT_ID, TwinServer
from offline.spotify_twin.truth import write_run_record, write_truth

SECRET_ENV = "SPOTIFY_TWIN_CLIENT_SECRET"
REFRESH_TOKEN_ENV = "SPOTIFY_TWIN_REFRESH_TOKEN"
REFRESH_TOKENS_ENV = "SPOTIFY_TWIN_REFRESH_TOKENS"
EXIT_USAGE = 2
EXIT_STARTUP = 1
PROG = "offline.spotify_twin"


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; callers (runner, CI logs) want a single line."""

    def error(self, message: str) -> NoReturn:
        _fail(message, EXIT_USAGE)


def _fail(message: str, code: int) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"--scale must be a positive number, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be an integer, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be between 0 and 65535, got {text!r}")
    return value


def _quota(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--daily-quota must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--daily-quota must be >= 0, got {text!r}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be YYYY-MM-DD, got {text!r}") from None


def _refresh_tokens() -> list[str]:
    raw = os.environ.get(REFRESH_TOKENS_ENV)
    if not raw:
        return []
    try:
        tokens = json.loads(raw)
    except json.JSONDecodeError:
        tokens = None
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        _fail(f"{REFRESH_TOKENS_ENV} must be a JSON list of refresh tokens, e.g. [\"token-1\", \"token-2\"]",
              EXIT_USAGE)
    return tokens


def _faults(text: str) -> FaultSpec:
    try:
        return parse_faults(text)
    except TwinError as exc:
        raise argparse.ArgumentTypeError(f"--faults: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=f"python -m {PROG}", description="Offline Spotify Web API twin.")
    parser.add_argument("--port", type=_port, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--seed", type=int, default=42, help="catalog and fault seed (default 42)")
    parser.add_argument("--scale", type=_scale, default=1.0, help="1.0 = ~300 artists, ~900 albums, ~9000 tracks")
    parser.add_argument("--faults", type=_faults, default=FaultSpec(), help='e.g. "429=0.05,500=0.02,latency_ms=30"')
    parser.add_argument(
        "--client-id", default=DEFAULT_CLIENT_ID, help=f"accepted client id (default {DEFAULT_CLIENT_ID})"
    )
    parser.add_argument("--truth-out", type=Path, default=None, help="write the ground truth JSON here at start")
    parser.add_argument(
        "--served-out", type=Path, default=None,
        help="on exit, write the ids of every object the twin returned (the run's ground truth) here as JSON",
    )
    parser.add_argument(
        "--access-mode", choices=[m.value for m in AccessMode], default=AccessMode.DEVELOPMENT.value,
        help="development (default: a new app in 2026) or extended (extended quota granted before Feb 2026)",
    )
    parser.add_argument(
        "--daily-quota", type=_quota, default=None,
        help="authenticated API requests this run may make before 429 QUOTA_EXCEEDED (default: no quota)",
    )
    parser.add_argument("--as-of", type=_day, default=None,
                        help="the day the users' activity and the catalog stand at (default 2026-11-20)")
    parser.add_argument("--rotate-refresh-tokens", action="store_true",
                        help="a refresh grant returns a new refresh token, once per user per run")
    parser.add_argument(
        "--legacy-app", action="store_true",
        help="with --access-mode extended: serve the endpoints Spotify restricted for new apps on 2024-11-27",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    secret = os.environ.get(SECRET_ENV)
    if not secret:
        _fail(f"{SECRET_ENV} is not set; export the client secret the twin should accept", EXIT_USAGE)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    try:
        twin = TwinServer(
            seed=args.seed, scale=args.scale, faults=args.faults, client_id=args.client_id,
            client_secret=secret, host=args.host, port=args.port,
            refresh_token=os.environ.get(REFRESH_TOKEN_ENV) or None, refresh_tokens=_refresh_tokens(),
            rotate_refresh_tokens=args.rotate_refresh_tokens, legacy_app=args.legacy_app,
            access_mode=args.access_mode, daily_quota=args.daily_quota, as_of=args.as_of,
        )
        if args.truth_out is not None:
            write_truth(twin.truth(), args.truth_out)
        if args.served_out is not None:
            twin.track_served()
        twin.start()
    except TwinStartupError as exc:
        _fail(str(exc), EXIT_STARTUP)
    except TwinError as exc:
        _fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        _fail(f"cannot write truth to {args.truth_out}: {exc.strerror}; free space or fix the folder's permissions",
              EXIT_STARTUP)

    try:
        print(json.dumps(twin.listening_event(os.getpid())), flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        twin.stop()
        if args.served_out is not None:
            try:
                write_run_record(twin.run_record(), args.served_out)
            except OSError as exc:
                _fail(f"cannot write the served ids to {args.served_out}: {exc.strerror}; free space or fix the "
                      "folder's permissions", EXIT_STARTUP)
    return 0


if __name__ == "__main__":
    sys.exit(main())
