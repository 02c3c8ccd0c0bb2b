"""Staging folders of transform runs of this snapshot date that were killed or failed, removed after a publish.

A transform stages under ``<curated>/_staging/<extract run id>/`` and deletes that folder after publishing; a run
killed or failed before then leaves it. Once a run of the same ingest date has published, the staging of any OTHER
extract run of that date (its manifest sits beside this run's) is dead: its snapshot has been replaced. Staging of
other dates is left alone (their transforms may be running now), and so is anything written since this run began.

A transform killed while writing a partition or the snapshot marker leaves a ``.tmp-*`` file beside them (local
folder storage); the next publish of that date removes those of its own partitions (found by the chaos suite).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from activities.common.storage import BlobInfo, Storage
from activities.transform.publish import STAGING_ROOT, partition_prefix, snapshot_marker_path


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


def remove_abandoned_writes(
    storage: Storage, curated: str, tables: Iterable[str], snapshot_date: date, started: datetime
) -> list[str]:
    """Remove ``.tmp-*`` files older than ``started`` beside this date's partitions of ``tables`` and its marker."""
    marker_folder = snapshot_marker_path(snapshot_date).rsplit("/", 1)[0]
    prefixes = [f"{partition_prefix(table, snapshot_date)}/" for table in sorted(tables)] + [f"{marker_folder}/"]
    return [path for prefix in prefixes for path in storage.delete_abandoned_writes(curated, prefix, started)]
