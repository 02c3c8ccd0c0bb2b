"""Transform one extract run: raw Spotify parts listed in a manifest -> curated Parquet tables.

I/O lives here, at the edges; parsing, type checks, dedupe, enrichment and Parquet encoding
are the pure modules. The run, in order:

1. read the manifest; if a processed marker for it exists (a duplicate storage event) stop
   with ``"skipped": "already processed"`` unless ``force`` is true;
2. **load**: read, verify and parse every part, one at a time, into per-table row buffers that
   spill to local disk in key-range buckets (``spill.py``); bad records go to quarantine.
   A part that is missing, fails its checksum, or is not gzip/JSON fails the run here,
   before anything is written to storage;
3. **build**: per table, the earlier snapshot's rows join this run's in the spill
   (``incremental.py``: a snapshot is the full state as of its date), then bucket by bucket:
   dedupe (``dedupe.py``), enrich and derive bridges (``enrich.py``), write local Parquet
   (``writer.py``) and upload it to the staging prefix;
4. **publish** every partition, the snapshot marker, the processed marker (``publish.py``).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from activities.common.context import ActivityContext, LinkedService
from activities.common.errors import BlobNotFoundError
from activities.common.logs import get_logger
from activities.common.secrets import SecretStore, open_secret_store
from activities.common.storage import Storage, open_storage
from activities.transform.cleanup import remove_abandoned_writes, remove_dead_staging
from activities.transform.config import TransformConfig
from activities.transform.dedupe import winners
from activities.transform.enrich import BRIDGES, bridge_table, curated_table
from activities.transform.errors import ManifestNotFoundError, PartNotFoundError, PayloadShapeError
from activities.transform.hooks import pause_at
from activities.transform.incremental import CarriedRows, LineageIndex, previous_snapshot
from activities.transform.manifest import Manifest, ManifestPart, inflate_part, parse_manifest, processed_key
from activities.transform.parse import (
    PARSERS,
    PRIMARY_TABLE,
    DriftRecorder,
    Emitter,
    needs_context,
    request_context,
)
from activities.transform.parse.document import PartDocument, is_object
from activities.transform.parse.emitter import SHAPE_ERRORS
from activities.transform.publish import (
    PublishedPartition,
    StagedFile,
    clear_partition,
    delete_prefix,
    processed_marker_path,
    publish_partition,
    snapshot_marker_path,
    stage_files,
    staging_prefix,
    write_json,
)
from activities.transform.quarantine import QuarantineSink
from activities.transform.schemas import PARSED_TABLES, SPECS
from activities.transform.spill import DEFAULT_FLUSH_ROWS, TableSpill
from activities.transform.writer import TableWriter

log = get_logger("activities.transform")


def _secret_store_for(context: ActivityContext, linked_service: LinkedService) -> SecretStore | None:
    """The Key Vault a storage linked service takes its connection string from, if any.

    ADF writes the reference as ``connectionString: {"type": "AzureKeyVaultSecret",
    "store": {"referenceName": "<Key Vault linked service>"}, "secretName": …}``.
    """
    connection = linked_service.type_properties.get("connectionString")
    if not isinstance(connection, Mapping) or connection.get("type") != "AzureKeyVaultSecret":
        return None
    store = connection.get("store")
    reference = store.get("referenceName") if isinstance(store, Mapping) else None
    if not isinstance(reference, str):
        return None  # open_storage reports the incomplete reference with the linked service's name
    return open_secret_store(context.linked_service(reference))


def open_run_storage(context: ActivityContext, config: TransformConfig) -> Storage:
    """Storage behind ``storageLinkedService`` (raw, curated and quarantine containers share the account)."""
    linked_service = context.linked_service(config.storage_linked_service)
    return open_storage(linked_service, _secret_store_for(context, linked_service))


def read_manifest_bytes(storage: Storage, config: TransformConfig) -> bytes:
    """The bytes of the manifest the trigger pointed at."""
    try:
        return storage.read_bytes(config.manifest_container, config.manifest_path)
    except BlobNotFoundError as exc:
        raise ManifestNotFoundError(config.manifest_blob) from exc


def read_manifest(storage: Storage, config: TransformConfig) -> Manifest:
    """Read and validate the manifest the trigger pointed at."""
    return parse_manifest(read_manifest_bytes(storage, config), config.manifest_blob)


def part_ranks(manifest: Manifest) -> tuple[dict[str, int], list[str]]:
    """Rank of each part in ``(fetched_at, path)`` order (the dedupe's "later wins") and blob names by rank."""
    ordered = sorted(manifest.parts, key=lambda p: (p.fetched_at or "", p.path))
    return {part.path: rank for rank, part in enumerate(ordered)}, [manifest.part_blob(p) for p in ordered]


# Parts are read on the main thread: measured on local storage, read-ahead threads made the load
# ~1.6x slower (they contend for the GIL and the allocator with the parsing thread). Against a
# remote store, where a read is mostly waiting, ``read_parts(..., workers=n)`` overlaps the waits.
READ_AHEAD_WORKERS = 0


def read_parts(
    storage: Storage, manifest: Manifest, parts: list[ManifestPart], *, workers: int = READ_AHEAD_WORKERS
) -> Iterator[tuple[ManifestPart, str, bytes]]:
    """``(part, blob, gunzipped body)`` in manifest order; with ``workers`` > 0, read ahead by that many threads.

    Reading, the sha256 check and gunzip release the GIL, so threads can overlap them with
    parsing (worth it when reads wait on a network). At most ``2 * workers`` parts are held; an
    error is raised when its part's turn comes, so failures surface in manifest order.
    """

    def fetch(part: ManifestPart) -> bytes:
        blob = manifest.part_blob(part)
        try:
            data = storage.read_bytes(manifest.container, part.path)
        except BlobNotFoundError as exc:
            raise PartNotFoundError(blob, manifest.blob) from exc
        return inflate_part(part, data, blob)

    if workers < 1:
        for part in parts:
            yield part, manifest.part_blob(part), fetch(part)
        return
    window = 2 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-part") as pool:
        pending: deque[tuple[ManifestPart, Future[bytes]]] = deque()
        queue = iter(parts)
        try:
            for part in itertools.islice(queue, window):
                pending.append((part, pool.submit(fetch, part)))
            while pending:
                part, future = pending.popleft()
                body = future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(fetch, nxt)))
                yield part, manifest.part_blob(part), body
        finally:
            for _, future in pending:
                future.cancel()


