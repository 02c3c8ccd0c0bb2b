"""A client for the Microsoft Purview data map's Apache Atlas v2 API, and the requests it sends.

``https://<account>.purview.azure.com/datamap/api/atlas/v2/...?api-version=2023-09-01`` with a Microsoft Entra
bearer token for the scope ``https://purview.azure.net/.default`` (``DefaultAzureCredential``: the Batch pool's
managed identity on Azure, ``az login`` on a workstation). The endpoint is injectable: a loopback
``http://127.0.0.1:<port>`` endpoint (the fake Atlas server in tests) is called without a token, and no other
``http://`` endpoint is accepted, so a token never travels in clear text.

Every request is an :class:`AtlasRequest` built by a pure function below (method, path, query, body and a
phrase saying what it is for), so deploy's ``--dry-run`` can record exactly what would be sent.

Errors are classified here, once, as responses arrive: 429/5xx/connection errors/timeouts become
:class:`AtlasRetriableError` (retried by the policy the Spotify client shares, ``activities.common.retry``,
honouring ``Retry-After``), 401 :class:`AtlasAuthError` (token refreshed
once, then fatal), other 4xx :class:`AtlasFatalError`. Each message names the account, the method and path, what
the request was for, the status, Atlas' error code and message, and the fix. Tokens are registered with the
log redactor and never appear in a message.

Sleeping, the clocks and jitter are injectable so tests never sleep.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests

from activities.common.errors import (
    ActivityConfigError,
    AtlasAuthError,
    AtlasError,
    AtlasFatalError,
    AtlasRetriableError,
    AtlasRetriesExhaustedError,
)
from activities.common.logs import get_logger, redact, register_secret
from activities.common.retry import GiveUp, RetryPolicy
from activities.common.retry_after import retry_after_seconds

API_PATH = "/datamap/api/atlas/v2"
API_VERSION = "2023-09-01"
PURVIEW_SCOPE = "https://purview.azure.net/.default"
PAGE_SIZE = 1000
LOOKUP_CHUNK = 50  # qualifiedNames per GET: keeps the URL well under common 8 KB limits
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_TOKEN_MARGIN_SECONDS = 300.0
_USER_AGENT = "spotify-adf-pipeline-purview/0.1"
_ROLE_FIX = (
    "give the identity (the Batch pool's managed identity, or the account you deploy with) the Data Curator role "
    "on the Purview account's root collection"
)

_log = get_logger("activities.common.atlas")


# -- requests (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtlasRequest:
    """One call to the data map API.

    Attributes:
        method: GET, POST or PUT.
        path: below ``/datamap/api/atlas/v2``, e.g. ``/types/typedefs``.
        what: what the request is for, in words (``create type definitions spotify_table``): errors quote it.
        body: JSON body, None for none.
        params: query parameters besides ``api-version``, in order (a key may repeat).
        missing_ok: a 404 answers None instead of failing (reads of what may not exist yet).
        hint: what to do if Atlas refuses the request (4xx other than 401/403), appended to the error.
    """

    method: str
    path: str
    what: str
    body: Any = None
    params: tuple[tuple[str, str], ...] = ()
    missing_ok: bool = False
    hint: str = ""

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    def to_json(self) -> dict[str, Any]:
        """The request as deploy's dry run records it."""
        record: dict[str, Any] = {"method": self.method, "path": API_PATH + self.path, "what": self.what}
        if self.params:
            record["params"] = [list(pair) for pair in self.params]
        if self.body is not None:
            record["body"] = self.body
        return record


def get_typedef(name: str) -> AtlasRequest:
    return AtlasRequest("GET", f"/types/typedef/name/{quote(name, safe='')}", f"read type definition {name}", missing_ok=True)


def create_typedefs(typedefs: Mapping[str, list[dict[str, Any]]]) -> AtlasRequest:
    return AtlasRequest("POST", "/types/typedefs", f"create type definitions {', '.join(typedef_names(typedefs))}",
                        body=dict(typedefs))


def update_typedefs(typedefs: Mapping[str, list[dict[str, Any]]]) -> AtlasRequest:
    return AtlasRequest("PUT", "/types/typedefs", f"update type definitions {', '.join(typedef_names(typedefs))}",
                        body=dict(typedefs),
                        hint="Atlas only accepts compatible changes (new optional attributes, descriptions); "
                             "a breaking change needs a new type name")


