"""Incremental state across runs: what earlier runs already fetched, so a daily run asks only for what is new.

One JSON blob per ingest date, ``spotify/_state/ingest_date=<d>/state.json`` in the raw container, written by
the manifest step right after the run's manifest (never before: a failed run must not lose work). A run for
date D starts from the state of the latest date before D, so a rerun of D asks the API for exactly what the
first run of D asked for, and its snapshot is the same.

The document:

- ``users``: per Spotify user id, per source, its marks: ``recently_played.played_at`` (the newest play
  fetched), ``saved_tracks.added_at`` (the newest save), ``user_playlists.snapshots`` (playlist id ->
  ``snapshot_id`` whose items were fetched);
- ``entities``: per kind (``albums``, ``artists``, ``tracks``) the ids whose full object was fetched, with
  the ingest date it was fetched on (refreshes go oldest first);
- ``deferred``: lookups that did not fit the run's request budget or quota, as ``[kind, id]``; the next run
  does them before anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from activities.common.errors import BlobNotFoundError
from activities.common.storage import Storage
from activities.extract.errors import ProgressError
from activities.extract.raw_writer import SOURCE

STATE_VERSION = 1
STATE_FOLDER = f"{SOURCE}/_state/"
ENTITY_KINDS = ("albums", "artists", "tracks")
_DATE_FOLDER = re.compile(r"ingest_date=(\d{4}-\d{2}-\d{2})/state\.json$")


def state_path(ingest_date: date) -> str:
    return f"{STATE_FOLDER}ingest_date={ingest_date.isoformat()}/state.json"


@dataclass
class RunState:
    """The state as of one ingest date (mutable while the manifest step merges a run into it)."""

    as_of: str = ""  # the ingest date it describes ("" = no run yet)
    users: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    entities: dict[str, dict[str, str]] = field(default_factory=lambda: {kind: {} for kind in ENTITY_KINDS})
    deferred: list[tuple[str, str]] = field(default_factory=list)

    def mark(self, user_id: str, source: str) -> dict[str, Any]:
        """The marks of one user's source (empty if none yet)."""
        return dict(self.users.get(user_id, {}).get(source, {}))

    def known(self, kind: str, entity_id: str) -> bool:
        return entity_id in self.entities.get(kind, {})

    def merge(self, update: StateUpdate, ingest_date: date) -> None:
        """Advance by what one worker of a published run brought."""
        self.as_of = ingest_date.isoformat()
        for user_id, sources in update.users.items():
            for source, marks in sources.items():
                self.users.setdefault(user_id, {}).setdefault(source, {}).update(marks)
        for kind, ids in update.fetched.items():
            known = self.entities.setdefault(kind, {})
            for entity_id in ids:
                known[entity_id] = self.as_of
        for kind, ids in update.gone.items():
            for entity_id in ids:
                self.entities.get(kind, {}).pop(entity_id, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "state_version": STATE_VERSION,
            "as_of": self.as_of,
            "users": self.users,
            "entities": {kind: dict(sorted(ids.items())) for kind, ids in sorted(self.entities.items())},
            "deferred": [list(item) for item in self.deferred],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RunState:
        return cls(
            as_of=str(raw["as_of"]),
            users={str(u): {str(s): dict(m) for s, m in v.items()} for u, v in raw["users"].items()},
            entities={str(k): {str(i): str(d) for i, d in v.items()} for k, v in raw["entities"].items()},
            deferred=[(str(kind), str(entity_id)) for kind, entity_id in raw["deferred"]],
        )


@dataclass
class StateUpdate:
    """What one worker's run adds to the state (kept in its progress blob until the manifest is published)."""

    users: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    fetched: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids whose full object arrived
    gone: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids the API no longer knows (404)
    deferred: list[tuple[str, str]] = field(default_factory=list)

    def add_fetched(self, kind: str, ids: Iterable[str]) -> None:
        self.fetched.setdefault(kind, set()).update(ids)

    def set_mark(self, user_id: str, source: str, **marks: Any) -> None:
        self.users.setdefault(user_id, {}).setdefault(source, {}).update(marks)

    def to_json(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "fetched": {kind: sorted(ids) for kind, ids in sorted(self.fetched.items())},
            "gone": {kind: sorted(ids) for kind, ids in sorted(self.gone.items())},
            "deferred": [list(item) for item in self.deferred],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StateUpdate:
        return cls(
            users={str(u): {str(s): dict(m) for s, m in v.items()} for u, v in raw.get("users", {}).items()},
            fetched={str(k): set(v) for k, v in raw.get("fetched", {}).items()},
            gone={str(k): set(v) for k, v in raw.get("gone", {}).items()},
            deferred=[(str(kind), str(entity_id)) for kind, entity_id in raw.get("deferred", [])],
        )


def read_prior_state(storage: Storage, container: str, ingest_date: date) -> RunState:
    """The state of the latest ingest date before ``ingest_date`` (empty if there is none)."""
    dates = sorted(
        match.group(1)
        for blob in storage.list_blobs(container, STATE_FOLDER)
        if (match := _DATE_FOLDER.search(blob.path)) and match.group(1) < ingest_date.isoformat()
    )
    if not dates:
        return RunState()
    path = state_path(date.fromisoformat(dates[-1]))
    try:
        return RunState.from_json(json.loads(storage.read_bytes(container, path)))
    except BlobNotFoundError:
        return RunState()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProgressError(
            f"incremental state {container}/{path} is not readable ({type(exc).__name__}: {exc}); delete it to make "
            "the next run start from the state before it (it then refetches that day)"
        ) from exc


def write_state(storage: Storage, container: str, state: RunState, ingest_date: date) -> str:
    path = state_path(ingest_date)
    data = (json.dumps(state.to_json(), separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")
    storage.write_bytes(container, path, data, metadata={"ingest_date": ingest_date.isoformat()})
    return path


__all__ = ["ENTITY_KINDS", "RunState", "StateUpdate", "read_prior_state", "state_path", "write_state"]