@dataclass
class Loaded:
    """What the load step leaves: spilled tables, quarantine, drift and counts."""

    spills: dict[str, TableSpill]
    quarantine: QuarantineSink
    drift: DriftRecorder
    blobs: list[str]
    parts_read: int = 0
    ignored: dict[str, int] = field(default_factory=dict)


def load(storage: Storage, manifest: Manifest, work: Path, *, flush_rows: int = DEFAULT_FLUSH_ROWS) -> Loaded:
    """Read, verify and parse every part, one at a time, into spilled per-table buckets."""
    ranks, blobs = part_ranks(manifest)
    quarantine = QuarantineSink(work / "quarantine", manifest.ingest_date, manifest.run_id, blobs)
    current = [0]  # rank of the part being parsed, for quarantine records

    def bad_row(table: str, reason: str, field_: str | None, key: str | None, record: Any, rank: int) -> None:
        quarantine.add(table, reason, field_, key, record, rank)

    def bad_item(table: str, reason: str, field_: str | None, record: Any) -> None:
        key = record.get("id") if is_object(record) else None
        quarantine.add(table, reason, field_, key if isinstance(key, str) else None, record, current[0])

    (work / "spill").mkdir(parents=True, exist_ok=True)
    spills = {name: TableSpill(SPECS[name], work / "spill", bad_row, flush_rows=flush_rows) for name in PARSED_TABLES}
    drift = DriftRecorder()
    emitter = Emitter({name: spill.append for name, spill in spills.items()}, bad_item, drift)
    loaded = Loaded(spills, quarantine, drift, blobs)
    # Parsed bodies are trees without reference cycles, freed by reference counting; the cyclic
    # collector would only walk the growing row buffers again and again. Off while parsing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        wanted: list[ManifestPart] = []
        for part in manifest.parts:
            if part.entity in PARSERS:
                wanted.append(part)
            else:
                # A later extract may add entities this transform does not model yet: not an error, but said.
                log.warning("skipping part %s: entity %r is not transformed by this version",
                            manifest.part_blob(part), part.entity)
                loaded.ignored[part.entity] = loaded.ignored.get(part.entity, 0) + 1
        # GET /me parts first: a user part written without its user_id falls back to the run's one user.
        wanted.sort(key=lambda p: p.entity != "user_profile")
        for part, blob, raw in read_parts(storage, manifest, wanted, workers=READ_AHEAD_WORKERS):
            document = PartDocument(raw, blob)
            del raw
            body = document.root
            parser = PARSERS[part.entity]
            rank = current[0] = ranks[part.path]
            emitter.begin_part(part.entity)
            try:
                parser(body, request_context(part.request_url, part.user_id), emitter)
            except PayloadShapeError as exc:
                log.warning("part %s (%s) quarantined: %s", blob, part.entity, exc)
                quarantine.add(PRIMARY_TABLE[part.entity], f"unexpected response shape at {exc}", exc.where,
                               None, body, rank)
            except SHAPE_ERRORS as exc:  # a page-level surprise no envelope check anticipated
                log.warning("part %s (%s) quarantined: %s", blob, part.entity, exc)
                quarantine.add(PRIMARY_TABLE[part.entity], f"unexpected response shape: {type(exc).__name__}: {exc}",
                               None, None, body, rank)
            del body
            if document.close():
                # A row kept a raw object or array (a field whose type changed): copy it out of the document.
                for spill in spills.values():
                    spill.detach_open_rows()
            for spill in spills.values():
                spill.end_part(rank)
            loaded.parts_read += 1
    finally:
        if gc_was_enabled:
            gc.enable()
    return loaded


