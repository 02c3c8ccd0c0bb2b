"""The factory's reference graph: which resource needs which, checked for holes and ordered for publishing.

Deploy walks this graph instead of a hand-kept list (a linked service before the datasets that use it,
a pipeline before the triggers that start it), the order ARM needs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from factory_deploy.references import KINDS, canonical_names, dangling_references, edges, name_key
from factory_deploy.resource_files import read_resource_files

_PARAM_USE = re.compile(r"pipeline\(\)\s*\.\s*parameters\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_GLOBAL_USE = re.compile(r"pipeline\(\)\s*\.\s*globalParameters\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_DATASET_PARAM_USE = re.compile(r"dataset\(\)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)")
# Folder -> (how its expressions use its own parameters, what messages call it).
_OWN_PARAMETER_USE = {"pipelines": (_PARAM_USE, "pipeline"), "datasets": (_DATASET_PARAM_USE, "dataset")}


@dataclass(frozen=True)
class Resource:
    folder: str
    name: str
    path: Path
    body: dict[str, Any]
    needs: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (folder, name)

    @property
    def key(self) -> tuple[str, str]:
        return (self.folder, self.name)


class FactoryGraphError(Exception):
    """The factory folder has a broken file or reference; the message lists every problem."""


def load_resources(adf_dir: Path) -> dict[tuple[str, str], Resource]:
    files, problems = read_resource_files(adf_dir)
    if problems:
        raise FactoryGraphError("\n".join(problem.message for problem in problems))
    resources = {key: Resource(f.folder, f.name, f.path, f.body) for key, f in files.items()}
    # A reference may spell a name in another case than the resource does; needs use the resource's spelling.
    known = canonical_names(resources)
    return {
        key: replace(r, needs=frozenset(known.get(name_key(e.folder, e.name), (e.folder, e.name)) for e in edges(r.body["properties"])))
        for key, r in resources.items()
    }


def check_references(resources: dict[tuple[str, str], Resource], global_parameters: set[str]) -> list[str]:
    """Every reference that does not resolve: resources, pipeline/dataset parameters, global parameters."""
    problems: list[str] = []
    for resource in resources.values():
        for dangling in dangling_references(resource.folder, resource.name, resource.body["properties"], resources):
            problems.append(f"{resource.path}: {dangling.message(resource.path.parent.parent.name)}")
        text = json.dumps(resource.body)
        for used in sorted(set(_GLOBAL_USE.findall(text)) - global_parameters):
            problems.append(f"{resource.path}: uses global parameter `{used}`, which config/<env>.json does not define")
        if resource.folder in _OWN_PARAMETER_USE:
            use, kind = _OWN_PARAMETER_USE[resource.folder]
            declared = set(resource.body["properties"].get("parameters", {}) or {})
            for used in sorted(set(use.findall(text)) - declared):
                problems.append(f"{resource.path}: uses {kind} parameter `{used}`, which the {kind} does not declare")
        problems += _check_call_parameters(resources, resource)
    return problems


def publish_order(resources: dict[tuple[str, str], Resource]) -> list[Resource]:
    """Resources ordered so that everything a resource references comes before it."""
    ordered: list[Resource] = []
    state: dict[tuple[str, str], str] = {}

    def visit(key: tuple[str, str], trail: tuple[str, ...]) -> None:
        if state.get(key) == "done" or key not in resources:
            return
        if state.get(key) == "visiting":
            raise FactoryGraphError(f"reference cycle: {' -> '.join((*trail, key[1]))}")
        state[key] = "visiting"
        for need in sorted(resources[key].needs):
            visit(need, (*trail, key[1]))
        state[key] = "done"
        ordered.append(resources[key])

    for key in sorted(resources, key=lambda k: (list(KINDS).index(k[0]), k[1])):
        visit(key, ())
    return ordered


def _check_call_parameters(resources: dict[tuple[str, str], Resource], caller: Resource) -> list[str]:
    """Parameters passed to a pipeline or dataset must be declared there, and required ones passed."""
    problems: list[str] = []
    known = canonical_names(resources)
    for edge in edges(caller.body["properties"]):
        key = known.get(name_key(edge.folder, edge.name))
        target = resources.get(key) if key and edge.folder in ("pipelines", "datasets") else None
        if target is None:
            continue
        declared = target.body["properties"].get("parameters", {}) or {}
        for extra in sorted(set(edge.parameters) - set(declared)):
            problems.append(f"{caller.path}: passes parameter `{extra}` to `{edge.name}`, which does not declare it")
        required = {p for p, spec in declared.items() if isinstance(spec, dict) and "defaultValue" not in spec}
        for missing in sorted(required - set(edge.parameters)):
            problems.append(f"{caller.path}: does not pass required parameter `{missing}` to `{edge.name}`")
    return problems
