"""Timestamps as Microsoft's engine handles them: .NET `DateTime` values parsed from strings, formatted with
.NET format strings (invariant culture).

A .NET `DateTime` is 100 ns ticks plus a `Kind`, and both are visible in ADF's output:
- `...Z` parses as Kind UTC and prints `Z` for the `K` specifier;
- a timestamp with an offset (`+02:00`) is converted to the host's local time (Data Factory hosts run on UTC)
  and prints `+00:00`;
- a timestamp without offset is Kind Unspecified and prints no zone at all (`formatDateTime('2026-01-01')`
  is `2026-01-01T00:00:00.0000000`, no `Z`).
Ticks keep the seventh fractional digit that Python's microseconds would lose.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from offline.adf_runner.expressions.zones import zone

__all__ = [
    "Kind",
    "Moment",
    "add_months",
    "convert_from_utc",
    "convert_time_zone",
    "convert_to_utc",
    "format_datetime",
    "format_moment",
    "from_zone",
    "moment_from_datetime",
    "parse_moment",
    "parse_timestamp",
    "shift",
    "to_zone",
]

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_MAX_TICKS = date(9999, 12, 31).toordinal() * TICKS_PER_DAY - 1


class Kind(Enum):
    UTC = "utc"
    LOCAL = "local"  # parsed with an offset: converted to the host's local time, which is UTC
    UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Moment:
    ticks: int  # 100 ns units since 0001-01-01T00:00:00 on the wall clock of `kind`
    kind: Kind

    @property
    def wall(self) -> datetime:
        """Naive datetime (microsecond precision) for calendar arithmetic."""
        days, rest = divmod(self.ticks, TICKS_PER_DAY)
        return datetime.fromordinal(days + 1) + timedelta(microseconds=rest // 10)

    @property
    def fraction(self) -> int:
        """The fraction of the second in ticks (seven digits)."""
        return self.ticks % TICKS_PER_SECOND


def _checked(ticks: int) -> int:
    if not 0 <= ticks <= _MAX_TICKS:
        raise ValueError("the result is outside the range of .NET DateTime (years 1 to 9999)")
    return ticks


def moment_from_datetime(value: datetime, kind: Kind) -> Moment:
    wall = value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    seconds = (wall.toordinal() - 1) * 86_400 + wall.hour * 3600 + wall.minute * 60 + wall.second
    return Moment(seconds * TICKS_PER_SECOND + wall.microsecond * 10, kind)


_ISO = re.compile(
    r"\s*(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d+))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?\s*",
    re.ASCII,
)


def parse_moment(text: str) -> Moment:
    """Parse an ISO 8601 timestamp as .NET does. Other forms .NET happens to accept (`01/02/2026`, RFC 1123)
    are refused locally rather than guessed."""
    match = _ISO.fullmatch(text)
    if not match:
        raise ValueError(
            f"`{text}` is not an ISO 8601 timestamp (yyyy-MM-ddTHH:mm:ss[.fffffff][Z|±hh:mm]); "
            "other .NET date formats are not supported locally"
        )
    try:
        year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
        wall = datetime(year, month, day, int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0))
    except ValueError as exc:
        raise ValueError(f"`{text}` is not a valid timestamp ({exc})") from None
    # .NET keeps 7 fractional digits and rounds the rest.
    fraction = int((Decimal("0." + (match["frac"] or "0")) * TICKS_PER_SECOND).quantize(Decimal(1), ROUND_HALF_EVEN))
    ticks = moment_from_datetime(wall, Kind.UNSPECIFIED).ticks + fraction
    tz = match["tz"]
    if tz is None:
        return Moment(_checked(ticks), Kind.UNSPECIFIED)
    if tz in ("Z", "z"):
        return Moment(_checked(ticks), Kind.UTC)
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    offset_minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return Moment(_checked(ticks - sign * offset_minutes * 60 * TICKS_PER_SECOND), Kind.LOCAL)


def shift(value: Moment, ticks: int) -> Moment:
    return replace(value, ticks=_checked(value.ticks + ticks))


def add_months(value: Moment, months: int) -> Moment:
    """Calendar months: the day is clamped to the target month's length (Jan 31 + 1 month = Feb 28)."""
    wall = value.wall
    total = wall.year * 12 + (wall.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ValueError("the result is outside the range of .NET DateTime (years 1 to 9999)")
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    moved = moment_from_datetime(wall.replace(year=year, month=month + 1, day=day, microsecond=0), value.kind)
    return replace(moved, ticks=moved.ticks + value.fraction)


# --- time zones ---------------------------------------------------------------------------------------------


# Windows (Data Factory's host) and the IANA database (here) agree on today's zone rules, not on history:
# Windows has no local mean time and extends its earliest rule backwards.
_HISTORY_TICKS = moment_from_datetime(datetime(1970, 1, 1), Kind.UTC).ticks


def _modern(ticks: int) -> None:
    if ticks < _HISTORY_TICKS:
        raise ValueError("not supported locally: time zone conversion before 1970 (Windows and the IANA database disagree)")


def _offset_ticks(utc_ticks: int, tz: tzinfo) -> int:
    _modern(utc_ticks)
    instant = Moment(utc_ticks, Kind.UTC).wall.replace(tzinfo=UTC)
    try:
        offset = instant.astimezone(tz).utcoffset()
    except OverflowError:  # the local time is past year 9999: take the zone's offset at the UTC wall time
        offset = tz.utcoffset(instant.replace(tzinfo=None))
    return int((offset or timedelta(0)).total_seconds()) * TICKS_PER_SECOND


def _from_utc(utc_ticks: int, target: str) -> Moment:
    tz = zone(target)
    if tz is UTC:
        return Moment(utc_ticks, Kind.UTC)
    # .NET clamps a local time past DateTime's range to its ends instead of failing.
    return Moment(min(max(utc_ticks + _offset_ticks(utc_ticks, tz), 0), _MAX_TICKS), Kind.UNSPECIFIED)


def _to_utc(value: Moment, source: str) -> int:
    tz = zone(source)
    if tz is UTC:
        return value.ticks
    _modern(value.ticks)
    wall = value.wall
    before, after = wall.replace(tzinfo=tz, fold=0).utcoffset(), wall.replace(tzinfo=tz, fold=1).utcoffset()
    if before != after:
        # A wall time skipped or repeated by a daylight saving change: ADF refuses to pick one.
        raise ValueError(f"the timestamp is invalid or ambiguous in time zone `{source}` (a daylight saving time change)")
    return _checked(value.ticks - int((before or timedelta(0)).total_seconds()) * TICKS_PER_SECOND)


def convert_from_utc(value: Moment, target: str) -> Moment:
    if value.kind is not Kind.UTC:
        raise ValueError("the timestamp must be in UTC (end it with `Z`)")
    return _from_utc(value.ticks, target)


def convert_to_utc(value: Moment, source: str) -> Moment:
    if value.kind is not Kind.UNSPECIFIED and not (value.kind is Kind.UTC and zone(source) is UTC):
        raise ValueError(f"the timestamp carries its own zone (`Z` or an offset) that is not time zone `{source}`: drop it")
    return Moment(_to_utc(value, source), Kind.UTC)


def convert_time_zone(value: Moment, source: str, target: str) -> Moment:
    zone(source)  # an unknown source zone fails even when the timestamp carries its own
    # A timestamp that carries its zone (`Z`, an offset) is already an instant: the source zone is not used.
    utc_ticks = value.ticks if value.kind is not Kind.UNSPECIFIED else _to_utc(value, source)
    return _from_utc(utc_ticks, target)


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


def format_moment(value: Moment, fmt: str | None = None) -> str:
    """`DateTime.ToString(fmt, CultureInfo.InvariantCulture)`; no format is `o`, an empty one is `G`."""
    if fmt is None:
        fmt = "o"
    if len(fmt) <= 1:
        key = fmt or "G"
        if key not in _STANDARD:
            raise ValueError(f"`{fmt}` is not a .NET standard date and time format (one of {''.join(_STANDARD)}, or a custom pattern)")
        fmt = _STANDARD[key]
    wall = value.wall
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
            if run > 7:
                raise ValueError(f"`{ch * run}` in format `{fmt}` has more than 7 fraction digits")
            digits = f"{value.fraction:07d}"[:run]
            if ch == "F":
                digits = digits.rstrip("0")
                if not digits and out and out[-1].endswith("."):
                    # .NET drops the separator before an all-zero `F` fraction.
                    out[-1] = out[-1][:-1]
            out.append(digits)
        elif ch in "yMdHhmstKzg":
            out.append(_specifier(wall, value.kind, ch, run))
        else:
            out.append(ch * run)
        i += run
    return "".join(out)


def _specifier(wall: datetime, kind: Kind, ch: str, run: int) -> str:
    if ch == "y":
        return f"{wall.year % 100:0{run}d}" if run <= 2 else f"{wall.year:0{run}d}"
    if ch == "M":
        if run >= 4:
            return _MONTHS[wall.month]
        return _MONTHS_ABBR[wall.month] if run == 3 else f"{wall.month:0{run}d}"
    if ch == "d":
        if run >= 4:
            return _DAYS[wall.weekday()]
        return _DAYS[wall.weekday()][:3] if run == 3 else f"{wall.day:0{run}d}"
    if ch == "H":
        return f"{wall.hour:0{min(run, 2)}d}"
    if ch == "h":
        return f"{(wall.hour % 12) or 12:0{min(run, 2)}d}"
    if ch == "m":
        return f"{wall.minute:0{min(run, 2)}d}"
    if ch == "s":
        return f"{wall.second:0{min(run, 2)}d}"
    if ch == "t":
        marker = "AM" if wall.hour < 12 else "PM"
        return marker[:run] if run < 2 else marker
    if ch == "g":
        return "A.D."
    if ch == "K":
        return {Kind.UTC: "Z", Kind.LOCAL: "+00:00", Kind.UNSPECIFIED: ""}[kind]
    # `z`: the host's offset from UTC, whatever the kind; Data Factory hosts run on UTC.
    return {1: "+0", 2: "+00"}.get(run, "+00:00")


# --- Python datetimes, for the runner's own timestamps (trigger times, run starts) ---------------------------


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime; a timestamp without offset is taken as UTC (how ADF reads trigger times)."""
    value = parse_moment(text)
    return value.wall.replace(tzinfo=UTC)


def format_datetime(value: datetime, fmt: str | None = None) -> str:
    """Format a datetime as ADF would: aware = UTC (`Z`), naive = Kind Unspecified."""
    return format_moment(moment_from_datetime(value, Kind.UNSPECIFIED if value.tzinfo is None else Kind.UTC), fmt)


def to_zone(value: datetime, zone_name: str) -> datetime:
    """UTC -> wall clock of a Windows time zone; naive unless the zone is UTC."""
    tz = zone(zone_name)
    local = value.astimezone(tz)
    return local if tz is UTC else local.replace(tzinfo=None)


def from_zone(value: datetime, zone_name: str) -> datetime:
    """Wall clock of a Windows time zone (the offset of `value` ignored) -> aware UTC."""
    return value.replace(tzinfo=zone(zone_name)).astimezone(UTC)
