"""A fake Azure Resource Manager (plus the blob, Key Vault and Batch endpoints deploy uses) on 127.0.0.1.

Deploy reaches it through the real SDK clients (azure-mgmt-datafactory, azure-mgmt-batch, azure-storage-blob,
azure-keyvault-secrets) over HTTPS with a self-signed certificate and a static bearer token. It records every
request and behaves like ARM where deploy's safety depends on it:

- a PUT or DELETE of a started trigger is refused (ADF: "Cannot update enabled Trigger; the trigger needs to be
  disabled first", code TriggerEnabledCannotUpdate; Microsoft Learn, "Continuous integration and delivery in Azure
  Data Factory": stop triggers before deployment);
- a PUT whose body references a linked service, dataset, data flow or pipeline the factory does not hold is
  refused, and so is the DELETE of a resource another one references (ADF validates references on write);
- a request with another api-version than the one the provider serves is refused (ARM answers 400
  InvalidApiVersionParameter / NoRegisteredProviderFound);
- a new trigger is created Stopped; GET returns the read-only ``runtimeState``; start/stop are POSTs;
- the factory PUT replaces the whole resource (ARM PUT semantics), so a deploy that does not read-merge-write
  loses the Purview link, git configuration and tags the test seeded;
- every request body is validated against the vendored REST API specs (``tests/arm_specs``, through
  ``tests/arm_spec.py``) and refused with 400 InvalidRequestContent as ARM would; any failure can be injected on the
  n-th request matching a method and path.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

from tests.arm_spec import SpecValidator

TOKEN = "fake-arm-test-token"
DATAFACTORY_API = "2018-06-01"
BATCH_API = "2025-06-01"  # the api-version azure-mgmt-batch 19.x sends
_KINDS = {"linkedservices": "LinkedServiceReference", "datasets": "DatasetReference", "dataflows": "DataFlowReference",
          "pipelines": "PipelineReference", "triggers": None}
_KIND_OF_REFERENCE = {ref: kind for kind, ref in _KINDS.items() if ref}
_ADF = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.DataFactory/factories/(?P<factory>[^/]+)"
    r"(?:/(?P<kind>linkedservices|datasets|dataflows|pipelines|triggers|globalParameters)(?:/(?P<name>[^/]+)(?:/(?P<action>start|stop))?)?)?$",
    re.IGNORECASE,
)
_POOL = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Batch/batchAccounts/(?P<account>[^/]+)"
    r"/pools/(?P<pool>[^/]+)$",
    re.IGNORECASE,
)
_DEPLOYMENT = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Resources/deployments/(?P<name>[^/]+)$",
    re.IGNORECASE,
)
_SECRET = re.compile(r"^/secrets/(?P<name>[^/]+)(?:/(?P<version>[^/]*))?$")


class StaticCredential:
    """A TokenCredential that always hands out the fake's token (no Entra ID here)."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self.fail is not None:
            raise self.fail
        return AccessToken(TOKEN, int(dt.datetime.now().timestamp()) + 3600)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any

    @property
    def write(self) -> bool:
        return self.method not in ("GET", "HEAD")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Injected:
    method: str
    path: re.Pattern[str]
    status: int
    code: str
    message: str


@dataclass
class FakeAzure:
    """The state behind the fake; tests seed and inspect it directly."""

    factories: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower name -> factory resource
    children: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (factory, kind, lower name)
    blobs: dict[tuple[str, str, str], tuple[bytes, dt.datetime, dict[str, str]]] = field(default_factory=dict)
    containers: set[tuple[str, str]] = field(default_factory=set)
    secrets: dict[str, str] = field(default_factory=dict)
    pools: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (account, pool)
    # Azure Monitor / Log Analytics (tests/fake_arm_monitoring.py): lower resource id -> body; existing workspaces.
    monitoring: dict[str, dict[str, Any]] = field(default_factory=dict)
    workspaces: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Injected] = field(default_factory=list)
    # (operation, path, body) -> problems: the vendored REST specs, unless a test swaps it
    validator: Callable[[str, str, Any], list[str]] = field(default_factory=SpecValidator)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def fail(self, method: str, path_pattern: str, status: int = 400, code: str = "BadRequest", message: str = "injected") -> None:
        """Answer the next request matching `method` and `path_pattern` (a regex searched in the path) with an error."""
        self.failures.append(Injected(method, re.compile(path_pattern, re.IGNORECASE), status, code, message))

    def trigger_state(self, factory: str, name: str) -> str:
        return self.children[(factory.lower(), "triggers", name.lower())]["properties"]["runtimeState"]

    def resource(self, factory: str, kind: str, name: str) -> dict[str, Any] | None:
        return self.children.get((factory.lower(), kind.lower(), name.lower()))

    def names(self, factory: str, kind: str) -> list[str]:
        return sorted(body["name"] for (f, k, _), body in self.children.items() if f == factory.lower() and k == kind.lower())


