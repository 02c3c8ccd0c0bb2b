"""Typed reads from decoded JSON: one place that turns a wrong shape into PayloadShapeError.

Each reader takes ``where`` (a JSON path such as ``albums[3].tracks.items[0]``) so the
message points at the offending object inside the blob.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.transform.errors import PayloadShapeError

# Inclusive bounds of the Arrow integer types the schemas use; checked here so an
# out-of-range value fails with its JSON path instead of deep inside Arrow.
_INT_BOUNDS: Mapping[int, tuple[int, int]] = {
    16: (-(2**15), 2**15 - 1),
    32: (-(2**31), 2**31 - 1),
    64: (-(2**63), 2**63 - 1),
}


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def as_object(value: Any, where: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else raise."""
    if not isinstance(value, Mapping):
        raise PayloadShapeError(where, f"expected an object, got {_type_name(value)}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    """Return ``value`` if it is a JSON array, else raise."""
    if not isinstance(value, list):
        raise PayloadShapeError(where, f"expected an array, got {_type_name(value)}")
    return value


def req_object(obj: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """The object under ``key``; missing or not an object raises."""
    return as_object(obj.get(key), f"{where}.{key}")


def opt_object(obj: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    """The object under ``key``, or None when the key is missing or null."""
    value = obj.get(key)
    return None if value is None else as_object(value, f"{where}.{key}")


def req_list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """The array under ``key``; missing or not an array raises."""
    return as_list(obj.get(key), f"{where}.{key}")


def opt_list(obj: Mapping[str, Any], key: str, where: str) -> list[Any] | None:
    """The array under ``key``, or None when the key is missing or null."""
    value = obj.get(key)
    return None if value is None else as_list(value, f"{where}.{key}")


def req_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    """A non-empty string under ``key``: used for ids, which every row needs."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadShapeError(f"{where}.{key}", f"expected a non-empty string, got {_type_name(value)}")
    return value


def opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    """The string under ``key``, or None when missing or null."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadShapeError(f"{where}.{key}", f"expected a string, got {_type_name(value)}")
    return value


def opt_int(obj: Mapping[str, Any], key: str, where: str, *, bits: int) -> int | None:
    """The integer under ``key`` (range-checked for an Arrow int of ``bits``), or None."""
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int subclass in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadShapeError(f"{where}.{key}", f"expected an integer, got {_type_name(value)}")
    low, high = _INT_BOUNDS[bits]
    if not low <= value <= high:
        raise PayloadShapeError(f"{where}.{key}", f"{value} does not fit in int{bits}")
    return value


def opt_bool(obj: Mapping[str, Any], key: str, where: str) -> bool | None:
    """The boolean under ``key``, or None when missing or null."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise PayloadShapeError(f"{where}.{key}", f"expected a boolean, got {_type_name(value)}")
    return value


def opt_str_list(obj: Mapping[str, Any], key: str, where: str) -> list[str] | None:
    """A list of strings under ``key``, or None when missing or null."""
    values = opt_list(obj, key, where)
    if values is None:
        return None
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise PayloadShapeError(f"{where}.{key}[{index}]", f"expected a string, got {_type_name(value)}")
    return list(values)
