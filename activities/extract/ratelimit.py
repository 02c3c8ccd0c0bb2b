"""A token bucket shared by every thread of one extraction: at most ``rate`` requests per second on
average, bursts of at most ``burst``.

Each caller reserves its slot under the lock (the bucket may go negative: that is the queue) and
sleeps outside it, so waiting threads never hold each other up and slots are handed out in order.
Sleeping and the clock are injectable so tests never sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket; ``rate`` None or 0 means unlimited."""

    def __init__(
        self,
        rate: float | None,
        burst: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate < 0:
            raise ValueError("rate must not be negative")
        self.rate = rate or None
        self.burst = max(1.0, burst if burst is not None else (rate or 1.0))
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = monotonic()

    def acquire(self) -> float:
        """Take one slot, sleeping until it is due; return the seconds slept."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


__all__ = ["RateLimiter"]
