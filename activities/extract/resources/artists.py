"""GET /artists?ids= (entity ``artists``, 50 ids per call)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activities.extract.fetcher import Fetcher, Step, Task
from activities.extract.resources import _array, _ids, _object, batched

ENTITY = "artists"
PATH = "/artists"
MAX_IDS = 50  # the endpoint's maximum


def ids_from_artists(payload: Any) -> list[str]:
    """Pure parse of a /artists?ids= answer: the artists returned (nulls for unknown ids skipped)."""
    return _ids(_array(_object(payload, "artists"), "artists", "artists"))


def tasks(fetcher: Fetcher, ids: Sequence[str]) -> list[Task]:
    """One task per batch of at most 50 artist ids (artists are the last stage: nothing found)."""

    def batch_task(batch: list[str]) -> Task:
        def run() -> Step:
            fetcher.get(ENTITY, PATH, {"ids": ",".join(batch)}, count=lambda body: len(ids_from_artists(body)))
            return Step()

        return run

    return [batch_task(batch) for batch in batched(ids, MAX_IDS)]