def list_glossaries(limit: int, offset: int) -> AtlasRequest:
    return AtlasRequest("GET", "/glossary", "list glossaries",
                        params=(("limit", str(limit)), ("offset", str(offset)), ("ignoreTermsAndCategories", "true")))


def create_glossary(body: Mapping[str, Any]) -> AtlasRequest:
    return AtlasRequest("POST", "/glossary", f"create glossary {body.get('name')}", body=dict(body))


def update_glossary(guid: str, body: Mapping[str, Any]) -> AtlasRequest:
    return AtlasRequest("PUT", f"/glossary/{quote(guid, safe='')}", f"update glossary {body.get('name')}", body=dict(body))


def list_terms(glossary_guid: str, limit: int, offset: int) -> AtlasRequest:
    return AtlasRequest("GET", f"/glossary/{quote(glossary_guid, safe='')}/terms", "list glossary terms",
                        params=(("limit", str(limit)), ("offset", str(offset))))


def create_term(body: Mapping[str, Any]) -> AtlasRequest:
    return AtlasRequest("POST", "/glossary/term", f"create glossary term {body.get('name')}", body=dict(body))


def update_term(guid: str, body: Mapping[str, Any]) -> AtlasRequest:
    return AtlasRequest("PUT", f"/glossary/term/{quote(guid, safe='')}", f"update glossary term {body.get('name')}",
                        body=dict(body))


def list_assigned_entities(term_guid: str, term_name: str, limit: int, offset: int) -> AtlasRequest:
    return AtlasRequest("GET", f"/glossary/terms/{quote(term_guid, safe='')}/assignedEntities",
                        f"list entities assigned to term {term_name}", params=(("limit", str(limit)), ("offset", str(offset))))


def assign_term(term_guid: str, term_name: str, entity_guids: Sequence[str]) -> AtlasRequest:
    return AtlasRequest("POST", f"/glossary/terms/{quote(term_guid, safe='')}/assignedEntities",
                        f"assign term {term_name} to {len(entity_guids)} entities",
                        body=[{"guid": guid} for guid in entity_guids])


def upsert_entities(entities: Sequence[Mapping[str, Any]], what: str, collection: str = "") -> AtlasRequest:
    """POST /entity/bulk: entities are matched by ``qualifiedName``, so sending one again updates it.

    ``collection``: the data map collection (its id, the ``collectionId`` query parameter) new entities go to and
    existing ones move to; "" leaves that to the account (new entities land in the root collection).
    """
    return AtlasRequest("POST", "/entity/bulk", f"upsert {len(entities)} entities ({what})",
                        body={"entities": [dict(entity) for entity in entities]},
                        params=(("collectionId", collection),) if collection else (),
                        hint="if Atlas names an unknown type or attribute, publish purview/typedefs.json first: "
                             "python scripts/deploy.py --env <env> --only purview")


def find_entities(type_name: str, qualified_names: Sequence[str]) -> AtlasRequest:
    """GET the entities of one type by ``qualifiedName`` (at most :data:`LOOKUP_CHUNK` names a request)."""
    params = tuple((f"attr_{index}:qualifiedName", name) for index, name in enumerate(qualified_names))
    return AtlasRequest("GET", f"/entity/bulk/uniqueAttribute/type/{quote(type_name, safe='')}",
                        f"look up {len(qualified_names)} {type_name} entities by qualifiedName",
                        params=params + (("minExtInfo", "true"), ("ignoreRelationships", "true")), missing_ok=True)


def typedef_names(typedefs: Mapping[str, Any]) -> list[str]:
    """Names of every definition in an ``AtlasTypesDef`` document, in document order."""
    return [d["name"] for group in typedefs.values() if isinstance(group, list) for d in group if isinstance(d, Mapping)]


# -- answers (pure) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityMutation:
    """What ``POST /entity/bulk`` answered, by qualifiedName."""

    guids: dict[str, str] = field(default_factory=dict)
    created: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()


