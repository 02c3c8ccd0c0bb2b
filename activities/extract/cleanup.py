"""What killed or failed extract runs of an ingest date left in the raw zone, removed once a run of that date published.

A run of date D that never wrote its manifest leaves part folders ``spotify/<entity>/ingest_date=D/run_id=<run>/``
and progress blobs ``spotify/_progress/ingest_date=D/run_id=<run>/``; a killed write leaves a ``.tmp-*`` file beside
the parts, the manifest or the date's state blob (local folder storage; the chaos suite found one beside
``_state/ingest_date=D/state.json`` after a kill between the manifest and the state write). The next run of D
takes over such parts by COPYING them into its own folders (checkpoint.py), so once its manifest is written nothing
reads them again.

Never what an in-flight run uses: a run is removed only when it has no manifest AND none of its blobs changed since
the publishing run wrote its first blob (a run still writing is newer than that). PL_Extract_Spotify also runs with
``concurrency: 1``, so a second run of the pipeline waits in ADF's queue rather than running alongside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from activities.common.storage import BlobInfo, Storage
from activities.extract.raw_writer import SOURCE, manifest_path
from activities.extract.state import STATE_FOLDER

_RUN_SEGMENT = re.compile(r"/run_id=([^/]+)/")


@dataclass(frozen=True)
class RawCleanup:
    """What was removed: the unpublished runs (their folders) and the abandoned ``.tmp-*`` writes."""

    runs: tuple[str, ...]
    folders: tuple[str, ...]
    blobs: int
    abandoned_writes: tuple[str, ...]

    def to_outputs(self) -> dict[str, object]:
        return {"runs": list(self.runs), "folders": list(self.folders), "blobs": self.blobs,
                "abandonedWrites": list(self.abandoned_writes)}


def date_prefixes(entities: Iterable[str], ingest_date: date) -> list[str]:
    """Every raw prefix a run of ``ingest_date`` writes under (its run folders sit one level below)."""
    day = f"ingest_date={ingest_date.isoformat()}/"
    return [f"{SOURCE}/{entity}/{day}" for entity in sorted(set(entities))] + [f"{SOURCE}/_progress/{day}"]


def _written_once_prefixes(ingest_date: date) -> list[str]:
    """Where a run of ``ingest_date`` writes blobs outside run folders: its manifest folder and the date's state."""
    day = f"ingest_date={ingest_date.isoformat()}/"
    return [f"{SOURCE}/manifests/{day}", f"{STATE_FOLDER}{day}"]


def remove_unpublished_runs(
    storage: Storage, container: str, ingest_date: date, run_id: str, entities: Iterable[str]
) -> RawCleanup:
    """Remove the blobs of runs of ``ingest_date`` that never published, once run ``run_id`` has published."""
    prefixes = date_prefixes(entities, ingest_date)
    by_run: dict[str, list[BlobInfo]] = {}
    for prefix in prefixes:
        for blob in storage.list_blobs(container, prefix):
            match = _RUN_SEGMENT.search(blob.path, len(prefix) - 1)
            if match:
                by_run.setdefault(match.group(1), []).append(blob)
    own = by_run.get(run_id, [])
    if not own:
        return RawCleanup((), (), 0, ())  # nothing of this run listed: no start time to compare with
    started = min(blob.last_modified for blob in own)
    runs, folders, removed = [], set(), 0
    for other, blobs in sorted(by_run.items()):
        if other == run_id or storage.exists(container, manifest_path(ingest_date, other)):
            continue
        if max(blob.last_modified for blob in blobs) >= started:
            continue  # written to since this run began: it may still be running
        for blob in blobs:
            storage.delete(container, blob.path)
            folders.add(blob.path[: blob.path.index(f"/run_id={other}/") + len(f"/run_id={other}/")])
        runs.append(other)
        removed += len(blobs)
    abandoned = [path for prefix in prefixes + _written_once_prefixes(ingest_date)
                 for path in storage.delete_abandoned_writes(container, prefix, started)]
    return RawCleanup(tuple(runs), tuple(sorted(folders)), removed, tuple(sorted(abandoned)))
