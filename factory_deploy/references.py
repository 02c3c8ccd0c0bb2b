"""What a factory resource references: its `referenceName` edges, and the ones that point at nothing.

Deploy (publish order, its checks) and the local runner (its load-time check) both read references through
this module, so the two can never disagree on what a factory references or word a broken reference
differently. It lives here rather than in the runner because deploy must not depend on local stand-ins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Kind:
    label: str  # how messages name a resource of this kind: "Linked service `Ls_Batch`"
    reference_type: str  # the `type` of a reference that points at this kind


# Resource folder -> kind, in publish order: each kind references only its own kind and the kinds before it.
KINDS: dict[str, Kind] = {
    "linkedServices": Kind("Linked service", "LinkedServiceReference"),
    "datasets": Kind("Dataset", "DatasetReference"),
    "dataflows": Kind("Data flow", "DataFlowReference"),
    "pipelines": Kind("Pipeline", "PipelineReference"),
    "triggers": Kind("Trigger", "TriggerReference"),
}
FOLDER_OF_REFERENCE = {kind.reference_type: folder for folder, kind in KINDS.items()}
# The singular folders ADF's git integration writes (https://learn.microsoft.com/azure/data-factory/source-control)
# hold the same resources as this project's plural ones; a factory folder may use either layout.
GIT_FOLDER = {
    "linkedServices": "linkedService",
    "datasets": "dataset",
    "dataflows": "dataflow",
    "pipelines": "pipeline",
    "triggers": "trigger",
}


@dataclass(frozen=True)
class Edge:
    """One `{"referenceName": ..., "type": "<Kind>Reference"}` inside a resource."""

    folder: str  # where the referenced resource lives
    name: str
    activity: str | None = None  # the innermost activity holding the reference; None outside activities
    # What the reference passes: a dataset reference's own `parameters`, or for a pipeline reference the
    # `parameters` beside it (trigger `pipelines[]` entries, ExecutePipeline typeProperties).
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dynamic(self) -> bool:
        """The name is an expression (`@pipeline().parameters.x`), known only at run time."""
        return self.name.startswith("@")


@dataclass(frozen=True)
class DanglingReference:
    """An edge of resource `source_folder/source_name` whose target is not in the factory."""

    source_folder: str
    source_name: str
    edge: Edge

    @property
    def referenced_by(self) -> str:
        """``Pipeline `PL_A` activity `Run` ``, or ``Trigger `TR_Y` `` outside activities."""
        where = f"{KINDS[self.source_folder].label} `{self.source_name}`"
        return where + (f" activity `{self.edge.activity}`" if self.edge.activity else "")

    def message(self, factory_folder: str) -> str:
        target = KINDS[self.edge.folder].label.lower()
        return (
            f"{self.referenced_by} references {target} `{self.edge.name}`, "
            f"which is not in {factory_folder}/{self.edge.folder}"
        )


def edges(properties: Mapping[str, Any]) -> Iterator[Edge]:
    """Every reference under a resource's `properties`, in document order (repeats included)."""
    yield from _walk(properties, None, None)


def resource_files(factory_dir: Path, folder: str) -> list[Path]:
    """The resource files of one kind: `<folder>/*.json` and its git-integration twin (`pipeline/*.json`)."""
    return [path for name in (folder, GIT_FOLDER[folder]) for path in sorted((factory_dir / name).glob("*.json"))]


def name_key(folder: str, name: str) -> tuple[str, str]:
    """What two resource names are compared by: ADF names are case-insensitive
    (https://learn.microsoft.com/azure/data-factory/naming-rules), so `SourceDataSet` finds `SourceDataset`."""
    return (folder, name.casefold())


def canonical_names(existing: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """`name_key` -> the (folder, name) as the resource spells it, to resolve a reference spelled otherwise."""
    return {name_key(folder, name): (folder, name) for folder, name in existing}


def dangling_references(
    folder: str, name: str, properties: Mapping[str, Any], existing: Iterable[tuple[str, str]]
) -> list[DanglingReference]:
    """The references of one resource whose (folder, name) is not in `existing` (compared case-insensitively),
    each once, in document order.

    Dynamic names are included: whether an expression is acceptable is the caller's call (deploy refuses it,
    as ADF's publish does; the runner resolves it when the activity runs).
    """
    known = canonical_names(existing)
    found: dict[tuple[str, str, str | None], Edge] = {}
    for edge in edges(properties):
        if name_key(edge.folder, edge.name) not in known:
            found.setdefault((edge.folder, edge.name, edge.activity), edge)
    return [DanglingReference(folder, name, edge) for edge in found.values()]


def _walk(node: Any, activity: str | None, passed: Mapping[str, Any] | None) -> Iterator[Edge]:
    if isinstance(node, dict):
        kind, name = node.get("type"), node.get("referenceName")
        folder = FOLDER_OF_REFERENCE.get(kind) if isinstance(kind, str) else None
        if folder is not None and isinstance(name, str):
            own = node.get("parameters")
            parameters = passed if passed is not None else own if isinstance(own, Mapping) else {}
            yield Edge(folder, name, activity, parameters)
        # An activity is an object with name + type + typeProperties/dependsOn; remember the innermost one.
        if isinstance(node.get("name"), str) and isinstance(kind, str) and ("typeProperties" in node or "dependsOn" in node):
            activity = node["name"]
        beside = node.get("parameters")
        for key, value in node.items():
            handed = (beside if isinstance(beside, Mapping) else {}) if key == "pipelineReference" else None
            yield from _walk(value, activity, handed)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, activity, None)
