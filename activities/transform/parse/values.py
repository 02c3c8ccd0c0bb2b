"""Parse the few raw values that are not stored as they come: release dates, timestamps, market codes, request URLs.

Pure. A value that cannot be parsed raises ``ItemError`` naming the field, and the record it
belongs to goes to quarantine. Release dates repeat a lot (every track of an album carries
its album), so their parse is cached; the cache is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from activities.transform.parse.document import describe


class ItemError(Exception):
    """One record cannot be curated: ``field`` (a JSON path inside the record) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# Spotify's ``release_date`` has the shape its ``release_date_precision`` names.
_RELEASE_DATE_SHAPES: Mapping[str, re.Pattern[str]] = {
    "year": re.compile(r"(\d{4})"),
    "month": re.compile(r"(\d{4})-(\d{2})"),
    "day": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
}
_NO_DATE: tuple[date | None, int | None] = (None, None)
_RELEASE_CACHE: dict[tuple[str, str | None], tuple[date | None, int | None] | str] = {}
_CACHE_LIMIT = 16_384


def _parse_release(raw: str, precision: str | None) -> tuple[date | None, int | None] | str:
    shape = _RELEASE_DATE_SHAPES.get(precision) if isinstance(precision, str) else None
    if shape is None:
        return f"release_date_precision {precision!r} is not year, month or day"
    match = shape.fullmatch(raw)
    if match is None:
        return f"release_date {raw!r} does not match its precision {precision!r}"
    parts = [int(group) for group in match.groups()] + [1, 1]
    if parts[0] == 0:
        # Spotify ships "0000" (and "0000-00-00") for some catalogue albums: a known "unknown", not an error.
        return _NO_DATE
    try:
        value = date(parts[0], parts[1], parts[2])
    except ValueError:
        return f"release_date {raw!r} is not a real date"
    return value, value.year


def parse_release_date(raw: Any, precision: Any) -> tuple[date | None, int | None]:
    """``(date, year)`` of ``release_date`` by its precision: year -> Jan 1, month -> the 1st, day -> itself.

    Missing values give ``(None, None)``; year 0 (Spotify's placeholder) too.

    Raises:
        ItemError: the value is not a string, does not match its precision or is not a real date.
    """
    if raw is None:
        return _NO_DATE
    if raw.__class__ is not str:
        raise ItemError("release_date", f"expected a string, got {describe(raw)}")
    key = (raw, precision if precision.__class__ is str else repr(precision))
    cached = _RELEASE_CACHE.get(key)
    if cached is None:
        if len(_RELEASE_CACHE) >= _CACHE_LIMIT:
            _RELEASE_CACHE.clear()
        cached = _RELEASE_CACHE[key] = _parse_release(raw, precision)
    if cached.__class__ is str:
        raise ItemError("release_date", str(cached))
    return cached  # type: ignore[return-value]


def parse_timestamp(raw: Any, field_name: str) -> datetime | None:
    """An ISO 8601 timestamp (Spotify: ``2026-11-24T05:00:01Z``, optionally with fractions) in UTC.

    Raises:
        ItemError: not a string, or not an ISO 8601 date-time.
    """
    if raw is None:
        return None
    if raw.__class__ is not str:
        raise ItemError(field_name, f"expected an ISO 8601 timestamp string, got {describe(raw)}")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ItemError(field_name, f"{raw!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_MARKET_CODE = re.compile(r"[A-Z]{2}")


def market_code(raw: Any, field_name: str = "market") -> str:
    """An ISO 3166-1 alpha-2 market code exactly as Spotify writes it: two upper-case letters (``US``).

    Raises:
        ItemError: not a string, or not two upper-case letters (``us``, ``USA``, ``from_token``).
    """
    if raw.__class__ is not str:
        raise ItemError(field_name, f"expected an ISO 3166-1 alpha-2 market code string, got {describe(raw)}")
    if _MARKET_CODE.fullmatch(raw) is None:
        raise ItemError(field_name, f"{raw!r} is not an ISO 3166-1 alpha-2 market code (two upper-case letters)")
    return raw


def widest_image_url(images: Any) -> str | None:
    """URL of the widest image; ties (and missing widths) keep the earlier image."""
    best_url = None
    best_width = -1
    if images:
        for image in images:
            width = image.get("width") or 0
            if width > best_width:
                url = image.get("url")
                if url:
                    best_url, best_width = url, width
    return best_url


class RequestContext:
    """What a part's ``request_url`` says: path segments and query parameters (last value wins), and
    the ``user_id`` the manifest part names (user sources: whose token fetched it).

    Parsed on first use: most parsers never ask.
    """

    __slots__ = ("_params", "_segments", "url", "user_id")

    def __init__(self, url: str | None, user_id: str | None = None) -> None:
        self.url = url
        self.user_id = user_id
        self._segments: tuple[str, ...] | None = None
        self._params: dict[str, str] | None = None

    def _parse(self) -> None:
        if not self.url:
            self._segments, self._params = (), {}
            return
        parts = urlsplit(self.url)
        self._params = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        self._segments = tuple(s for s in parts.path.split("/") if s)

    @property
    def segments(self) -> tuple[str, ...]:
        if self._segments is None:
            self._parse()
        return self._segments  # type: ignore[return-value]

    @property
    def params(self) -> Mapping[str, str]:
        if self._params is None:
            self._parse()
        return self._params  # type: ignore[return-value]

    def param(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def int_param(self, name: str) -> int | None:
        value = self.param(name)
        return int(value) if value is not None and value.isdigit() else None

    def after(self, segment: str) -> str | None:
        """The path segment after ``segment`` (``after("artists")`` of ``/v1/artists/X/albums`` is ``X``)."""
        segments = self.segments
        for index in range(len(segments) - 1):
            if segments[index] == segment:
                return segments[index + 1]
        return None


def request_context(url: str | None, user_id: str | None = None) -> RequestContext:
    """The context of a part's ``request_url`` (may be None: then every lookup is None) and ``user_id``."""
    return RequestContext(url, user_id)


__all__ = [
    "ItemError",
    "RequestContext",
    "market_code",
    "parse_release_date",
    "parse_timestamp",
    "request_context",
    "widest_image_url",
]