@dataclass(frozen=True)
class Built:
    """Staged files of every curated table and of every quarantine table that has rows."""

    curated: dict[str, list[StagedFile]]
    quarantine: dict[str, list[StagedFile]]
    carried: dict[str, int] = field(default_factory=dict)  # rows of the earlier snapshot fed in, per table


def build(
    storage: Storage, loaded: Loaded, manifest: Manifest, work: Path, curated_container: str, staging: str,
    previous: date | None = None,
) -> Built:
    """Dedupe, enrich, write and stage every table, bucket by bucket, on top of the ``previous`` snapshot."""
    index = LineageIndex(loaded.blobs, manifest.run_id)
    snapshot = manifest.ingest_date
    staged: dict[str, list[StagedFile]] = {}
    carried: dict[str, int] = {}
    for name in PARSED_TABLES:
        spec = SPECS[name]
        spill = loaded.spills[name]
        if previous is not None:
            spill.flush()  # this run's rows first: the lists they bring decide what is replaced
            rows = CarriedRows(storage, curated_container, spec, previous, index)
            for batch in rows.batches(spill.scopes):
                spill.add_previous(batch)
            carried[name] = rows.rows
            if rows.dropped:
                log.warning("%s: %d row(s) of snapshot %s have no %s and are not carried over", name, rows.dropped,
                            previous, "/".join(spec.key))
        lineage = index.lineage(snapshot, manifest.run_id)
        writer = TableWriter(spec.schema, work / "curated" / name)
        bridges = {bridge.name: (bridge, TableWriter(bridge.schema, work / "curated" / bridge.name))
                   for bridge in BRIDGES.get(name, ())}
        for candidates in spill.buckets():
            best = winners(candidates, spec.key)
            del candidates
            writer.write(curated_table(spec, best, lineage))
            for bridge, bridge_writer in bridges.values():
                bridge_writer.write(bridge_table(bridge, best, lineage))
        for table, table_writer in [(name, writer), *((b, w) for b, (_, w) in bridges.items())]:
            staged[table] = stage_files(
                storage, curated_container, f"{staging}/curated", table, snapshot, table_writer.close()
            )
    quarantined = {
        table: stage_files(storage, curated_container, f"{staging}/quarantine", table, snapshot, files)
        for table, files in loaded.quarantine.close().items()
    }
    return Built({name: staged[name] for name in SPECS}, quarantined, carried)


