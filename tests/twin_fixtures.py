"""Fixtures and helpers for the Spotify twin's tests.

Test modules import the fixtures they use (``from tests.twin_fixtures import twin, twin_api``) and the
helpers, so nothing twin-specific lands in a shared conftest.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator

from spotify_twin import TwinServer

OPENAPI_PATH = Path("/work/shared/spotify-web-api/openapi.yaml")
TWIN_CLIENT_ID = "twin-test-client"
TWIN_SECRET = "twin-test-secret"
TWIN_SEED = 42
TWIN_SCALE = 0.3  # small enough to start fast, large enough for >50-track albums and 30 new releases
HTTP_TIMEOUT_S = 5.0


def _openapi_path() -> Path:
    # CI runs on a copy of shared/ beside the clone; fall back to that layout.
    if OPENAPI_PATH.exists():
        return OPENAPI_PATH
    local = Path(__file__).resolve().parents[2] / "shared" / "spotify-web-api" / "openapi.yaml"
    return local


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with _openapi_path().open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    return spec


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


def named_response_schema(name: str) -> dict[str, Any]:
    """Schema of a shared response in `components/responses` (BadRequest, NotFound, Unauthorized, ...)."""
    schema: dict[str, Any] = openapi_spec()["components"]["responses"][name]["content"]["application/json"]["schema"]
    return schema


def component_schema(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def schema_errors(body: Any, schema: dict[str, Any]) -> list[str]:
    # The components ride along in the root document so every `#/components/...` ref resolves.
    validator = OAS30Validator({**schema, "components": openapi_spec()["components"]})
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


def assert_matches_schema(body: Any, schema: dict[str, Any]) -> None:
    errors = schema_errors(body, schema)
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


def start_twin(faults: str | None = None, **overrides: Any) -> TwinServer:
    options: dict[str, Any] = {
        "seed": TWIN_SEED,
        "scale": TWIN_SCALE,
        "faults": faults,
        "client_id": TWIN_CLIENT_ID,
        "client_secret": TWIN_SECRET,
    }
    options.update(overrides)
    return TwinServer(**options).start()


@pytest.fixture(scope="module")
def twin() -> Iterator[TwinServer]:
    """A fault-free twin shared by one test module."""
    server = start_twin()
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
