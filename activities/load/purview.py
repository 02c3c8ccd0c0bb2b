"""A load's lineage in Microsoft Purview: the tables, their columns, the storage holding them and the activities between.

``python -m activities.load.lineage`` writes ``lineage/<run id>.json`` first (the record of truth), then, when the
extended property ``purviewEndpoint`` is set, upserts with ``POST /entity/bulk`` (into the collection
``purviewCollectionId`` names, if any):

- the Blob Storage resource sets the lineage names, when the account does not hold them yet (a scan or Data
  Factory's own lineage may have created them: ``activities.load.purview_processes``);
- a ``spotify_table`` for every input (zone ``curated``) and output (zone ``serving``) of the lineage document, each
  with its ``spotify_column``s (the Schema tab: ``schemaElementsAttribute``/``schemaAttributes`` in
  ``purview/typedefs.json``) and its ``storage`` relationship to the resource set holding its files: curated columns
  from the schemas the transform publishes with (``activities.transform.schemas``), serving columns from the schema
  the check stored (``_schemas/<table>/<date>.json``);
- one ``spotify_pipeline_activity`` Process per Custom activity that moved the snapshot's data, from resource set to
  resource set (``activities.load.purview_processes``).

qualifiedNames of the tables and columns (``scripts/deploy.py`` builds the same ones to assign glossary terms)::

    table   spotify://<storage account>/<container>/<table>
    column  spotify://<storage account>/<container>/<table>#<column>

Pure functions build the entities and the requests; :func:`register_lineage` sends them through any
:class:`~activities.common.atlas.AtlasSender`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from activities.common.atlas import (
    AtlasRequest,
    AtlasSender,
    find_guids,
    parse_mutation,
    upsert_entities,
)
from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError
from activities.common.logs import get_logger
from activities.load.layout import PARTITION_KEY
from activities.load.purview_processes import (
    API_TYPE,
    PROCESS_TYPE,
    SCHEME,
    SPOTIFY_API,
    STORAGE_TYPE,
    activity_processes,
    api_entity,
    storage_entity,
    storage_names,
    storage_reference,
    table_files,
)
from activities.load.schema import Column, TableSchema

TABLE_TYPE = "spotify_table"
COLUMN_TYPE = "spotify_column"
CURATED_ZONE = "curated"
SERVING_ZONE = "serving"
MAX_ENTITIES_PER_REQUEST = 200  # a table always travels with all its columns, so a request may hold more
SKIPPED = "skipped: no Purview account configured"
# Tables holding one Spotify user's own listening data (personal data under GDPR): classified
# `spotify_user_data` (purview/typedefs.json) so Purview's sensitivity views and policies find them.
USER_DATA_CLASSIFICATION = "spotify_user_data"
USER_DATA_TABLES = frozenset({"users", "user_top_items", "recently_played", "saved_tracks", "followed_artists"})
ENDPOINT_PROPERTY = "purviewEndpoint"
NAMESPACE_PROPERTY = "storageAccount"
COLLECTION_PROPERTY = "purviewCollectionId"

log = get_logger("activities.load.purview")


# -- qualifiedNames ------------------------------------------------------------------------------------


def table_qualified_name(namespace: str, container: str, table: str) -> str:
    return f"{SCHEME}{namespace}/{container}/{table}"


def column_qualified_name(namespace: str, container: str, table: str, column: str) -> str:
    return f"{table_qualified_name(namespace, container, table)}#{column}"


# -- tables and their entities -------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRef:
    """One table in one zone, as Purview will hold it.

    Attributes:
        columns: in file order; None when no schema is known (the table is registered without columns).
    """

    container: str
    zone: str
    table: str
    columns: tuple[Column, ...] | None
    natural_key: tuple[str, ...] = ()

    def qualified_name(self, namespace: str) -> str:
        return table_qualified_name(namespace, self.container, self.table)

    def column_names(self, namespace: str) -> list[str]:
        return [column_qualified_name(namespace, self.container, self.table, c.name) for c in self.columns or ()]


def declared_tables(curated_container: str, serving_container: str) -> list[TableRef]:
    """Every curated table and its serving twin, from the schemas the transform publishes with.

    Serving drops the partition column (it is the folder) and, as Spark writes Parquet, every column is nullable.
    """
    from activities.load.arrow_types import curated_tables
    from activities.transform.schemas import NATURAL_KEYS as keys

    refs = []
    for name, schema in curated_tables().items():
        key = tuple(keys.get(name, ()))
        refs.append(TableRef(curated_container, CURATED_ZONE, name, schema.columns, key))
    for name, schema in curated_tables().items():
        columns = tuple(Column(c.name, c.type, True) for c in schema.without([PARTITION_KEY]).columns)
        refs.append(TableRef(serving_container, SERVING_ZONE, name, columns, tuple(keys.get(name, ()))))
    return refs


def placeholders() -> Iterator[str]:
    """``-1``, ``-2``, ...: guids Atlas replaces with real ones (``guidAssignments``), unique within a request."""
    return (f"-{n}" for n in itertools.count(1))


def table_entity(namespace: str, ref: TableRef, guid: str | None = None, with_storage: bool = False) -> dict[str, Any]:
    """A table; ``with_storage`` links it to the resource set of its files (which must exist by then)."""
    attributes: dict[str, Any] = {
        "qualifiedName": ref.qualified_name(namespace),
        "name": f"{ref.zone}.{ref.table}",
        "zone": ref.zone,
        "location": f"{ref.container}/{ref.table}/",
        "partitionColumn": PARTITION_KEY,
    }
    if ref.natural_key:
        attributes["naturalKey"] = list(ref.natural_key)
    entity: dict[str, Any] = {"typeName": TABLE_TYPE, "attributes": attributes}
    if ref.table in USER_DATA_TABLES:
        # Atlas applies an entity's classifications when it creates it; an update leaves them as they are.
        entity["classifications"] = [{"typeName": USER_DATA_CLASSIFICATION}]
    if with_storage:
        entity["relationshipAttributes"] = {"storage": storage_reference(table_files(namespace, ref.container, ref.table))}
    if guid is not None:
        entity["guid"] = guid
    return entity


def column_entity(namespace: str, ref: TableRef, column: Column, table: Mapping[str, Any], guid: str | None = None) -> dict[str, Any]:
    """A column and its ``table`` relationship: ``table`` is an object id (placeholder guid or uniqueAttributes)."""
    entity: dict[str, Any] = {
        "typeName": COLUMN_TYPE,
        "attributes": {
            "qualifiedName": column_qualified_name(namespace, ref.container, ref.table, column.name),
            "name": column.name,
            "dataType": column.type,
            "nullable": column.nullable,
        },
        "relationshipAttributes": {"table": dict(table)},
    }
    if guid is not None:
        entity["guid"] = guid
    return entity


def table_reference(namespace: str, ref: TableRef) -> dict[str, Any]:
    """An object id naming an existing table by its qualifiedName."""
    return {"typeName": TABLE_TYPE, "uniqueAttributes": {"qualifiedName": ref.qualified_name(namespace)}}


def table_group(namespace: str, ref: TableRef, ids: Iterator[str], with_storage: bool = False) -> list[dict[str, Any]]:
    """The table and all its columns, the columns pointing at the table's placeholder guid (one request)."""
    table_guid = next(ids)
    group = [table_entity(namespace, ref, table_guid, with_storage)]
    for column in ref.columns or ():
        group.append(column_entity(namespace, ref, column, {"typeName": TABLE_TYPE, "guid": table_guid}, next(ids)))
    return group


