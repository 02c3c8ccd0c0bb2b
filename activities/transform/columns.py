"""Turn one buffered column (Python values) into an Arrow array of its declared type, strictly.

The fast path converts the whole column in C. Arrow is lenient in places where the curated
model must not be (``1.5`` into an integer column is truncated, a string into a list column
becomes a list of characters), so integer and list columns are converted by inference first
and the inferred type must be the expected one. When the fast path refuses, the slow path
checks value by value and returns the index and reason of every bad value, with those
values nulled; the caller quarantines their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from activities.transform.parse.document import describe

_INT_BOUNDS = {
    pa.int8(): (-(2**7), 2**7 - 1),
    pa.int16(): (-(2**15), 2**15 - 1),
    pa.int32(): (-(2**31), 2**31 - 1),
    pa.int64(): (-(2**63), 2**63 - 1),
}
_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


class _Mismatch(Exception):
    """The inferred type is not the declared one."""


def _fast(values: Sequence[Any], type_: pa.DataType) -> pa.Array:
    if pa.types.is_integer(type_):
        inferred = pa.array(values)
        if not (pa.types.is_int64(inferred.type) or pa.types.is_null(inferred.type)):
            raise _Mismatch
        return inferred.cast(type_)  # safe cast: an out-of-range value raises
    if pa.types.is_list(type_):
        inferred = pa.array(values)
        if inferred.type != type_ and not (
            pa.types.is_null(inferred.type) or (pa.types.is_list(inferred.type) and pa.types.is_null(inferred.type.value_type))
        ):
            raise _Mismatch
        return inferred.cast(type_)
    if pa.types.is_floating(type_):
        return pa.array(values, type_, from_pandas=False)
    return pa.array(values, type_)


def _problem(value: Any, type_: pa.DataType) -> str | None:
    """Why ``value`` cannot be stored as ``type_`` (None: it can)."""
    if value is None:
        return None
    if pa.types.is_string(type_):
        return None if value.__class__ is str else f"expected a string, got {describe(value)}"
    if pa.types.is_boolean(type_):
        return None if value.__class__ is bool else f"expected a boolean, got {describe(value)}"
    if pa.types.is_integer(type_):
        if value.__class__ is not int:
            return f"expected an integer, got {describe(value)}"
        low, high = _INT_BOUNDS[type_]
        return None if low <= value <= high else f"{value} does not fit in {type_}"
    if pa.types.is_floating(type_):
        ok = value.__class__ in (int, float)
        return None if ok else f"expected a number, got {describe(value)}"
    if pa.types.is_list(type_):
        if value.__class__ is not list:
            return f"expected an array, got {describe(value)}"
        for element in value:
            problem = _problem(element, type_.value_type)
            if problem is not None:
                return f"array element: {problem}"
        return None
    return None  # dates and timestamps are built by the parsers themselves


def to_array(values: Sequence[Any], type_: pa.DataType) -> tuple[pa.Array, dict[int, str]]:
    """``(array, {row index: reason})``: the column as ``type_``; bad values nulled and listed."""
    try:
        return _fast(values, type_), {}
    except (_Mismatch, *_CONVERSION_ERRORS):
        pass
    bad: dict[int, str] = {}
    cleaned = list(values)
    for index, value in enumerate(cleaned):
        problem = _problem(value, type_)
        if problem is not None:
            bad[index] = problem
            cleaned[index] = None
    return pa.array(cleaned, type_), bad


__all__ = ["to_array"]
