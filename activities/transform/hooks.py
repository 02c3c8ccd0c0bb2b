"""Test hook: stop at a named point so a test can kill the process there (kill -9) and check recovery.

``TRANSFORM_TEST_PAUSE_AT=<point>`` makes ``pause_at(<point>)`` print ``PAUSED AT <point>`` to
stdout and sleep ``TRANSFORM_TEST_PAUSE_SECONDS`` (default 60). Unset (as in every real run),
``pause_at`` does nothing but read one environment variable.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "TRANSFORM_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "TRANSFORM_TEST_PAUSE_SECONDS"


def pause_at(point: str) -> None:
    """Sleep at ``point`` when the test hook names it; otherwise return at once."""
    if os.environ.get(PAUSE_ENV) != point:
        return
    sys.stdout.write(f"PAUSED AT {point}\n")
    sys.stdout.flush()
    time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))


__all__ = ["PAUSE_ENV", "PAUSE_SECONDS_ENV", "pause_at"]
