"""The functions of the ADF expression language, with the semantics of Microsoft's engine (names are
case-insensitive).

Each function is a Python callable taking the evaluation state and its evaluated arguments; `if`, `and`,
`or` are lazy (they receive argument thunks) so an untaken branch cannot fail the expression. Adding a
function = one `@function(...)` definition below.

The reference is Microsoft's engine itself (the Logic Apps workflow language that Data Factory uses, shipped
in `data-factory-testing-framework`): tests/integration/test_expression_differential.py evaluates a corpus covering
every documented function with both engines. What that showed, in short:
- `equals`, `contains` on strings and arrays, `union`/`intersection` and object equality are case-sensitive;
  object *key lookup* (`contains(obj, key)`, `.key`) is not; `startsWith`/`endsWith`/`indexOf`/`lastIndexOf`
  compare culture-aware ignoring case (`ß` is not `ss`, but `ⓐ` is `a`).
- `less`/`greater` order strings by culture (`a` < `A` < `b`), not by code point.
- lengths and indexes count UTF-16 units; case mapping is one character to one character.
- integers are 64-bit (overflow fails), `int()` refuses a fractional number, arguments documented as integers
  refuse floats, counts are range-checked.
- timestamps keep 100 ns ticks and their .NET Kind (datetimes.py).
Where the local runner cannot reproduce the engine it fails with "not supported locally: ..." rather than
return a different value.
"""

from __future__ import annotations

import base64 as _b64
import binascii
import json as _json
import math
import random
import re
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote, unquote_plus, unquote_to_bytes

from offline.adf_runner.errors import ExpressionError
from offline.adf_runner.expressions import datetimes as dt
from offline.adf_runner.expressions import text as tx
from offline.adf_runner.expressions.values import (
    INT64_MIN,
    binary_bytes,
    binary_value,
    checked_int,
    deep_equal,
    equality_key,
    is_binary,
    is_number,
    json_text,
    to_string,
    type_name,
)

if TYPE_CHECKING:
    from offline.adf_runner.expressions.evaluator import EvaluationState

