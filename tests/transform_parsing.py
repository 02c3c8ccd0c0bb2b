"""Run one transform parser over a Spotify body for the transform's tests: the rows it emits per table, the
records it rejects and the drift it sees, from the body as a dict and as the simdjson document the run reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from activities.transform.parse import PARSERS, DriftRecorder, Emitter, request_context
from activities.transform.parse.document import PartDocument, plain
from activities.transform.schemas import PARSED_TABLES, SPECS


@dataclass
class Parsed:
    rows: dict[str, list[dict[str, Any]]]
    bad: list[tuple[str, str, str | None, Any]]
    drift: dict[str, dict[str, list[str]]]


def _parse_once(entity: str, body: Any, url: str | None, user_id: str | None = None,
                profiles: tuple[str, ...] = ()) -> Parsed:
    lists: dict[str, list[tuple[Any, ...]]] = {name: [] for name in PARSED_TABLES}
    bad: list[tuple[str, str, str | None, Any]] = []
    drift = DriftRecorder()
    emitter = Emitter({n: rows.append for n, rows in lists.items()},
                      lambda table, reason, field, record: bad.append((table, reason, field, plain(record))), drift)
    emitter.begin_part(entity)
    emitter.profiles.update(profiles)
    PARSERS[entity](body, request_context(url, user_id), emitter)
    rows = {
        name: [dict(zip((*SPECS[name].parsed_names, "_richness"), map(plain, row), strict=True)) for row in found]
        for name, found in lists.items()
        if found
    }
    return Parsed(rows, bad, drift.report())


def parse(entity: str, body: Any, url: str | None = None, *, user_id: str | None = None,
          profiles: tuple[str, ...] = ()) -> Parsed:
    """Parse ``body`` as a dict and as the document the run reads (simdjson): both must give the same.

    ``user_id`` is the manifest part's; ``profiles`` the GET /me users the run read before this part.
    """
    parsed = _parse_once(entity, body, url, user_id, profiles)
    document = PartDocument(orjson.dumps(body), "raw/part.json")
    assert _parse_once(entity, document.root, url, user_id, profiles) == parsed
    return parsed
