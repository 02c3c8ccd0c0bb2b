"""Fault injection: spec parser and a seedable per-run fault picker.

Spec: comma-separated `key=value` pairs, e.g. ``"429=0.05,500=0.02,reset=0.01,timeout=0.01,latency_ms=30"``.

- ``429``, ``500``, ``502``, ``503``: probability that an API request gets that status.
- ``reset``: probability that the connection is closed without a response.
- ``timeout``: probability that the answer is delayed by ``timeout_s`` (default 10 s), past a client's timeout.
- ``timeout_s``: that delay in seconds.
- ``latency_ms``: fixed delay added to every response (the token endpoint included).
- ``expire_token_after``: tokens stop working after this many API requests each.
- ``premium_lapse_after``: the app owner's Premium lapses after this many API requests (0: from the start);
  from then on every API request answers 403 "Active premium subscription required for the owner of the app"
  (February 2026 migration guide: Development Mode apps need an owner with Premium). Development mode only.

Probabilities add up to at most 1 because one uniform draw per request picks at most one fault.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from enum import Enum

from offline.spotify_twin.errors import FaultSpecError

DEFAULT_TIMEOUT_S = 10.0
RETRY_AFTER_S = 1


class Fault(Enum):
    TOO_MANY_REQUESTS = "429"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502"
    SERVICE_UNAVAILABLE = "503"
    RESET = "reset"
    TIMEOUT = "timeout"

    @property
    def status(self) -> int | None:
        """HTTP status for the faults that answer with one."""
        return int(self.value) if self.value.isdigit() else None


FAULT_MESSAGES: dict[Fault, str] = {
    Fault.TOO_MANY_REQUESTS: "API rate limit exceeded",
    Fault.SERVER_ERROR: "Server error",
    Fault.BAD_GATEWAY: "Bad gateway",
    Fault.SERVICE_UNAVAILABLE: "Service unavailable",
}

_PROBABILITY_KEYS = {f.value: f for f in Fault}
_COUNT_KEYS = {"expire_token_after": 1, "premium_lapse_after": 0}  # whole numbers, with their minimum
_ALL_KEYS = (*_PROBABILITY_KEYS, "latency_ms", "timeout_s", *_COUNT_KEYS)


@dataclass(frozen=True)
class FaultSpec:
    probabilities: tuple[tuple[Fault, float], ...] = ()
    latency_ms: float = 0.0
    timeout_s: float = DEFAULT_TIMEOUT_S
    expire_token_after: int | None = None
    premium_lapse_after: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            not self.probabilities and self.latency_ms == 0 and self.expire_token_after is None
            and self.premium_lapse_after is None
        )


def parse_faults(spec: str | None) -> FaultSpec:
    """Parse a fault spec string; empty or None means no faults.

    Raises:
        FaultSpecError: naming the key and value that are wrong and why.
    """
    if spec is None or not spec.strip():
        return FaultSpec()
    probabilities: dict[Fault, float] = {}
    options: dict[str, float] = {}
    seen: set[str] = set()
    for raw_entry in spec.split(","):
        entry = raw_entry.strip()
        if not entry:
            raise FaultSpecError("", "", "empty entry (stray comma?)")
        key, sep, value = (part.strip() for part in entry.partition("="))
        if not sep:
            raise FaultSpecError(key, "", "expected key=value")
        if key not in _ALL_KEYS:
            raise FaultSpecError(key, value, f"unknown key; known keys: {', '.join(_ALL_KEYS)}")
        if key in seen:
            raise FaultSpecError(key, value, "given twice")
        seen.add(key)
        number = _number(key, value)
        if key in _PROBABILITY_KEYS:
            if not 0.0 <= number <= 1.0:
                raise FaultSpecError(key, value, "probability must be between 0 and 1")
            probabilities[_PROBABILITY_KEYS[key]] = number
        elif key in _COUNT_KEYS:
            if not number.is_integer() or number < _COUNT_KEYS[key]:
                raise FaultSpecError(key, value, f"must be a whole number >= {_COUNT_KEYS[key]}")
            options[key] = number
        else:
            if number < 0:
                raise FaultSpecError(key, value, "must be >= 0")
            options[key] = number
    total = sum(probabilities.values())
    if total > 1.0 + 1e-9:
        raise FaultSpecError("probabilities", f"{total:g}", "fault probabilities add up to more than 1")
    expire = options.get("expire_token_after")
    lapse = options.get("premium_lapse_after")
    return FaultSpec(
        # Fixed order (enum order) so the same seed maps draws to the same faults however the spec is written.
        probabilities=tuple((f, probabilities[f]) for f in Fault if probabilities.get(f, 0.0) > 0.0),
        latency_ms=options.get("latency_ms", 0.0),
        timeout_s=options.get("timeout_s", DEFAULT_TIMEOUT_S),
        expire_token_after=int(expire) if expire is not None else None,
        premium_lapse_after=int(lapse) if lapse is not None else None,
    )


def _number(key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FaultSpecError(key, value, "not a number") from None
    if not math.isfinite(number):
        raise FaultSpecError(key, value, "not a finite number")
    return number


class FaultInjector:
    """Picks the fault (or none) for each API request from one seeded stream, so a run is reproducible
    for a client that sends its requests one at a time."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"spotify-twin-faults:{seed}")
        self._lock = threading.Lock()

    def draw(self) -> Fault | None:
        if not self.spec.probabilities:
            return None
        with self._lock:
            roll = self._rng.random()
        cumulative = 0.0
        for fault, probability in self.spec.probabilities:
            cumulative += probability
            if roll < cumulative:
                return fault
        return None
