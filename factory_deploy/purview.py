"""Publish ``purview/typedefs.json`` and ``purview/glossary.json`` to a Purview account, diffing before writing.

1. Type definitions: each is read by name; missing ones are created in one ``POST /types/typedefs``, changed ones
   (a field we set differs from what the account holds) updated in one ``PUT``; unchanged ones are not sent.
2. The glossary and its terms: created when missing, updated when their description changed.
3. The tables and columns the terms link to: every curated table and its serving twin, with qualifiedNames from
   ``activities.load.purview`` (the scheme the load's lineage registration uses). Only those that do not exist
   yet are created, so deploy never overwrites what a load run registered from the schemas it actually published.
4. Term assignments: each term is assigned to the column entities its ``columns`` links name (``table.column``,
   ``*.column``) in both zones, skipping assignments that already exist. Assignments are only ever added.

Every request goes through an :class:`~activities.common.atlas.AtlasSender`: the HTTP client for a real publish,
:class:`PlanRecorder` for ``--dry-run`` (records the requests that an empty account would receive, sends nothing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activities.common.atlas import (
    AtlasClient,
    AtlasError,
    AtlasRequest,
    AtlasSender,
    assign_term,
    create_glossary,
    create_term,
    create_typedefs,
    fetch_all,
    find_guids,
    get_typedef,
    list_assigned_entities,
    list_glossaries,
    list_terms,
    parse_mutation,
    update_glossary,
    update_term,
    update_typedefs,
    upsert_entities,
)
from activities.common.errors import ActivityConfigError
from activities.load.purview import (
    COLUMN_TYPE,
    TABLE_TYPE,
    TableRef,
    batches,
    column_entity,
    column_qualified_name,
    placeholders,
    table_entity,
    table_reference,
)
from factory_deploy.errors import DeployError

Log = Callable[[str], None]
ASSIGN_CHUNK = 50  # entities per assignment request ("small batches", as the API reference recommends)
_SET_KEYS = {"superTypes", "entityTypes", "subTypes"}


@dataclass(frozen=True)
class PurviewDefinitions:
    """The committed ``purview/`` documents."""

    typedefs: dict[str, list[dict[str, Any]]]
    glossary: dict[str, Any]


def load_definitions(folder: Path) -> PurviewDefinitions:
    """Read ``typedefs.json`` and ``glossary.json``; a missing or malformed file is a DeployError naming it."""
    documents = []
    for name in ("typedefs.json", "glossary.json"):
        path = folder / name
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeployError(f"{path} not found: deploy publishes it to Purview") from None
        except json.JSONDecodeError as exc:
            raise DeployError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        if not isinstance(document, dict):
            raise DeployError(f"{path} must hold a JSON object")
        documents.append(document)
    typedefs, glossary = documents
    for category, defs in typedefs.items():
        if not isinstance(defs, list) or not all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in defs):
            raise DeployError(f"{folder / 'typedefs.json'}: `{category}` must be a list of definitions, each with a name")
    if not isinstance(glossary.get("name"), str) or not isinstance(glossary.get("terms"), list):
        raise DeployError(f"{folder / 'glossary.json'} needs a `name` and a `terms` list")
    return PurviewDefinitions(typedefs, glossary)


# -- diffs (pure) ----------------------------------------------------------------------------------------


def typedef_changes(local: Mapping[str, Any], remote: Mapping[str, Any] | None) -> list[str]:
    """What differs between a committed definition and the account's; [] when every field we set is the same.

    Only the fields the committed definition sets are compared (Atlas adds guid, version, timestamps and defaults);
    attributes are compared by name, enum elements by ordinal, super types as sets.
    """
    if remote is None:
        return ["not in the account"]
    return [change for key, value in local.items() for change in _field_changes(key, value, remote.get(key))]


def _field_changes(key: str, value: Any, theirs: Any) -> list[str]:
    """One committed field against the account's: each kind of field compares the way Atlas keeps it."""
    if key == "attributeDefs":
        return _attribute_changes(value, theirs if isinstance(theirs, list) else [])
    if key == "elementDefs":
        return _element_changes(value, theirs)
    if key in _SET_KEYS:
        return [f"{key} {sorted(theirs or [])} -> {sorted(value)}"] if set(value) != set(theirs or []) else []
    if isinstance(value, Mapping):
        return _sub_key_changes(key, value, theirs)
    return [f"{key} {theirs!r} -> {value!r}"] if theirs != value else []


