"""The one thing runner tests fake: time. It moves only when the runner sleeps (plus 1 ms per reading, so durations are
not all zero); `sleeps` records every sleep."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self.current += timedelta(milliseconds=1)
            return self.current

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.current += timedelta(seconds=seconds)
