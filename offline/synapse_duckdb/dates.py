"""T-SQL date functions on DuckDB, each as its Learn page defines it.

- DATEDIFF(week, a, b) counts the Sunday boundaries between a and b, whatever DATEFIRST is
  (learn.DATEDIFF: "For a week, DATEDIFF ... always uses Sunday as the first day of the week"); DuckDB
  counts ISO (Monday) weeks.
- DATEPART(weekday, d) is 1..7 counted from the DATEFIRST day, 7 (Sunday) by default (learn.DATEPART,
  learn.DATEFIRST); DuckDB's dayofweek is 0..6 from Sunday. DATEPART(week, d) numbers weeks from the
  one holding January 1, starting on the DATEFIRST day; DuckDB's week is ISO.
- DATEPART(millisecond | microsecond | nanosecond, d) is the fraction of the second (learn.DATEPART).
- DATEADD returns the type of its date argument (learn.DATEADD), so on a DATE it is a DATE (DuckDB gives
  a TIMESTAMP), and a time datepart on a DATE is an error, as in T-SQL.
- CONVERT(type, x, style) formats or parses with the style's layout (learn.CAST_CONVERT); the common
  date styles are exact here, any other style is refused by name. A failed conversion errors (only
  TRY_CONVERT gives NULL); sqlglot would emit TRY_CAST for every CONVERT with a style.
- FORMAT(value, format[, culture]) (learn.FORMAT): custom date patterns and the N<d>/F<d> number
  formats, in en-US; other formats and cultures are refused by name.
"""

from __future__ import annotations

import re

from sqlglot import exp

from offline.synapse_duckdb.errors import NotSupportedLocallyError, TsqlError
from offline.synapse_duckdb.rewrite import Context, duck, string_literal

# 1900-01-07 was a Sunday: whole weeks since then change exactly at each Sunday.
_SUNDAY = "DATE '1900-01-07'"
_DATE_PARTS_ON_DATE = {"YEAR", "QUARTER", "MONTH", "DAYOFYEAR", "DAY", "WEEK", "WEEKDAY", "DAYOFWEEK"}
# CONVERT styles reproduced exactly: style -> (strftime/strptime layout, has a time part).
_STYLES: dict[int, tuple[str, bool]] = {
    1: ("%m/%d/%y", False), 101: ("%m/%d/%Y", False), 2: ("%y.%m.%d", False), 102: ("%Y.%m.%d", False),
    3: ("%d/%m/%y", False), 103: ("%d/%m/%Y", False), 4: ("%d.%m.%y", False), 104: ("%d.%m.%Y", False),
    5: ("%d-%m-%y", False), 105: ("%d-%m-%Y", False), 10: ("%m-%d-%y", False), 110: ("%m-%d-%Y", False),
    11: ("%y/%m/%d", False), 111: ("%Y/%m/%d", False), 12: ("%y%m%d", False), 112: ("%Y%m%d", False),
    23: ("%Y-%m-%d", False), 8: ("%H:%M:%S", True), 108: ("%H:%M:%S", True), 20: ("%Y-%m-%d %H:%M:%S", True),
    120: ("%Y-%m-%d %H:%M:%S", True),
}
_DATE_TYPES = {"date", "datetime", "datetime2", "smalldatetime", "datetimeoffset"}
# DATEPART(millisecond, ...) is the fraction of the second only (0-999); DuckDB's includes the seconds.
_FRACTIONS = {
    "MILLISECOND": "CAST(millisecond({x}) % 1000 AS INTEGER)",
    "MICROSECOND": "CAST(microsecond({x}) % 1000000 AS INTEGER)",
    "NANOSECOND": "CAST(microsecond({x}) % 1000000 * 1000 AS INTEGER)",
}
_STRING_TYPES = (exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.CHAR,
                 exp.DataType.Type.NCHAR)
_NUMBER_FORMAT = re.compile(r"^([NF])(\d{0,2})$", re.IGNORECASE)


