"""A fake of the Purview data map's Atlas v2 API on 127.0.0.1, for tests (stdlib ``http.server``).

It stores what it receives and answers as Atlas does, as far as the pipeline uses it: type definitions
(GET by name, POST create, PUT update), glossaries and terms, term assignments, ``POST /entity/bulk`` upserts by
``qualifiedName`` (placeholder guids, ``guidAssignments``, ``mutatedEntities``, classifications stored on create and
returned by lookups, the ``collectionId`` an entity was written to) and lookups by qualifiedName.

It refuses what Atlas refuses (``tests/fake_atlas_types.py`` names the Apache Atlas check behind each rule): an
incompatible typedef update, an unknown attribute, super or relationship end type, an invalid enum value, an unknown
classification, a missing mandatory attribute, a relationship end of the wrong type, a reference to an entity that
does not exist, creating a type or term twice, assigning a term twice, a missing ``api-version``. Request and
response bodies are checked against the Purview Data Map REST spec (``tests/purview_specs``, vendored excerpt).

Faults on demand: :meth:`FakeAtlas.fail` answers the next N matching requests with a status (429 with
``Retry-After``, 500, ...), then serves normally; ``FakeAtlas.down = True`` drops every connection unanswered
(Purview unreachable) until it is set back.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.arm_spec import SpecValidator
from tests.fake_atlas_types import BUILT_IN, AtlasFailure, TypeRegistry

API = "/datamap/api/atlas/v2"
API_VERSION = "2023-09-01"
TYPEDEFS = Path(__file__).resolve().parents[1] / "purview" / "typedefs.json"
SPECS = Path(__file__).resolve().parent / "purview_specs"
SPEC = SPECS / "datamap" / "stable" / "2023-09-01" / "purviewdatamap.excerpt.json"
_SPEC = SpecValidator(SPECS)
# Request bodies and 200 answers, by route: the definition each must match in the Data Map spec.
_REQUEST_SHAPES = {("POST", "entity"): "AtlasEntitiesWithExtInfo", ("POST", "types"): "AtlasTypesDef",
                   ("PUT", "types"): "AtlasTypesDef"}
_ANSWER_SHAPES = {("POST", "entity"): "EntityMutationResult", ("GET", "entity"): "AtlasEntitiesWithExtInfo",
                  ("POST", "types"): "AtlasTypesDef", ("PUT", "types"): "AtlasTypesDef", ("GET", "types"): "AtlasTypeDef"}


@dataclass
class Received:
    method: str
    path: str  # below /datamap/api/atlas/v2
    params: list[tuple[str, str]]
    body: Any
    authorization: str
    status: int = 0

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    times: int
    retry_after: str | None = None


@dataclass
class AtlasState:
    types: TypeRegistry = field(default_factory=TypeRegistry)
    glossaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> glossary
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> term
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> entity
    assignments: dict[str, list[str]] = field(default_factory=dict)  # term guid -> entity guids

    @property
    def typedefs(self) -> dict[str, dict[str, Any]]:
        """The definitions written to the account (the built-in ones left out)."""
        return {name: d for name, d in self.types.defs.items() if name not in BUILT_IN}

    def find(self, type_name: str, qualified_name: str) -> dict[str, Any] | None:
        for entity in self.entities.values():
            if entity["typeName"] == type_name and entity["attributes"].get("qualifiedName") == qualified_name:
                return entity
        return None

    def of_type(self, type_name: str) -> list[dict[str, Any]]:
        return [e for e in self.entities.values() if e["typeName"] == type_name]


class FakeAtlas:
    """Run with ``with FakeAtlas() as atlas:``; ``atlas.endpoint`` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        self.state = AtlasState()
        self.received: list[Received] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._guids = (f"{n:08d}-0000-4000-8000-000000000000" for n in itertools.count(1))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.atlas = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.down = False  # True: every connection is dropped unanswered, as when Purview or the network is down

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeAtlas:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, method: str, path_prefix: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests of ``method`` on a path starting with ``path_prefix`` with ``status``."""
        self._faults.append(Fault(method, path_prefix, status, times, retry_after))

    def seed_typedefs(self, path: Path = TYPEDEFS) -> None:
        """Hold the committed type definitions, as after a deploy (checked like a POST)."""
        self._store_typedefs(self.state.types.write(json.loads(path.read_text()), create=True))

    def writes(self) -> list[Received]:
        return [r for r in self.received if r.is_write]

    # -- dispatch ------------------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, body: Any, authorization: str) -> tuple[int, dict[str, str], Any]:
        split = urlsplit(raw_path)
        params = parse_qsl(split.query, keep_blank_values=True)
        path = split.path[len(API):] if split.path.startswith(API) else split.path
        record = Received(method, path, params, body, authorization)
        with self._lock:
            self.received.append(record)
            fault = next((f for f in self._faults if f.times > 0 and f.method == method and path.startswith(f.path_prefix)), None)
            if fault is not None:
                fault.times -= 1
                record.status = fault.status
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return fault.status, headers, {"requestId": "fake-request", "errorCode": f"ATLAS-{fault.status}-00-000",
                                               "errorMessage": "injected fault"}
            try:
                if not split.path.startswith(API):
                    raise AtlasFailure(404, "NotFound", f"no route {split.path}")
                if dict(params).get("api-version") != API_VERSION:
                    raise AtlasFailure(400, "InvalidApiVersion", "api-version is missing or unsupported")
                shape = (method, path.strip("/").split("/", 1)[0])
                if shape in _REQUEST_SHAPES and (problems := _SPEC.check(_REQUEST_SHAPES[shape], body, SPEC)):
                    raise AtlasFailure(400, "ATLAS-400-00-01A", "invalid parameters: " + "; ".join(problems))
                status, answer = self._route(method, path, dict(params), params, body)
                if status == 200 and shape in _ANSWER_SHAPES:  # the fake's own answers keep to the spec
                    assert not (problems := _SPEC.check(_ANSWER_SHAPES[shape], answer, SPEC)), problems
            except AtlasFailure as exc:
                status, answer = exc.status, {"requestId": "fake-request", "errorCode": exc.code, "errorMessage": exc.message}
            record.status = status
            return status, {}, answer

    def _route(self, method: str, path: str, query: dict[str, str], params: list[tuple[str, str]], body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        match method, parts:
            case "GET", ["types", "typedef", "name", name]:
                if name not in self.state.types.defs:
                    raise AtlasFailure(404, "ATLAS-404-00-001", f"Given typename {name} was invalid")
                return 200, self.state.types.defs[name]
            case "POST", ["types", "typedefs"]:
                return 200, self._write_typedefs(body, create=True)
            case "PUT", ["types", "typedefs"]:
                return 200, self._write_typedefs(body, create=False)
            case "GET", ["glossary"]:
                return 200, _page(list(self.state.glossaries.values()), query)
            case "POST", ["glossary"]:
                if any(g["name"] == body["name"] for g in self.state.glossaries.values()):
                    raise AtlasFailure(409, "ATLAS-409-00-007", f"Glossary with qualifiedName {body['name']} already exists")
                glossary = {**body, "guid": next(self._guids), "qualifiedName": body["name"]}
                self.state.glossaries[glossary["guid"]] = glossary
                return 200, glossary
            case "PUT", ["glossary", guid]:
                self._glossary(guid)
                self.state.glossaries[guid] = {**body, "guid": guid}
                return 200, self.state.glossaries[guid]
            case "GET", ["glossary", guid, "terms"]:
                self._glossary(guid)
                return 200, _page([t for t in self.state.terms.values() if t["anchor"]["glossaryGuid"] == guid], query)
            case "POST", ["glossary", "term"]:
                glossary = self._glossary(str((body.get("anchor") or {}).get("glossaryGuid")))
                if any(t["name"] == body["name"] and t["anchor"]["glossaryGuid"] == glossary["guid"] for t in self.state.terms.values()):
                    raise AtlasFailure(409, "ATLAS-409-00-009", f"Glossary term with name {body['name']} already exists")
                term = {**body, "guid": next(self._guids), "qualifiedName": f"{body['name']}@{glossary['name']}"}
                self.state.terms[term["guid"]] = term
                return 200, term
            case "PUT", ["glossary", "term", guid]:
                self._term(guid)
                self.state.terms[guid] = {**body, "guid": guid}
                return 200, self.state.terms[guid]
            case "GET", ["glossary", "terms", guid, "assignedEntities"]:
                self._term(guid)
                assigned = [{"guid": g, "typeName": self.state.entities[g]["typeName"],
                             "displayText": self.state.entities[g]["attributes"].get("name")}
                            for g in self.state.assignments.get(guid, [])]
                return 200, _page(assigned, query)
            case "POST", ["glossary", "terms", guid, "assignedEntities"]:
                self._term(guid)
                current = self.state.assignments.setdefault(guid, [])
                for related in body:
                    if related["guid"] not in self.state.entities:
                        raise AtlasFailure(404, "ATLAS-404-00-005", f"Given instance guid {related['guid']} is invalid/not found")
                    if related["guid"] in current:
                        raise AtlasFailure(400, "ATLAS-400-00-0AA", f"term is already assigned to {related['guid']}")
                    current.append(related["guid"])
                return 204, None
            case "POST", ["entity", "bulk"]:
                return 200, self._upsert(body.get("entities", []), query.get("collectionId"))
            case "GET", ["entity", "bulk", "uniqueAttribute", "type", type_name]:
                names = [value for key, value in params if key.startswith("attr_") and key.endswith(":qualifiedName")]
                found = [e for name in names if (e := self.state.find(type_name, name)) is not None]
                return 200, {"entities": found, "referredEntities": {}}
        raise AtlasFailure(404, "NotFound", f"no route {method} {path}")

    # -- behaviour -----------------------------------------------------------------------------------

    def _glossary(self, guid: str) -> dict[str, Any]:
        if guid not in self.state.glossaries:
            raise AtlasFailure(404, "ATLAS-404-00-00A", f"Glossary with guid {guid} is not found")
        return self.state.glossaries[guid]

    def _term(self, guid: str) -> dict[str, Any]:
        if guid not in self.state.terms:
            raise AtlasFailure(404, "ATLAS-404-00-00B", f"Glossary term with guid {guid} is not found")
        return self.state.terms[guid]

    def _write_typedefs(self, body: dict[str, Any], *, create: bool) -> dict[str, Any]:
        return self._store_typedefs(self.state.types.write(body, create=create))

    def _store_typedefs(self, accepted: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        answer: dict[str, list[dict[str, Any]]] = {}
        groups = {"ENUM": "enumDefs", "STRUCT": "structDefs", "CLASSIFICATION": "classificationDefs",
                  "ENTITY": "entityDefs", "RELATIONSHIP": "relationshipDefs"}
        for category, definition in accepted:
            previous = self.state.types.defs.get(definition["name"], {})
            stored = {**definition, "category": category, "guid": previous.get("guid") or next(self._guids),
                      "version": previous.get("version", 0) + 1, "createdBy": "fake"}
            if "attributeDefs" in definition:  # Atlas answers with its defaults filled in
                stored["attributeDefs"] = [{"valuesMinCount": 0, "includeInNotification": False, **a}
                                           for a in definition["attributeDefs"]]
            self.state.types.defs[definition["name"]] = stored
            answer.setdefault(groups[category], []).append(stored)
        return answer

    def _resolve(self, reference: Any, placeholders: dict[str, tuple[str, str]], where: str) -> tuple[str, str]:
        """(guid, typeName) of an object id: a placeholder of this request, a guid, or uniqueAttributes."""
        if not isinstance(reference, dict):
            raise AtlasFailure(400, "ATLAS-400-00-021", f"ObjectId is not valid {reference!r} ({where})")
        guid = reference.get("guid")
        if isinstance(guid, str) and guid.startswith("-"):
            if guid not in placeholders:
                raise AtlasFailure(404, "ATLAS-404-00-00A", f"Referenced entity {guid} is not found ({where})")
            return placeholders[guid]
        if isinstance(guid, str):
            if guid not in self.state.entities:
                raise AtlasFailure(404, "ATLAS-404-00-005", f"Given instance guid {guid} is invalid/not found ({where})")
            return guid, self.state.entities[guid]["typeName"]
        name = (reference.get("uniqueAttributes") or {}).get("qualifiedName")
        found = self.state.find(str(reference.get("typeName")), str(name))
        if found is None:
            raise AtlasFailure(404, "ATLAS-404-00-00A",
                               f"Referenced entity {reference.get('typeName')}:{name} is not found ({where})")
        return str(found["guid"]), found["typeName"]

    def _upsert(self, entities: list[dict[str, Any]], collection: str | None) -> dict[str, Any]:
        """All or nothing, as one Atlas transaction: every entity is checked before any is stored."""
        types = self.state.types
        placeholders: dict[str, tuple[str, str]] = {}
        targets = []
        for entity in entities:  # first pass: types, attribute values, mandatory attributes, guids
            type_name = str(entity.get("typeName"))
            qualified_name = (entity.get("attributes") or {}).get("qualifiedName")
            existing = self.state.find(type_name, str(qualified_name)) if qualified_name else None
            attributes = types.check_entity(entity, creating=existing is None)
            guid = existing["guid"] if existing else next(self._guids)
            if isinstance(entity.get("guid"), str) and entity["guid"].startswith("-"):
                placeholders[entity["guid"]] = (guid, type_name)
            classifications = types.check_classifications(type_name, guid, entity.get("classifications") or [])
            targets.append((entity, existing, guid, attributes, classifications))
        resolved = []
        for entity, existing, guid, attributes, classifications in targets:  # second pass: references
            type_name = entity["typeName"]
            where = f"{type_name} {attributes['qualifiedName']}"
            declared = types.attributes(type_name)
            for key, value in attributes.items():
                if isinstance(value, list) and declared.get(key, {}).get("typeName", "").startswith("array<") and \
                        types.category(declared[key]["typeName"][6:-1]) == "ENTITY":
                    refs = [self._resolve(ref, placeholders, where) for ref in value]
                    wanted = declared[key]["typeName"][6:-1]
                    for ref_guid, ref_type in refs:
                        if not types.is_a(ref_type, wanted):
                            raise AtlasFailure(404, "ATLAS-404-00-007", "Invalid instance creation/updation parameters "
                                               f"passed : {where}.{key}: {ref_type} {ref_guid} is not a {wanted}")
                    attributes[key] = [{"guid": ref_guid, "typeName": ref_type} for ref_guid, ref_type in refs]
            relationships = {}
            for key, ref in (entity.get("relationshipAttributes") or {}).items():
                ref_guid, ref_type = self._resolve(ref, placeholders, where)
                types.check_relationship_end(type_name, key, ref_type, ref_guid)
                relationships[key] = {"guid": ref_guid, "typeName": ref_type}
            resolved.append((entity, existing, guid, attributes, relationships, classifications))
        created, updated = [], []
        for entity, existing, guid, attributes, relationships, classifications in resolved:  # store
            previous_attributes = existing["attributes"] if existing else {}
            stored = {"typeName": entity["typeName"], "guid": guid, "attributes": {**previous_attributes, **attributes},
                      "relationshipAttributes": {**(existing or {}).get("relationshipAttributes", {}), **relationships},
                      # Atlas applies classifications when it creates an entity; an update leaves them as they are
                      "classifications": existing["classifications"] if existing else classifications,
                      "status": "ACTIVE", "collectionId": collection or (existing or {}).get("collectionId") or "root"}
            header = {"typeName": entity["typeName"], "guid": guid,
                      "attributes": {"qualifiedName": attributes["qualifiedName"]}}
            if existing is None:
                created.append(header)
            elif (existing["attributes"], existing["relationshipAttributes"]) != (stored["attributes"],
                                                                                   stored["relationshipAttributes"]):
                updated.append(header)
            self.state.entities[guid] = stored
        mutated: dict[str, list[dict[str, Any]]] = {}
        if created:
            mutated["CREATE"] = created
        if updated:
            mutated["UPDATE"] = updated
        return {"mutatedEntities": mutated, "guidAssignments": {k: v[0] for k, v in placeholders.items()}}


def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
    limit = int(query.get("limit", "-1"))
    offset = int(query.get("offset", "0"))
    return items[offset:] if limit < 0 else items[offset:offset + limit]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        atlas: FakeAtlas = self.server.atlas  # type: ignore[attr-defined]
        if atlas.down:
            self.close_connection = True  # no status line: the client sees the connection dropped
            return
        status, headers, answer = atlas.handle(method, self.path, body, self.headers.get("Authorization", ""))
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")


def fake_atlas() -> Iterator[FakeAtlas]:
    """For a pytest fixture: ``atlas = pytest.fixture(fake_atlas)``."""
    with FakeAtlas() as atlas:
        yield atlas