class FakeArmServer:
    def __init__(self, state: FakeAzure, tls_dir: Path) -> None:
        self.state = state
        self.lock = threading.Lock()
        cert, key = _self_signed(tls_dir)
        self.ca_file = str(cert)
        handler = type("Handler", (_Handler,), {"server_state": state, "lock": self.lock})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeArmServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeAzure
    lock: threading.Lock
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
        pass

    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        state = self.server_state
        try:
            with self.lock:
                body: Any = raw
                if raw and "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw)
                if _SECRET.match(path) and "Authorization" not in self.headers:
                    # Key Vault's challenge: the client retries with a token for the named resource.
                    self._send(401, b"", {"WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/tenant", '
                                                               'resource="https://vault.azure.net"'})
                    return
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    raise ArmError(401, "AuthenticationFailed", "missing or wrong bearer token")
                state.requests.append(Recorded(self.command, path, query, body))
                for failure in list(state.failures):
                    if failure.method == self.command and failure.path.search(path):
                        state.failures.remove(failure)
                        raise ArmError(failure.status, failure.code, failure.message)
                try:
                    status, payload, headers = self._route(path, query, body)
                except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a malformed body: ARM answers 400
                    raise ArmError(400, "InvalidRequestContent", f"{type(exc).__name__}: {exc}") from exc
        except ArmError as exc:
            if _SECRET.match(path):
                status, payload, headers = exc.status, {"error": {"code": exc.code, "message": exc.message}}, {}
            elif path.startswith("/subscriptions/"):
                status, payload, headers = exc.status, {"error": {"code": exc.code, "message": exc.message}}, {}
            else:  # storage errors are XML with x-ms-error-code
                status, headers = exc.status, {"x-ms-error-code": exc.code, "Content-Type": "application/xml"}
                payload = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{exc.code}</Code>'
                           f"<Message>{exc.message}</Message></Error>").encode()
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode() if payload is not None else b""
        if payload is not None and not isinstance(payload, bytes):
            headers.setdefault("Content-Type", "application/json")
        self._send(status, data, headers)

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers:  # a HEAD answer carries the blob's length, and no body
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # --- routing ---------------------------------------------------------------------------------------

    def _route(self, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        from tests.fake_arm_monitoring import monitoring_route

        if (answer := monitoring_route(self.server_state, self.command, path, query, body)) is not None:
            return answer
        if match := _ADF.match(path):
            _api_version(query, DATAFACTORY_API, "Microsoft.DataFactory")
            return _factory_request(self.server_state, self.command, match, body)
        if match := _DEPLOYMENT.match(path):
            return _deployment(self.server_state, self.command, match, body)
        if match := _POOL.match(path):
            _api_version(query, BATCH_API, "Microsoft.Batch")
            return _pool_request(self.server_state, self.command, match, body)
        if match := _SECRET.match(path):
            value = self.server_state.secrets.get(match["name"])
            if value is None:
                raise ArmError(404, "SecretNotFound", f"A secret with (name/id) {match['name']} was not found in this key vault.")
            host = self.headers.get("Host")
            return 200, {"value": value, "id": f"https://{host}/secrets/{match['name']}/0123", "attributes": {"enabled": True}}, {}
        return _blob_request(self.server_state, self.command, path, query, body, self.headers)


def _api_version(query: dict[str, str], expected: str, provider: str) -> None:
    if query.get("api-version") != expected:
        raise ArmError(400, "InvalidApiVersionParameter",
                       f"The api-version '{query.get('api-version')}' is invalid for {provider}; this fake serves '{expected}'.")


def _validate(state: FakeAzure, operation: str, path: str, body: Any) -> None:
    problems = state.validator(operation, path, body)
    if problems:
        raise ArmError(400, "InvalidRequestContent", f"{operation}: " + "; ".join(problems[:5]))


# --- Microsoft.DataFactory --------------------------------------------------------------------------------


def _factory_request(state: FakeAzure, method: str, match: re.Match[str], body: Any) -> tuple[int, Any, dict[str, str]]:
    factory = match["factory"].lower()
    kind = (match["kind"] or "").lower()
    if not kind:
        return _factory(state, method, match, body)
    if factory not in state.factories:
        raise ArmError(404, "ResourceNotFound", f"Factory {match['factory']} not found.")
    if kind == "globalparameters":
        return _global_parameters(state, method, match, body)
    if match["name"] is None:
        if method != "GET":
            raise ArmError(405, "MethodNotAllowed", method)
        values = [copy.deepcopy(b) for (f, k, _), b in sorted(state.children.items()) if f == factory and k == kind]
        return 200, {"value": values}, {}
    key = (factory, kind, match["name"].lower())
    current = state.children.get(key)
    if match["action"]:
        if method != "POST" or current is None:
            raise ArmError(404 if current is None else 405, "NotFound", f"trigger {match['name']} not found")
        if match["action"].lower() == "start":
            _check_references(state, factory, current["properties"])
        current["properties"]["runtimeState"] = "Started" if match["action"].lower() == "start" else "Stopped"
        return 200, None, {}
    if method == "GET":
        if current is None:
            raise ArmError(404, "NotFound", f"{kind} {match['name']} not found")
        return 200, copy.deepcopy(current), {}
    if method == "PUT":
        _validate(state, f"{kind} PUT", match.group(0), body)
        return 200, _put_child(state, match.group(0), factory, kind, match["name"], body), {}
    if method == "DELETE":
        if current is None:
            return 204, None, {}
        if kind == "triggers" and current["properties"].get("runtimeState") == "Started":
            raise ArmError(400, "TriggerEnabledCannotUpdate", "Cannot delete enabled Trigger; the trigger needs to be disabled first.")
        users = [b["name"] for (f, k, _), b in state.children.items()
                 if f == factory and (k, b["name"].lower()) != (kind, key[2]) and (kind, key[2]) in _references(b["properties"])]
        if users:
            raise ArmError(400, "BadRequest", f"The document cannot be deleted since it is referenced by {', '.join(sorted(users))}.")
        del state.children[key]
        return 200, None, {}
    raise ArmError(405, "MethodNotAllowed", method)


def _put_child(state: FakeAzure, resource_id: str, factory: str, kind: str, name: str, body: Any) -> dict[str, Any]:
    key = (factory, kind, name.lower())
    current = state.children.get(key)
    if kind == "triggers" and current is not None and current["properties"].get("runtimeState") == "Started":
        raise ArmError(400, "TriggerEnabledCannotUpdate", "Cannot update enabled Trigger; the trigger needs to be disabled first.")
    _check_references(state, factory, body["properties"])
    stored = {
        "id": resource_id, "name": name, "type": f"Microsoft.DataFactory/factories/{kind}",
        "etag": f"\"{len(state.requests):08x}\"", "properties": copy.deepcopy(body["properties"]),
    }
    if kind == "triggers":
        stored["properties"]["runtimeState"] = current["properties"]["runtimeState"] if current else "Stopped"
    state.children[key] = stored
    return copy.deepcopy(stored)


def _factory(state: FakeAzure, method: str, match: re.Match[str], body: Any) -> tuple[int, Any, dict[str, str]]:
    key = match["factory"].lower()
    current = state.factories.get(key)
    if method == "GET":
        if current is None:
            raise ArmError(404, "ResourceNotFound", f"The Resource 'Microsoft.DataFactory/factories/{match['factory']}' was not found.")
        return 200, copy.deepcopy(current), {}
    if method == "PUT":
        _validate(state, "factories PUT", match.group(0), body)
        stored = copy.deepcopy(body)  # PUT replaces the whole resource
        stored.update({"id": match.group(0), "name": match["factory"], "type": "Microsoft.DataFactory/factories",
                       "eTag": f"\"{len(state.requests):08x}\""})
        properties = stored.setdefault("properties", {})
        properties.update({"provisioningState": "Succeeded", "version": DATAFACTORY_API,
                           "createTime": (current or {}).get("properties", {}).get("createTime", "2026-01-01T00:00:00Z")})
        if "identity" in stored:
            stored["identity"].update({"principalId": "00000000-0000-0000-0000-0000000000aa",
                                       "tenantId": "00000000-0000-0000-0000-0000000000bb"})
        state.factories[key] = stored
        return 200, copy.deepcopy(stored), {}
    raise ArmError(405, "MethodNotAllowed", method)


def _global_parameters(state: FakeAzure, method: str, match: re.Match[str], body: Any) -> tuple[int, Any, dict[str, str]]:
    factory = state.factories[match["factory"].lower()]
    if (match["name"] or "default") != "default":
        raise ArmError(400, "BadRequest", "a factory has one global parameters resource, named `default`")
    resource = {"id": match.group(0), "name": "default", "type": "Microsoft.DataFactory/factories/globalParameters"}
    if method == "GET":
        if "globalParameters" not in factory["properties"]:
            raise ArmError(404, "NotFound", "global parameters not found")
        return 200, {**resource, "properties": copy.deepcopy(factory["properties"]["globalParameters"])}, {}
    if method == "PUT":
        _validate(state, "globalParameters PUT", match.group(0), body)
        factory["properties"]["globalParameters"] = copy.deepcopy(body["properties"])
        return 200, {**resource, "properties": copy.deepcopy(body["properties"])}, {}
    raise ArmError(405, "MethodNotAllowed", method)


def _references(node: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        kind = _KIND_OF_REFERENCE.get(str(node.get("type")))
        name = node.get("referenceName")
        if kind and isinstance(name, str) and not name.startswith("@"):
            found.add((kind, name.lower()))
        for value in node.values():
            found |= _references(value)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value)
    return found


def _check_references(state: FakeAzure, factory: str, properties: Any) -> None:
    for kind, name in sorted(_references(properties)):
        if (factory, kind, name) not in state.children:
            raise ArmError(400, "BadRequest", f"The document creation or update failed because of invalid reference '{name}'.")


# --- Template deployments (Microsoft.Resources/deployments), for the exported ARM template -----------------


def _deployment(state: FakeAzure, method: str, match: re.Match[str], body: Any) -> tuple[int, Any, dict[str, str]]:
    """Deploy a template's Microsoft.DataFactory child resources (incremental mode).

    Resources run in dependsOn order; among those whose dependencies are done the LAST in the template goes
    first, so a missing dependsOn shows up as the dangling reference ADF would refuse when ARM runs in parallel.
    """
    if method != "PUT":
        raise ArmError(405, "MethodNotAllowed", method)
    template, given = body["properties"]["template"], body["properties"].get("parameters", {})
    parameters: dict[str, Any] = {}
    for name, spec in template.get("parameters", {}).items():
        if name in given:
            parameters[name] = given[name]["value"]
        elif "defaultValue" in spec:
            parameters[name] = spec["defaultValue"]
        else:
            raise ArmError(400, "InvalidTemplate", f"The value for the template parameter '{name}' is not provided.")
    variables: dict[str, Any] = {}
    scope = {"parameters": parameters, "variables": variables}
    for name, value in template.get("variables", {}).items():
        variables[name] = _evaluate(value, scope)
    resources = []
    for raw in template["resources"]:
        resource = _evaluate(raw, scope)
        if not resource["type"].lower().startswith("microsoft.datafactory/factories/"):
            raise ArmError(400, "InvalidTemplate", f"this fake deploys Microsoft.DataFactory child resources, not {resource['type']}")
        factory, _, child = resource["name"].partition("/")
        resource["id"] = f"Microsoft.DataFactory/factories/{factory}/{resource['type'].split('/')[-1]}/{child}"
        resources.append(resource)
    ids = {r["id"].lower() for r in resources}
    for resource in resources:
        for dependency in resource.get("dependsOn", []):
            if dependency.lower() not in ids:
                raise ArmError(400, "InvalidTemplate", f"The resource '{dependency}' is not defined in the template.")
    done: set[str] = set()
    pending = list(resources)
    while pending:
        ready = [r for r in pending if all(d.lower() in done for d in r.get("dependsOn", []))]
        if not ready:
            raise ArmError(400, "InvalidTemplate", "Circular dependency detected on resources in the template.")
        resource = ready[-1]
        pending.remove(resource)
        factory, name = resource["name"].split("/", 1)
        kind = resource["type"].split("/")[-1].lower()
        if factory.lower() not in state.factories:
            raise ArmError(404, "ParentResourceNotFound", f"Factory {factory} not found.")
        if resource["apiVersion"] != DATAFACTORY_API:
            raise ArmError(400, "NoRegisteredProviderFound",
                           f"No registered resource provider found for api version '{resource['apiVersion']}'.")
        resource_id = f"{match.group(0).split('/providers/')[0]}/providers/Microsoft.DataFactory/factories/{factory}/{kind}/{name}"
        if kind == "globalparameters":
            _validate(state, "globalParameters PUT", resource_id, {"properties": resource["properties"]})
            state.factories[factory.lower()]["properties"]["globalParameters"] = copy.deepcopy(resource["properties"])
        else:
            _validate(state, f"{kind} PUT", resource_id, {"properties": resource["properties"]})
            _put_child(state, resource_id, factory.lower(), kind, name, {"properties": resource["properties"]})
        done.add(resource["id"].lower())
    return 200, {"id": match.group(0), "name": match["name"], "properties": {"provisioningState": "Succeeded"}}, {}


def _evaluate(node: Any, scope: dict[str, dict[str, Any]]) -> Any:
    """ARM template expressions: `[concat(...)]`, `[parameters('x')]`, `[variables('x')]`; `[[` is a literal `[`."""
    if isinstance(node, dict):
        return {k: _evaluate(v, scope) for k, v in node.items()}
    if isinstance(node, list):
        return [_evaluate(v, scope) for v in node]
    if isinstance(node, str) and node.startswith("[["):
        return node[1:]
    if isinstance(node, str) and node.startswith("[") and node.endswith("]"):
        value, rest = _expression(node[1:-1].strip(), scope)
        if rest.strip():
            raise ArmError(400, "InvalidTemplate", f"unexpected `{rest}` in template expression {node}")
        return value
    return node


def _expression(text: str, scope: dict[str, dict[str, Any]]) -> tuple[Any, str]:
    if text.startswith("'"):
        end, out = 1, []
        while True:
            if text[end] == "'" and text[end + 1: end + 2] == "'":
                out.append("'")
                end += 2
            elif text[end] == "'":
                return "".join(out), text[end + 1:].lstrip()
            else:
                out.append(text[end])
                end += 1
    name = re.match(r"[A-Za-z]+", text)
    if not name or not text[name.end():].startswith("("):
        raise ArmError(400, "InvalidTemplate", f"unsupported template expression `{text}`")
    rest, args = text[name.end() + 1:].lstrip(), []
    while not rest.startswith(")"):
        value, rest = _expression(rest, scope)
        args.append(value)
        rest = rest[1:].lstrip() if rest.startswith(",") else rest
    function = name.group(0).lower()
    if function == "concat":
        result: Any = "".join(str(a) for a in args)
    elif function in ("parameters", "variables"):
        if args[0] not in scope[function]:
            raise ArmError(400, "InvalidTemplate", f"The template {function[:-1]} '{args[0]}' is not found.")
        result = scope[function][args[0]]
    else:
        raise ArmError(400, "InvalidTemplate", f"this fake does not evaluate the template function `{function}`")
    return result, rest[1:].lstrip()


# --- Microsoft.Batch pools --------------------------------------------------------------------------------


def _pool_request(state: FakeAzure, method: str, match: re.Match[str], body: Any) -> tuple[int, Any, dict[str, str]]:
    key = (match["account"].lower(), match["pool"].lower())
    current = state.pools.get(key)
    if method == "GET":
        if current is None:
            raise ArmError(404, "PoolNotFound", f"The specified pool {match['pool']} does not exist.")
        return 200, copy.deepcopy(current), {"ETag": "\"1\""}
    if method == "PUT":
        _validate(state, "pools PUT", match.group(0), body)
        if current is not None:
            raise ArmError(409, "PoolAlreadyExists", "The specified pool already exists; update it with PATCH.")
        stored = copy.deepcopy(body)
        stored.update({"id": match.group(0), "name": match["pool"], "type": "Microsoft.Batch/batchAccounts/pools"})
        stored["properties"].update({"provisioningState": "Succeeded", "allocationState": "Steady"})
        state.pools[key] = stored
        return 200, copy.deepcopy(stored), {"ETag": "\"1\""}
    if method == "PATCH":
        _validate(state, "pools PATCH", match.group(0), body)
        if current is None:
            raise ArmError(404, "PoolNotFound", f"The specified pool {match['pool']} does not exist.")
        # Batch: vmSize, deploymentConfiguration and taskSlotsPerNode cannot change on an existing pool.
        for immutable in ("vmSize", "deploymentConfiguration", "taskSlotsPerNode"):
            if immutable in body.get("properties", {}) and body["properties"][immutable] != current["properties"].get(immutable):
                raise ArmError(400, "PropertyCannotBeUpdated", f"The property '{immutable}' cannot be updated.")
        current["properties"].update(copy.deepcopy(body.get("properties", {})))
        if "identity" in body:
            current["identity"] = copy.deepcopy(body["identity"])
        return 200, copy.deepcopy(current), {"ETag": "\"2\""}
    raise ArmError(405, "MethodNotAllowed", method)


# --- Blob storage (the code container) --------------------------------------------------------------------


def _blob_request(
    state: FakeAzure, method: str, path: str, query: dict[str, str], body: Any, headers: Any
) -> tuple[int, Any, dict[str, str]]:
    parts = path.lstrip("/").split("/", 2)
    if len(parts) < 2:
        raise ArmError(400, "InvalidUri", path)
    account, container = parts[0], parts[1]
    if len(parts) == 2 and query.get("restype") == "container" and query.get("comp") == "list" and method == "GET":
        prefix = query.get("prefix", "")
        items = sorted((n, v) for (a, c, n), v in state.blobs.items() if a == account and c == container and n.startswith(prefix))
        xml = "".join(
            f"<Blob><Name>{n}</Name><Properties><Last-Modified>{_rfc1123(m)}</Last-Modified><Etag>0x1</Etag>"
            f"<Content-Length>{len(d)}</Content-Length><Content-Type>application/octet-stream</Content-Type>"
            f"<BlobType>BlockBlob</BlobType></Properties></Blob>"
            for n, (d, m, _) in items
        )
        listing = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://x/{account}" '
                   f'ContainerName="{container}"><Prefix>{prefix}</Prefix><Blobs>{xml}</Blobs><NextMarker /></EnumerationResults>')
        return 200, listing.encode(), {"Content-Type": "application/xml"}
    if len(parts) == 2 and query.get("restype") == "container" and method == "PUT":
        if (account, container) in state.containers:
            raise ArmError(409, "ContainerAlreadyExists", "The specified container already exists.")
        state.containers.add((account, container))
        return 201, b"", {}
    if len(parts) != 3:
        raise ArmError(400, "InvalidUri", f"unsupported container operation {method} {path}")
    key = (account, container, parts[2])
    if method == "PUT":
        if (account, container) not in state.containers:
            raise ArmError(404, "ContainerNotFound", "The specified container does not exist.")
        if headers.get("x-ms-blob-type") != "BlockBlob":
            raise ArmError(400, "InvalidHeaderValue", "x-ms-blob-type must be BlockBlob")
        state.blobs[key] = (body if isinstance(body, bytes) else json.dumps(body).encode(), state.now(), {})
        return 201, b"", {"ETag": "0x1", "Last-Modified": _rfc1123(state.now())}
    if key not in state.blobs:
        raise ArmError(404, "BlobNotFound", "The specified blob does not exist.")
    data, modified, _ = state.blobs[key]
    if method == "DELETE":
        del state.blobs[key]
        return 202, b"", {}
    return 200, data, {"Content-Length": str(len(data)), "Last-Modified": _rfc1123(modified), "x-ms-blob-type": "BlockBlob",
                       "ETag": "0x1", "Content-Type": "application/octet-stream"}


def _rfc1123(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path