def parse_mutation(response: Any, sent: Sequence[Mapping[str, Any]]) -> EntityMutation:
    """guids of the sent entities from ``guidAssignments`` (placeholder -> guid) and ``mutatedEntities`` headers.

    Atlas may leave an entity that did not change out of both; it is then neither created nor updated and has
    no guid here.
    """
    by_placeholder = {str(e.get("guid")): _qualified_name(e) for e in sent if e.get("guid") is not None}
    guids: dict[str, str] = {}
    by_guid: dict[str, str] = {}
    if not isinstance(response, Mapping):
        return EntityMutation()
    assignments = response.get("guidAssignments")
    if isinstance(assignments, Mapping):
        for placeholder, guid in assignments.items():
            name = by_placeholder.get(str(placeholder))
            if name and isinstance(guid, str):
                guids[name] = guid
                by_guid[guid] = name
    created: set[str] = set()
    updated: set[str] = set()
    mutated = response.get("mutatedEntities")
    if isinstance(mutated, Mapping):
        for operation, headers in mutated.items():
            for header in headers if isinstance(headers, list) else []:
                if not isinstance(header, Mapping):
                    continue
                guid = header.get("guid")
                name = _qualified_name(header) or (by_guid.get(guid) if isinstance(guid, str) else None)
                if not name:
                    continue
                if isinstance(guid, str):
                    guids.setdefault(name, guid)
                (created if operation == "CREATE" else updated).add(name)
    return EntityMutation(guids, frozenset(created), frozenset(updated - created))


def found_guids(response: Any) -> dict[str, str]:
    """qualifiedName -> guid of the entities a :func:`find_entities` answer holds (None: none found)."""
    entities = response.get("entities") if isinstance(response, Mapping) else None
    found = {}
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, Mapping) and isinstance(entity.get("guid"), str) and _qualified_name(entity):
            found[_qualified_name(entity)] = entity["guid"]
    return found


def _qualified_name(entity: Mapping[str, Any]) -> str:
    attributes = entity.get("attributes")
    name = attributes.get("qualifiedName") if isinstance(attributes, Mapping) else None
    if name is None:
        unique = entity.get("uniqueAttributes")
        name = unique.get("qualifiedName") if isinstance(unique, Mapping) else None
    return name if isinstance(name, str) else ""


# -- sending -----------------------------------------------------------------------------------------


class AtlasSender(Protocol):
    """Anything that answers :class:`AtlasRequest`s: the HTTP client, or deploy's dry-run recorder."""

    def send(self, request: AtlasRequest) -> Any: ...


class TokenCredential(Protocol):
    """``azure.core.credentials.TokenCredential``: ``get_token(scope)`` returns ``(token, expires_on)``."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


def fetch_all(sender: AtlasSender, build: Callable[[int, int], AtlasRequest], page_size: int = PAGE_SIZE) -> list[Any]:
    """Every item of a paged list (``limit``/``offset``), page after page until a short one."""
    items: list[Any] = []
    offset = 0
    while True:
        request = build(page_size, offset)
        page = sender.send(request)
        if page is None:
            return items
        if not isinstance(page, list):
            raise AtlasFatalError(f"Purview {request.method} {API_PATH}{request.path} ({request.what}) answered "
                                  "something other than a JSON array", method=request.method, path=request.path, status=200)
        items.extend(page)
        if len(page) < page_size:
            return items
        offset += page_size


def find_guids(sender: AtlasSender, type_name: str, qualified_names: Iterable[str]) -> dict[str, str]:
    """qualifiedName -> guid of those of ``qualified_names`` that exist, :data:`LOOKUP_CHUNK` names a request."""
    names = list(dict.fromkeys(qualified_names))
    found: dict[str, str] = {}
    for start in range(0, len(names), LOOKUP_CHUNK):
        found.update(found_guids(sender.send(find_entities(type_name, names[start:start + LOOKUP_CHUNK]))))
    return found


def check_endpoint(endpoint: str) -> str:
    """The endpoint without a trailing slash; only ``https://`` or a loopback ``http://`` is accepted."""
    text = endpoint.strip().rstrip("/")
    parts = urlsplit(text)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not ((parts.scheme == "https" and parts.hostname) or loopback) or parts.query or parts.fragment:
        raise ActivityConfigError(
            f"Purview endpoint {endpoint!r} is not usable: give https://<account>.purview.azure.com "
            "(or http://127.0.0.1:<port> for a local fake Atlas server)"
        )
    return text