def batches(groups: Sequence[list[dict[str, Any]]], limit: int = MAX_ENTITIES_PER_REQUEST) -> list[list[dict[str, Any]]]:
    """Groups packed in order into requests of at most ``limit`` entities; a group is never split."""
    packed: list[list[dict[str, Any]]] = []
    for group in groups:
        if packed and len(packed[-1]) + len(group) <= limit:
            packed[-1].extend(group)
        else:
            packed.append(list(group))
    return packed


# -- the lineage document -> entities ------------------------------------------------------------------


def _container(location: Any, where: str) -> str:
    container = location.split("/", 1)[0] if isinstance(location, str) else ""
    if not container:
        raise ActivityConfigError(f"lineage {where} has no `location` <container>/<table>/...; cannot name its table")
    return container


def lineage_tables(
    document: Mapping[str, Any],
    curated: Mapping[str, TableSchema],
    serving: Mapping[str, TableSchema],
    natural_keys: Mapping[str, Sequence[str]],
) -> tuple[list[TableRef], list[TableRef]]:
    """(inputs, outputs) of a lineage document as tables, with the columns of the given schemas (by table)."""
    def refs(entries: Any, zone: str, schemas: Mapping[str, TableSchema]) -> list[TableRef]:
        found = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            table = entry.get("table") if isinstance(entry, Mapping) else None
            if not isinstance(table, str):
                continue
            schema = schemas.get(table)
            container = _container(entry.get("location"), f"{zone} entry {index} (`{table}`)")
            found.append(TableRef(container, zone, table, schema.columns if schema else None, tuple(natural_keys.get(table, ()))))
        return found

    return refs(document.get("inputs"), CURATED_ZONE, curated), refs(document.get("outputs"), SERVING_ZONE, serving)


def lineage_storage(namespace: str, document: Mapping[str, Any], tables: Sequence[TableRef]) -> list[str]:
    """Every resource set a lineage document's registration refers to: the tables' and the Processes' ends."""
    names = [table_files(namespace, ref.container, ref.table) for ref in tables]
    return list(dict.fromkeys(names + storage_names(activity_processes(namespace, document))))


