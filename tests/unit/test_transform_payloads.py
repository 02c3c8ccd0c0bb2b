"""The payload builders of tests/spotify_payloads.py are Spotify-shaped: one body per endpoint the transform reads,
validated against the vendored OpenAPI description (offline/spotify_twin/openapi/openapi.yaml)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from tests.spotify_payloads import BODIES, DEVELOPMENT_BODIES, openapi


def _response_schema(path: str) -> dict[str, Any]:
    spec = openapi()
    node = spec["paths"][path]["get"]["responses"]["200"]
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return {**node["content"]["application/json"]["schema"], "components": spec["components"]}


# The description still lists these as required in (Simplified)AlbumObject although Development Mode omits them.
_REQUIRED_BUT_REMOVED = tuple(f"'{name}' is a required property" for name in ("label", "popularity", "available_markets"))


_CHECKED = [(path, body, ()) for path, body in BODIES] + [(path, body, _REQUIRED_BUT_REMOVED)
                                                           for path, body in DEVELOPMENT_BODIES]


@pytest.mark.parametrize(("path", "body", "removed"), _CHECKED,
                         ids=[f"{path}{'-development' if removed else ''}" for path, _, removed in _CHECKED])
def test_when_builder_payloads_are_checked_against_the_openapi_description_then_they_match(
    path: str, body: Any, removed: tuple[str, ...]
) -> None:
    validator = OAS30Validator(_response_schema(path))

    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]

    # The description's oneOf(track, episode) discriminator maps to refs it does not define; not ours to fix.
    assert [e for e in errors if "could not be resolved" not in e and not (removed and e.endswith(removed))] == []
