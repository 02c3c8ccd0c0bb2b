"""Timestamps as ADF handles them: ISO 8601 strings in, .NET format strings out (invariant culture).

ADF timestamps are strings. A timestamp whose .NET `DateTime.Kind` is UTC prints `Z` for the `K` specifier;
one converted to another time zone (convertFromUtc) is `Unspecified` and prints nothing. Python models that
as aware-UTC vs naive datetimes. Precision is the microsecond (.NET has 100 ns ticks; the 7th fraction digit
prints 0).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["add_interval", "format_datetime", "from_zone", "parse_timestamp", "to_zone"]

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp. No offset means UTC, as ADF assumes for its own timestamps."""
    match = _ISO.match(text.strip())
    if not match:
        raise ValueError(f"`{text}` is not an ISO 8601 timestamp")
    year, month, day = (int(x) for x in match["date"].split("-"))
    micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
    tz_text = match["tz"]
    tz: timezone
    if tz_text in (None, "Z", "z"):
        tz = UTC
    else:
        sign = 1 if tz_text[0] == "+" else -1
        digits = tz_text[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    value = datetime(
        year, month, day, int(match["h"] or 0), int(match["m"] or 0), int(match["s"] or 0), micro, tzinfo=tz
    )
    return value.astimezone(UTC)


# A few Windows time zone ids (what ADF expects) mapped to IANA; an IANA id is accepted as well.
_WINDOWS_ZONES = {
    "utc": "UTC",
    "coordinated universal time": "UTC",
    "gmt standard time": "Europe/London",
    "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "romance standard time": "Europe/Paris",
    "central european standard time": "Europe/Warsaw",
    "e. europe standard time": "Europe/Chisinau",
    "fle standard time": "Europe/Kiev",
    "eastern standard time": "America/New_York",
    "central standard time": "America/Chicago",
    "mountain standard time": "America/Denver",
    "pacific standard time": "America/Los_Angeles",
    "india standard time": "Asia/Kolkata",
    "tokyo standard time": "Asia/Tokyo",
    "aus eastern standard time": "Australia/Sydney",
}


def _zone(name: str) -> ZoneInfo | timezone:
    key = name.strip().lower()
    if key in ("utc", "coordinated universal time"):
        return UTC
    try:
        return ZoneInfo(_WINDOWS_ZONES.get(key, name.strip()))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time zone `{name}` is not known to the local runner (use UTC, an IANA id or one of: "
            + ", ".join(sorted(k.title() for k in _WINDOWS_ZONES)) + ")"
        ) from None


def to_zone(value: datetime, zone_name: str) -> datetime:
    """UTC -> local time of `zone_name`; the result is naive (.NET Kind Unspecified) unless the zone is UTC."""
    zone = _zone(zone_name)
    if zone is UTC:
        return value.astimezone(UTC)
    return value.astimezone(zone).replace(tzinfo=None)


def from_zone(value: datetime, zone_name: str) -> datetime:
    """Local time of `zone_name` (the wall clock of `value`, its offset ignored) -> UTC."""
    zone = _zone(zone_name)
    return value.replace(tzinfo=zone).astimezone(UTC)


_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}


def add_interval(value: datetime, interval: int, unit: str) -> datetime:
    """`addToTime` semantics: Second/Minute/Hour/Day/Week by duration, Month/Year by calendar."""
    key = unit.strip().lower().rstrip("s")
    if key in _UNITS:
        return value + interval * _UNITS[key]
    if key in ("month", "year"):
        months = interval * (12 if key == "year" else 1)
        total = value.year * 12 + (value.month - 1) + months
        year, month = divmod(total, 12)
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return value.replace(year=year, month=month + 1, day=day)
    raise ValueError(f"time unit `{unit}` is not one of Second, Minute, Hour, Day, Week, Month, Year")


# --- .NET format strings ------------------------------------------------------------------------------------

_STANDARD = {
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "M": "MMMM dd",
    "m": "MMMM dd",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "y": "yyyy MMMM",
    "Y": "yyyy MMMM",
}
_MONTHS = [calendar.month_name[i] for i in range(13)]
_MONTHS_ABBR = [calendar.month_abbr[i] for i in range(13)]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def format_datetime(value: datetime, fmt: str | None = None) -> str:
    """Format like .NET `DateTime.ToString(fmt, CultureInfo.InvariantCulture)`; default `o`."""
    fmt = fmt or "o"
    if len(fmt) == 1:
        if fmt not in _STANDARD:
            raise ValueError(f"`{fmt}` is not a .NET standard date and time format")
        if fmt in "uRr" and value.tzinfo is not None:
            value = value.astimezone(UTC)
        fmt = _STANDARD[fmt]
    out: list[str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in "'\"":
            end = fmt.find(ch, i + 1)
            if end < 0:
                raise ValueError(f"unterminated quoted text in format `{fmt}`")
            out.append(fmt[i + 1 : end])
            i = end + 1
            continue
        if ch == "\\" and i + 1 < n:
            out.append(fmt[i + 1])
            i += 2
            continue
        if ch == "%" and i + 1 < n:
            i += 1
            continue
        run = 1
        while i + run < n and fmt[i + run] == ch:
            run += 1
        if ch in "fF":
            digits = f"{value.microsecond:06d}0"[: min(run, 7)]
            if ch == "F":
                digits = digits.rstrip("0")
                if not digits and out and out[-1].endswith("."):
                    # .NET drops the separator before an all-zero `F` fraction.
                    out[-1] = out[-1][:-1]
            out.append(digits)
        elif ch in "yMdHhmstKzg":
            out.append(_specifier(value, ch, run))
        else:
            out.append(ch * run)
        i += run
    return "".join(out)


def _specifier(value: datetime, ch: str, run: int) -> str:
    if ch == "y":
        return f"{value.year % 100:0{run}d}" if run <= 2 else f"{value.year:0{run}d}"
    if ch == "M":
        if run >= 4:
            return _MONTHS[value.month]
        if run == 3:
            return _MONTHS_ABBR[value.month]
        return f"{value.month:0{run}d}"
    if ch == "d":
        if run >= 4:
            return _DAYS[value.weekday()]
        if run == 3:
            return _DAYS[value.weekday()][:3]
        return f"{value.day:0{run}d}"
    if ch == "H":
        return f"{value.hour:0{min(run, 2)}d}"
    if ch == "h":
        return f"{(value.hour % 12) or 12:0{min(run, 2)}d}"
    if ch == "m":
        return f"{value.minute:0{min(run, 2)}d}"
    if ch == "s":
        return f"{value.second:0{min(run, 2)}d}"
    if ch == "t":
        marker = "AM" if value.hour < 12 else "PM"
        return marker[:run] if run < 2 else marker
    if ch == "g":
        return "A.D."
    if ch == "K":
        if value.tzinfo is None:
            return ""
        offset = value.utcoffset() or timedelta(0)
        return "Z" if offset == timedelta(0) else _offset(offset, colon=True)
    if ch == "z":
        offset = (value.utcoffset() if value.tzinfo else None) or timedelta(0)
        if run == 1:
            return f"{'+' if offset >= timedelta(0) else '-'}{abs(int(offset.total_seconds())) // 3600}"
        if run == 2:
            return _offset(offset, colon=True)[:3]
        return _offset(offset, colon=True)
    raise AssertionError(ch)


def _offset(offset: timedelta, colon: bool) -> str:
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}{':' if colon else ''}{rest // 60:02d}"
