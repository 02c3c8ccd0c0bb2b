"""What an earlier local run of the same date left unfinished after its extract published.

The chain after the extract is event-driven: TR_Raw_Landed fires the transform on the run's manifest and
TR_Curated_Landed fires the load on the curated snapshot marker. When a run stops after the manifest landed
(killed, or a failed transform or load), its data and its extract state are already stored and a new extract would only ask Spotify
again. On Azure the operator reruns the failed pipeline from ADF Monitor (docs/operations.md); the local run does
the same: it re-fires the storage event of the first step that did not finish. A date whose snapshot is published
extracts again as usual (incrementally).
"""

from __future__ import annotations

import json
from datetime import date

from activities.common.errors import BlobNotFoundError
from activities.common.storage import BlobInfo, Storage
from activities.load.ddl import PUBLISHED_POINTER
from activities.load.published import read_published
from activities.transform.publish import snapshot_marker_path, staging_prefix
from factory_deploy.env_config import EnvironmentConfig
from offline.adf_runner.storage_events import BlobEvent

# Where the extract publishes a run's manifest: the folder TR_Raw_Landed watches (blobPathBeginsWith).
MANIFESTS = "spotify/manifests/ingest_date={day}/"
STATE = "spotify/_state/ingest_date={day}/state.json"  # written by the extract right after the manifest
LINEAGE = "lineage/{run_id}.json"


def unfinished_step(storage: Storage, config: EnvironmentConfig, day: date) -> tuple[str, BlobEvent] | None:
    """(what did not finish, the storage event to fire again), or None when nothing published waits."""
    raw, curated, serving = config.storage.raw_container, config.storage.curated_container, config.storage.serving_container
    manifests = [blob for blob in storage.list_blobs(raw, MANIFESTS.format(day=day.isoformat()))
                 if blob.path.endswith("/_manifest.json")]
    if not manifests:
        return None
    newest = max(manifests, key=lambda blob: blob.last_modified)
    state = _blob(storage, raw, STATE.format(day=day.isoformat()))
    if state is None or state.last_modified < newest.last_modified:
        return None  # killed between the manifest and the state the next extract plans from: extract again
    marker = _blob(storage, curated, snapshot_marker_path(day))
    run_id = _run_id(newest.path)
    # The transform removes its staging folder last: a folder left means it did not finish.
    staged = next(iter(storage.list_blobs(curated, f"{staging_prefix(run_id)}/")), None)
    if marker is None or _marker_run(storage, marker) != run_id or staged is not None:
        return "the transform of its newest manifest", _event(newest)
    pointer = _blob(storage, serving, PUBLISHED_POINTER)
    load_run = read_published(storage, serving).get(day.isoformat()) if pointer is not None else None
    # The load writes the pointer, then its lineage record `lineage/<load run id>.json` as its last step.
    if (load_run is None or pointer is None or pointer.last_modified < marker.last_modified
            or _blob(storage, serving, LINEAGE.format(run_id=load_run)) is None):
        return "the load of its curated snapshot", _event(marker)
    return None


def _blob(storage: Storage, container: str, path: str) -> BlobInfo | None:
    return next((blob for blob in storage.list_blobs(container, path) if blob.path == path), None)


def _marker_run(storage: Storage, marker: BlobInfo) -> str | None:
    try:
        run_id = json.loads(storage.read_bytes(marker.container, marker.path)).get("run_id")
    except (BlobNotFoundError, ValueError, AttributeError):
        return None  # unreadable or gone: redo the transform, which rewrites it
    return run_id if isinstance(run_id, str) else None


def _run_id(manifest_path: str) -> str:
    """`.../run_id=<id>/_manifest.json` -> `<id>`."""
    return manifest_path.rsplit("/", 2)[-2].removeprefix("run_id=")


def _event(blob: BlobInfo) -> BlobEvent:
    return BlobEvent(blob.container, blob.path, blob.size, blob.last_modified)
