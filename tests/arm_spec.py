"""Validate request bodies against the vendored REST API specs (Swagger 2.0), as ARM does before a resource provider
sees them.

The specs are the published files of Azure/azure-rest-api-specs, laid out under ``tests/arm_specs`` as under the
repository's ``specification/`` (which files are whole and which are extracts: ``tests/arm_specs/SOURCE.md``), so a
``$ref`` such as ``../datafactory.json#/definitions/X`` or the Batch spec's
``../../../../../../common-types/resource-management/v5/types.json#/definitions/ProxyResource`` resolves across files
exactly as in the repository.

What the spec states is enforced: required properties, JSON types, enums that are not extensible
(``x-ms-enum.modelAsString`` false), patterns, lengths, minimum/maximum, ``allOf`` bases, and polymorphism: a
definition with a ``discriminator`` dispatches on the body's discriminator value to the subtype whose
``x-ms-discriminator-value`` (or, without one, whose name) it is, among all definitions that derive from it through
``allOf`` in any vendored file - so a Custom activity nested in a ForEach is checked as a CustomActivity. As in ARM,
properties the spec does not list are not refused (the Data Factory definitions declare ``additionalProperties``),
and ``"type": "object"`` without properties means any JSON value (the ``Type: string (or Expression with resultType
string)`` fields hold expressions or literals). A ``$ref`` or subtype missing from an extract is refused with its
name, never skipped.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPECS = Path(__file__).resolve().parent / "arm_specs"
DATAFACTORY = SPECS / "datafactory/resource-manager/Microsoft.DataFactory/stable/2018-06-01/datafactory.json"
BATCH = SPECS / "batch/resource-manager/Microsoft.Batch/Batch/stable/2025-06-01/openapi.json"  # what azure-mgmt-batch 19 sends
_DF = "#/definitions/"
# Request -> (spec file, the schema its body must match). The global parameters child resource
# (factories/{f}/globalParameters/default, GlobalParameterResource in later revisions of datafactory.json) is a
# SubResource whose `properties` is a GlobalParameterDefinitionSpecification; the vendored revision predates the
# resource, so its body is checked against that definition directly.
OPERATIONS: dict[str, tuple[Path, dict[str, Any]]] = {
    "factories PUT": (DATAFACTORY, {"$ref": _DF + "Factory"}),
    "globalParameters PUT": (DATAFACTORY, {"type": "object", "required": ["properties"], "properties": {
        "properties": {"$ref": _DF + "GlobalParameterDefinitionSpecification"}}}),
    "linkedservices PUT": (DATAFACTORY, {"$ref": _DF + "LinkedServiceResource"}),
    "datasets PUT": (DATAFACTORY, {"$ref": _DF + "DatasetResource"}),
    "dataflows PUT": (DATAFACTORY, {"$ref": _DF + "DataFlowResource"}),
    "pipelines PUT": (DATAFACTORY, {"$ref": _DF + "PipelineResource"}),
    "triggers PUT": (DATAFACTORY, {"$ref": _DF + "TriggerResource"}),
    "pools PUT": (BATCH, {"$ref": _DF + "Pool"}),
    "pools PATCH": (BATCH, {"$ref": _DF + "Pool"}),
}
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "boolean": bool, "array": list, "object": dict,
                                                   "number": (int, float)}
Key = tuple[Path, str]  # (spec file, definition name)


@dataclass(frozen=True)
class _Specs:
    definitions: dict[Key, dict[str, Any]]
    subtypes: dict[Key, list[Key]]  # base -> the definitions whose allOf names it


@functools.cache
def _load(root: Path = SPECS) -> _Specs:
    """Every vendored spec file under ``root``, parsed once per test session."""
    definitions: dict[Key, dict[str, Any]] = {}
    for path in sorted(root.rglob("*.json")):
        if path.parent == root or "examples" in path.parts:
            continue  # the ARM template schema and the response examples are not REST specs
        for name, schema in json.loads(path.read_text(encoding="utf-8")).get("definitions", {}).items():
            definitions[(path, name)] = schema
    subtypes: dict[Key, list[Key]] = {}
    for key, schema in definitions.items():
        for part in schema.get("allOf", []):
            if "$ref" in part:
                subtypes.setdefault(_resolve(key[0], part["$ref"]), []).append(key)
    return _Specs(definitions, subtypes)


def _resolve(file: Path, ref: str) -> Key:
    target, _, pointer = ref.partition("#")
    if not pointer.startswith("/definitions/"):
        raise ValueError(f"unsupported $ref {ref!r} in {file.name}")
    # normpath, not resolve(): keys must equal the paths rglob found, even below a symlinked checkout
    return (Path(os.path.normpath(file.parent / target)) if target else file), pointer.removeprefix("/definitions/")


class SpecValidator:
    """``(operation, path, body) -> problems``, the validator ``tests.fake_arm.FakeAzure`` calls on every write."""

    def __init__(self, root: Path = SPECS) -> None:
        """``root``: a folder of specs in the repository layout (``tests/purview_specs`` holds the Purview data map's)."""
        self.specs = _load(root)

    def __call__(self, operation: str, path: str, body: Any) -> list[str]:
        if operation not in OPERATIONS:
            return []
        file, schema = OPERATIONS[operation]
        # A pool PATCH carries only what changes; Pool and PoolProperties require nothing, so one schema serves both.
        return self._check(file, schema, body, "body")

    def check(self, definition: str, body: Any, file: Path = DATAFACTORY) -> list[str]:
        """The problems of `body` against one definition of a spec file."""
        return self._check(file, {"$ref": _DF + definition}, body, "body")

    def _check(self, file: Path, schema: dict[str, Any], value: Any, where: str, dispatch: bool = True) -> list[str]:
        if "$ref" in schema:
            key = _resolve(file, schema["$ref"])
            if key not in self.specs.definitions:
                return [f"{where}: the spec definition `{key[1]}` ({_relative(key[0])}) is not vendored; "
                        "add it to tests/arm_specs (see SOURCE.md)"]
            definition = self.specs.definitions[key]
            if dispatch and isinstance(value, dict) and self._discriminator(key):
                return self._polymorphic(key, value, where)
            return self._check(key[0], definition, value, where)
        problems: list[str] = []
        for part in schema.get("allOf", []):  # a subtype's bases: their own properties, no second dispatch
            problems += self._check(file, part, value, where, dispatch=False)
        kind = schema.get("type")
        if kind == "object" and not schema.get("properties") and not _typed(schema.get("additionalProperties")):
            return problems  # "any value" in these specs
        if kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return problems + [f"{where}: expected an integer, got {json.dumps(value)[:40]}"]
        elif kind in _JSON_TYPES and (not isinstance(value, _JSON_TYPES[kind]) or kind == "number" and isinstance(value, bool)):
            return problems + [f"{where}: expected {kind}, got {type(value).__name__}"]
        elif kind is None and schema.get("properties") and not isinstance(value, dict):
            return problems + [f"{where}: expected an object, got {type(value).__name__}"]  # an AutoRest model
        problems += _scalar_problems(schema, value, where)
        if isinstance(value, dict):
            problems += self._object(file, schema, value, where)
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                problems += self._check(file, schema["items"], item, f"{where}[{index}]")
        return problems

    def _object(self, file: Path, schema: dict[str, Any], value: dict[str, Any], where: str) -> list[str]:
        problems = [f"{where}: required property `{name}` is missing"
                    for name in schema.get("required", []) if name not in value]
        listed = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in listed:
                if not listed[key].get("readOnly"):  # ARM drops read-only properties of a request body
                    problems += self._check(file, listed[key], item, f"{where}.{key}")
            elif _typed(extra):
                problems += self._check(file, extra, item, f"{where}.{key}")
        return problems

    def _discriminator(self, key: Key) -> str | None:
        """The discriminator property of `key`'s hierarchy (declared on its root), if it is polymorphic."""
        definition = self.specs.definitions[key]
        if definition.get("discriminator"):
            return str(definition["discriminator"])
        for part in definition.get("allOf", []):
            base = _resolve(key[0], part["$ref"]) if "$ref" in part else None
            if base in self.specs.definitions and (found := self._discriminator(base)):
                return found
        return None

    def _polymorphic(self, base: Key, value: dict[str, Any], where: str) -> list[str]:
        discriminator = self._discriminator(base)
        assert discriminator is not None
        candidates = {self._value(key): key for key in [base, *self._descendants(base)]}
        wanted = value.get(discriminator)
        if wanted not in candidates:
            if discriminator not in value and not self.specs.definitions[base].get("discriminator"):
                # a subtype named directly (e.g. DatasetLocation's subtypes) with no value to dispatch on
                return self._check(base[0], self.specs.definitions[base], value, where)
            names = ", ".join(sorted(str(v) for v in candidates if v != self._value(base)))
            return [f"{where}.{discriminator}: {wanted!r} is not a {base[1]} type of the vendored spec ({names})"]
        target = candidates[wanted]
        return self._check(target[0], self.specs.definitions[target], value, where)

    def _descendants(self, key: Key) -> list[Key]:
        direct = self.specs.subtypes.get(key, [])
        return direct + [k for child in direct for k in self._descendants(child)]

    def _value(self, key: Key) -> str:
        return str(self.specs.definitions[key].get("x-ms-discriminator-value", key[1]))


def _typed(schema: Any) -> bool:
    """An additionalProperties schema that constrains its values (not the spec's "any value" `{"type": "object"}`)."""
    return isinstance(schema, dict) and (
        "$ref" in schema or "properties" in schema or schema.get("type") not in (None, "object"))


def _scalar_problems(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    problems = []
    enum = schema.get("enum")
    if enum and not schema.get("x-ms-enum", {}).get("modelAsString", False) and value not in enum:
        problems.append(f"{where}: {value!r} is not one of {enum}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            problems.append(f"{where}: {value!r} is not {schema.get('minLength', 0)}..{schema.get('maxLength')} characters long")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} is outside {schema.get('minimum')}..{schema.get('maximum')}")
    return problems


def _relative(path: Path) -> str:
    return path.relative_to(SPECS).as_posix() if path.is_relative_to(SPECS) else path.name

