"""Values of the ADF expression language as Microsoft's engine (Logic Apps' workflow language on .NET and
Newtonsoft JSON) holds them, modelled in Python.

- Integers are .NET `long`: arithmetic past int64 is an error, never a silently wider number.
- Floats are .NET `double`; `string()` prints them as .NET Core prints a double (shortest round-trip digits,
  scientific notation as `1E+17`, `-0` kept).
- Binary content (`binary()`, `base64ToBinary()`, ...) is the JSON object the engine returns for it:
  `{"$content-type": ..., "$content": <base64>}`.
- Equality is Newtonsoft's `JToken.DeepEquals` inside arrays and objects (1 and 1.0 differ, keys and strings
  are case-sensitive); only two numbers compared directly by `equals` compare by value.

Every rule here was checked against Microsoft's engine: tests/integration/test_expression_differential.py.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from offline.adf_runner.errors import ExpressionError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "binary_bytes",
    "binary_value",
    "checked_int",
    "deep_equal",
    "equality_key",
    "is_binary",
    "is_number",
    "json_text",
    "number_text",
    "to_string",
    "type_name",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_CONTENT_TYPE, _CONTENT = "$content-type", "$content"


def type_name(value: Any) -> str:
    """The type name Microsoft's engine uses in its messages."""
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


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked_int(function: str, value: int) -> int:
    """An integer result of `function`, refused when it leaves int64 as .NET `checked` arithmetic does."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise ExpressionError(f"function `{function}`: the result {value} overflows a 64-bit integer (ADF fails with arithmetic overflow)")
    return value


def number_text(value: float) -> str:
    """.NET Core's `double.ToString()`: the shortest digits that round-trip, in fixed notation from 1E-04 up
    to 17 integer digits, in scientific notation (`1E+17`, `1E-05`) outside that."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    exponent = int(exponent) + len(digits_tuple) - len(digits)
    position = len(digits) + exponent  # where the decimal point falls, counted from the first digit
    prefix = "-" if sign else ""
    if position > 17 or position < -3:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        power = position - 1
        return f"{prefix}{mantissa}E{'+' if power >= 0 else '-'}{abs(power):02d}"
    if position <= 0:
        return f"{prefix}0.{'0' * -position}{digits}"
    if position >= len(digits):
        return prefix + digits + "0" * (position - len(digits))
    return f"{prefix}{digits[:position]}.{digits[position:]}"


def _json_number(value: float) -> str:
    # Newtonsoft writes a double with its round-trip text and makes sure it still reads as a float.
    text = number_text(value)
    if math.isfinite(value) and "." not in text and "E" not in text:
        text += ".0"
    return text


def json_text(value: Any) -> str:
    """Compact JSON as Newtonsoft writes it (what `string()` of an array or object returns)."""
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key, ensure_ascii=False)}:{json_text(item)}" for key, item in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def to_string(value: Any) -> str:
    """The engine's string conversion (`string()`, `concat()`, `@{}` interpolation)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    if is_binary(value):
        return binary_bytes(value).decode("utf-8", errors="replace")
    return json_text(value)


def deep_equal(left: Any, right: Any) -> bool:
    """Newtonsoft `JToken.DeepEquals`: same JSON type and value; objects ignore key order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(deep_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(deep_equal(left[k], right[k]) for k in left)
    if isinstance(left, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return bool(left == right)


def equality_key(value: Any) -> Hashable:
    """A hashable key equal for two values exactly when `deep_equal` holds (so union/intersection of large
    arrays stay linear)."""
    if isinstance(value, list):
        return ("array", tuple(equality_key(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, equality_key(v)) for k, v in value.items()))
    return (type(value).__name__, value)


def binary_value(content: bytes, content_type: str = "application/octet-stream") -> dict[str, str]:
    return {_CONTENT_TYPE: content_type, _CONTENT: base64.b64encode(content).decode("ascii")}


def is_binary(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {_CONTENT_TYPE, _CONTENT} and isinstance(value[_CONTENT], str)


def binary_bytes(value: dict[str, str]) -> bytes:
    return base64.b64decode(value[_CONTENT])