def is_loopback(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK


class AtlasClient:
    """Sends :class:`AtlasRequest`s to one Purview account (or a fake on 127.0.0.1), retrying what is worth retrying."""

    def __init__(
        self,
        endpoint: str,
        *,
        credential: TokenCredential | None,
        session: requests.Session | None = None,
        max_attempts: int = 4,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        max_wait_seconds: float = 120.0,
        timeout: tuple[float, float] = (10.0, 120.0),
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """
        Args:
            endpoint: ``https://<account>.purview.azure.com``, or a loopback ``http://`` endpoint (tests).
            credential: gives tokens for :data:`PURVIEW_SCOPE`; None only for a loopback endpoint (no token sent).
            max_attempts: attempts per request, the first included.
            backoff_seconds: first backoff when the server gives no Retry-After; doubles per attempt, jittered.
            max_wait_seconds: the most one request may spend waiting between attempts.
        """
        self._policy = RetryPolicy(max_attempts, backoff_seconds, max_backoff_seconds, max_wait_seconds)
        self.endpoint = check_endpoint(endpoint)
        if credential is None and not is_loopback(self.endpoint):
            raise ActivityConfigError(f"Purview endpoint {self.endpoint} needs a credential (DefaultAzureCredential)")
        self._credential = credential
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = _USER_AGENT
        self._timeout = timeout
        self._sleep = sleep
        self._clock = wall_clock
        self._jitter = jitter
        self._token: str | None = None
        self._token_expires = 0.0
        self.request_count = 0  # HTTP requests sent, retries included

    @classmethod
    def connect(cls, endpoint: str, **kwargs: Any) -> AtlasClient:
        """A client with ``DefaultAzureCredential`` for an https endpoint, no credential for a loopback one."""
        checked = check_endpoint(endpoint)
        if is_loopback(checked):
            return cls(checked, credential=None, **kwargs)
        from azure.identity import DefaultAzureCredential

        return cls(checked, credential=DefaultAzureCredential(), **kwargs)

    def __repr__(self) -> str:
        return f"AtlasClient({self.endpoint!r})"

    def __enter__(self) -> AtlasClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def send(self, request: AtlasRequest) -> Any:
        """Send one request and return its JSON answer (None for 204, or a 404 when ``missing_ok``).

        Raises:
            AtlasRetriesExhaustedError: 429/5xx/connection trouble beyond ``max_attempts`` or ``max_wait_seconds``.
            AtlasAuthError: no token could be obtained, or 401 again after one refresh.
            AtlasFatalError: any other refusal (403, 404, 400, 409, ...) or an answer that is not JSON.
        """
        waited = 0.0
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send_once(request)
            except AtlasAuthError as exc:
                if refreshed or exc.status != 401 or self._credential is None:
                    raise
                refreshed = True
                self._token = None  # the next attempt asks the credential for a fresh token
                attempt -= 1
            except AtlasRetriableError as exc:
                delay = self._next_delay(exc, attempt, waited)
                _log.warning("%s; retrying in %.2f s (attempt %d of %d)", exc, delay, attempt + 1, self._policy.max_attempts)
                self._sleep(delay)
                waited += delay

    # -- internals -----------------------------------------------------------------------------------

    def _where(self, request: AtlasRequest) -> str:
        return f"Purview {self.endpoint}: {request.method} {API_PATH}{request.path} ({request.what})"

    def _bearer(self, request: AtlasRequest) -> str | None:
        if self._credential is None:
            return None
        if self._token is not None and self._clock() < self._token_expires:
            return self._token
        from azure.core.exceptions import ClientAuthenticationError

        try:
            access = self._credential.get_token(PURVIEW_SCOPE)
        except ClientAuthenticationError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise AtlasAuthError(
                f"{self._where(request)}: no token for {PURVIEW_SCOPE}: {type(exc).__name__}: {first}; on Azure Batch give "
                "the pool a managed identity (AZURE_CLIENT_ID for a user-assigned one), locally run az login",
                method=request.method, path=request.path, status=None,
            ) from exc
        token = str(access.token)
        register_secret(token)  # a bearer token is a credential: never in a log line or an error
        self._token = token
        self._token_expires = float(access.expires_on) - _TOKEN_MARGIN_SECONDS
        return token

    def _send_once(self, request: AtlasRequest) -> Any:
        headers = {"Accept": "application/json"}
        token = self._bearer(request)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if request.body is not None:
            data = json.dumps(request.body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        params = [("api-version", API_VERSION), *request.params]
        self.request_count += 1
        try:
            response = self._session.request(request.method, self.endpoint + API_PATH + request.path, params=params,
                                             data=data, headers=headers, timeout=self._timeout)
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise AtlasRetriableError(f"{self._where(request)} failed: {type(exc).__name__}",
                                      method=request.method, path=request.path, status=None) from exc
        except requests.RequestException as exc:
            raise AtlasFatalError(redact(f"{self._where(request)} failed: {type(exc).__name__}: {exc}"),
                                  method=request.method, path=request.path, status=None) from exc
        return self._answer(request, response)

    def _answer(self, request: AtlasRequest, response: requests.Response) -> Any:
        status = response.status_code
        where = self._where(request)
        if 200 <= status < 300:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise AtlasFatalError(f"{where} returned HTTP {status} with a body that is not JSON",
                                      method=request.method, path=request.path, status=status) from exc
        if status == 404 and request.missing_ok:
            return None
        detail = redact(_error_detail(response))
        kwargs: dict[str, Any] = {"method": request.method, "path": request.path, "status": status}
        if status == 429 or status >= 500:
            raise AtlasRetriableError(f"{where} returned HTTP {status}{detail}", retry_after=self._retry_after(response),
                                      **kwargs)
        if status == 401:
            raise AtlasAuthError(f"{where} returned HTTP 401{detail}: the token was refused; check that the identity "
                                 "belongs to the Purview account's tenant", **kwargs)
        if status == 403:
            raise AtlasFatalError(f"{where} returned HTTP 403{detail}: {_ROLE_FIX}", **kwargs)
        fix = f"; {request.hint}" if request.hint else ""
        raise AtlasFatalError(f"{where} returned HTTP {status}{detail}{fix}", **kwargs)

    def _next_delay(self, exc: AtlasRetriableError, attempt: int, waited: float) -> float:
        """The shared policy's wait (``activities.common.retry``: the server's Retry-After as is, else jittered
        doubling backoff), or :class:`AtlasRetriesExhaustedError` once attempts or the wait cap are used up."""
        try:
            return self._policy.next_delay(attempt, waited, exc.retry_after, self._jitter())
        except GiveUp as give_up:
            raise AtlasRetriesExhaustedError(f"{exc}; {give_up}", method=exc.method, path=exc.path,
                                             status=exc.status) from exc

    def _retry_after(self, response: requests.Response) -> float | None:
        """Seconds from ``retry-after-ms``/``x-ms-retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
        for header in ("retry-after-ms", "x-ms-retry-after-ms"):
            value = response.headers.get(header)
            if value:
                try:
                    return max(0.0, float(value) / 1000.0)
                except ValueError:
                    pass
        return retry_after_seconds(response.headers.get("Retry-After"), datetime.fromtimestamp(self._clock(), tz=UTC))


def _error_detail(response: requests.Response) -> str:
    """``: <code>: <message> (request id <id>)`` from an Atlas or Azure error body; empty if it has none."""
    try:
        payload = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:200] if response.text else ""
        return f": {text}" if text else ""
    if not isinstance(payload, Mapping):
        return ""
    code, message = payload.get("errorCode"), payload.get("errorMessage")
    error = payload.get("error")
    if isinstance(error, Mapping):
        code, message = code or error.get("code"), message or error.get("message")
    parts = [str(part) for part in (code, message) if isinstance(part, str) and part]
    detail = ": " + ": ".join(" ".join(p.split())[:300] for p in parts) if parts else ""
    request_id = payload.get("requestId")
    if isinstance(request_id, str) and request_id:
        detail += f" (request id {request_id})"
    return detail


__all__ = [
    "API_PATH",
    "API_VERSION",
    "PURVIEW_SCOPE",
    "AtlasClient",
    "AtlasError",
    "AtlasRequest",
    "AtlasSender",
    "EntityMutation",
    "assign_term",
    "check_endpoint",
    "create_glossary",
    "create_term",
    "create_typedefs",
    "fetch_all",
    "find_entities",
    "find_guids",
    "found_guids",
    "get_typedef",
    "is_loopback",
    "list_assigned_entities",
    "list_glossaries",
    "list_terms",
    "parse_mutation",
    "typedef_names",
    "update_glossary",
    "update_term",
    "update_typedefs",
    "upsert_entities",
]
