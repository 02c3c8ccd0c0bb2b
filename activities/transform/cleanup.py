"""Staging folders of transform runs of this snapshot date that were killed or failed, removed after a publish.

A transform stages under ``<curated>/_staging/<extract run id>/`` and deletes that folder after publishing; a run
killed or failed before then leaves it. Once a run of the same ingest date has published, the staging of any OTHER
extract run of that date (its manifest sits beside this run's) is dead: its snapshot has been replaced. Staging of
other dates is left alone (their transforms may be running now), and so is anything written since this run began.
"""

from __future__ import annotations

from datetime import datetime

from activities.common.storage import BlobInfo, Storage
from activities.transform.publish import STAGING_ROOT


def remove_dead_staging(
    storage: Storage, curated: str, *, manifest_container: str, date_folder: str, manifest_file: str, own_run: str,
    started: datetime,
) -> list[str]:
    """Remove ``_staging/<run>/`` of other runs of this date (``<date_folder>/run_id=<run>/`` holds their
    manifest) untouched since ``started``; the removed folders, plus abandoned ``.tmp-*`` writes in them."""
    by_run: dict[str, list[BlobInfo]] = {}
    for blob in storage.list_blobs(curated, f"{STAGING_ROOT}/"):
        by_run.setdefault(blob.path.split("/")[1], []).append(blob)
    removed = []
    for run, blobs in sorted(by_run.items()):
        if run == own_run or max(blob.last_modified for blob in blobs) >= started:
            continue
        if not storage.exists(manifest_container, f"{date_folder}/run_id={run}/{manifest_file}"):
            continue  # another date's run (or not an extract run): not ours to judge
        for blob in blobs:
            storage.delete(curated, blob.path)
        folder = f"{STAGING_ROOT}/{run}/"
        removed.append(folder)
        removed += storage.delete_abandoned_writes(curated, folder, started)
    return removed