def _summary(published: Mapping[str, PublishedPartition]) -> dict[str, dict[str, Any]]:
    return {table: {"rows": p.rows, "files": list(p.files)} for table, p in published.items()}


def publish(
    storage: Storage, config: TransformConfig, manifest: Manifest, built: Built, marker_key: str, manifest_sha: str
) -> dict[str, Any]:
    """Publish every partition, then the snapshot marker, then the processed marker (see ``publish.py``)."""
    snapshot = manifest.ingest_date
    curated = config.curated_container
    pause_at("staged")
    storage.delete(curated, snapshot_marker_path(snapshot))
    published: dict[str, PublishedPartition] = {}
    for index, (table, files) in enumerate(built.curated.items()):
        published[table] = publish_partition(
            storage, staging_container=curated, container=curated, table=table, snapshot_date=snapshot,
            files=files, run_id=manifest.run_id, manifest_blob=manifest.blob,
            after_parts=(lambda: pause_at("publish")) if index == 0 else None,
        )
        log.info("published %s/%s: %d rows in %d file(s)", curated, published[table].prefix,
                 published[table].rows, len(published[table].files))
    quarantined: dict[str, PublishedPartition] = {}
    for table in SPECS:
        bad_files = built.quarantine.get(table)
        if bad_files:
            quarantined[table] = publish_partition(
                storage, staging_container=curated, container=config.quarantine_container, table=table,
                snapshot_date=snapshot, files=bad_files, run_id=manifest.run_id, manifest_blob=manifest.blob,
            )
            log.warning("quarantined %d %s record(s) in %s/%s", quarantined[table].rows, table,
                        config.quarantine_container, quarantined[table].prefix)
        else:
            clear_partition(storage, config.quarantine_container, table, snapshot)
    tables = _summary(published)
    quarantine = _summary(quarantined)
    marker = snapshot_marker_path(snapshot)
    pause_at("snapshot")
    write_json(storage, curated, marker, {
        "run_id": manifest.run_id, "manifest": manifest.blob, "snapshot_date": snapshot.isoformat(),
        "tables": tables, "quarantine": quarantine,
    })
    processed = processed_marker_path(marker_key)
    write_json(storage, curated, processed, {
        "manifest": manifest.blob, "manifest_sha256": manifest_sha, "run_id": manifest.run_id,
        "snapshot_date": snapshot.isoformat(), "snapshot_marker": f"{curated}/{marker}", "tables": tables,
    })
    return {
        "tables": tables,
        "quarantine": quarantine,
        "snapshotMarker": f"{curated}/{marker}",
        "processedMarker": f"{curated}/{processed}",
    }


def _skip(storage: Storage, config: TransformConfig, manifest: Manifest, marker: str) -> dict[str, Any] | None:
    """customOutput for a manifest already processed (a duplicate event), or None to process it."""
    if config.force:
        return None
    try:
        previous = json.loads(storage.read_bytes(config.curated_container, marker))
    except BlobNotFoundError:
        return None
    log.info("manifest %s was already processed (%s/%s): skipping; set force true to reprocess it",
             manifest.blob, config.curated_container, marker)
    return {
        "skipped": "already processed",
        "snapshotDate": manifest.ingest_date.isoformat(),
        "manifest": manifest.blob,
        "processedMarker": f"{config.curated_container}/{marker}",
        "tables": previous.get("tables", {}) if isinstance(previous, dict) else {},
    }


