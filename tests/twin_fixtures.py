"""Fixtures and helpers for the Spotify twin's tests.

Test modules import the fixtures they use (``from tests.twin_fixtures import twin, twin_api``) and the
helpers, so nothing twin-specific lands in a shared conftest.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator

from offline.spotify_twin import TwinServer
from offline.spotify_twin.openapi import OPENAPI_PATH

TWIN_CLIENT_ID = "twin-test-client"
TWIN_SECRET = "twin-test-secret"
TWIN_REFRESH_TOKEN = "twin-test-refresh-token"
TWIN_SEED = 42
TWIN_SCALE = 0.3  # small enough to start fast, large enough for >50-track albums and 30 new releases
HTTP_TIMEOUT_S = 5.0


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with OPENAPI_PATH.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    _drop_unmapped_discriminators(spec)
    return spec


def _drop_unmapped_discriminators(node: Any) -> None:
    """PlaylistTrackObject's `oneOf: [TrackObject, EpisodeObject]` has a discriminator on `type` without a
    mapping, which validators resolve to `#/components/schemas/track` (no such schema). The `oneOf` alone
    already tells a track from an episode (TrackObject pins `type: track`, EpisodeObject requires its fields)."""
    if isinstance(node, dict):
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and "mapping" not in discriminator and "oneOf" in node:
            del node["discriminator"]
        for value in node.values():
            _drop_unmapped_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _drop_unmapped_discriminators(value)


@lru_cache(maxsize=1)
def development_components() -> dict[str, Any]:
    """The spec's components as a Development Mode app meets them: a property marked `deprecated: true` is
    optional. The OpenAPI file still lists some removed fields as required (AlbumBase.available_markets,
    AlbumObject.label/popularity, ArtistDiscographyAlbumObject.album_group) while marking them deprecated; the
    February 2026 changelog says they are no longer sent, so their absence is what must validate."""
    spec = {"components": copy.deepcopy(openapi_spec()["components"])}
    _relax_required(spec, spec["components"])
    components: dict[str, Any] = spec["components"]
    return components


def _deprecated_properties(spec: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Names of the deprecated properties of `schema`, its own and those of its allOf parts."""
    schema = _resolve(spec, schema)
    found = {k for k, v in (schema.get("properties") or {}).items() if isinstance(v, dict) and v.get("deprecated")}
    for part in schema.get("allOf") or ():
        found |= _deprecated_properties(spec, part)
    return found


def _relax_required(spec: dict[str, Any], node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("required"), list):
            deprecated = _deprecated_properties(spec, node)
            node["required"] = [name for name in node["required"] if name not in deprecated]
        for value in node.values():
            _relax_required(spec, value)
    elif isinstance(node, list):
        for value in node:
            _relax_required(spec, value)


def deprecated_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation the OpenAPI file marks `deprecated: true`."""
    return {
        (method.upper(), path)
        for path, operations in openapi_spec()["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and operation.get("deprecated")
    }


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_schema(path: str, status: int, method: str = "get") -> dict[str, Any]:
    """The JSON schema of `method path`'s `status` response in the OpenAPI description (refs left in place)."""
    spec = openapi_spec()
    response = _resolve(spec, spec["paths"][path][method]["responses"][str(status)])
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def request_errors(method: str, path: str, query: dict[str, str]) -> list[str]:
    """What is wrong with a request's query by the OpenAPI operation `method path`: unknown parameters, missing
    required ones, values outside their schema (integers parsed first, as the server does)."""
    spec = openapi_spec()
    operation = spec["paths"][path][method.lower()]
    parameters = [_resolve(spec, p) for p in operation.get("parameters", [])]
    in_query = {p["name"]: p for p in parameters if p["in"] == "query"}
    errors = [f"unknown query parameter {name}" for name in query if name not in in_query]
    errors += [f"missing required {name}" for name, p in in_query.items() if p.get("required") and name not in query]
    for name, raw in query.items():
        if name not in in_query:
            continue
        schema = in_query[name].get("schema", {})
        value: Any = raw
        if schema.get("type") == "array":  # form style, explode false: comma-separated
            value = raw.split(",")
        elif schema.get("type") == "integer":
            try:
                value = int(raw)
            except ValueError:
                errors.append(f"{name}={raw!r}: not an integer")
                continue
        errors += [f"{name}={raw!r}: {e}" for e in schema_errors(value, schema)]
    return errors


