"""A raw part's body as a lazy JSON document (simdjson), and the few helpers the parsers need for it.

``orjson.loads`` would turn every value of a page into a Python object, yet most of a Spotify
page is fields the model never reads: ``available_markets`` alone is some 70 strings per track
and again per embedded album. simdjson validates the whole document as strictly (structure,
UTF-8, numbers) and then lets the parsers read objects and arrays in place, so only the fields
they read become Python values. Scalars come out as ``str``/``int``/``float``/``bool``/``None``.

Objects and arrays are proxies (``simdjson.Object``/``simdjson.Array``) that keep their document
alive. The parsers also get plain dicts and lists (tests write bodies by hand), so type checks go
through ``is_object``/``is_array`` and anything kept beyond the part (a quarantined record, a
value stored in a row) goes through ``plain``.

Cost model the parsers follow: reading a key an object has costs about twice a dict lookup;
reading one it lacks costs some 60 times that (the binding raises and catches internally), so
fields a schema does not promise are read only when the object's kind has them.
"""

from __future__ import annotations

import sys
from typing import Any

import simdjson

from activities.transform.errors import PartDecodeError

_OBJECTS = (dict, simdjson.Object)
_ARRAYS = (list, simdjson.Array)
_PROXIES = (simdjson.Object, simdjson.Array)


def is_object(value: Any) -> bool:
    """Whether ``value`` is a JSON object (a dict or a document's object)."""
    return isinstance(value, _OBJECTS)


def is_array(value: Any) -> bool:
    """Whether ``value`` is a JSON array (a list or a document's array)."""
    return isinstance(value, _ARRAYS)


def is_proxy(value: Any) -> bool:
    """Whether ``value`` is an object or array that still refers to its document."""
    return isinstance(value, _PROXIES)


def plain(value: Any) -> Any:
    """``value`` with a document's objects and arrays turned into dicts and lists (recursively)."""
    if isinstance(value, simdjson.Object):
        return value.as_dict()
    if isinstance(value, simdjson.Array):
        return value.as_list()
    return value


def describe(value: Any) -> str:
    """``<json type> <value>`` for error messages, shortened."""
    value = plain(value)
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


class PartDocument:
    """One part's parsed body. ``root`` is valid until ``close()``; each part gets its own parser.

    A parser of its own per part (it costs nothing: buffers are sized at parse time) means a proxy
    that outlives its part by mistake pins that part's memory, never breaks the next parse.
    """

    def __init__(self, body: bytes, blob: str) -> None:
        self._parser = simdjson.Parser()
        try:
            self.root: Any = self._parser.parse(body)
        except (ValueError, RuntimeError) as exc:  # UnicodeDecodeError is a ValueError
            raise PartDecodeError(blob, f"not valid JSON ({exc})") from None

    def close(self) -> bool:
        """Drop the root; True when proxies of this document are still referenced somewhere."""
        self.root = None
        # Our attribute and getrefcount's argument: anything above is a live Object or Array.
        return sys.getrefcount(self._parser) > 2


__all__ = ["PartDocument", "describe", "is_array", "is_object", "is_proxy", "plain"]
