"""The storage assets Purview already knows, and the pipeline activities between them, as Atlas entities (pure).

Purview's scans and Data Factory's own lineage name Blob Storage data by URL, and a folder of partitioned files by
its *resource set*: the path with each varying part replaced by a pattern (Microsoft Learn, "Understanding resource
sets": ``{Year}``/``{Month}``/``{Day}`` for dates, ``{N}`` for numbers, ``{GUID}``, ``{SparkPartitions}`` for a Spark
job's output files; e.g. ``https://myblob.blob.core.windows.net/sample-data/name-of-spark-output/{SparkPartitions}``),
typed ``azure_blob_resource_set``. Registering our lineage against those names joins what a scan or ADF registers
instead of adding a second copy of every dataset:

==================  =====================================================================================================
raw (discovery)     ``https://<account>.blob.core.windows.net/raw/spotify/<entity>/ingest_date={Year}-{Month}-{Day}/run_id={GUID}/part-d-{N}.json.gz``
raw (shards)        ``…/raw/spotify/<entity>/ingest_date={Year}-{Month}-{Day}/run_id={GUID}/part-{N}-{N}.json.gz``
curated, serving    ``…/<container>/<table>/snapshot_date={Year}-{Month}-{Day}/part-{N}.parquet``
serving staging     ``…/serving/_staging/run_id={GUID}/<table>/snapshot_date={Year}-{Month}-{Day}/{SparkPartitions}``
==================  =====================================================================================================

Data Factory reports lineage itself only for Copy, Data Flow and Execute SSIS activities, so the data flow
(curated -> serving staging) is left to the factory's Purview connection, and one ``spotify_pipeline_activity``
Process is registered for each Custom activity that moves data, named by pipeline and activity (stable: a new run
updates it with its run id, date and row counts; the history is in ``lineage/<run id>.json``):

- ``PL_Extract_Spotify``/``Extract Spotify`` and ``Extract Spotify shard``: the Spotify Web API -> raw
  (discovery writes ``part-d-*``, the shards ``part-<shard>-*``; a shard's level is not in its file names, so
  levels 2 and 3 count as ``Extract Spotify shard``);
- ``PL_Transform_Spotify``/``Transform raw run``: raw -> curated;
- ``PL_Load_Spotify``/``Check serving schemas``: serving staging -> serving (it publishes what the data flow staged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

STORAGE_TYPE = "azure_blob_resource_set"
PROCESS_TYPE = "spotify_pipeline_activity"
API_TYPE = "spotify_web_api"
SPOTIFY_API = "https://api.spotify.com/v1"  # the source as Spotify serves it (the offline twin stands in for it)
SCHEME = "spotify://"
DATE_PATTERN = "{Year}-{Month}-{Day}"
EXTRACT = ("PL_Extract_Spotify", "Extract Spotify")
EXTRACT_SHARD = ("PL_Extract_Spotify", "Extract Spotify shard")
TRANSFORM = ("PL_Transform_Spotify", "Transform raw run")
PUBLISH = ("PL_Load_Spotify", "Check serving schemas")
_PART = re.compile(r"part-(?P<writer>[^-/]+)-\d+\.json\.gz$")
DISCOVERY_WRITER = "d"


# -- qualifiedNames ------------------------------------------------------------------------------------


def blob_url(account: str, container: str, path: str) -> str:
    return f"https://{account}.blob.core.windows.net/{container}/{path}"


def table_files(account: str, container: str, table: str) -> str:
    """The resource set of a curated or serving table's partitions (files ``part-00000.parquet``, …)."""
    return blob_url(account, container, f"{table}/snapshot_date={DATE_PATTERN}/part-{{N}}.parquet")


def staged_files(account: str, container: str, table: str) -> str:
    """The resource set the load's data flow (Spark) writes a table to, under ``_staging/run_id=<run id>/``."""
    return blob_url(account, container, f"_staging/run_id={{GUID}}/{table}/snapshot_date={DATE_PATTERN}/{{SparkPartitions}}")


