"""The retry policy every HTTP client here shares (the Spotify client, Purview's Atlas client): how often a
request is tried, how long it backs off between attempts, how long it may wait in all, and how long a server's
``Retry-After`` asks it to wait (read by ``activities.common.retry_after``).

Each client classifies its own responses (what is retriable is the API's business); this module only decides,
for a retriable failure, whether to try again and after how long.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


class RetryBudget:
    """Retries shared by every request of a run (issue 12): a request that keeps failing spends the run's
    budget instead of giving up after its own few attempts; thread-safe."""

    def __init__(self, retries: int) -> None:
        self._left = retries
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    @property
    def left(self) -> int:
        with self._lock:
            return self._left


class GiveUp(Exception):
    """Not worth another attempt; the message says why (attempts used, the wait cap)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per request and the backoff between them.

    Args:
        max_attempts: attempts per request, the first included.
        backoff_seconds: first backoff when the server gives no Retry-After; doubles per attempt up to
            ``max_backoff_seconds``, jittered.
        max_wait_seconds: the most one request may spend waiting between attempts; a Retry-After or backoff
            that would go past it ends the request.
    """

    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_wait_seconds: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def next_delay(self, attempt: int, waited: float, retry_after: float | None, jitter: float,
                   budget: RetryBudget | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``, after ``waited`` seconds of waiting so far.

        ``retry_after`` (the server's word) is honoured as is; otherwise the backoff is "equal jitter" (half the
        ceiling plus ``jitter`` in [0, 1) of the other half: spread, never zero). With a run-wide ``budget`` a
        request retries while the budget lasts instead of stopping after ``max_attempts``.

        Raises:
            GiveUp: the attempts or the budget are used up, or the wait would pass ``max_wait_seconds``.
        """
        if budget is not None:
            if not budget.take():
                raise GiveUp(f"gave up after {attempt} attempts: the run's retry budget is spent")
        elif attempt >= self.max_attempts:
            raise GiveUp(f"gave up after {attempt} attempts (waited {waited:.2f} s in total)")
        if retry_after is not None:
            delay = max(0.0, retry_after)
        else:
            ceiling = min(self.max_backoff_seconds, self.backoff_seconds * (2 ** (attempt - 1)))
            delay = ceiling / 2 + jitter * ceiling / 2
        if waited + delay > self.max_wait_seconds:
            raise GiveUp(f"gave up after {attempt} attempts: waiting {delay:.1f} s more would pass the "
                         f"{self.max_wait_seconds:.0f} s cap (waited {waited:.1f} s)")
        return delay


__all__ = ["GiveUp", "RetryBudget", "RetryPolicy"]