__all__ = ["FUNCTIONS", "NOT_SUPPORTED_LOCALLY", "FunctionSpec", "to_string"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None = variadic
    lazy: bool = False


FUNCTIONS: dict[str, FunctionSpec] = {}

# Documented functions the local runner refuses, and why (lower-cased name -> reason).
NOT_SUPPORTED_LOCALLY: dict[str, str] = {
    "xml": "ADF re-serializes the document with .NET's XmlDocument, which the local runner does not reproduce",
    "xpath": "it needs ADF's xml() values and .NET's XPath engine",
}

_F = TypeVar("_F", bound=Callable[..., Any])
_MISSING: Any = object()  # an optional argument that was not passed (unlike an explicit null)


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
        self.args = (function_name, problem)  # so copy.copy (ExpressionError.located) can rebuild it


# --- argument checks -----------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    return f"{type_name(value)} `{to_string(value)}`"


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise FunctionError(name, f"expects a string, got {_describe(value)}")
    return value


def _integer(name: str, value: Any, what: str = "an integer") -> int:
    # Arguments documented as Integer refuse floats, even integral ones (`skip(x, 1.0)` fails in ADF).
    if isinstance(value, bool) or not isinstance(value, int):
        raise FunctionError(name, f"expects {what}, got {_describe(value)}")
    return value


def _number(name: str, value: Any) -> int | float:
    if not is_number(value):
        raise FunctionError(name, f"expects a number, got {_describe(value)}")
    return cast(int | float, value)


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise FunctionError(name, f"not supported locally: the result {value} is not a finite number")
    return value


def _moment(name: str, value: Any) -> dt.Moment:
    try:
        return dt.parse_moment(_text(name, value))
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc


def _format(name: str, value: dt.Moment, fmt: Any) -> str:
    try:
        return dt.format_moment(value, None if fmt is _MISSING else _text(name, fmt))
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc


def _count(name: str, value: Any) -> int:
    count = _integer(name, value, "an integer count")
    if count < 0:
        raise FunctionError(name, f"count must not be negative, got {count}")
    return count


# --- string functions ---------------------------------------------------------------------------------------


@function("concat", 1, None)
def _concat(state: EvaluationState, *values: Any) -> str:
    return "".join(to_string(v) for v in values)


@function("substring", 2, 3)
def _substring(state: EvaluationState, value: Any, start_at: Any, count: Any = _MISSING) -> str:
    text, start = _text("substring", value), _integer("substring", start_at, "an integer start index")
    size = tx.utf16_len(text)
    length = size - start if count is _MISSING else _integer("substring", count, "an integer length")
    # ADF requires the start inside the string even for an empty result (`substring('abc', 3)` fails).
    if not 0 <= start < size or length < 0 or start + length > size:
        raise FunctionError(
            "substring", f"start index {start} and length {length} are out of range for a string of length {size}"
        )
    return tx.utf16_slice("substring", text, start, start + length)


@function("replace", 3)
def _replace(state: EvaluationState, text: Any, old: Any, new: Any) -> str:
    text, old, new = _text("replace", text), _text("replace", old), _text("replace", new)
    if text == "":
        return text  # ADF returns an empty text before looking at the string to replace
    if old == "":
        raise FunctionError("replace", "the string to replace must not be empty")
    return text.replace(old, new)


@function("toLower", 1)
def _to_lower(state: EvaluationState, text: Any) -> str:
    return tx.to_lower(_text("toLower", text))


@function("toUpper", 1)
def _to_upper(state: EvaluationState, text: Any) -> str:
    return tx.to_upper(_text("toUpper", text))


@function("trim", 1)
def _trim(state: EvaluationState, text: Any) -> str:
    return tx.trim(_text("trim", text))


@function("split", 2)
def _split(state: EvaluationState, text: Any, delimiter: Any) -> list[str]:
    text, delimiter = _text("split", text), _text("split", delimiter)
    return [text] if delimiter == "" else text.split(delimiter)


@function("startsWith", 2)
def _starts_with(state: EvaluationState, text: Any, prefix: Any) -> bool:
    return tx.starts_with(_text("startsWith", text), _text("startsWith", prefix))


@function("endsWith", 2)
def _ends_with(state: EvaluationState, text: Any, suffix: Any) -> bool:
    return tx.ends_with(_text("endsWith", text), _text("endsWith", suffix))


@function("indexOf", 2)
def _index_of(state: EvaluationState, text: Any, search: Any) -> int:
    return tx.find(_text("indexOf", text), _text("indexOf", search))


@function("lastIndexOf", 2)
def _last_index_of(state: EvaluationState, text: Any, search: Any) -> int:
    return tx.rfind(_text("lastIndexOf", text), _text("lastIndexOf", search))


_GUID_FORMATS = "NDBPX"  # case-sensitive in ADF: `guid('n')` fails


@function("guid", 0, 1)
def _guid(state: EvaluationState, fmt: Any = "D") -> str:
    kind = _text("guid", fmt)
    if len(kind) != 1 or kind not in _GUID_FORMATS:
        raise FunctionError("guid", f"format `{kind}` is not one of N, D, B, P, X")
    value = uuid.uuid4()
    if kind == "N":
        return value.hex
    if kind == "B":
        return "{" + str(value) + "}"
    if kind == "P":
        return "(" + str(value) + ")"
    if kind == "X":
        h = value.hex
        tail = ",".join("0x" + h[16 + 2 * i : 18 + 2 * i] for i in range(8))
        return "{0x" + h[:8] + ",0x" + h[8:12] + ",0x" + h[12:16] + ",{" + tail + "}}"
    return str(value)


# --- base64, URIs, data URIs, binary -------------------------------------------------------------------------


def _content(name: str, value: Any, what: str) -> bytes:
    """The bytes a conversion function encodes: a string's UTF-8, JSON of an array/object, binary content."""
    if is_binary(value):
        return binary_bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (list, dict)):
        return json_text(value).encode("utf-8")
    raise FunctionError(name, f"expects {what}, got {_describe(value)}")


