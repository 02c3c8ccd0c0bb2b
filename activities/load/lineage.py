"""``python -m activities.load.lineage``: record what one load run read and wrote, as JSON in storage.

Written last by PL_Load_Spotify, after the views are refreshed, to ``lineage/<pipeline run id>.json`` in
the serving container::

    {"lineage_version": 1, "recorded_at": "...Z", "snapshot_date": "2026-11-24",
     "pipeline": {"name": "PL_Load_Spotify", "run_id": "...", "trigger": {"name": "TR_Curated_Landed", "time": "..."}},
     "upstream": {"snapshot_marker": "curated/_snapshots/snapshot_date=.../_SUCCESS", "run_id": "<transform run>",
                  "manifest": "raw/.../_manifest.json"},
     "data_flow": "Df_Load_Serving",
     "inputs": [{"table": "tracks", "location": "curated/tracks/snapshot_date=.../", "files": [...],
                 "rows_read": 1200, "rows_in_marker": 1200}],
     "outputs": [{"table": "tracks", "location": "serving/tracks/snapshot_date=.../", "files": [...], "rows": 1200,
                  "rows_written": 1200, "schema": "serving/_schemas/tracks/....json", "classification": "unchanged"}],
     "views": ["spotify.tracks"]}

Extended properties beyond the load's common ones: ``pipelineName``, ``triggerName``, ``triggerTime``,
``dataFlowMetrics`` (the data flow's ``runStatus.metrics``), ``published`` (the schema check's
customOutput ``tables``) and ``views`` (its customOutput ``views``); each JSON or a JSON string.

``upstream.extract`` summarizes the run manifest the snapshot came from (the extract run, and per raw entity and
writer the parts and items), so the extract's and the transform's activities can be described too.

Then, if ``purviewEndpoint`` is set (``storageAccount`` names the qualifiedNames' namespace), the document is queued
and registered in Purview with every document still pending (``activities.load.purview_queue``); customOutput
reports it under ``purview`` (``"status": "pending"`` while Purview cannot be reached: publishing never fails for
it). An empty ``purviewEndpoint`` skips it with one log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from activities.common.context import ActivityContext
from activities.common.entrypoint import run_activity
from activities.common.errors import ActivityConfigError, BlobNotFoundError
from activities.common.logs import get_logger
from activities.common.storage import Storage
from activities.load.config import LoadConfig
from activities.load.generate import DATAFLOW_NAME, stream_suffix
from activities.load.layout import lineage_path, partition_prefix
from activities.load.purview_processes import raw_summary
from activities.load.purview_queue import register_pending
from activities.load.storage_io import marker_tables, open_load_storage, read_marker

LINEAGE_VERSION = 1
log = get_logger("activities.load.lineage")


def _json_property(context: ActivityContext, name: str, default: Any) -> Any:
    if name not in context.extended_properties:
        return default
    value = context.extended_properties[name]
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else default
        except json.JSONDecodeError as exc:
            raise ActivityConfigError(f"extended property `{name}` is a string but not JSON ({exc.msg})") from exc
    return value


def build_lineage(
    config: LoadConfig,
    *,
    pipeline: Mapping[str, Any],
    marker: Mapping[str, Any],
    input_files: Mapping[str, list[str]],
    metrics: Mapping[str, Any],
    published: Mapping[str, Any],
    views: list[Any],
    recorded_at: datetime,
    extract: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The lineage document (pure): see the module docstring."""
    listed = marker_tables(marker)
    view_of = {v.get("table"): v.get("view") for v in views if isinstance(v, Mapping)}
    inputs, outputs = [], []
    for table in sorted(set(published) | set(input_files)):
        sink = metrics.get(f"Serving{stream_suffix(table)}") or {}
        source = (sink.get("sources") or {}).get(f"Curated{stream_suffix(table)}") or {}
        inputs.append({
            "table": table,
            "location": f"{config.marker_container}/{partition_prefix(table, config.snapshot_date)}/",
            "files": sorted(input_files.get(table, [])),
            "rows_read": source.get("rowsRead"),
            "rows_in_marker": listed.get(table, {}).get("rows"),
        })
        entry = published.get(table)
        if isinstance(entry, Mapping):
            outputs.append({
                "table": table,
                "location": f"{config.serving_container}/{partition_prefix(table, config.snapshot_date)}/",
                "files": list(entry.get("files", [])),
                "rows": entry.get("rows"),
                "rows_written": sink.get("rowsWritten"),
                "schema": entry.get("schema"),
                "classification": entry.get("classification"),
                "view": view_of.get(table),
            })
    return {
        "lineage_version": LINEAGE_VERSION,
        "recorded_at": recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "snapshot_date": config.snapshot_date,
        "pipeline": dict(pipeline),
        "upstream": {
            "snapshot_marker": config.marker_blob,
            "run_id": marker.get("run_id", marker.get("runId")),
            "manifest": marker.get("manifest"),
            **({"extract": dict(extract)} if extract else {}),
        },
        "data_flow": DATAFLOW_NAME,
        "inputs": inputs,
        "outputs": outputs,
        "views": sorted(v for v in view_of.values() if isinstance(v, str)),
    }


