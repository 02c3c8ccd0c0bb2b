"""Parsers of raw Spotify response bodies, one per raw entity (the manifest part's ``entity``).

``PARSERS`` maps the entity to its parser: ``parser(body, context, emitter)`` where ``context``
is the part's ``request_url`` parsed (artist id, market, time range, query, playlist id) and
``emitter`` receives the row tuples. A body whose envelope is not the documented one raises
``PayloadShapeError``; a bad record inside it goes to quarantine through the emitter.

``PARSERS`` and ``PRIMARY_TABLE`` follow the sources' one declaration (``activities.sources``):
each ``Source`` names its entity's parser (``module:function`` in this package) and the curated
tables it feeds, the first being the one a whole part is quarantined under when its envelope is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from activities.sources import BY_ENTITY, resolve
from activities.transform.parse.catalog import album_id_from_url
from activities.transform.parse.drift import KNOWN_FIELDS, DriftRecorder
from activities.transform.parse.emitter import FULL, SIMPLIFIED, Emitter
from activities.transform.parse.values import ItemError, RequestContext, parse_release_date, request_context

Parser = Callable[[Any, RequestContext, Emitter], None]


def _declared_parsers() -> dict[str, Parser]:
    """Entity -> parser, from each source's one declaration (``activities.sources``: ``Source.parser``)."""
    parsers: dict[str, Parser] = {}
    for entity, declared in BY_ENTITY.items():
        parser = resolve(declared.parser)
        if not declared.parser.startswith(f"{__name__}.") or not callable(parser):
            raise ValueError(f"source `{declared.name}` names parser {declared.parser!r}, not one of {__name__}")
        parsers[entity] = parser
    return parsers


PARSERS: Mapping[str, Parser] = _declared_parsers()

# The table a whole part is quarantined under when its envelope is bad: the first its source feeds.
PRIMARY_TABLE: Mapping[str, str] = {entity: declared.tables[0] for entity, declared in BY_ENTITY.items()}

# Lookups by several ids carry long URLs of which the parser reads only the path (one object or several).
_PATH_ONLY = frozenset({"albums", "tracks", "artists"})


def needs_context(entity: str) -> bool:
    """Whether the parser of ``entity`` reads its part's whole ``request_url`` (else only its path)."""
    return entity not in _PATH_ONLY


__all__ = [
    "needs_context",
    "FULL",
    "KNOWN_FIELDS",
    "PARSERS",
    "PRIMARY_TABLE",
    "SIMPLIFIED",
    "DriftRecorder",
    "Emitter",
    "ItemError",
    "Parser",
    "RequestContext",
    "album_id_from_url",
    "parse_release_date",
    "request_context",
]
