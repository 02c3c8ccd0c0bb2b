"""Turn the committed `adf/` JSON plus an environment's config into the exact bodies deploy sends (pure).

`apply_overrides` is the one meaning of an environment override, used by deploy and by the local runner alike:
an override names a resource (every resource of that name, whatever its folder) and a dotted path under its
`properties` (list indices allowed); the resource must exist and so must every segment of the path, leaf
included, because an override replaces a value the committed JSON has. A misspelt key is an error, never a
new key that ADF would ignore.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factory_deploy.env_config import EnvironmentConfig, factory_overrides
from factory_deploy.graph import Resource


@dataclass(frozen=True)
class RenderedResource:
    folder: str
    name: str
    body: dict[str, Any]


class OverrideError(Exception):
    """An override names a resource or a path the factory does not have."""

    def __init__(self, resource: str, path: str, problem: str) -> None:
        self.resource, self.path, self.problem = resource, path, problem
        super().__init__(f"override `{path}` of `{resource}`: {problem}")


def apply_overrides(
    bodies: Mapping[tuple[str, str], dict[str, Any]], overrides: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Copies of `bodies` ((folder, name) -> resource JSON) with `overrides` (name -> {dotted path: value}) applied."""
    result = {key: copy.deepcopy(body) for key, body in bodies.items()}
    for resource, changes in overrides.items():
        targets = [key for key in result if key[1] == resource]
        if not targets:
            raise OverrideError(resource, ", ".join(changes), "no resource of that name in the factory")
        for key in targets:
            for dotted, value in changes.items():
                _set(result[key]["properties"], dotted, copy.deepcopy(value), resource)
    return result


def render_resources(ordered: list[Resource], config: EnvironmentConfig) -> list[RenderedResource]:
    applied = apply_overrides({r.key: r.body for r in ordered}, factory_overrides(config))
    return [RenderedResource(r.folder, r.name, applied[r.key]) for r in ordered]


def _set(node: Any, dotted: str, value: Any, resource: str) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = _child(node, part, dotted, resource)
    _child(node, leaf, dotted, resource)  # the leaf must exist too
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value


def _child(node: Any, part: str, dotted: str, resource: str) -> Any:
    if isinstance(node, list):
        if not part.isdigit() or int(part) >= len(node):
            raise OverrideError(resource, dotted, f"`{part}` is not an index of a list of {len(node)}")
        return node[int(part)]
    if not isinstance(node, dict):
        raise OverrideError(resource, dotted, f"`{part}` is inside a {type(node).__name__}, not an object")
    if part not in node:
        raise OverrideError(resource, dotted, f"`{part}` does not exist in the committed JSON: an override replaces a value, "
                                              "fix the path in factory_deploy/env_config/factory.py (or the caller's overrides)")
    return node[part]
