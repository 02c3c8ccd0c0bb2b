"""A small fake of the Purview data map's Atlas v2 API on 127.0.0.1, for tests (stdlib ``http.server``).

It stores what it receives and answers as Atlas does, as far as the pipeline uses it: type definitions
(GET by name, POST create, PUT update), glossaries and terms, term assignments, ``POST /entity/bulk`` upserts by
``qualifiedName`` (placeholder guids, ``guidAssignments``, ``mutatedEntities``) and lookups by qualifiedName.
It checks what Atlas would refuse: a missing ``api-version``, an unknown type or missing required attribute, a
reference to an entity that does not exist, creating a type or term twice, assigning a term twice.

Faults on demand: :meth:`FakeAtlas.fail` answers the next N matching requests with a status (429 with
``Retry-After``, 500, ...), then serves normally.
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

API = "/datamap/api/atlas/v2"
API_VERSION = "2023-09-01"
BUILT_IN_TYPES = {"Referenceable", "Asset", "DataSet", "Process"}
BUILT_IN_REQUIRED = {"DataSet": ["qualifiedName", "name"], "Process": ["qualifiedName", "name"]}
TYPEDEFS = Path(__file__).resolve().parents[1] / "purview" / "typedefs.json"


class AtlasFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


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
    typedefs: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> def (with category, guid)
    glossaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> glossary
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> term
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> entity
    assignments: dict[str, list[str]] = field(default_factory=dict)  # term guid -> entity guids

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
        """Hold the committed type definitions, as after a deploy."""
        for category, defs in json.loads(path.read_text()).items():
            for definition in defs:
                self.state.typedefs[definition["name"]] = {**definition, "category": category, "guid": next(self._guids)}

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
                status, answer = self._route(method, path, dict(params), params, body)
            except AtlasFailure as exc:
                status, answer = exc.status, {"requestId": "fake-request", "errorCode": exc.code, "errorMessage": exc.message}
            record.status = status
            return status, {}, answer

    def _route(self, method: str, path: str, query: dict[str, str], params: list[tuple[str, str]], body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        match method, parts:
            case "GET", ["types", "typedef", "name", name]:
                if name not in self.state.typedefs:
                    raise AtlasFailure(404, "ATLAS-404-00-007", f"Given typename {name} was invalid")
                return 200, self.state.typedefs[name]
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
                return 200, self._upsert(body.get("entities", []))
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
        incoming = [(category, d) for category, defs in body.items() for d in defs]
        known = set(self.state.typedefs) | {d["name"] for _, d in incoming} | BUILT_IN_TYPES
        for _, definition in incoming:
            exists = definition["name"] in self.state.typedefs
            if create and exists:
                raise AtlasFailure(409, "ATLAS-409-00-001", f"Given type {definition['name']} already exists")
            if not create and not exists:
                raise AtlasFailure(404, "ATLAS-404-00-007", f"Given typename {definition['name']} was invalid")
            for super_type in definition.get("superTypes", []):
                if super_type not in known:
                    raise AtlasFailure(404, "ATLAS-404-00-007", f"Given typename {super_type} was invalid")
        answer: dict[str, list[dict[str, Any]]] = {}
        for category, definition in incoming:
            previous = self.state.typedefs.get(definition["name"], {})
            stored = {**definition, "category": category, "guid": previous.get("guid") or next(self._guids),
                      "version": previous.get("version", 0) + 1, "createdBy": "fake"}
            if "attributeDefs" in definition:  # Atlas answers with its defaults filled in
                stored["attributeDefs"] = [{"valuesMinCount": 0, "includeInNotification": False, **a}
                                           for a in definition["attributeDefs"]]
            self.state.typedefs[definition["name"]] = stored
            answer.setdefault(category, []).append(stored)
        return answer

    def _required(self, type_name: str) -> list[str]:
        definition = self.state.typedefs.get(type_name)
        if definition is None:
            return BUILT_IN_REQUIRED.get(type_name, [])
        required = [a["name"] for a in definition.get("attributeDefs", []) if not a.get("isOptional", True)]
        for super_type in definition.get("superTypes", []):
            required += self._required(super_type)
        return required

    def _resolve(self, reference: Any, placeholders: dict[str, str], where: str) -> str:
        if not isinstance(reference, dict):
            raise AtlasFailure(400, "ATLAS-400-00-01A", f"{where}: invalid object id {reference!r}")
        guid = reference.get("guid")
        if isinstance(guid, str) and guid.startswith("-"):
            if guid not in placeholders:
                raise AtlasFailure(404, "ATLAS-404-00-00A", f"{where}: referenced entity {guid} is not in the request")
            return placeholders[guid]
        if isinstance(guid, str):
            if guid not in self.state.entities:
                raise AtlasFailure(404, "ATLAS-404-00-005", f"{where}: given instance guid {guid} is invalid/not found")
            return guid
        name = (reference.get("uniqueAttributes") or {}).get("qualifiedName")
        found = self.state.find(str(reference.get("typeName")), str(name))
        if found is None:
            raise AtlasFailure(404, "ATLAS-404-00-00A", f"{where}: referenced entity {reference.get('typeName')}:{name} is not found")
        return str(found["guid"])

    def _upsert(self, entities: list[dict[str, Any]]) -> dict[str, Any]:
        placeholders: dict[str, str] = {}
        targets = []
        for entity in entities:  # first pass: types, required attributes, guids
            type_name = entity.get("typeName")
            definition = self.state.typedefs.get(str(type_name))
            if definition is None or definition["category"] != "entityDefs":
                raise AtlasFailure(404, "ATLAS-404-00-007", f"Given typename {type_name} was invalid")
            attributes = entity.get("attributes") or {}
            missing = [name for name in self._required(str(type_name)) if attributes.get(name) is None]
            if missing:
                raise AtlasFailure(400, "ATLAS-400-00-008", f"{type_name}: mandatory attribute(s) {', '.join(missing)} missing")
            existing = self.state.find(str(type_name), attributes["qualifiedName"])
            guid = existing["guid"] if existing else next(self._guids)
            if isinstance(entity.get("guid"), str) and entity["guid"].startswith("-"):
                placeholders[entity["guid"]] = guid
            targets.append((entity, existing, guid))
        created, updated = [], []
        for entity, existing, guid in targets:  # second pass: references, then store
            where = f"{entity['typeName']} {entity['attributes']['qualifiedName']}"
            attributes = dict(entity["attributes"])
            for key in ("inputs", "outputs"):
                if key in attributes:
                    attributes[key] = [{"guid": self._resolve(ref, placeholders, where)} for ref in attributes[key]]
            relationships = {key: {"guid": self._resolve(ref, placeholders, where)}
                             for key, ref in (entity.get("relationshipAttributes") or {}).items()}
            stored = {"typeName": entity["typeName"], "guid": guid, "attributes": attributes,
                      "relationshipAttributes": relationships, "status": "ACTIVE"}
            header = {"typeName": entity["typeName"], "guid": guid, "attributes": {"qualifiedName": attributes["qualifiedName"]}}
            if existing is None:
                created.append(header)
            elif (existing["attributes"], existing["relationshipAttributes"]) != (attributes, relationships):
                updated.append(header)
            self.state.entities[guid] = stored
        mutated: dict[str, list[dict[str, Any]]] = {}
        if created:
            mutated["CREATE"] = created
        if updated:
            mutated["UPDATE"] = updated
        return {"mutatedEntities": mutated, "guidAssignments": placeholders}


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
