"""CLI: ``python -m spotify_twin --port 0 --seed 42 --scale 1.0 [--access-mode development|extended]
[--daily-quota N] [--faults SPEC] [--client-id ID] [--truth-out PATH] [--served-out PATH] [--legacy-app]``.

The client secret comes only from ``SPOTIFY_TWIN_CLIENT_SECRET`` and the listener's refresh token only from
``SPOTIFY_TWIN_REFRESH_TOKEN`` (optional: unset, every refresh-token grant answers ``invalid_grant``), so
neither shows in a process list.
Prints one JSON line (``{"event": "listening", ...}``) once it accepts connections, then serves until
SIGTERM or SIGINT and exits 0. Bad arguments: one line on stderr, exit 2.
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
from pathlib import Path
from types import FrameType
from typing import NoReturn

from spotify_twin.access import AccessMode
from spotify_twin.errors import TwinError, TwinStartupError
from spotify_twin.faults import FaultSpec, parse_faults
from spotify_twin.server import DEFAULT_CLIENT_ID, TwinServer
from spotify_twin.truth import write_truth

SECRET_ENV = "SPOTIFY_TWIN_CLIENT_SECRET"
REFRESH_TOKEN_ENV = "SPOTIFY_TWIN_REFRESH_TOKEN"
EXIT_USAGE = 2
EXIT_STARTUP = 1
PROG = "spotify_twin"


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
            refresh_token=os.environ.get(REFRESH_TOKEN_ENV) or None, legacy_app=args.legacy_app,
            access_mode=args.access_mode, daily_quota=args.daily_quota,
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
        _fail(f"cannot write truth to {args.truth_out}: {exc.strerror}", EXIT_STARTUP)

    try:
        print(json.dumps(twin.listening_event(os.getpid())), flush=True)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        twin.stop()
        if args.served_out is not None:
            _write_served(twin.served(), args.served_out)
    return 0


def _write_served(served: dict[str, list[str]], path: Path) -> None:
    # Written beside then renamed, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(served, indent=1), encoding="utf-8")
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
