"""Lineage documents waiting for Purview: registered oldest first, kept pending while Purview cannot be reached.

Publishing data never waits for Purview. ``lineage/<run id>.json`` is written first (the record of truth) together
with ``lineage/_pending/<run id>.json``; every run of ``Record lineage`` then registers each pending document in the
order they were recorded (so each Process ends up with the newest run's attributes) and removes its marker. When
Purview cannot be reached (connection errors, timeouts, 429/5xx beyond the client's retries) the activity still
succeeds: customOutput ``purview`` says ``"status": "pending"`` with the run ids left, and the next run registers
them. A refusal retrying cannot fix (403, 400, a bad stored schema) fails the activity; the markers stay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from activities.common.atlas import AtlasClient, AtlasSender
from activities.common.context import ActivityContext
from activities.common.errors import ActivityError, AtlasRetriableError, AtlasRetriesExhaustedError, BlobNotFoundError
from activities.common.logs import get_logger
from activities.common.storage import Storage
from activities.load.arrow_types import curated_tables
from activities.load.errors import PurviewRegistrationError
from activities.load.layout import LINEAGE_FOLDER, lineage_path
from activities.load.purview import SKIPPED, PurviewTarget, lineage_tables, register_lineage
from activities.load.schema import SchemaFormatError, TableSchema
from activities.transform.schemas import NATURAL_KEYS

PENDING_FOLDER = f"{LINEAGE_FOLDER}/_pending"
log = get_logger("activities.load.purview_queue")


def pending_path(run_id: str) -> str:
    return f"{PENDING_FOLDER}/{run_id}.json"


def register_pending(context: ActivityContext, storage: Storage, container: str, run_id: str) -> Any:
    """Queue run ``run_id``'s lineage (already written) and register every pending document; customOutput ``purview``.

    Raises:
        PurviewRegistrationError: a configuration error or a refusal that retrying cannot fix.
    """
    blob = f"{container}/{lineage_path(run_id)}"
    try:
        target = PurviewTarget.from_context(context)
    except ActivityError as exc:
        raise PurviewRegistrationError(f"lineage {blob} is written, but it cannot be registered in Purview: {exc}") from exc
    if target is None:
        log.info("Purview: %s (extended property `purviewEndpoint` is empty); lineage is only in %s", SKIPPED, blob)
        return SKIPPED
    marker = {"lineage": lineage_path(run_id), "queued_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    storage.write_bytes(container, pending_path(run_id), (json.dumps(marker) + "\n").encode("utf-8"))
    queue = _pending_documents(storage, container)
    registered: list[str] = []
    last: dict[str, Any] = {}
    with AtlasClient.connect(target.endpoint) as client:
        for queued_id, document in queue:
            try:
                last = register_document(client, target, storage, document)
            except (AtlasRetriableError, AtlasRetriesExhaustedError) as exc:
                left = [queued for queued, _ in queue if queued not in registered]
                log.warning("Purview %s unreachable; lineage of %d runs stays pending (registered on the next run): %s",
                            target.endpoint, len(left), exc)
                return {"account": target.endpoint, "status": "pending", "registered": registered, "pending": left,
                        "reason": str(exc)}
            except (ActivityError, SchemaFormatError) as exc:
                raise PurviewRegistrationError(
                    f"lineage {container}/{lineage_path(queued_id)} is written, but registering it in Purview failed: "
                    f"{exc}. Storage keeps the record and {container}/{pending_path(queued_id)} keeps it queued: fix the "
                    "cause and rerun this activity (entities are upserted by qualifiedName, so nothing is duplicated)"
                ) from exc
            storage.delete(container, pending_path(queued_id))
            registered.append(queued_id)
    log.info("Purview %s: registered the lineage of %s: %d entities created, %d updated, %d unchanged",
             target.endpoint, ", ".join(registered), last.get("created", 0), last.get("updated", 0), last.get("unchanged", 0))
    return {"account": target.endpoint, "status": "registered", "registered": registered, "pending": [], **last}


def register_document(sender: AtlasSender, target: PurviewTarget, storage: Storage, document: Mapping[str, Any]) -> dict[str, Any]:
    inputs, outputs = lineage_tables(document, curated_tables(), published_schemas(storage, document), NATURAL_KEYS)
    return register_lineage(sender, target, document, inputs, outputs)


def _pending_documents(storage: Storage, container: str) -> list[tuple[str, dict[str, Any]]]:
    """(run id, lineage document) of every queued run, oldest recorded first."""
    queue = []
    for blob in storage.list_blobs(container, f"{PENDING_FOLDER}/"):
        name = blob.path.rsplit("/", 1)[-1]
        if not name.endswith(".json"):
            continue
        run_id = name[: -len(".json")]
        try:
            document = json.loads(storage.read_bytes(container, lineage_path(run_id)).decode("utf-8"))
        except BlobNotFoundError:
            log.warning("Purview: %s/%s is queued but its lineage document is gone; dropped from the queue", container, blob.path)
            storage.delete(container, blob.path)
            continue
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PurviewRegistrationError(f"queued lineage {container}/{lineage_path(run_id)} is not JSON: {exc}; "
                                           f"fix or delete it and {container}/{blob.path}") from exc
        queue.append((run_id, document))
    return sorted(queue, key=lambda item: (str(item[1].get("recorded_at", "")), item[0]))


def published_schemas(storage: Storage, document: Mapping[str, Any]) -> dict[str, TableSchema]:
    """The serving schema the check stored for each output (``schema``: ``<container>/_schemas/<table>/<date>.json``)."""
    schemas = {}
    for entry in document.get("outputs", []):
        where = entry.get("schema") if isinstance(entry, Mapping) else None
        if not isinstance(where, str) or "/" not in where:
            continue
        container, _, path = where.partition("/")
        try:
            stored = json.loads(storage.read_bytes(container, path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SchemaFormatError(f"stored schema {where} is not JSON: {exc}") from exc
        schemas[entry["table"]] = TableSchema.from_json(stored, where)
    return schemas


__all__ = ["PENDING_FOLDER", "pending_path", "published_schemas", "register_document", "register_pending"]
