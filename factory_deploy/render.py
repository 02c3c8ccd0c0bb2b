"""Turn the committed `adf/` JSON plus an environment's config into the exact bodies deploy sends (pure)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from env_config import EnvironmentConfig, factory_overrides
from env_config.factory import global_parameter_specs
from factory_deploy.graph import Resource


@dataclass(frozen=True)
class RenderedResource:
    folder: str
    name: str
    body: dict[str, Any]


def apply_overrides(body: dict[str, Any], overrides: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A copy of `body` with dotted paths under `properties` replaced; a path that does not exist is an error."""
    result = copy.deepcopy(body)
    for dotted, value in overrides.items():
        node = result["properties"]
        *parents, leaf = dotted.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise KeyError(f"{where}: override path `properties.{dotted}` does not exist; fix env_config/factory.py")
            node = node[part]
        if leaf not in node:
            raise KeyError(f"{where}: override path `properties.{dotted}` does not exist; fix env_config/factory.py")
        node[leaf] = value
    return result


def render_resources(ordered: list[Resource], config: EnvironmentConfig) -> list[RenderedResource]:
    overrides = factory_overrides(config)
    return [
        RenderedResource(r.folder, r.name, apply_overrides(r.body, overrides.get(r.name, {}), str(r.path)))
        for r in ordered
    ]


def render_factory(config: EnvironmentConfig) -> dict[str, Any]:
    """The factory resource itself: location, managed identity and global parameters."""
    return {
        "location": config.factory.location,
        "identity": {"type": "SystemAssigned"},
        "properties": {"globalParameters": global_parameter_specs(config)},
    }