def _element_changes(ours: Sequence[Mapping[str, Any]], theirs: Any) -> list[str]:
    """Enum elements compared by (ordinal, value): Atlas may return them in another order."""
    ours_elements = sorted((e.get("ordinal"), e.get("value")) for e in ours)
    their_elements = sorted((e.get("ordinal"), e.get("value")) for e in theirs or [] if isinstance(e, Mapping))
    if ours_elements == their_elements:
        return []
    return [f"elementDefs {[v for _, v in their_elements]} -> {[v for _, v in ours_elements]}"]


def _sub_key_changes(key: str, ours: Mapping[str, Any], theirs: Any) -> list[str]:
    """Only the sub-keys we set are compared: Atlas fills in the rest."""
    changes = []
    for sub, sub_value in ours.items():
        their_sub = theirs.get(sub) if isinstance(theirs, Mapping) else None
        if their_sub != sub_value:
            changes.append(f"{key}.{sub} {their_sub!r} -> {sub_value!r}")
    return changes


def incompatible_changes(local: Mapping[str, Any], remote: Mapping[str, Any]) -> list[str]:
    """What Atlas refuses to update in place (Apache Atlas ``AtlasStructDefStoreV2.updateVertexPreUpdate``,
    ``AtlasRelationshipDefStoreV2.preUpdateCheck``): a removed or retyped attribute, a new mandatory one, a removed
    super type, a relationship end or category that changed. [] when the update is compatible."""
    changes = _incompatible_attributes(local, remote)
    removed = sorted(set(remote.get("superTypes") or []) - set(local.get("superTypes") or []))
    changes += [f"super type {name} removed" for name in removed]
    changes += _changed_relationship_ends(local, remote)
    if "relationshipCategory" in local and remote.get("relationshipCategory") not in (None, local["relationshipCategory"]):
        changes.append(f"relationshipCategory {remote.get('relationshipCategory')} -> {local['relationshipCategory']}")
    return changes


def _incompatible_attributes(local: Mapping[str, Any], remote: Mapping[str, Any]) -> list[str]:
    """Removed and retyped attributes, and new mandatory ones (existing entities would lack a value)."""
    ours = {a.get("name"): a for a in local.get("attributeDefs", []) if isinstance(a, Mapping)}
    theirs = {a.get("name"): a for a in remote.get("attributeDefs", []) or [] if isinstance(a, Mapping)}
    changes = [f"attribute {name} removed" for name in theirs if name not in ours]
    for name, attribute in ours.items():
        current = theirs.get(name)
        if current is None and not attribute.get("isOptional", True):
            changes.append(f"mandatory attribute {name} added")
        elif current is not None and current.get("typeName") != attribute.get("typeName"):
            changes.append(f"attribute {name} typeName {current.get('typeName')} -> {attribute.get('typeName')}")
    return changes


def _changed_relationship_ends(local: Mapping[str, Any], remote: Mapping[str, Any]) -> list[str]:
    changes = []
    for key in ("endDef1", "endDef2"):
        ours_end, their_end = local.get(key), remote.get(key)
        if isinstance(ours_end, Mapping) and isinstance(their_end, Mapping) and \
                (ours_end.get("type"), ours_end.get("name")) != (their_end.get("type"), their_end.get("name")):
            changes.append(f"{key} {their_end.get('type')}.{their_end.get('name')} -> {ours_end.get('type')}.{ours_end.get('name')}")
    return changes


def _attribute_changes(ours: Sequence[Mapping[str, Any]], theirs: Sequence[Any]) -> list[str]:
    by_name = {a.get("name"): a for a in theirs if isinstance(a, Mapping)}
    changes = []
    for attribute in ours:
        name = attribute["name"]
        current = by_name.get(name)
        if current is None:
            changes.append(f"attribute {name} added")
            continue
        for key, value in attribute.items():
            if current.get(key) != value:
                changes.append(f"attribute {name}.{key} {current.get(key)!r} -> {value!r}")
    return changes