def named_response_schema(name: str) -> dict[str, Any]:
    """Schema of a shared response in `components/responses` (BadRequest, NotFound, Unauthorized, ...)."""
    schema: dict[str, Any] = openapi_spec()["components"]["responses"][name]["content"]["application/json"]["schema"]
    return schema


def component_schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def schema_errors(body: Any, schema: dict[str, Any], *, development: bool = False) -> list[str]:
    """Validation errors of `body`; `development=True` reads the spec as for a Development Mode app
    (`development_components`)."""
    components = development_components() if development else openapi_spec()["components"]
    # The components ride along in the root document so every `#/components/...` ref resolves.
    validator = OAS30Validator({**schema, "components": components})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(body)]


def assert_matches_schema(body: Any, schema: dict[str, Any], *, development: bool = False) -> None:
    errors = schema_errors(body, schema, development=development)
    assert not errors, "response does not match the OpenAPI schema:\n" + "\n".join(errors[:20])


def assert_spotify_error(response: requests.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert_matches_schema(body["error"], component_schema("ErrorObject"))
    assert body["error"]["status"] == status


def fetch_token(token_url: str, client_id: str = TWIN_CLIENT_ID, secret: str = TWIN_SECRET) -> str:
    response = requests.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=HTTP_TIMEOUT_S
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def bearer_session(token_url: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fetch_token(token_url)}"
    return session


def refresh_grant(
    token_url: str, refresh_token: str = TWIN_REFRESH_TOKEN, secret: str = TWIN_SECRET
) -> requests.Response:
    """POST the authorization-code flow's refresh step, as the extractor does with the Key Vault secret."""
    return requests.post(
        token_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(TWIN_CLIENT_ID, secret), timeout=HTTP_TIMEOUT_S,
    )


def user_session(token_url: str) -> requests.Session:
    response = refresh_grant(token_url)
    response.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return session


def walk_pages(session: requests.Session, url: str | None, key: str | None = None) -> list[dict[str, Any]]:
    """Follow `next` links from `url`; returns each page (the paging object, under `key` when given)."""
    pages: list[dict[str, Any]] = []
    while url:
        response = session.get(url, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:200]}"
        body = response.json()
        page: dict[str, Any] = body[key] if key else body
        pages.append(page)
        url = page["next"]
        assert len(pages) < 500, "paging does not end"
    return pages


def without_null_fields(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    """`obj` minus the named keys that are null: Spotify sends null where the OpenAPI file says string/object
    (cursor pages' `next`/`cursors.after`, play history's `context`), so those are checked apart."""
    return {k: v for k, v in obj.items() if not (k in names and v is None)}


def start_twin(faults: str | None = None, **overrides: Any) -> TwinServer:
    """A started twin in development mode (a new app in 2026) unless `access_mode="extended"` is given."""
    options: dict[str, Any] = {
        "access_mode": "development",
        "seed": TWIN_SEED,
        "scale": TWIN_SCALE,
        "faults": faults,
        "client_id": TWIN_CLIENT_ID,
        "client_secret": TWIN_SECRET,
        "refresh_token": TWIN_REFRESH_TOKEN,
    }
    options.update(overrides)
    return TwinServer(**options).start()


@pytest.fixture(scope="module")
def twin(request: pytest.FixtureRequest) -> Iterator[TwinServer]:
    """A fault-free twin shared by one test module: development mode, unless the module sets
    `TWIN_ACCESS_MODE = "extended"` because it pins the extended-quota behaviour."""
    server = start_twin(access_mode=getattr(request.module, "TWIN_ACCESS_MODE", "development"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def twin_api(twin: TwinServer) -> Iterator[requests.Session]:
    """A requests session already holding a bearer token for `twin`."""
    session = bearer_session(twin.token_url)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def twin_user_api(twin: TwinServer) -> Iterator[requests.Session]:
    """A requests session holding a user token (refresh-token grant) for `twin`."""
    session = user_session(twin.token_url)
    try:
        yield session
    finally:
        session.close()
