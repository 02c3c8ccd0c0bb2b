"""The functions of the ADF expression language, with ADF's semantics (names are case-insensitive).

Each function is a Python callable taking the evaluation state and its evaluated arguments; `if`, `and`,
`or` are lazy (they receive argument thunks) so an untaken branch cannot fail the expression. Adding a
function = one `@function(...)` definition below.

Semantics worth knowing (documented ADF/Logic Apps behaviour, reproduced here):
- `startsWith`, `endsWith`, `indexOf`, `lastIndexOf` ignore case; `contains` and `replace` do not.
- `equals` compares strings ignoring case, numbers by value (1 equals 1.0), arrays/objects deeply.
- `div` of two integers is an integer division truncated toward zero; `mod` keeps the dividend's sign.
- `string(true)` is `True` (.NET `Boolean.ToString`); objects and arrays become JSON.
- date functions take and return ISO 8601 strings; the default output format is `o`
  (`2026-11-24T05:00:00.0000000Z`).
"""

from __future__ import annotations

import base64 as _b64
import json as _json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote, unquote

from local_adf_runner.errors import ExpressionError
from local_adf_runner.expressions import datetimes as dt

if TYPE_CHECKING:
    from local_adf_runner.expressions.evaluator import EvaluationState

__all__ = ["FUNCTIONS", "FunctionSpec", "to_string", "values_equal"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None = variadic
    lazy: bool = False


FUNCTIONS: dict[str, FunctionSpec] = {}


_F = TypeVar("_F", bound=Callable[..., Any])


def function(name: str, min_args: int, max_args: int | None = -1, lazy: bool = False) -> Callable[[_F], _F]:
    """Register `impl(state, *args)` as ADF function `name`. max_args -1 = same as min_args."""

    def register(impl: _F) -> _F:
        FUNCTIONS[name.lower()] = FunctionSpec(name, impl, min_args, min_args if max_args == -1 else max_args, lazy)
        return impl

    return register


class FunctionError(ExpressionError):
    """A function was called with arguments it cannot accept."""

    def __init__(self, function_name: str, problem: str) -> None:
        self.function = function_name
        super().__init__(f"function `{function_name}`: {problem}")


# --- value helpers -------------------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, dict):
        return "Object"
    return type(value).__name__


def _number_text(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def to_string(value: Any) -> str:
    """ADF's string conversion (used by `string()`, `concat()` and `@{}` interpolation)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, int):
        return str(value)
    return _json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def values_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(values_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return bool(left is None and right is None)


def _need(name: str, value: Any, *kinds: type, what: str) -> Any:
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise FunctionError(name, f"expects {what}, got {_type_name(value)} `{to_string(value)}`")
    return value


def _text(name: str, value: Any) -> str:
    return cast(str, _need(name, value, str, what="a string"))


def _integer(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return cast(int, _need(name, value, int, what="an integer"))


def _number(name: str, value: Any) -> int | float:
    return cast(int | float, _need(name, value, int, float, what="a number"))


def _timestamp(name: str, value: Any) -> datetime:
    try:
        return dt.parse_timestamp(_text(name, value))
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc


def _format(name: str, value: datetime, fmt: Any) -> str:
    try:
        return dt.format_datetime(value, None if fmt is None else _text(name, fmt))
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc


# --- string functions ---------------------------------------------------------------------------------------


@function("concat", 1, None)
def _concat(state: EvaluationState, *values: Any) -> str:
    return "".join(to_string(v) for v in values)


@function("substring", 2, 3)
def _substring(state: EvaluationState, value: Any, start_at: Any, count: Any = None) -> str:
    text, start = _text("substring", value), _integer("substring", start_at)
    length = len(text) - start if count is None else _integer("substring", count)
    if start < 0 or length < 0 or start + length > len(text):
        raise FunctionError(
            "substring",
            f"start index {start} and length {length} are out of range for a string of length {len(text)}",
        )
    return text[start : start + length]


@function("replace", 3)
def _replace(state: EvaluationState, text: Any, old: Any, new: Any) -> str:
    old = _text("replace", old)
    if old == "":
        raise FunctionError("replace", "the string to replace must not be empty")
    return _text("replace", text).replace(old, to_string(new))


@function("toLower", 1)
def _to_lower(state: EvaluationState, text: Any) -> str:
    return _text("toLower", text).lower()


@function("toUpper", 1)
def _to_upper(state: EvaluationState, text: Any) -> str:
    return _text("toUpper", text).upper()


@function("trim", 1)
def _trim(state: EvaluationState, text: Any) -> str:
    return _text("trim", text).strip()


@function("split", 2)
def _split(state: EvaluationState, text: Any, delimiter: Any) -> list[str]:
    delimiter = _text("split", delimiter)
    if delimiter == "":
        return [_text("split", text)]
    return _text("split", text).split(delimiter)


@function("startsWith", 2)
def _starts_with(state: EvaluationState, text: Any, prefix: Any) -> bool:
    return _text("startsWith", text).casefold().startswith(_text("startsWith", prefix).casefold())


@function("endsWith", 2)
def _ends_with(state: EvaluationState, text: Any, suffix: Any) -> bool:
    return _text("endsWith", text).casefold().endswith(_text("endsWith", suffix).casefold())


@function("indexOf", 2)
def _index_of(state: EvaluationState, text: Any, search: Any) -> int:
    return _text("indexOf", text).casefold().find(_text("indexOf", search).casefold())


@function("lastIndexOf", 2)
def _last_index_of(state: EvaluationState, text: Any, search: Any) -> int:
    return _text("lastIndexOf", text).casefold().rfind(_text("lastIndexOf", search).casefold())


@function("guid", 0, 1)
def _guid(state: EvaluationState, fmt: Any = "D") -> str:
    value = uuid.uuid4()
    kind = _text("guid", fmt).upper() or "D"
    if kind == "N":
        return value.hex
    if kind == "D":
        return str(value)
    if kind == "B":
        return "{" + str(value) + "}"
    if kind == "P":
        return "(" + str(value) + ")"
    if kind == "X":
        h = value.hex
        groups = [h[8:12], h[12:16]] + [h[16 + 2 * i : 18 + 2 * i] for i in range(8)]
        return "{0x" + h[:8] + ",0x" + groups[0] + ",0x" + groups[1] + ",{" + ",".join("0x" + g for g in groups[2:]) + "}}"
    raise FunctionError("guid", f"format `{fmt}` is not one of N, D, B, P, X")


@function("base64", 1)
def _base64(state: EvaluationState, text: Any) -> str:
    return _b64.b64encode(to_string(text).encode("utf-8")).decode("ascii")


@function("base64ToString", 1)
def _base64_to_string(state: EvaluationState, text: Any) -> str:
    try:
        return _b64.b64decode(_text("base64ToString", text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FunctionError("base64ToString", f"`{text}` is not base64 of UTF-8 text") from exc


@function("decodeBase64", 1)
def _decode_base64(state: EvaluationState, text: Any) -> str:
    return _base64_to_string(state, text)


@function("uriComponent", 1)
def _uri_component(state: EvaluationState, text: Any) -> str:
    # .NET Uri.EscapeDataString: only RFC 3986 unreserved characters stay as they are.
    return quote(to_string(text), safe="-_.~")


@function("encodeUriComponent", 1)
def _encode_uri_component(state: EvaluationState, text: Any) -> str:
    return _uri_component(state, text)


@function("uriComponentToString", 1)
def _uri_component_to_string(state: EvaluationState, text: Any) -> str:
    return unquote(_text("uriComponentToString", text))


@function("decodeUriComponent", 1)
def _decode_uri_component(state: EvaluationState, text: Any) -> str:
    return unquote(_text("decodeUriComponent", text))


# --- conversions ------------------------------------------------------------------------------------------


@function("string", 1)
def _string(state: EvaluationState, value: Any) -> str:
    return to_string(value)


@function("int", 1)
def _int(state: EvaluationState, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value)  # .NET Convert.ToInt32 rounds half to even, as Python's round does
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise FunctionError("int", f"`{to_string(value)}` cannot be converted to an integer")


@function("float", 1)
def _float(state: EvaluationState, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise FunctionError("float", f"`{to_string(value)}` cannot be converted to a float")


@function("bool", 1)
def _bool(state: EvaluationState, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FunctionError("bool", f"`{to_string(value)}` cannot be converted to a boolean")


@function("json", 1)
def _json_fn(state: EvaluationState, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return _json.loads(value)
    except _json.JSONDecodeError as exc:
        raise FunctionError("json", f"`{value}` is not valid JSON ({exc.msg})") from exc


@function("array", 1)
def _array(state: EvaluationState, value: Any) -> list[Any]:
    return [value]


@function("createArray", 1, None)
def _create_array(state: EvaluationState, *values: Any) -> list[Any]:
    return list(values)


@function("coalesce", 1, None)
def _coalesce(state: EvaluationState, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


# --- collections ------------------------------------------------------------------------------------------


def _collection(name: str, value: Any) -> Any:
    return _need(name, value, str, list, dict, what="a string, an array or an object")


@function("empty", 1)
def _empty(state: EvaluationState, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    return False


@function("length", 1)
def _length(state: EvaluationState, value: Any) -> int:
    return len(_collection("length", value))


@function("contains", 2)
def _contains(state: EvaluationState, collection: Any, value: Any) -> bool:
    collection = _collection("contains", collection)
    if isinstance(collection, str):
        return to_string(value) in collection
    if isinstance(collection, dict):
        return isinstance(value, str) and value in collection
    return any(values_equal(item, value) for item in collection)


@function("first", 1)
def _first(state: EvaluationState, collection: Any) -> Any:
    collection = _need("first", collection, str, list, what="a string or an array")
    return collection[0] if collection else None


@function("last", 1)
def _last(state: EvaluationState, collection: Any) -> Any:
    collection = _need("last", collection, str, list, what="a string or an array")
    return collection[-1] if collection else None


@function("skip", 2)
def _skip(state: EvaluationState, collection: Any, count: Any) -> Any:
    collection = _need("skip", collection, str, list, what="a string or an array")
    return collection[max(0, _integer("skip", count)) :]


@function("take", 2)
def _take(state: EvaluationState, collection: Any, count: Any) -> Any:
    collection = _need("take", collection, str, list, what="a string or an array")
    return collection[: max(0, _integer("take", count))]


@function("union", 2, None)
def _union(state: EvaluationState, *collections: Any) -> Any:
    if all(isinstance(c, dict) for c in collections):
        merged: dict[str, Any] = {}
        for c in collections:
            merged.update(c)
        return merged
    result: list[Any] = []
    for c in collections:
        for item in _need("union", c, list, what="arrays (or all objects)"):
            if not any(values_equal(item, seen) for seen in result):
                result.append(item)
    return result


@function("intersection", 2, None)
def _intersection(state: EvaluationState, *collections: Any) -> Any:
    if all(isinstance(c, dict) for c in collections):
        first, rest = collections[0], collections[1:]
        return {k: v for k, v in first.items() if all(k in c and values_equal(c[k], v) for c in rest)}
    lists = [_need("intersection", c, list, what="arrays (or all objects)") for c in collections]
    result: list[Any] = []
    for item in lists[0]:
        if all(any(values_equal(item, other) for other in lst) for lst in lists[1:]) and not any(
            values_equal(item, seen) for seen in result
        ):
            result.append(item)
    return result


@function("join", 2)
def _join(state: EvaluationState, collection: Any, delimiter: Any) -> str:
    return _text("join", delimiter).join(to_string(v) for v in _need("join", collection, list, what="an array"))


@function("range", 2)
def _range(state: EvaluationState, start: Any, count: Any) -> list[int]:
    start, count = _integer("range", start), _integer("range", count)
    if count < 0:
        raise FunctionError("range", f"count must not be negative, got {count}")
    return list(range(start, start + count))


# --- logic ---------------------------------------------------------------------------------------------------


@function("if", 3, lazy=True)
def _if(state: EvaluationState, condition: Callable[[], Any], when_true: Callable[[], Any], when_false: Callable[[], Any]) -> Any:
    chosen = _need("if", condition(), bool, what="a boolean condition")
    return when_true() if chosen else when_false()


@function("equals", 2)
def _equals(state: EvaluationState, left: Any, right: Any) -> bool:
    return values_equal(left, right)


@function("and", 2, None, lazy=True)
def _and(state: EvaluationState, *operands: Callable[[], Any]) -> bool:
    return all(_need("and", operand(), bool, what="booleans") for operand in operands)


@function("or", 2, None, lazy=True)
def _or(state: EvaluationState, *operands: Callable[[], Any]) -> bool:
    return any(_need("or", operand(), bool, what="booleans") for operand in operands)


@function("not", 1)
def _not(state: EvaluationState, value: Any) -> bool:
    return not _need("not", value, bool, what="a boolean")


def _comparable(name: str, left: Any, right: Any) -> tuple[Any, Any]:
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool) and not isinstance(right, bool):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    raise FunctionError(name, f"cannot compare {_type_name(left)} with {_type_name(right)}")


@function("less", 2)
def _less(state: EvaluationState, left: Any, right: Any) -> bool:
    a, b = _comparable("less", left, right)
    return bool(a < b)


@function("lessOrEquals", 2)
def _less_or_equals(state: EvaluationState, left: Any, right: Any) -> bool:
    a, b = _comparable("lessOrEquals", left, right)
    return bool(a <= b)


@function("greater", 2)
def _greater(state: EvaluationState, left: Any, right: Any) -> bool:
    a, b = _comparable("greater", left, right)
    return bool(a > b)


@function("greaterOrEquals", 2)
def _greater_or_equals(state: EvaluationState, left: Any, right: Any) -> bool:
    a, b = _comparable("greaterOrEquals", left, right)
    return bool(a >= b)


# --- math ----------------------------------------------------------------------------------------------------


@function("add", 2)
def _add(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _number("add", left) + _number("add", right)


@function("sub", 2)
def _sub(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _number("sub", left) - _number("sub", right)


@function("mul", 2)
def _mul(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _number("mul", left) * _number("mul", right)


@function("div", 2)
def _div(state: EvaluationState, left: Any, right: Any) -> int | float:
    a, b = _number("div", left), _number("div", right)
    if b == 0:
        raise FunctionError("div", "division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return int(a / b) if abs(a) < 2**52 else (abs(a) // abs(b)) * (1 if (a >= 0) == (b >= 0) else -1)
    return a / b


@function("mod", 2)
def _mod(state: EvaluationState, left: Any, right: Any) -> int | float:
    a, b = _number("mod", left), _number("mod", right)
    if b == 0:
        raise FunctionError("mod", "division by zero")
    result = math.fmod(a, b)
    return int(result) if isinstance(a, int) and isinstance(b, int) else result


def _numbers(name: str, values: tuple[Any, ...]) -> list[int | float]:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    if not values:
        raise FunctionError(name, "needs at least one number")
    return [_number(name, v) for v in values]


@function("min", 1, None)
def _min(state: EvaluationState, *values: Any) -> int | float:
    return min(_numbers("min", values))


@function("max", 1, None)
def _max(state: EvaluationState, *values: Any) -> int | float:
    return max(_numbers("max", values))


# --- dates ---------------------------------------------------------------------------------------------------


@function("utcNow", 0, 1)
def _utcnow(state: EvaluationState, fmt: Any = None) -> str:
    return _format("utcNow", state.now().astimezone(UTC), fmt)


@function("formatDateTime", 1, 2)
def _format_date_time(state: EvaluationState, value: Any, fmt: Any = None) -> str:
    return _format("formatDateTime", _timestamp("formatDateTime", value), fmt)


def _adder(name: str, unit: timedelta) -> None:
    def add(state: EvaluationState, value: Any, amount: Any, fmt: Any = None) -> str:
        moved = _timestamp(name, value) + _number(name, amount) * unit
        return _format(name, moved, fmt)

    function(name, 2, 3)(add)


_adder("addDays", timedelta(days=1))
_adder("addHours", timedelta(hours=1))
_adder("addMinutes", timedelta(minutes=1))
_adder("addSeconds", timedelta(seconds=1))


@function("addToTime", 3, 4)
def _add_to_time(state: EvaluationState, value: Any, interval: Any, unit: Any, fmt: Any = None) -> str:
    try:
        moved = dt.add_interval(_timestamp("addToTime", value), _integer("addToTime", interval), _text("addToTime", unit))
    except ValueError as exc:
        raise FunctionError("addToTime", str(exc)) from exc
    return _format("addToTime", moved, fmt)


@function("subtractFromTime", 3, 4)
def _subtract_from_time(state: EvaluationState, value: Any, interval: Any, unit: Any, fmt: Any = None) -> str:
    return _add_to_time(state, value, -_integer("subtractFromTime", interval), unit, fmt)


@function("getFutureTime", 2, 3)
def _get_future_time(state: EvaluationState, interval: Any, unit: Any, fmt: Any = None) -> str:
    return _add_to_time(state, _utcnow(state), interval, unit, fmt)


@function("getPastTime", 2, 3)
def _get_past_time(state: EvaluationState, interval: Any, unit: Any, fmt: Any = None) -> str:
    return _add_to_time(state, _utcnow(state), -_integer("getPastTime", interval), unit, fmt)


@function("startOfDay", 1, 2)
def _start_of_day(state: EvaluationState, value: Any, fmt: Any = None) -> str:
    moment = _timestamp("startOfDay", value)
    return _format("startOfDay", moment.replace(hour=0, minute=0, second=0, microsecond=0), fmt)


@function("startOfHour", 1, 2)
def _start_of_hour(state: EvaluationState, value: Any, fmt: Any = None) -> str:
    moment = _timestamp("startOfHour", value)
    return _format("startOfHour", moment.replace(minute=0, second=0, microsecond=0), fmt)


@function("startOfMonth", 1, 2)
def _start_of_month(state: EvaluationState, value: Any, fmt: Any = None) -> str:
    moment = _timestamp("startOfMonth", value)
    return _format("startOfMonth", moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0), fmt)


@function("dayOfWeek", 1)
def _day_of_week(state: EvaluationState, value: Any) -> int:
    # .NET DayOfWeek: Sunday = 0 ... Saturday = 6.
    return (_timestamp("dayOfWeek", value).weekday() + 1) % 7


@function("dayOfMonth", 1)
def _day_of_month(state: EvaluationState, value: Any) -> int:
    return _timestamp("dayOfMonth", value).day


@function("dayOfYear", 1)
def _day_of_year(state: EvaluationState, value: Any) -> int:
    return _timestamp("dayOfYear", value).timetuple().tm_yday


@function("ticks", 1)
def _ticks(state: EvaluationState, value: Any) -> int:
    # 100 ns intervals since 0001-01-01T00:00:00Z.
    delta = _timestamp("ticks", value) - datetime(1, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


@function("convertFromUtc", 2, 3)
def _convert_from_utc(state: EvaluationState, value: Any, zone: Any, fmt: Any = None) -> str:
    try:
        local = dt.to_zone(_timestamp("convertFromUtc", value), _text("convertFromUtc", zone))
    except ValueError as exc:
        raise FunctionError("convertFromUtc", str(exc)) from exc
    return _format("convertFromUtc", local, fmt)


@function("convertToUtc", 2, 3)
def _convert_to_utc(state: EvaluationState, value: Any, zone: Any, fmt: Any = None) -> str:
    try:
        moment = dt.from_zone(_timestamp("convertToUtc", value), _text("convertToUtc", zone))
    except ValueError as exc:
        raise FunctionError("convertToUtc", str(exc)) from exc
    return _format("convertToUtc", moment, fmt)


@function("convertTimeZone", 3, 4)
def _convert_time_zone(state: EvaluationState, value: Any, source: Any, target: Any, fmt: Any = None) -> str:
    try:
        moment = dt.from_zone(_timestamp("convertTimeZone", value), _text("convertTimeZone", source))
        local = dt.to_zone(moment, _text("convertTimeZone", target))
    except ValueError as exc:
        raise FunctionError("convertTimeZone", str(exc)) from exc
    return _format("convertTimeZone", local, fmt)


# --- accessors (the run's state) ----------------------------------------------------------------------------


@function("pipeline", 0)
def _pipeline(state: EvaluationState) -> Any:
    if state.pipeline is None:
        raise FunctionError("pipeline", "pipeline() is only available inside a pipeline")
    return state.pipeline


@function("activity", 1)
def _activity(state: EvaluationState, name: Any) -> Any:
    return state.activity(_text("activity", name))


@function("item", 0)
def _item(state: EvaluationState) -> Any:
    return state.current_item()


@function("variables", 1)
def _variables(state: EvaluationState, name: Any) -> Any:
    return state.variable(_text("variables", name))


@function("trigger", 0)
def _trigger(state: EvaluationState) -> Any:
    if state.trigger is None:
        raise FunctionError("trigger", "trigger() is only available in a trigger's pipeline parameters")
    return state.trigger


@function("triggerBody", 0)
def _trigger_body(state: EvaluationState) -> Any:
    body = (_trigger(state).get("outputs") or {}).get("body")
    if body is None:
        raise FunctionError("triggerBody", "this trigger has no body (only event triggers have one)")
    return body


@function("triggerOutputs", 0)
def _trigger_outputs(state: EvaluationState) -> Any:
    return _trigger(state).get("outputs") or {}


@function("linkedService", 0)
def _linked_service(state: EvaluationState) -> Any:
    if state.linked_service is None:
        raise FunctionError("linkedService", "linkedService() is only available inside a linked service definition")
    return state.linked_service


@function("dataset", 0)
def _dataset(state: EvaluationState) -> Any:
    if state.dataset is None:
        raise FunctionError("dataset", "dataset() is only available inside a dataset definition")
    return state.dataset
