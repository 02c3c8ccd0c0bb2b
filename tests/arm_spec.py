"""Validate request bodies against the vendored Microsoft.DataFactory 2018-06-01 REST spec (Swagger 2.0).

What the spec states is enforced: required properties, JSON types, enums that are not extensible
(`x-ms-enum.modelAsString` false), patterns, minimum/maximum, and for a polymorphic definition (`discriminator`)
that the `type` names one of its published subtypes. As in ARM, properties the spec does not list are not refused
(the Data Factory definitions declare `additionalProperties`), and `"type": "object"` without properties means any
JSON value (the spec's `x-ms-format: dfe-*` fields hold expressions or literals).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parent / "arm_specs" / "datafactory-2018-06-01.json"
# Request -> the definition its body must match.
OPERATIONS = {
    "factories PUT": "Factory",
    "globalParameters PUT": "GlobalParameterResource",
    "linkedservices PUT": "LinkedServiceResource",
    "datasets PUT": "DatasetResource",
    "dataflows PUT": "DataFlowResource",
    "pipelines PUT": "PipelineResource",
    "triggers PUT": "TriggerResource",
}
_JSON_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


class SpecValidator:
    def __init__(self, spec_path: Path = SPEC) -> None:
        self.definitions: dict[str, Any] = json.loads(spec_path.read_text(encoding="utf-8"))["definitions"]

    def __call__(self, operation: str, path: str, body: Any) -> list[str]:
        if operation in ("pools PUT", "pools PATCH"):
            return batch_pool_problems(body)
        definition = OPERATIONS.get(operation)
        return [] if definition is None else self.check(definition, body)

    def check(self, definition: str, body: Any) -> list[str]:
        return self._check({"$ref": f"#/definitions/{definition}"}, body, "body")

    def _check(self, schema: dict[str, Any], value: Any, where: str, dispatch: bool = True) -> list[str]:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            definition = self.definitions[name]
            if dispatch and definition.get("discriminator") and isinstance(value, dict):
                return self._polymorphic(name, definition, value, where)
            return self._check(definition, value, where)
        problems: list[str] = []
        for part in schema.get("allOf", []):  # a subtype's base: its own properties, no second dispatch
            problems += self._check(part, value, where, dispatch=False)
        kind = schema.get("type")
        if kind == "object" and not schema.get("properties") and "additionalProperties" not in schema:
            return problems  # "any value" in this spec
        if kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return problems + [f"{where}: expected an integer, got {json.dumps(value)[:40]}"]
        elif kind in _JSON_TYPES and not isinstance(value, _JSON_TYPES[kind]):
            return problems + [f"{where}: expected {kind}, got {type(value).__name__}"]
        enum = schema.get("enum")
        if enum and not schema.get("x-ms-enum", {}).get("modelAsString", False) and value not in enum:
            problems.append(f"{where}: {value!r} is not one of {enum}")
        if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"] or "maximum" in schema and value > schema["maximum"]:
                problems.append(f"{where}: {value} is outside {schema.get('minimum')}..{schema.get('maximum')}")
        if isinstance(value, dict):
            for required in schema.get("required", []):
                if required not in value:
                    problems.append(f"{where}: required property `{required}` is missing")
            listed = schema.get("properties", {})
            for key, item in value.items():
                if key in listed:
                    problems += self._check(listed[key], item, f"{where}.{key}")
                elif isinstance(schema.get("additionalProperties"), dict) and schema["additionalProperties"].get("$ref"):
                    problems += self._check(schema["additionalProperties"], item, f"{where}.{key}")
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                problems += self._check(schema["items"], item, f"{where}[{index}]")
        return problems

    def _polymorphic(self, base: str, definition: dict[str, Any], value: dict[str, Any], where: str) -> list[str]:
        discriminator = definition["discriminator"]
        wanted = value.get(discriminator)
        subtypes = {self.definitions[n].get("x-ms-discriminator-value", n): n for n in self._subtypes(base)}
        if wanted not in subtypes:
            if wanted == base:
                return self._check(definition, value, where, dispatch=False)
            return [f"{where}.{discriminator}: {wanted!r} is not a {base} type of the spec ({', '.join(sorted(subtypes))})"]
        return self._check(self.definitions[subtypes[wanted]], value, where)

    def _subtypes(self, base: str) -> list[str]:
        direct = [n for n, d in self.definitions.items() if {"$ref": f"#/definitions/{base}"} in d.get("allOf", [])]
        return direct + [n for child in direct for n in self._subtypes(child)]


def batch_pool_problems(body: Any) -> list[str]:
    """A Batch pool body checked against the azure-mgmt-batch models, generated from the Microsoft.Batch 2025-06-01
    spec (its openapi.json, 290 kB, is not vendored): every key must be one the spec defines, at every depth."""
    from azure.mgmt.batch import models

    from factory_deploy.sdk_models import unknown_keys

    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        return ["body: a pool needs `properties`"]
    return [f"{p.where}: {p.message}" for p in unknown_keys(models.Pool(body), body, "pool", "body")]
