"""``python -m activities.load.publish``: make the snapshot the one analysts see, in one write.

Runs after the schema check published every table of the snapshot and after the Synapse views were created
(the ``_latest`` views name the new snapshot but show it only once the pointer does). Adds the snapshot to the
published-snapshots pointer (activities.load.published), the one write that switches every view at once, then
removes what earlier killed or failed loads left (activities.load.orphans; customOutput ``removed``).

Refuses to publish a snapshot whose tables this run's check did not store: the pointer must never name a
snapshot with a table missing or left from another run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from activities.common.context import ActivityContext
from activities.common.entrypoint import run_activity
from activities.common.errors import BlobNotFoundError
from activities.common.logs import get_logger
from activities.common.storage import Storage
from activities.load.config import LoadConfig
from activities.load.errors import PublishError
from activities.load.layout import schema_path
from activities.load.orphans import remove_orphans
from activities.load.published import read_published, write_published
from activities.load.storage_io import marker_tables, open_load_storage, read_marker

log = get_logger("activities.load.publish")


def publish_snapshot(context: ActivityContext) -> dict[str, Any]:
    """The activity's ``main``; returns the customOutput."""
    config = LoadConfig.from_context(context)
    storage = open_load_storage(context, config)
    for table in marker_tables(read_marker(storage, config)):
        _check_stored_by_this_run(storage, config, table)
    published = read_published(storage, config.serving_container)
    published[config.snapshot_date] = config.run_id
    pointer = write_published(storage, config.serving_container, published, datetime.now(UTC))
    log.info("snapshot %s published (%s lists %d snapshots)", config.snapshot_date, pointer, len(published))

    removed = remove_orphans(storage, config.serving_container, own_staging=config.staging_folder,
                             published=set(published), now=datetime.now(UTC))
    for kind, paths in removed.to_json().items():
        for path in paths:
            log.info("removed orphan (%s): %s", kind, path)
    return {
        "snapshotDate": config.snapshot_date,
        "publishedPointer": pointer,
        "publishedSnapshots": len(published),
        "removed": removed.to_json(),
    }


def _check_stored_by_this_run(storage: Storage, config: LoadConfig, table: str) -> None:
    path = schema_path(table, config.snapshot_date)
    where = f"{config.serving_container}/{path}"
    try:
        document = json.loads(storage.read_bytes(config.serving_container, path).decode("utf-8"))
    except BlobNotFoundError:
        document = None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"stored schema {where} cannot be read: {exc}; rerun the load") from exc
    stored_by = document.get("load_run_id") if isinstance(document, dict) else None
    if stored_by != config.run_id:
        raise PublishError(
            f"table `{table}` of snapshot {config.snapshot_date} was not published by this load run ({where} "
            f"{'is missing' if document is None else f'was stored by run {stored_by}'}): the snapshot is left "
            "unpublished; rerun the load from the start"
        )


__all__ = ["publish_snapshot"]

if __name__ == "__main__":
    run_activity("publish snapshot", publish_snapshot)
