"""Progress of one worker: a live line (rate, ETA) on stderr when it is a terminal, periodic count
lines on stdout otherwise (Azure Batch keeps stdout.txt, so a long crawl shows where it is).

Counts are fed by the worker threads; the output is rate-limited, so reporting costs nothing per request.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from activities.common.logs import get_logger

_log = get_logger("activities.extract.progress")


class Progress:
    """Thread-safe counters plus throttled output."""

    def __init__(
        self,
        worker: str,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        tty_interval: float = 0.5,
        log_interval: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker = worker
        self._stream = stream
        self._tty = tty
        self._tty_interval = tty_interval
        self._log_interval = log_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._started = monotonic()
        self._last_output = self._started
        self.stage = ""
        self.planned = 0  # requests known to be due in this stage (grows as pages reveal totals)
        self.fetched = 0  # responses received from the API
        self.replayed = 0  # responses read back from an earlier attempt's parts
        self.items = 0
        self._stage_done = 0
        self._line_open = False

    def _out(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def _is_tty(self) -> bool:
        if self._tty is not None:
            return self._tty
        try:
            return self._out().isatty()
        except (AttributeError, ValueError):
            return False

    def start_stage(self, stage: str, planned: int) -> None:
        with self._lock:
            self.stage = stage
            self.planned = planned
            self._stage_done = 0
        self._maybe_report(force=True)

    def add_planned(self, count: int) -> None:
        with self._lock:
            self.planned += count

    def record(self, *, items: int, replayed: bool) -> None:
        with self._lock:
            if replayed:
                self.replayed += 1
            else:
                self.fetched += 1
            self.items += items
            self._stage_done += 1
        self._maybe_report()

    def line(self) -> str:
        with self._lock:
            elapsed = max(1e-6, self._monotonic() - self._started)
            rate = self.fetched / elapsed
            left = max(0, self.planned - self._stage_done)
            eta = f"{left / rate:.0f} s" if rate > 0 else "?"
            return (
                f"{self.worker} {self.stage}: {self._stage_done}/{self.planned} requests of this stage, "
                f"{self.fetched} fetched + {self.replayed} replayed, {self.items} items, "
                f"{rate:.1f} req/s, {self.items / elapsed:.0f} items/s, stage ETA {eta}"
            )

    def _maybe_report(self, force: bool = False) -> None:
        tty = self._is_tty()
        interval = self._tty_interval if tty else self._log_interval
        now = self._monotonic()
        with self._lock:
            if not force and now - self._last_output < interval:
                return
            self._last_output = now
        if tty:
            self._out().write("\r\x1b[2K" + self.line())
            self._out().flush()
            self._line_open = True
        elif not force:
            _log.info("progress %s", self.line())

    def finish(self) -> None:
        """End the live line (TTY) so later log lines start on their own line."""
        if self._line_open:
            self._out().write("\r\x1b[2K" + self.line() + "\n")
            self._out().flush()
            self._line_open = False


__all__ = ["Progress"]
