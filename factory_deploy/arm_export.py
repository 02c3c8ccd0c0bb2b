"""`--export-arm DIR`: the factory as an ARM template, in the shape ADF Studio's "Export ARM template" produces.

`ARMTemplateForFactory.json` has a `factoryName` parameter and a `factoryId` variable; each linked service,
dataset, data flow, pipeline and trigger is a child resource `[concat(parameters('factoryName'), '/<name>')]` whose
`dependsOn` lists what it references; the global parameters are the `globalparameters/default` child. Each
value the environment overrides becomes a parameter named as ADF names them (`<resource>_properties_<path>`),
and every inline secret (a `SecureString`) a `securestring` parameter with no default, so the template never holds
one. As with ADF's export, the factory itself is not in the template (it must exist) and triggers are deployed
stopped: start them after the deployment (Microsoft Learn, "Continuous integration and delivery in Azure Data
Factory", sample pre- and post-deployment script). `ARMTemplateParametersForFactory.json` holds this environment's
values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from factory_deploy.references import edges
from factory_deploy.render import RenderedResource

TEMPLATE_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
PARAMETERS_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
API_VERSION = "2018-06-01"
_TYPE = {"linkedServices": "linkedServices", "datasets": "datasets", "dataflows": "dataflows",
         "pipelines": "pipelines", "triggers": "triggers"}


def arm_template(
    rendered: list[RenderedResource], global_parameters: Mapping[str, Any], factory: str,
    overrides: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(template, parameters file) for the rendered resources (in dependency order) and the global parameters."""
    # ADF Studio writes "metadata": "Data Factory name"; the template schema wants an object there.
    parameters: dict[str, Any] = {
        "factoryName": {"type": "string", "metadata": {"description": "Data Factory name"}, "defaultValue": factory},
    }
    values: dict[str, Any] = {"factoryName": {"value": factory}}
    resources = []
    for resource in rendered:
        properties = _escape(resource.body["properties"])
        for dotted, value in overrides.get(resource.name, {}).items():
            name = f"{resource.name}_properties_{dotted.replace('.', '_')}"
            kind = {str: "string", dict: "object", list: "array", bool: "bool"}.get(type(value), "int")
            parameters[name] = {"type": kind, "defaultValue": value}
            values[name] = {"value": value}
            _put(properties, dotted, f"[parameters('{name}')]")
        for path in _secure_strings(properties, ()):
            name = f"{resource.name}_properties_{'_'.join(path)}"
            parameters[name] = {"type": "securestring"}
            _put(properties, ".".join((*path, "value")), f"[parameters('{name}')]")
        depends = sorted({f"[concat(variables('factoryId'), '/{_TYPE[e.folder]}/{e.name}')]"
                          for e in edges(resource.body["properties"]) if not e.dynamic and e.name != resource.name})
        resources.append({
            "name": f"[concat(parameters('factoryName'), '/{resource.name}')]",
            "type": f"Microsoft.DataFactory/factories/{_TYPE[resource.folder]}",
            "apiVersion": API_VERSION,
            "properties": properties,
            "dependsOn": depends,
        })
    resources.insert(0, {
        "name": "[concat(parameters('factoryName'), '/default')]",
        "type": "Microsoft.DataFactory/factories/globalparameters",
        "apiVersion": API_VERSION,
        "properties": _escape(dict(global_parameters)),
        "dependsOn": [],
    })
    template = {
        "$schema": TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": parameters,
        "variables": {"factoryId": "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]"},
        "resources": resources,
    }
    return template, {"$schema": PARAMETERS_SCHEMA, "contentVersion": "1.0.0.0", "parameters": values}


def write_arm_template(folder: Path, template: dict[str, Any], parameters: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ARMTemplateParametersForFactory.json").write_text(json.dumps(parameters, indent=2) + "\n", encoding="utf-8")
    path = folder / "ARMTemplateForFactory.json"
    path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    return path


def _escape(node: Any) -> Any:
    """A string starting with `[` is an ARM expression; a literal one is written `[[` (ARM template syntax)."""
    if isinstance(node, dict):
        return {k: _escape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_escape(v) for v in node]
    if isinstance(node, str) and node.startswith("["):
        return "[" + node
    return node


def _put(node: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    target: Any = node
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(leaf)] = value
    else:
        target[leaf] = value


def _secure_strings(node: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        if node.get("type") == "SecureString" and "value" in node:
            return [path]
        return [p for key, value in node.items() for p in _secure_strings(value, (*path, key))]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in _secure_strings(value, (*path, str(index)))]
    return []