def raw_files(account: str, container: str, source: str, entity: str, discovery: bool) -> str:
    """The resource set of one raw entity's parts, written by the discovery step or by the shards."""
    name = "part-d-{N}.json.gz" if discovery else "part-{N}-{N}.json.gz"
    return blob_url(account, container, f"{source}/{entity}/ingest_date={DATE_PATTERN}/run_id={{GUID}}/{name}")


def process_qualified_name(namespace: str, pipeline: str, activity: str) -> str:
    return f"{SCHEME}{namespace}/pipelines/{pipeline}/activities/{activity}"


# -- entities ------------------------------------------------------------------------------------------


def storage_entity(qualified_name: str) -> dict[str, Any]:
    """A resource set as a scan would create it; only created when the account does not hold it yet."""
    path = qualified_name.split(".blob.core.windows.net/", 1)[-1]
    return {"typeName": STORAGE_TYPE, "attributes": {"qualifiedName": qualified_name, "name": path}}


def storage_reference(qualified_name: str) -> dict[str, Any]:
    return {"typeName": STORAGE_TYPE, "uniqueAttributes": {"qualifiedName": qualified_name}}


def api_entity() -> dict[str, Any]:
    return {"typeName": API_TYPE, "attributes": {"qualifiedName": SPOTIFY_API, "name": "Spotify Web API"}}


def raw_summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What the lineage document keeps of a run manifest (``upstream.extract``): the extract run and, per raw entity and
    writer (``discovery`` or ``shards``), how many parts and items it wrote."""
    counts: dict[tuple[str, str], list[int]] = {}
    for part in manifest.get("parts") or []:
        match = _PART.search(str(part.get("path", ""))) if isinstance(part, Mapping) else None
        if match is None or not isinstance(part.get("entity"), str):
            continue
        items = part.get("items")
        total = counts.setdefault((part["entity"], "discovery" if match["writer"] == DISCOVERY_WRITER else "shards"), [0, 0])
        total[0] += 1
        total[1] += items if isinstance(items, int) and not isinstance(items, bool) else 0
    return {
        "run_id": manifest.get("run_id"), "ingest_date": manifest.get("ingest_date"),
        "container": manifest.get("container"), "source": manifest.get("source"),
        "raw": [{"entity": entity, "writer": writer, "parts": n, "items": items}
                for (entity, writer), (n, items) in sorted(counts.items())],
    }


def activity_processes(namespace: str, document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Processes of the activities that produced and published one load's snapshot, from its lineage document.

    Extract and transform need ``upstream.extract`` (:func:`raw_summary` of the run manifest); without it only the
    publish step is described.
    """
    snapshot = str(document.get("snapshot_date") or "")
    upstream = _mapping(document.get("upstream"))
    extract = _mapping(upstream.get("extract"))
    serving = _table_entries(document.get("outputs"))
    curated = _table_entries(document.get("inputs"))
    processes = []
    if extract:
        extracted, raw = _extract_processes(namespace, extract, snapshot)
        processes += extracted
        # The transform reads what the extract wrote: without raw resource sets its Process would have no inputs.
        if raw and curated:
            processes.append(_transform_process(namespace, str(upstream.get("run_id") or ""), snapshot, raw, curated))
    if serving:
        processes.append(_publish_process(namespace, _mapping(document.get("pipeline")), snapshot, serving))
    return processes


def _table_entries(entries: Any) -> list[Mapping[str, Any]]:
    """The entries of a lineage document's ``inputs``/``outputs`` that name a table (the document is read, not trusted)."""
    return [e for e in entries or [] if isinstance(e, Mapping) and isinstance(e.get("table"), str)]