def term_links(glossary: Mapping[str, Any], tables: Sequence[TableRef], namespace: str) -> dict[str, list[str]]:
    """Term name -> qualifiedNames of the column entities its ``columns`` links name, in every zone.

    ``table.column`` names one table, ``*.column`` every table with that column. A link that matches no
    column of any zone is an error: the glossary and the schemas disagree.
    """
    links: dict[str, list[str]] = {}
    for term in glossary.get("terms", []):
        names: list[str] = []
        for link in term.get("columns", []):
            table, _, column = str(link).partition(".")
            matched = [
                column_qualified_name(namespace, ref.container, ref.table, column)
                for ref in tables
                if (table in ("*", ref.table)) and any(c.name == column for c in ref.columns or ())
            ]
            if not matched:
                raise DeployError(
                    f"purview/glossary.json: term `{term.get('name')}` links `{link}`, which matches no column of the "
                    "curated or serving tables; fix the link or the schema"
                )
            names += [name for name in matched if name not in names]
        links[str(term.get("name"))] = names
    return links


# -- publishing ------------------------------------------------------------------------------------------


@dataclass
class PurviewReport:
    """What a publish did (or, for a dry run, would do to an empty account)."""

    types_created: list[str] = field(default_factory=list)
    types_updated: list[str] = field(default_factory=list)
    types_unchanged: list[str] = field(default_factory=list)
    glossary: str = "unchanged"
    terms_created: list[str] = field(default_factory=list)
    terms_updated: list[str] = field(default_factory=list)
    terms_unchanged: list[str] = field(default_factory=list)
    entities_created: int = 0
    entities_existing: int = 0
    assignments_added: int = 0
    assignments_existing: int = 0

    def summary(self) -> str:
        return (
            f"types {len(self.types_created)} created, {len(self.types_updated)} updated, {len(self.types_unchanged)} "
            f"unchanged; glossary {self.glossary}; terms {len(self.terms_created)} created, {len(self.terms_updated)} "
            f"updated, {len(self.terms_unchanged)} unchanged; tables and columns {self.entities_created} created, "
            f"{self.entities_existing} existing; term assignments {self.assignments_added} added, "
            f"{self.assignments_existing} existing"
        )


def publish_purview(
    sender: AtlasSender, definitions: PurviewDefinitions, tables: Sequence[TableRef], namespace: str, log: Log,
    collection: str = "",
) -> PurviewReport:
    """Types, then the glossary and its terms, then the linked columns' entities (created in ``collection``, config
    ``purview.collectionId``; "" = the root collection), then the term assignments."""
    links = term_links(definitions.glossary, tables, namespace)  # before any write: a bad link changes nothing
    report = PurviewReport()
    _publish_typedefs(sender, definitions.typedefs, report, log)
    terms, existed = _publish_glossary(sender, definitions.glossary, report, log)
    guids = _ensure_entities(sender, tables, namespace, report, log, collection)
    for name, qualified_names in links.items():
        wanted = [guids[q] for q in qualified_names if q in guids]
        missing = [q for q in qualified_names if q not in guids]
        if missing:
            log(f"purview: term {name}: {len(missing)} linked columns have no entity guid yet, e.g. {missing[0]}")
        term_guid = terms[name]
        assigned = _assigned(sender, term_guid, name) if name in existed else set()
        new = [guid for guid in wanted if guid not in assigned]
        report.assignments_existing += len(wanted) - len(new)
        for start in range(0, len(new), ASSIGN_CHUNK):
            sender.send(assign_term(term_guid, name, new[start:start + ASSIGN_CHUNK]))
        report.assignments_added += len(new)
        if new:
            log(f"purview: term {name}: assigned to {len(new)} columns")
    return report


def _assigned(sender: AtlasSender, term_guid: str, name: str) -> set[str]:
    def page(limit: int, offset: int) -> AtlasRequest:
        return list_assigned_entities(term_guid, name, limit, offset)

    return {e["guid"] for e in fetch_all(sender, page) if isinstance(e, Mapping) and isinstance(e.get("guid"), str)}