def transform(context: ActivityContext) -> dict[str, Any]:
    """The activity's ``main``: returns the customOutput (the entrypoint adds durationSeconds)."""
    config = TransformConfig.from_context(context)
    storage = open_run_storage(context, config)
    data = read_manifest_bytes(storage, config)
    manifest_sha = hashlib.sha256(data).hexdigest()
    manifest = parse_manifest(data, config.manifest_blob, keep_url=needs_context)
    del data
    marker_key = processed_key(manifest.blob, manifest_sha)
    skipped = _skip(storage, config, manifest, processed_marker_path(marker_key))
    if skipped is not None:
        # A run killed after publishing, before it removed its staging, left it; the manifest is done, so it is dead.
        staging = f"{staging_prefix(manifest.run_id)}/"
        if delete_prefix(storage, config.curated_container, staging):
            skipped["removedStaging"] = [staging]
        return skipped
    log.info("manifest %s: run %s, ingest date %s, %d parts", manifest.blob, manifest.run_id,
             manifest.ingest_date, len(manifest.parts))
    began = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="transform-", dir=context.working_dir) as temp:
        work = Path(temp)
        started = time.monotonic()
        loaded = load(storage, manifest, work)
        log.info("loaded %d parts in %.2fs", loaded.parts_read, time.monotonic() - started)
        # Everything is read and verified: from here on storage is written (staging first).
        staging = staging_prefix(manifest.run_id)
        delete_prefix(storage, config.curated_container, f"{staging}/")
        started = time.monotonic()
        previous = previous_snapshot(storage, config.curated_container, manifest.ingest_date)
        log.info("snapshot %s builds on %s", manifest.ingest_date,
                 f"snapshot {previous}" if previous else "no earlier snapshot")
        built = build(storage, loaded, manifest, work, config.curated_container, staging, previous)
        log.info("built and staged %d tables in %.2fs", len(built.curated), time.monotonic() - started)
        started = time.monotonic()
        outputs = publish(storage, config, manifest, built, marker_key, manifest_sha)
        delete_prefix(storage, config.curated_container, f"{staging}/")
        log.info("published in %.2fs", time.monotonic() - started)
    # Published: staging that killed or failed transforms of this date left is dead now.
    removed_staging = remove_dead_staging(
        storage, config.curated_container, manifest_container=config.manifest_container,
        date_folder=config.manifest_dir.rsplit("/run_id=", 1)[0], manifest_file=config.manifest_file_name,
        own_run=manifest.run_id, started=began)
    removed_staging += remove_abandoned_writes(storage, config.curated_container, outputs["tables"],
                                               manifest.ingest_date, began)
    if removed_staging:
        log.info("removed what dead transform runs left: %s", ", ".join(removed_staging))
    quarantined = sum(t["rows"] for t in outputs["quarantine"].values())
    if quarantined:
        log.warning("%d record(s) quarantined: %s", quarantined,
                    ", ".join(f"{t} {v['rows']}" for t, v in outputs["quarantine"].items()))
    drift = loaded.drift.report()
    if drift:
        log.warning("schema drift (fields the model does not know, ignored): %s", json.dumps(drift))
    return {
        "snapshotDate": manifest.ingest_date.isoformat(),
        "manifest": manifest.blob,
        "runId": manifest.run_id,
        "parts": loaded.parts_read,
        "previousSnapshot": previous.isoformat() if previous else None,
        "carriedRows": dict(sorted(built.carried.items())),
        **outputs,
        "quarantinedRows": quarantined,
        "schemaDrift": drift,
        "ignoredParts": dict(sorted(loaded.ignored.items())),
        "removedStaging": removed_staging,
    }


__all__ = ["build", "load", "open_run_storage", "publish", "read_manifest", "transform"]
