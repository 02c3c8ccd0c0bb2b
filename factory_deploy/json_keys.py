"""Read ADF JSON property names as ADF reads them: case-insensitively.

The service deserializes factory JSON with Newtonsoft.Json, whose property matching ignores case, so
`typeProperties.dataflow` (the spelling of the syntax sample on
https://learn.microsoft.com/azure/data-factory/control-flow-execute-data-flow-activity and of every
ExecuteDataFlow in Microsoft's template gallery) means the same as the SDK models' `dataFlow`. Deploy and
the local runner read property names through this one helper, so neither refuses what ADF accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def find_key(mapping: Mapping[str, Any], key: str) -> str | None:
    """The key of `mapping` that names property `key`: the exact spelling first, else one differing in case."""
    if key in mapping:
        return key
    folded = key.casefold()
    return next((k for k in mapping if isinstance(k, str) and k.casefold() == folded), None)


def get_property(mapping: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """`mapping[key]` matched case-insensitively, or `default` when no key names that property."""
    found = find_key(mapping, key)
    return default if found is None else mapping[found]