def _publish_typedefs(sender: AtlasSender, typedefs: Mapping[str, list[dict[str, Any]]], report: PurviewReport, log: Log) -> None:
    missing: dict[str, list[dict[str, Any]]] = {}
    changed: dict[str, list[dict[str, Any]]] = {}
    for category, defs in typedefs.items():
        for definition in defs:
            name = definition["name"]
            remote = sender.send(get_typedef(name))
            changes = typedef_changes(definition, remote if isinstance(remote, Mapping) else None)
            if remote is None:
                missing.setdefault(category, []).append(definition)
                report.types_created.append(name)
                log(f"purview: type {name}: new")
            elif breaking := incompatible_changes(definition, remote):
                raise DeployError(
                    f"purview/typedefs.json: type `{name}` changed in a way Atlas refuses to update ({'; '.join(breaking)}): "
                    f"a new type name is needed (e.g. `{name}_v2`, with the entities moved to it); nothing was written"
                )
            elif changes:
                changed.setdefault(category, []).append(definition)
                report.types_updated.append(name)
                log(f"purview: type {name}: changed ({'; '.join(changes)})")
            else:
                report.types_unchanged.append(name)
                log(f"purview: type {name}: unchanged, skipped")
    if missing:
        sender.send(create_typedefs(missing))
    if changed:
        sender.send(update_typedefs(changed))


def _publish_glossary(
    sender: AtlasSender, glossary: Mapping[str, Any], report: PurviewReport, log: Log
) -> tuple[dict[str, str], set[str]]:
    """Term name -> guid for every term, and the names of the terms that existed before."""
    name = glossary["name"]
    wanted = {"name": name, "shortDescription": glossary.get("shortDescription", "")}
    remote = next((g for g in fetch_all(sender, list_glossaries) if isinstance(g, Mapping) and g.get("name") == name), None)
    remote_terms: dict[str, Mapping[str, Any]] = {}
    if remote is None:
        glossary_guid = _guid(sender.send(create_glossary(wanted)), f"created glossary {name}")
        report.glossary = "created"
        log(f"purview: glossary {name}: created")
    else:
        glossary_guid = _guid(remote, f"glossary {name}")
        if remote.get("shortDescription") != wanted["shortDescription"]:
            body = {k: v for k, v in remote.items() if k not in ("terms", "categories")}
            sender.send(update_glossary(glossary_guid, {**body, **wanted, "guid": glossary_guid}))
            report.glossary = "updated"
            log(f"purview: glossary {name}: description updated")
        terms = fetch_all(sender, lambda limit, offset: list_terms(glossary_guid, limit, offset))
        remote_terms = {t["name"]: t for t in terms if isinstance(t, Mapping) and isinstance(t.get("name"), str)}
    guids: dict[str, str] = {}
    for term in glossary["terms"]:
        term_name = term["name"]
        description = term.get("shortDescription", "")
        current = remote_terms.get(term_name)
        if current is None:
            body = {"name": term_name, "shortDescription": description, "anchor": {"glossaryGuid": glossary_guid}}
            guids[term_name] = _guid(sender.send(create_term(body)), f"created term {term_name}")
            report.terms_created.append(term_name)
            log(f"purview: term {term_name}: created")
            continue
        guids[term_name] = _guid(current, f"term {term_name}")
        if current.get("shortDescription") != description:
            sender.send(update_term(guids[term_name], {**current, "shortDescription": description}))
            report.terms_updated.append(term_name)
            log(f"purview: term {term_name}: description updated")
        else:
            report.terms_unchanged.append(term_name)
    return guids, set(remote_terms)