def _from_base64(name: str, text: Any) -> bytes:
    try:
        return _b64.b64decode(_text(name, text), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FunctionError(name, f"`{text}` is not valid base64") from exc


@function("base64", 1)
def _base64(state: EvaluationState, value: Any) -> str:
    return _b64.b64encode(_content("base64", value, "a string, an object or an array")).decode("ascii")


@function("base64ToString", 1)
def _base64_to_string(state: EvaluationState, text: Any) -> str:
    return _from_base64("base64ToString", text).decode("utf-8", errors="replace")


@function("decodeBase64", 1)
def _decode_base64(state: EvaluationState, text: Any) -> str:
    return _from_base64("decodeBase64", text).decode("utf-8", errors="replace")


@function("base64ToBinary", 1)
def _base64_to_binary(state: EvaluationState, text: Any) -> dict[str, str]:
    return binary_value(_from_base64("base64ToBinary", text))


@function("binary", 1)
def _binary(state: EvaluationState, value: Any) -> dict[str, str]:
    if value is None:
        raise FunctionError("binary", "expects a value, got null")
    return value if is_binary(value) else binary_value(to_string(value).encode("utf-8"))


def _escape(value: Any) -> str:
    # .NET Uri.EscapeDataString: only RFC 3986 unreserved characters stay as they are.
    return quote(to_string(value), safe="-_.~")


@function("uriComponent", 1)
def _uri_component(state: EvaluationState, value: Any) -> str:
    return _escape(value)


@function("encodeUriComponent", 1)
def _encode_uri_component(state: EvaluationState, value: Any) -> str:
    return _escape(value)


def _unescape(name: str, text: Any) -> str:
    # ADF decodes `+` as a space (form decoding); malformed escapes stay, invalid UTF-8 becomes U+FFFD.
    return unquote_plus(_text(name, text), errors="replace")


@function("uriComponentToString", 1)
def _uri_component_to_string(state: EvaluationState, text: Any) -> str:
    return _unescape("uriComponentToString", text)


@function("decodeUriComponent", 1)
def _decode_uri_component(state: EvaluationState, text: Any) -> str:
    return _unescape("decodeUriComponent", text)


@function("uriComponentToBinary", 1)
def _uri_component_to_binary(state: EvaluationState, text: Any) -> dict[str, str]:
    return binary_value(unquote_to_bytes(_text("uriComponentToBinary", text).replace("+", " ")))


@function("dataUri", 1)
def _data_uri(state: EvaluationState, value: Any) -> str:
    if is_binary(value):
        media, content = value["$content-type"], binary_bytes(value)
    elif isinstance(value, str):
        media, content = "text/plain;charset=utf-8", value.encode("utf-8")
    elif value is not None:
        media, content = "application/json;charset=utf-8", to_string(value).encode("utf-8")
    else:
        raise FunctionError("dataUri", "expects a value, got null")
    return f"data:{media};base64,{_b64.b64encode(content).decode('ascii')}"


_DATA_URI = re.compile(r"data:(?P<media>[^,]*?)(?P<b64>;base64)?,(?P<data>.*)", re.DOTALL)


def _data_uri_parts(name: str, value: Any) -> tuple[str, bytes]:
    match = _DATA_URI.fullmatch(_text(name, value))
    if not match:
        raise FunctionError(name, f"`{value}` is not a data URI (data:[<media type>][;base64],<data>)")
    data = _from_base64(name, match["data"]) if match["b64"] else unquote_to_bytes(match["data"])
    return match["media"], data


@function("dataUriToBinary", 1)
def _data_uri_to_binary(state: EvaluationState, value: Any) -> dict[str, str]:
    media, data = _data_uri_parts("dataUriToBinary", value)
    return binary_value(data, media or "text/plain")


@function("dataUriToString", 1)
def _data_uri_to_string(state: EvaluationState, value: Any) -> str:
    return _data_uri_parts("dataUriToString", value)[1].decode("utf-8", errors="replace")


@function("decodeDataUri", 1)
def _decode_data_uri(state: EvaluationState, value: Any) -> Any:
    # Unlike dataUriToString, the content is read as its media type says: JSON becomes a value.
    media, data = _data_uri_parts("decodeDataUri", value)
    text = data.decode("utf-8", errors="replace")
    kind = media.split(";")[0].strip().lower()
    if kind == "application/json":
        return _json_fn(state, text)
    if kind in ("", "text/plain"):
        return text
    raise FunctionError("decodeDataUri", f"not supported locally: decodeDataUri of media type `{kind}`")


# --- conversions ------------------------------------------------------------------------------------------


@function("string", 1)
def _string(state: EvaluationState, value: Any) -> str:
    return to_string(value)


def _parse_number(text: str) -> Decimal | None:
    parts = tx.parse_decimal_number(text)
    if parts is None:
        return None
    sign, whole, fraction, exponent = parts
    return Decimal(f"{sign}{whole or '0'}.{fraction or '0'}E{exponent}")


@function("int", 1)
def _int(state: EvaluationState, value: Any) -> int:
    # Microsoft's engine converts through a double: digits past 2**53 are rounded (`int('9007199254740993')`
    # is 9007199254740992), int64.MaxValue itself is out of range, and a fractional number is refused rather
    # than rounded (`int(2.5)` fails).
    if isinstance(value, bool):
        return int(value)
    number: float | None = None
    if is_number(value):
        number = float(value)
    elif isinstance(value, str):
        parsed = _parse_number(value)
        number = None if parsed is None else float(parsed)
    if number is None or not math.isfinite(number) or not number.is_integer() or not -(2.0**63) <= number < 2.0**63:
        raise FunctionError("int", f"`{to_string(value)}` cannot be converted to an integer")
    return int(number)


@function("float", 1)
def _float(state: EvaluationState, value: Any) -> float:
    if isinstance(value, (int, float)):  # booleans too: float(true) is 1.0
        return float(value)
    number = _parse_number(value) if isinstance(value, str) else None
    if number is None and isinstance(value, str) and tx.trim(value) in ("NaN", "Infinity", "-Infinity", "∞", "-∞"):
        raise FunctionError("float", f"not supported locally: `{value}` (ADF parses it to a number JSON cannot carry)")
    if number is None:
        raise FunctionError("float", f"`{to_string(value)}` cannot be converted to a float")
    return _finite("float", float(number))


@function("bool", 1)
def _bool(state: EvaluationState, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if is_number(value):
        return bool(value != 0)
    if isinstance(value, str) and tx.trim(value).lower() in ("true", "false"):
        return tx.trim(value).lower() == "true"
    raise FunctionError("bool", f"`{to_string(value)}` cannot be converted to a boolean")


@function("json", 1)
def _json_fn(state: EvaluationState, value: Any) -> Any:
    if is_binary(value):
        raise FunctionError("json", "not supported locally: json() of XML or binary content")
    if _text("json", value).strip() == "":
        return None  # Newtonsoft reads empty text as null
    try:
        return _json.loads(value, parse_constant=_no_constant, parse_float=_json_float)
    except (_json.JSONDecodeError, ValueError) as exc:
        raise FunctionError("json", f"`{value}` is not valid JSON ({exc})") from exc


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not supported locally: the JSON number {text} is out of the range of a double")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"not supported locally: the JSON constant {name}")


@function("array", 1)
def _array(state: EvaluationState, value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@function("createArray", 1, None)
def _create_array(state: EvaluationState, *values: Any) -> list[Any]:
    return list(values)


@function("coalesce", 1, None)
def _coalesce(state: EvaluationState, *values: Any) -> Any:
    return next((v for v in values if v is not None), None)


# --- collections ------------------------------------------------------------------------------------------


@function("empty", 1)
def _empty(state: EvaluationState, value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, list, dict)):
        return len(value) == 0
    raise FunctionError("empty", f"expects a string, an array or an object, got {_describe(value)}")


@function("length", 1)
def _length(state: EvaluationState, value: Any) -> int:
    if isinstance(value, str):
        return tx.utf16_len(value)
    if isinstance(value, list):
        return len(value)
    raise FunctionError("length", f"expects a string or an array, got {_describe(value)}")


def _has_key(target: dict[str, Any], key: str) -> bool:
    # Object keys are looked up ignoring case, as property access does.
    lowered = key.lower()
    return any(k.lower() == lowered for k in target)


@function("contains", 2)
def _contains(state: EvaluationState, collection: Any, value: Any) -> bool:
    if isinstance(collection, list):
        return any(deep_equal(item, value) for item in collection)
    if isinstance(collection, (str, dict)):
        if not isinstance(value, str):
            raise FunctionError("contains", f"a string or an object is searched for a string, got {_describe(value)}")
        return value in collection if isinstance(collection, str) else _has_key(collection, value)
    raise FunctionError("contains", f"expects a string, an array or an object, got {_describe(collection)}")


def _sequence(name: str, value: Any) -> str | list[Any]:
    if not isinstance(value, (str, list)):
        raise FunctionError(name, f"expects a string or an array, got {_describe(value)}")
    return value


@function("first", 1)
def _first(state: EvaluationState, collection: Any) -> Any:
    items = _sequence("first", collection)
    if isinstance(items, str):
        return tx.utf16_slice("first", items, 0, 1) if items else ""
    return items[0] if items else None


@function("last", 1)
def _last(state: EvaluationState, collection: Any) -> Any:
    items = _sequence("last", collection)
    if isinstance(items, str):
        size = tx.utf16_len(items)
        return tx.utf16_slice("last", items, size - 1, size) if items else ""
    return items[-1] if items else None


@function("skip", 2)
def _skip(state: EvaluationState, collection: Any, count: Any) -> Any:
    items, n = _sequence("skip", collection), _count("skip", count)
    return tx.utf16_slice("skip", items, n, tx.utf16_len(items)) if isinstance(items, str) else items[n:]


@function("take", 2)
def _take(state: EvaluationState, collection: Any, count: Any) -> Any:
    items, n = _sequence("take", collection), _count("take", count)
    return tx.utf16_slice("take", items, 0, min(n, tx.utf16_len(items))) if isinstance(items, str) else items[:n]


def _same_kind(name: str, collections: tuple[Any, ...]) -> bool:
    """True for all objects, False for all arrays; anything else fails."""
    if all(isinstance(c, dict) for c in collections):
        return True
    if all(isinstance(c, list) for c in collections):
        return False
    kinds = ", ".join(type_name(c) for c in collections)
    raise FunctionError(name, f"expects all arrays or all objects, got {kinds}")


def _distinct(items: list[Any]) -> list[Any]:
    seen: set[Hashable] = set()
    result: list[Any] = []
    for item in items:
        key = equality_key(item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


@function("union", 2, None)
def _union(state: EvaluationState, *collections: Any) -> Any:
    if _same_kind("union", collections):
        return {k: v for c in collections for k, v in c.items()}
    return _distinct([item for c in collections for item in c])


@function("intersection", 2, None)
def _intersection(state: EvaluationState, *collections: Any) -> Any:
    first, rest = collections[0], collections[1:]
    if _same_kind("intersection", collections):
        return {k: v for k, v in first.items() if all(k in c and deep_equal(c[k], v) for c in rest)}
    others = [{equality_key(item) for item in c} for c in rest]
    return _distinct([item for item in first if all(equality_key(item) in keys for keys in others)])


@function("join", 2)
def _join(state: EvaluationState, collection: Any, delimiter: Any) -> str:
    if not isinstance(collection, list):
        raise FunctionError("join", f"expects an array, got {_describe(collection)}")
    return _text("join", delimiter).join(to_string(v) for v in collection)


_RANGE_LIMIT, _INT32_MAX = 100_000, 2**31 - 1


@function("range", 2)
def _range(state: EvaluationState, start: Any, count: Any) -> list[int]:
    start, n = _integer("range", start, "an integer start index"), _count("range", count)
    if n > _RANGE_LIMIT or start < -(2**31) or start + n - 1 > _INT32_MAX:
        raise FunctionError("range", f"count must be at most {_RANGE_LIMIT} and the last value at most {_INT32_MAX}")
    return list(range(start, start + n))


# --- logic ---------------------------------------------------------------------------------------------------


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FunctionError(name, f"expects booleans, got {_describe(value)}")
    return value


@function("if", 3, lazy=True)
def _if(state: EvaluationState, condition: Callable[[], Any], when_true: Callable[[], Any], when_false: Callable[[], Any]) -> Any:
    chosen = condition()
    if not isinstance(chosen, bool):
        raise FunctionError("if", f"expects a boolean condition, got {_describe(chosen)}")
    return when_true() if chosen else when_false()


@function("equals", 2)
def _equals(state: EvaluationState, left: Any, right: Any) -> bool:
    # Two numbers compare by value (1 equals 1.0); everything else by JSON deep equality.
    if is_number(left) and is_number(right):
        return bool(left == right)
    return deep_equal(left, right)


@function("and", 1, None, lazy=True)
def _and(state: EvaluationState, *operands: Callable[[], Any]) -> bool:
    return all(_boolean("and", operand()) for operand in operands)


@function("or", 1, None, lazy=True)
def _or(state: EvaluationState, *operands: Callable[[], Any]) -> bool:
    return any(_boolean("or", operand()) for operand in operands)


@function("not", 1)
def _not(state: EvaluationState, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FunctionError("not", f"expects a boolean, got {_describe(value)}")
    return not value


def _compare(name: str, left: Any, right: Any) -> int:
    if is_number(left) and is_number(right):
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return tx.collation_compare(name, left, right)
    raise FunctionError(name, f"cannot compare {type_name(left)} with {type_name(right)}")


@function("less", 2)
def _less(state: EvaluationState, left: Any, right: Any) -> bool:
    return _compare("less", left, right) < 0


@function("lessOrEquals", 2)
def _less_or_equals(state: EvaluationState, left: Any, right: Any) -> bool:
    return _compare("lessOrEquals", left, right) <= 0


@function("greater", 2)
def _greater(state: EvaluationState, left: Any, right: Any) -> bool:
    return _compare("greater", left, right) > 0


@function("greaterOrEquals", 2)
def _greater_or_equals(state: EvaluationState, left: Any, right: Any) -> bool:
    return _compare("greaterOrEquals", left, right) >= 0


# --- math ----------------------------------------------------------------------------------------------------


def _arithmetic(name: str, left: Any, right: Any, op: Callable[[Any, Any], Any]) -> int | float:
    a, b = _number(name, left), _number(name, right)
    if isinstance(a, int) and isinstance(b, int):
        return checked_int(name, op(a, b))
    return _finite(name, float(op(a, b)))


@function("add", 2)
def _add(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _arithmetic("add", left, right, lambda a, b: a + b)


@function("sub", 2)
def _sub(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _arithmetic("sub", left, right, lambda a, b: a - b)


@function("mul", 2)
def _mul(state: EvaluationState, left: Any, right: Any) -> int | float:
    return _arithmetic("mul", left, right, lambda a, b: a * b)


def _divisor(name: str, left: Any, right: Any) -> tuple[int | float, int | float]:
    a, b = _number(name, left), _number(name, right)
    if b == 0:
        raise FunctionError(name, "division by zero")
    return a, b


def _truncated_quotient(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


@function("div", 2)
def _div(state: EvaluationState, left: Any, right: Any) -> int | float:
    a, b = _divisor("div", left, right)
    if isinstance(a, int) and isinstance(b, int):
        return checked_int("div", _truncated_quotient(a, b))  # truncates toward zero, like C#
    return _finite("div", a / b)


@function("mod", 2)
def _mod(state: EvaluationState, left: Any, right: Any) -> int | float:
    a, b = _divisor("mod", left, right)
    if isinstance(a, int) and isinstance(b, int):
        if a == INT64_MIN and b == -1:
            raise FunctionError("mod", f"the result of {a} mod -1 overflows a 64-bit integer")
        return a - b * _truncated_quotient(a, b)  # the sign of the dividend, like C#
    return math.fmod(a, b)


def _numbers(name: str, values: tuple[Any, ...]) -> list[int | float]:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    if not values:
        raise FunctionError(name, "needs at least one number")
    return [_number(name, v) for v in values]


def _extreme(name: str, values: tuple[Any, ...], pick: Callable[[list[int | float]], int | float]) -> int | float:
    numbers = _numbers(name, values)
    result = pick(numbers)
    # One float among the arguments makes the result a float (`max(3, 2.0)` is 3.0).
    return float(result) if any(isinstance(n, float) for n in numbers) else result


@function("min", 1, None)
def _min(state: EvaluationState, *values: Any) -> int | float:
    return _extreme("min", values, min)


@function("max", 1, None)
def _max(state: EvaluationState, *values: Any) -> int | float:
    return _extreme("max", values, max)


@function("rand", 2)
def _rand(state: EvaluationState, minimum: Any, maximum: Any) -> int:
    low, high = _integer("rand", minimum), _integer("rand", maximum)
    if low > high:
        raise FunctionError("rand", f"minimum {low} is greater than maximum {high}")
    return random.randrange(low, high) if high > low else low  # the maximum is exclusive


# --- dates ---------------------------------------------------------------------------------------------------


def _now(state: EvaluationState) -> dt.Moment:
    return dt.moment_from_datetime(state.now().astimezone(UTC), dt.Kind.UTC)


def _shifted(name: str, value: dt.Moment, ticks: int) -> dt.Moment:
    try:
        return dt.shift(value, ticks)
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc


@function("utcNow", 0, 1)
def _utcnow(state: EvaluationState, fmt: Any = _MISSING) -> str:
    return _format("utcNow", _now(state), fmt)


@function("formatDateTime", 1, 2)
def _format_date_time(state: EvaluationState, value: Any, fmt: Any = _MISSING) -> str:
    return _format("formatDateTime", _moment("formatDateTime", value), fmt)


def _adder(name: str, unit_ticks: int) -> None:
    def add(state: EvaluationState, value: Any, amount: Any, fmt: Any = _MISSING) -> str:
        moment, count = _moment(name, value), _integer(name, amount)
        return _format(name, _shifted(name, moment, count * unit_ticks), fmt)

    function(name, 2, 3)(add)


_SECOND = dt.TICKS_PER_SECOND
_adder("addDays", 86_400 * _SECOND)
_adder("addHours", 3_600 * _SECOND)
_adder("addMinutes", 60 * _SECOND)
_adder("addSeconds", _SECOND)

_UNITS = {"second": _SECOND, "minute": 60 * _SECOND, "hour": 3_600 * _SECOND, "day": 86_400 * _SECOND, "week": 7 * 86_400 * _SECOND}


def _add_units(name: str, value: dt.Moment, interval: Any, unit: Any) -> dt.Moment:
    count, key = _integer(name, interval), _text(name, unit).lower()
    if key in _UNITS:
        return _shifted(name, value, count * _UNITS[key])
    if key in ("month", "year"):
        try:
            return dt.add_months(value, count * (12 if key == "year" else 1))
        except ValueError as exc:
            raise FunctionError(name, str(exc)) from exc
    raise FunctionError(name, f"time unit `{unit}` is not one of Second, Minute, Hour, Day, Week, Month, Year")


def _negated(name: str, interval: Any) -> int:
    return -_integer(name, interval)


@function("addToTime", 3, 4)
def _add_to_time(state: EvaluationState, value: Any, interval: Any, unit: Any, fmt: Any = _MISSING) -> str:
    return _format("addToTime", _add_units("addToTime", _moment("addToTime", value), interval, unit), fmt)


@function("subtractFromTime", 3, 4)
def _subtract_from_time(state: EvaluationState, value: Any, interval: Any, unit: Any, fmt: Any = _MISSING) -> str:
    moved = _add_units("subtractFromTime", _moment("subtractFromTime", value), _negated("subtractFromTime", interval), unit)
    return _format("subtractFromTime", moved, fmt)


@function("getFutureTime", 2, 3)
def _get_future_time(state: EvaluationState, interval: Any, unit: Any, fmt: Any = _MISSING) -> str:
    return _format("getFutureTime", _add_units("getFutureTime", _now(state), interval, unit), fmt)


@function("getPastTime", 2, 3)
def _get_past_time(state: EvaluationState, interval: Any, unit: Any, fmt: Any = _MISSING) -> str:
    return _format("getPastTime", _add_units("getPastTime", _now(state), _negated("getPastTime", interval), unit), fmt)


def _start_of(name: str, period: int) -> None:
    def start(state: EvaluationState, value: Any, fmt: Any = _MISSING) -> str:
        moment = _moment(name, value)
        return _format(name, dt.Moment(moment.ticks - moment.ticks % period, moment.kind), fmt)

    function(name, 1, 2)(start)


_start_of("startOfDay", 86_400 * _SECOND)
_start_of("startOfHour", 3_600 * _SECOND)


@function("startOfMonth", 1, 2)
def _start_of_month(state: EvaluationState, value: Any, fmt: Any = _MISSING) -> str:
    moment = _moment("startOfMonth", value)
    first = moment.wall.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return _format("startOfMonth", dt.moment_from_datetime(first, moment.kind), fmt)


@function("dayOfWeek", 1)
def _day_of_week(state: EvaluationState, value: Any) -> int:
    # .NET DayOfWeek: Sunday = 0 ... Saturday = 6.
    return (_moment("dayOfWeek", value).wall.weekday() + 1) % 7


@function("dayOfMonth", 1)
def _day_of_month(state: EvaluationState, value: Any) -> int:
    return _moment("dayOfMonth", value).wall.day


@function("dayOfYear", 1)
def _day_of_year(state: EvaluationState, value: Any) -> int:
    return _moment("dayOfYear", value).wall.timetuple().tm_yday


@function("ticks", 1)
def _ticks(state: EvaluationState, value: Any) -> int:
    return _moment("ticks", value).ticks


def _zoned(name: str, convert: Callable[[], dt.Moment], fmt: Any) -> str:
    try:
        moment = convert()
    except ValueError as exc:
        raise FunctionError(name, str(exc)) from exc
    return _format(name, moment, fmt)


@function("convertFromUtc", 2, 3)
def _convert_from_utc(state: EvaluationState, value: Any, zone: Any, fmt: Any = _MISSING) -> str:
    moment, target = _moment("convertFromUtc", value), _text("convertFromUtc", zone)
    return _zoned("convertFromUtc", lambda: dt.convert_from_utc(moment, target), fmt)


@function("convertToUtc", 2, 3)
def _convert_to_utc(state: EvaluationState, value: Any, zone: Any, fmt: Any = _MISSING) -> str:
    moment, source = _moment("convertToUtc", value), _text("convertToUtc", zone)
    return _zoned("convertToUtc", lambda: dt.convert_to_utc(moment, source), fmt)


@function("convertTimeZone", 3, 4)
def _convert_time_zone(state: EvaluationState, value: Any, source: Any, target: Any, fmt: Any = _MISSING) -> str:
    moment = _moment("convertTimeZone", value)
    source, target = _text("convertTimeZone", source), _text("convertTimeZone", target)
    return _zoned("convertTimeZone", lambda: dt.convert_time_zone(moment, source, target), fmt)


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