def lineage_requests(
    namespace: str, document: Mapping[str, Any], inputs: Sequence[TableRef], outputs: Sequence[TableRef],
    existing: frozenset[str] = frozenset(), collection: str = "", limit: int = MAX_ENTITIES_PER_REQUEST,
) -> list[AtlasRequest]:
    """The storage assets not in ``existing`` (qualifiedNames the account holds), then the tables with their columns
    (packed into requests), then the Processes, which refer to storage assets by qualifiedName."""
    unique = list({ref.qualified_name(namespace): ref for ref in [*inputs, *outputs]}.values())
    processes = activity_processes(namespace, document)
    missing = [storage_entity(name) for name in lineage_storage(namespace, document, unique) if name not in existing]
    uses_api = any(ref["typeName"] == API_TYPE for p in processes for ref in p["attributes"]["inputs"])
    if uses_api and SPOTIFY_API not in existing:
        missing.append(api_entity())
    requests = [upsert_entities(batch, "storage assets not in the account yet", collection)
                for batch in batches([[entity] for entity in missing], limit)]
    ids = placeholders()
    for batch in batches([table_group(namespace, ref, ids, with_storage=True) for ref in unique], limit):
        tables = [e["attributes"]["name"] for e in batch if e["typeName"] == TABLE_TYPE]
        span = tables[0] if len(tables) == 1 else f"{len(tables)} tables, {tables[0]} to {tables[-1]}"
        requests.append(upsert_entities(batch, f"{span}, with their columns", collection))
    if processes:
        requests.append(upsert_entities(processes, f"{len(processes)} pipeline activities", collection))
    return requests


# -- registration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurviewTarget:
    """Where a load activity registers lineage: extended properties ``purviewEndpoint``, ``storageAccount`` and
    (optional) ``purviewCollectionId``."""

    endpoint: str
    namespace: str
    collection: str = ""

    @classmethod
    def from_context(cls, context: ActivityContext) -> PurviewTarget | None:
        """None when ``purviewEndpoint`` is empty or absent (no Purview account configured, e.g. local runs)."""
        endpoint = context.get_str(ENDPOINT_PROPERTY, "").strip()
        if not endpoint:
            return None
        namespace = context.get_str(NAMESPACE_PROPERTY, "").strip()
        if not namespace or "/" in namespace:
            raise ActivityConfigError(
                f"extended property `{NAMESPACE_PROPERTY}` is {namespace!r} while `{ENDPOINT_PROPERTY}` is set: it must be "
                "the storage account name that scopes the Purview qualifiedNames; set it from the global parameter "
                "storageAccount in the pipeline's extendedProperties"
            )
        return cls(endpoint, namespace, context.get_str(COLLECTION_PROPERTY, "").strip())


def register_lineage(
    sender: AtlasSender, target: PurviewTarget, document: Mapping[str, Any], inputs: Sequence[TableRef],
    outputs: Sequence[TableRef], limit: int = MAX_ENTITIES_PER_REQUEST,
) -> dict[str, Any]:
    """Upsert the storage assets, tables, columns and Processes of a lineage document; return what customOutput
    reports under ``purview``."""
    namespace = target.namespace
    counting = _CountingSender(sender)
    refs = list({ref.qualified_name(namespace): ref for ref in [*inputs, *outputs]}.values())
    storage = lineage_storage(namespace, document, refs)
    existing = set(find_guids(counting, STORAGE_TYPE, storage)) | set(find_guids(counting, API_TYPE, [SPOTIFY_API]))
    requests = lineage_requests(namespace, document, inputs, outputs, frozenset(existing), target.collection, limit)
    guids: dict[str, str] = {}
    created: set[str] = set()
    updated: set[str] = set()
    for request in requests:
        sent = request.body["entities"]
        mutation = parse_mutation(counting.send(request), sent)
        guids.update(mutation.guids)
        created |= mutation.created
        updated |= mutation.updated
        log.info("Purview: %s: %d created, %d updated", request.what, len(mutation.created), len(mutation.updated))
    table_names = [ref.qualified_name(namespace) for ref in refs]
    process_names = [p["attributes"]["qualifiedName"] for p in activity_processes(namespace, document)]
    for type_name, names in ((TABLE_TYPE, table_names), (PROCESS_TYPE, process_names)):
        unknown = [name for name in names if name not in guids]
        if unknown:  # Atlas may leave unchanged entities out of its answer: ask for their guids
            guids.update(find_guids(counting, type_name, unknown))
    entities = sum(len(r.body["entities"]) for r in requests)
    return {
        "processes": {name: guids.get(name) for name in process_names},
        "tables": {name: guids.get(name) for name in table_names},
        "columns": sum(len(ref.columns or ()) for ref in refs),
        "storage": {"existing": len([n for n in storage if n in existing]), "created": len([n for n in storage if n not in existing])},
        "entities": entities,
        "created": len(created),
        "updated": len(updated),
        "unchanged": entities - len(created) - len(updated),
        "requests": counting.count,
    }


class _CountingSender:
    def __init__(self, sender: AtlasSender) -> None:
        self._sender = sender
        self.count = 0

    def send(self, request: AtlasRequest) -> Any:
        self.count += 1
        return self._sender.send(request)


__all__ = [
    "COLUMN_TYPE",
    "SKIPPED",
    "TABLE_TYPE",
    "PurviewTarget",
    "TableRef",
    "batches",
    "column_entity",
    "column_qualified_name",
    "declared_tables",
    "lineage_requests",
    "lineage_tables",
    "lineage_storage",
    "register_lineage",
    "table_entity",
    "table_group",
    "table_qualified_name",
    "table_reference",
]
