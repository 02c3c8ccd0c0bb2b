"""What the twin actually served: every object id in the 200 responses of a run.

Tests and the local run compare curated tables with this, the twin's ground truth *for that run*:
nothing the API returned may be lost on the way to curated, and nothing may appear that it did not return.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

# Spotify object `type` values -> key in the export.
SERVED_TYPES = {"track": "tracks", "album": "albums", "artist": "artists", "playlist": "playlists", "episode": "episodes"}


class ServedIds:
    """Thread-safe sets of the ids of every Spotify object in successful responses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, set[str]] = {key: set() for key in SERVED_TYPES.values()}

    def collect(self, body: Any) -> None:
        found: dict[str, set[str]] = {key: set() for key in SERVED_TYPES.values()}
        _walk(body, found)
        with self._lock:
            for key, ids in found.items():
                self._ids[key] |= ids

    def export(self) -> dict[str, list[str]]:
        with self._lock:
            return {key: sorted(ids) for key, ids in self._ids.items()}


def _walk(node: Any, found: dict[str, set[str]]) -> None:
    # Iterative: playlist pages nest deeply enough that recursion per level is wasteful.
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            key = SERVED_TYPES.get(item.get("type"))  # type: ignore[arg-type]
            if key is not None and isinstance(item.get("id"), str):
                found[key].add(item["id"])
            stack.extend(v for v in item.values() if isinstance(v, (Mapping, list)))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, (Mapping, list)))