def _extract_processes(namespace: str, extract: Mapping[str, Any], snapshot: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The discovery and shard Processes (Spotify Web API -> raw), and every raw resource set they wrote, in order.

    A writer that wrote nothing gets no Process: Purview would show an activity with no output.
    """
    container, source = str(extract.get("container") or "raw"), str(extract.get("source") or "spotify")
    run_id, ingest_date = str(extract.get("run_id") or ""), str(extract.get("ingest_date") or snapshot)
    processes: list[dict[str, Any]] = []
    raw: list[str] = []
    for writer, (pipeline, activity) in (("discovery", EXTRACT), ("shards", EXTRACT_SHARD)):
        written = [e for e in extract.get("raw") or [] if isinstance(e, Mapping) and e.get("writer") == writer]
        names = [raw_files(namespace, container, source, str(e["entity"]), writer == "discovery") for e in written]
        raw += names
        if names:
            processes.append(_process(namespace, pipeline, activity, run_id, ingest_date, [(API_TYPE, SPOTIFY_API)],
                                      names, {f"raw.{e['entity']}": e.get("items") or 0 for e in written}))
    return processes, raw


def _transform_process(namespace: str, run_id: str, snapshot: str, raw: Sequence[str],
                       curated: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The transform's Process: every raw resource set -> the curated tables the load read."""
    rows = {f"curated.{e['table']}": e["rows_in_marker"] for e in curated if isinstance(e.get("rows_in_marker"), int)}
    return _process(namespace, *TRANSFORM, run_id, snapshot, raw,
                    [table_files(namespace, _container(e), e["table"]) for e in curated], rows)


def _publish_process(namespace: str, load: Mapping[str, Any], snapshot: str,
                     serving: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The publish step's Process: what the data flow staged -> the serving tables (named by the load's own pipeline)."""
    rows = {f"serving.{e['table']}": e["rows"] for e in serving if isinstance(e.get("rows"), int)}
    return _process(
        namespace, str(load.get("name") or PUBLISH[0]), PUBLISH[1], str(load.get("run_id") or ""), snapshot,
        [staged_files(namespace, _container(e), e["table"]) for e in serving],
        [table_files(namespace, _container(e), e["table"]) for e in serving], rows)


def _process(namespace: str, pipeline: str, activity: str, run_id: str, snapshot: str, inputs: Sequence[Any],
             outputs: Sequence[str], rows: Mapping[str, int]) -> dict[str, Any]:
    """One activity's Process; ``inputs`` are resource set names or ``(type, qualifiedName)`` pairs."""
    def reference(item: Any) -> dict[str, Any]:
        if isinstance(item, tuple):
            return {"typeName": item[0], "uniqueAttributes": {"qualifiedName": item[1]}}
        return storage_reference(item)

    return {
        "typeName": PROCESS_TYPE,
        "attributes": {
            "qualifiedName": process_qualified_name(namespace, pipeline, activity),
            "name": f"{pipeline} / {activity}",
            "description": f"Data Factory activity `{activity}` of `{pipeline}`; last run {run_id} for {snapshot}.",
            "pipelineName": pipeline,
            "activityName": activity,
            "runId": run_id,
            "snapshotDate": snapshot,
            "rowCounts": dict(rows),
            "inputs": [reference(item) for item in inputs],
            "outputs": [storage_reference(name) for name in outputs],
        },
    }


def storage_names(processes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every resource set the Processes refer to, in order, once."""
    names = [ref["uniqueAttributes"]["qualifiedName"] for p in processes for key in ("inputs", "outputs")
             for ref in p["attributes"][key] if ref["typeName"] == STORAGE_TYPE]
    return list(dict.fromkeys(names))


def _container(entry: Mapping[str, Any]) -> str:
    return str(entry.get("location") or "").split("/", 1)[0]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


__all__ = [
    "API_TYPE", "PROCESS_TYPE", "SPOTIFY_API", "STORAGE_TYPE", "activity_processes", "api_entity", "process_qualified_name",
    "raw_files", "raw_summary", "staged_files", "storage_entity", "storage_names", "storage_reference", "table_files",
]