def _ensure_entities(
    sender: AtlasSender, tables: Sequence[TableRef], namespace: str, report: PurviewReport, log: Log, collection: str
) -> dict[str, str]:
    """Create the tables and columns that do not exist yet; qualifiedName -> guid of every column."""
    table_guids = find_guids(sender, TABLE_TYPE, [ref.qualified_name(namespace) for ref in tables])
    column_guids = find_guids(sender, COLUMN_TYPE, [name for ref in tables for name in ref.column_names(namespace)])
    ids = placeholders()
    groups = []
    for ref in tables:
        group = []
        if ref.qualified_name(namespace) in table_guids:
            table = table_reference(namespace, ref)
        else:
            guid = next(ids)
            group.append(table_entity(namespace, ref, guid))
            table = {"typeName": TABLE_TYPE, "guid": guid}
        for column in ref.columns or ():
            if column_qualified_name(namespace, ref.container, ref.table, column.name) not in column_guids:
                group.append(column_entity(namespace, ref, column, table, next(ids)))
        if group:
            groups.append(group)
    report.entities_existing = len(table_guids) + len(column_guids)
    for batch in batches(groups):
        mutation = parse_mutation(sender.send(upsert_entities(batch, "tables and columns the glossary links", collection)), batch)
        column_guids.update({name: guid for name, guid in mutation.guids.items() if "#" in name})
        report.entities_created += len(batch)
    if groups:
        log(f"purview: {report.entities_created} table and column entities created")
    return column_guids


def _guid(answer: Any, what: str) -> str:
    guid = answer.get("guid") if isinstance(answer, Mapping) else None
    if not isinstance(guid, str) or not guid:
        raise DeployError(f"Purview answered without a guid for {what}")
    return guid


# -- dry run ---------------------------------------------------------------------------------------------


class PlanRecorder:
    """An :class:`AtlasSender` that sends nothing: it records each request and answers as an empty account would."""

    def __init__(self) -> None:
        self.requests: list[AtlasRequest] = []

    def send(self, request: AtlasRequest) -> Any:
        self.requests.append(request)
        body = request.body
        if request.method == "POST" and request.path in ("/glossary", "/glossary/term") and isinstance(body, Mapping):
            kind = "glossary" if request.path == "/glossary" else "term"
            return {**body, "guid": f"<guid of {kind} {body.get('name')}>"}
        if request.method == "POST" and request.path == "/entity/bulk" and isinstance(body, Mapping):
            return {"guidAssignments": {
                e["guid"]: f"<guid of {e['attributes']['qualifiedName']}>" for e in body.get("entities", []) if "guid" in e}}
        return None  # reads find nothing; other writes answer 204

    @property
    def writes(self) -> int:
        return sum(1 for r in self.requests if r.is_write)

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.requests]


class ReadThroughPlan(PlanRecorder):
    """An :class:`AtlasSender` for planning: reads go to the account, writes are recorded and never sent."""

    def __init__(self, client: AtlasSender) -> None:
        super().__init__()
        self.client = client

    def send(self, request: AtlasRequest) -> Any:
        if request.is_write:
            return super().send(request)
        self.requests.append(request)
        return self.client.send(request)


def plan_account(
    endpoint: str, definitions: PurviewDefinitions, tables: Sequence[TableRef], namespace: str, log: Log,
    collection: str = "", **client_kwargs: Any,
) -> ReadThroughPlan:
    """The writes a publish to ``endpoint`` would make now, found with reads only."""
    try:
        with AtlasClient.connect(endpoint, **client_kwargs) as client:
            plan = ReadThroughPlan(client)
            report = publish_purview(plan, definitions, tables, namespace, log, collection)
    except (AtlasError, ActivityConfigError) as exc:
        raise DeployError(f"reading Purview account {endpoint} failed: {exc}") from exc
    log(f"purview: plan: {report.summary()}")
    return plan


def publish_to_account(
    endpoint: str, definitions: PurviewDefinitions, tables: Sequence[TableRef], namespace: str, log: Log,
    collection: str = "", **client_kwargs: Any,
) -> PurviewReport:
    """Publish to the account at ``endpoint`` (``DefaultAzureCredential``; a loopback http endpoint gets no token)."""
    try:
        with AtlasClient.connect(endpoint, **client_kwargs) as client:
            report = publish_purview(client, definitions, tables, namespace, log, collection)
    except (AtlasError, ActivityConfigError) as exc:
        raise DeployError(f"publishing purview/ to {endpoint} failed: {exc}") from exc
    log(f"purview: {report.summary()}")
    return report


__all__ = [
    "PlanRecorder",
    "PurviewDefinitions",
    "PurviewReport",
    "ReadThroughPlan",
    "load_definitions",
    "plan_account",
    "publish_purview",
    "publish_to_account",
    "incompatible_changes",
    "term_links",
    "typedef_changes",
]
