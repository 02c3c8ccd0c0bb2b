"""GET /tracks?ids= (entity ``tracks``, 50 ids per call)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from activities.extract.fetcher import Fetcher, Found, Step, Task
from activities.extract.resources import (
    _array,
    _artist_ids,
    _ids,
    _object,
    batched,
    found_in_tracks,
)

ENTITY = "tracks"
PATH = "/tracks"
MAX_IDS = 50  # the endpoint's maximum


@dataclass(frozen=True)
class TrackIds:
    track_ids: list[str]  # tracks returned (unknown ids come back as null and are absent)
    artist_ids: list[str]  # the tracks' artists


def ids_from_tracks(payload: Any) -> TrackIds:
    """Pure parse of a /tracks?ids= answer."""
    tracks = [track for track in _array(_object(payload, "tracks"), "tracks", "tracks") if isinstance(track, dict)]
    return TrackIds(track_ids=_ids(tracks), artist_ids=_artist_ids(tracks))


def tasks(fetcher: Fetcher, ids: Sequence[str]) -> list[Task]:
    """One task per batch of at most 50 track ids."""

    def batch_task(batch: list[str]) -> Task:
        def run() -> Step:
            payload = fetcher.get(ENTITY, PATH, {"ids": ",".join(batch)},
                                  count=lambda body: len(ids_from_tracks(body).track_ids))
            result = Found()
            found_in_tracks(_array(_object(payload, "tracks"), "tracks", "tracks"), result)
            return Step(result)

        return run

    return [batch_task(batch) for batch in batched(ids, MAX_IDS)]
