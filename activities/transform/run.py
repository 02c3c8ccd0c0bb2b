"""Transform one extract run: raw Spotify parts listed in a manifest -> curated Parquet tables.

I/O lives here, at the edges; parsing, validation, dedupe and Parquet encoding are pure
modules. Every part is read, verified and parsed before anything is written, so bad input
(missing/corrupt part, checksum mismatch) fails the run with curated storage untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.common.context import ActivityContext, LinkedService
from activities.common.errors import BlobNotFoundError
from activities.common.logs import get_logger
from activities.common.secrets import SecretStore, open_secret_store
from activities.common.storage import Storage, open_storage
from activities.transform.config import TransformConfig
from activities.transform.errors import (
    ManifestNotFoundError,
    PartNotFoundError,
    PartPayloadError,
    PayloadShapeError,
)
from activities.transform.manifest import Manifest, decode_part, parse_manifest
from activities.transform.parse import PARSERS
from activities.transform.publish import publish_partition
from activities.transform.schemas import TABLES
from activities.transform.tables import CuratedTables, RunLineage
from activities.transform.writer import iter_parquet_files

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
    """Storage behind ``storageLinkedService`` (raw and curated containers share the account)."""
    linked_service = context.linked_service(config.storage_linked_service)
    return open_storage(linked_service, _secret_store_for(context, linked_service))


def read_manifest(storage: Storage, config: TransformConfig) -> Manifest:
    """Read and validate the manifest the trigger pointed at."""
    try:
        data = storage.read_bytes(config.manifest_container, config.manifest_path)
    except BlobNotFoundError as exc:
        raise ManifestNotFoundError(config.manifest_blob) from exc
    return parse_manifest(data, config.manifest_blob)


def load_tables(storage: Storage, manifest: Manifest) -> CuratedTables:
    """Read, verify and parse every part, one at a time, keeping only deduped rows."""
    tables = CuratedTables()
    for part in manifest.parts:
        blob = manifest.part_blob(part)
        parser = PARSERS.get(part.entity)
        if parser is None:
            # A later extract may add entities this transform does not model yet; they are not
            # errors, but say so, since their data is not in curated.
            log.warning("skipping part %s: entity %r is not transformed by this version", blob, part.entity)
            continue
        try:
            data = storage.read_bytes(manifest.container, part.path)
        except BlobNotFoundError as exc:
            raise PartNotFoundError(blob, manifest.blob) from exc
        body = decode_part(part, data, blob)
        try:
            records = parser(body, part.request_url)
        except PayloadShapeError as exc:
            raise PartPayloadError(blob, part.entity, exc) from exc
        tables.add(records, source_blob=blob, fetched_at=part.fetched_at)
    return tables


def _warn_unparsed_release_dates(tables: CuratedTables, lineage: RunLineage) -> None:
    unparsed = [
        row["album_id"]
        for row in tables.rows("albums", lineage)
        if row["release_date_raw"] is not None and row["release_date"] is None
    ]
    if unparsed:
        log.warning(
            "%d album(s) have a release_date that is not a valid date for its precision; release_date is null, "
            "release_date_raw keeps the value (first: %s)",
            len(unparsed),
            ", ".join(unparsed[:5]),
        )


def transform(context: ActivityContext) -> dict[str, Any]:
    """The activity's ``main``: returns the customOutput (the entrypoint adds durationSeconds)."""
    config = TransformConfig.from_context(context)
    storage = open_run_storage(context, config)

    manifest = read_manifest(storage, config)
    log.info(
        "manifest %s: run %s, ingest date %s, %d parts",
        manifest.blob,
        manifest.run_id,
        manifest.ingest_date,
        len(manifest.parts),
    )
    tables = load_tables(storage, manifest)

    lineage = RunLineage(snapshot_date=manifest.ingest_date, source_run_id=manifest.run_id)
    _warn_unparsed_release_dates(tables, lineage)
    outputs: dict[str, dict[str, Any]] = {}
    for table, schema in TABLES.items():
        published = publish_partition(
            storage,
            config.curated_container,
            table=table,
            snapshot_date=manifest.ingest_date,
            files=iter_parquet_files(tables.rows(table, lineage), schema),
            run_id=manifest.run_id,
            manifest_blob=manifest.blob,
        )
        log.info(
            "published %s/%s: %d rows in %d file(s)",
            config.curated_container,
            published.prefix,
            published.rows,
            len(published.files),
        )
        outputs[table] = {"rows": published.rows, "files": list(published.files)}

    return {"snapshotDate": manifest.ingest_date.isoformat(), "manifest": manifest.blob, "tables": outputs}


__all__ = ["load_tables", "open_run_storage", "read_manifest", "transform"]