def rewrite(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if isinstance(node, exp.DateDiff) and _unit(node) == "WEEK":
        return _weeks_between(_unwrap(node.expression), _unwrap(node.this))
    if isinstance(node, exp.Extract) and _unit(node) in ("DAYOFWEEK", "WEEK"):
        return _datepart(node, ctx)
    if isinstance(node, exp.Extract) and _unit(node) in _FRACTIONS:
        return duck(_FRACTIONS[_unit(node)], x=node.expression)
    if isinstance(node, exp.DateAdd):
        return _dateadd(node, ctx)
    if isinstance(node, exp.Convert):
        return _convert(node, ctx)
    if isinstance(node, exp.NumberToStr):
        return _format_number(node)
    if isinstance(node, exp.TimeToStr):
        _check_culture(node)
    return None


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit") if not isinstance(node, exp.Extract) else node.this
    return unit.name.upper() if unit is not None else ""


def _unwrap(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.TimeStrToTime) else node


def _weeks_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    weeks = f"CAST(floor(date_diff('day', {_SUNDAY}, CAST({{x}} AS DATE)) / 7.0) AS BIGINT)"
    return duck(f"CAST({weeks.replace('{x}', '{b}')} - {weeks.replace('{x}', '{a}')} AS INTEGER)", a=start, b=end)


def _weekday(value: exp.Expr | str, datefirst: int) -> str:
    text = value if isinstance(value, str) else f"({value.sql(dialect='duckdb')})"
    return f"(((dayofweek({text}) + 7 - {datefirst % 7}) % 7) + 1)"


def _datepart(node: exp.Extract, ctx: Context) -> exp.Expr:
    value = node.expression
    if ctx.type(value).is_string:
        value = duck("CAST({x} AS TIMESTAMP)", x=value)
    datefirst = ctx.session.datefirst
    if _unit(node) == "DAYOFWEEK":
        return duck(f"CAST({_weekday(value, datefirst)} AS INTEGER)")
    january_first = f"make_date(year({value.sql(dialect='duckdb')}), 1, 1)"
    return duck(
        f"CAST((dayofyear({{d}}) + {_weekday(january_first, datefirst)} - 2) // 7 + 1 AS INTEGER)", d=value
    )


def _dateadd(node: exp.DateAdd, ctx: Context) -> exp.Expr | None:
    if ctx.type(node.this).name != "date":
        return None
    unit = _unit(node)
    if unit not in _DATE_PARTS_ON_DATE:
        raise TsqlError(f"The datepart {unit.lower()} is not supported by date function dateadd for data type date.")
    return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))


def _convert(node: exp.Convert, ctx: Context) -> exp.Expr:
    target: exp.DataType = node.this
    value = node.expression
    safe = bool(node.args.get("safe"))
    style = node.args.get("style")
    cast = exp.TryCast if safe else exp.Cast
    style_number = int(style.name) if style is not None and style.is_int else None
    if style is not None and style_number is None:
        raise NotSupportedLocallyError(f"CONVERT with a non-constant style `{style.sql(dialect='tsql')}`")
    source = ctx.type(value)
    if style_number in (None, 0, 100) and not (style_number == 100 and source.name in _DATE_TYPES):
        if style_number == 100:
            raise NotSupportedLocallyError("CONVERT style 100 (mon dd yyyy hh:miAM)")
        return cast(this=value, to=target)
    if style_number not in _STYLES:
        raise NotSupportedLocallyError(f"CONVERT style {style_number}")
    layout, has_time = _STYLES[style_number]
    if target.this in _STRING_TYPES:
        if source.known and source.name not in _DATE_TYPES:
            raise NotSupportedLocallyError(f"CONVERT style {style_number} of a {source.name} value")
        if has_time and source.name == "date":
            raise NotSupportedLocallyError(f"CONVERT style {style_number} of a date value")
        text = duck(f"strftime(CAST({{x}} AS TIMESTAMP), {string_literal(layout)})", x=value)
        return exp.Cast(this=text, to=target)
    if source.known and not source.is_string:
        return cast(this=value, to=target)
    parse = "try_strptime" if safe else "strptime"
    return exp.Cast(this=duck(f"{parse}({{x}}, {string_literal(layout)})", x=value), to=target)


def _check_culture(node: exp.Expr) -> None:
    culture = node.args.get("culture")
    if culture is not None and culture.name.lower() != "en-us":
        raise NotSupportedLocallyError(f"FORMAT with culture `{culture.name}` (only en-US is reproduced)")


def _format_number(node: exp.NumberToStr) -> exp.Expr:
    _check_culture(node)
    pattern = node.args["format"].name
    match = _NUMBER_FORMAT.match(pattern)
    if match is None:
        raise NotSupportedLocallyError(f"FORMAT number pattern '{pattern}' (N<digits> and F<digits> are reproduced)")
    digits = int(match.group(2) or 2)
    grouping = "," if match.group(1).upper() == "N" else ""
    return duck(f"format('{{{{:{grouping}.{digits}f}}}}', CAST({{x}} AS DOUBLE))", x=node.this)


_DATE_TOKEN = re.compile(r"yyyy|yy|MMMM|MMM|MM|M|dddd|ddd|dd|d|HH|H|mm|m|ss|s|[-/:., T]")
_FORMAT_CALL = re.compile(r"\bFORMAT\s*\([^,()]*(?:\([^()]*\))?[^,()]*,\s*N?'([^']*)'", re.IGNORECASE)


def check_format_patterns(tsql: str) -> None:
    """Refuse FORMAT date patterns not reproduced exactly (sqlglot maps them to strftime before we see them):
    standard one-letter formats ('d' is M/d/yyyy in en-US) and tokens such as tt, h, f, K, z."""
    for pattern in _FORMAT_CALL.findall(tsql):
        if _NUMBER_FORMAT.match(pattern):
            continue
        if len(pattern) < 2 or _DATE_TOKEN.sub("", pattern):
            raise NotSupportedLocallyError(
                f"FORMAT pattern '{pattern}' (custom date patterns of yyyy, MM, dd, HH, mm, ss and separators are reproduced)"
            )


__all__ = ["check_format_patterns", "rewrite"]