def record_lineage(context: ActivityContext) -> dict[str, Any]:
    """The activity's ``main``."""
    config = LoadConfig.from_context(context)
    storage = open_load_storage(context, config)
    marker = read_marker(storage, config)
    published = _json_property(context, "published", {})
    views = _json_property(context, "views", [])
    metrics = _json_property(context, "dataFlowMetrics", {})
    input_files: dict[str, list[str]] = {}
    for table in sorted(set(published) | set(marker_tables(marker))):
        prefix = f"{partition_prefix(table, config.snapshot_date)}/"
        input_files[table] = [
            f"{config.marker_container}/{blob.path}" for blob in storage.list_blobs(config.marker_container, prefix)
            if blob.path.endswith(".parquet") and "/" not in blob.path[len(prefix):]
        ]
    pipeline = {
        "name": context.get_str("pipelineName", "PL_Load_Spotify"),
        "run_id": config.run_id,
        "trigger": {"name": context.get_str("triggerName", ""), "time": context.get_str("triggerTime", "")},
    }
    document = build_lineage(
        config, pipeline=pipeline, marker=marker, input_files=input_files, metrics=metrics,
        published=published if isinstance(published, Mapping) else {}, views=views if isinstance(views, list) else [],
        recorded_at=datetime.now(UTC), extract=read_extract(storage, marker.get("manifest")),
    )
    path = lineage_path(config.run_id)
    storage.write_bytes(config.serving_container, path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    blob = f"{config.serving_container}/{path}"
    log.info("lineage of run %s: %d inputs, %d outputs -> %s", config.run_id, len(document["inputs"]),
             len(document["outputs"]), blob)
    outputs: dict[str, Any] = {"lineage": blob, "inputs": len(document["inputs"]), "outputs": len(document["outputs"])}
    outputs["purview"] = register_pending(context, storage, config.serving_container, config.run_id)
    return outputs


def read_extract(storage: Storage, manifest: Any) -> dict[str, Any] | None:
    """:func:`raw_summary` of the run manifest ``<container>/<path>`` the marker names; None when it is not there
    (raw data past retention, or a marker written by hand): the extract and transform activities are then not described."""
    container, _, path = str(manifest or "").partition("/")
    if not container or not path:
        return None
    try:
        body = json.loads(storage.read_bytes(container, path).decode("utf-8"))
    except BlobNotFoundError:
        log.warning("run manifest %s not found: the lineage describes the load only", manifest)
        return None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ActivityConfigError(f"run manifest {manifest} is not JSON ({exc}); the transform would have refused it") from exc
    return raw_summary(body) if isinstance(body, Mapping) else None


__all__ = ["LINEAGE_VERSION", "build_lineage", "record_lineage"]

if __name__ == "__main__":
    run_activity("record lineage", record_lineage)
