"""Envelope readers shared by the parsers: a response body must be the object/paging shape Spotify documents.

A body that is not (``{"tracks": …}`` missing, ``items`` not an array) raises ``PayloadShapeError``
with a JSON path; the run quarantines the whole part under its entity's table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.transform.errors import PayloadShapeError
from activities.transform.parse.document import is_array, is_object
from activities.transform.parse.values import RequestContext


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if is_object(value):
        return "dict"
    return "list" if is_array(value) else type(value).__name__


def as_object(value: Any, where: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else raise."""
    if not is_object(value):
        raise PayloadShapeError(where, f"expected an object, got {_type_name(value)}")
    return value


def as_list(value: Any, where: str) -> list[Any]:
    """``value`` if it is a JSON array, else raise."""
    if not is_array(value):
        raise PayloadShapeError(where, f"expected an array, got {_type_name(value)}")
    return value


def field_object(body: Any, key: str) -> Mapping[str, Any]:
    """``body[key]`` of a body that must be an object holding an object under ``key``."""
    return as_object(as_object(body, "$").get(key), f"$.{key}")


def field_list(body: Any, key: str) -> list[Any]:
    """``body[key]`` of a body that must be an object holding an array under ``key``."""
    return as_list(as_object(body, "$").get(key), f"$.{key}")


def page_items(page: Mapping[str, Any], where: str) -> list[Any]:
    """The ``items`` array of a paging object (missing ``items`` is an empty page)."""
    items = page.get("items")
    return [] if items is None else as_list(items, f"{where}.items")


def page_offset(page: Mapping[str, Any], context: RequestContext) -> int:
    """Offset of a page's first item: the page's ``offset``, else the request's, else 0."""
    offset = page.get("offset")
    if offset.__class__ is int and offset >= 0:  # type: ignore[operator]
        return offset  # type: ignore[no-any-return]
    return context.int_param("offset") or 0


__all__ = ["as_list", "as_object", "field_list", "field_object", "page_items", "page_offset"]
