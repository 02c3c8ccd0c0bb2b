"""Limits and structural rules Azure Data Factory enforces, as pure checks on the factory's JSON.

Deploy runs them before publishing; the local runner at factory load (and the run-time ones while running), so a
factory that breaks one fails on this machine with the rule, not in Azure. Every message is one line that names the
resource and the limit. Sources (Microsoft Learn):
- "Azure subscription and service limits", Azure Data Factory limits (MicrosoftDocs/azure-docs
  includes/azure-data-factory-limits.md): activities per pipeline (inner activities of containers included) 120,
  parameters per pipeline 50, ForEach parallelism 50 and items 100,000, characters per expression 8,192, maximum
  timeout for activity runs 7 days, bytes per object 200 KB for pipelines and 100 KB for datasets and linked
  services, 896 KB per activity-run payload ("the activity configuration, the associated dataset(s) and linked
  service(s) configurations").
- "ForEach activity", Limitations: no ForEach inside a ForEach or an Until; batchCount at most 50.
- "Nested activities": If and Switch may sit inside ForEach or Until, not inside If or Switch; ForEach and Until
  support a single level of nesting; a Validation activity cannot be nested.
- "Pipelines and activities": an activity name has at most 55 characters, starts with a letter, a number or `_`
  and holds none of `. + ? / < > * % & : \\`; policy.timeout is a d.hh:mm:ss timespan (the 2018-06-01 REST spec's
  pattern `((\\d+)\\.)?(\\d\\d):(60|([0-5][0-9])):(60|([0-5][0-9]))`, used for every activity type).
- "Visually monitor Azure Data Factory", Monitor pipeline runs / user properties (MicrosoftDocs/azure-docs
  articles/data-factory/monitor-visually.md): "You can only promote up to five pipeline activity properties as user
  properties." Each is `{"name", "value"}` with a string value or an expression with resultType string (2018-06-01
  spec, UserProperty).
- "Use custom activities": customOutput (outputs.json) at most 2 MB. The Batch linked service's storage and a
  Custom activity's resourceLinkedService hold task files that Batch reads through a SAS, which needs account-key
  or SAS credentials ("Cannot create Shared Access Signature unless Account Key credentials are used" with a
  managed-identity-only Blob linked service), so they must be connection-string, SAS or account-key linked services.

Not checked: the "minimum timeout for pipeline activity runs" row (10 min) of the limits table, which the policy
reference does not state and which local tests of timeouts could not meet; the limits page names no limit on the
number of variables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

__all__ = [
    "ACTIVITY_PAYLOAD_MAX_BYTES",
    "CUSTOM_OUTPUT_MAX_BYTES",
    "FOREACH_MAX_BATCH_COUNT",
    "FOREACH_MAX_ITEMS",
    "TIMESPAN_PATTERN",
    "check_activity_payload",
    "check_factory_limits",
    "check_foreach_items",
]

MAX_ACTIVITIES_PER_PIPELINE = 120
MAX_PARAMETERS_PER_PIPELINE = 50
FOREACH_MAX_BATCH_COUNT = 50
FOREACH_MAX_ITEMS = 100_000
MAX_EXPRESSION_CHARS = 8_192
MAX_ACTIVITY_TIMEOUT = timedelta(days=7)
PIPELINE_MAX_BYTES = 200 * 1024
DATASET_LINKED_SERVICE_MAX_BYTES = 100 * 1024
ACTIVITY_PAYLOAD_MAX_BYTES = 896 * 1024
CUSTOM_OUTPUT_MAX_BYTES = 2 * 1024 * 1024
MAX_ACTIVITY_NAME = 55
MAX_USER_PROPERTIES = 5

# The 2018-06-01 spec's pattern for every timespan property (policy.timeout, an Until's timeout, httpRequestTimeout).
TIMESPAN_PATTERN = re.compile(r"^((\d+)\.)?(\d\d):(60|([0-5][0-9])):(60|([0-5][0-9]))$")
_NAME_FORBIDDEN = set('.+?/<>*%&:\\')
_LOOPS = {"ForEach", "Until"}
_BRANCHES = {"IfCondition", "Switch"}
_NESTED_KEYS = ("activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities")
# Blob linked service properties that carry a key or a SAS (AzureBlobStorage typeProperties, 2018-06-01 spec).
_KEY_PROPERTIES = ("connectionString", "sasUri", "accountKey")


def check_factory_limits(resources: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Every limit the `(folder, {"name", "properties"})` resources break, one line each (empty: none)."""
    resources = list(resources)
    problems: list[str] = []
    linked_services = {body["name"]: body for folder, body in resources if folder == "linkedServices"}
    for folder, body in resources:
        name = body.get("name", "?")
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if folder == "pipelines":
            if size > PIPELINE_MAX_BYTES:
                problems.append(f"pipeline `{name}` is {size} bytes; ADF's limit per pipeline object is {PIPELINE_MAX_BYTES}")
            problems += _pipeline_problems(name, body.get("properties") or {}, linked_services)
        elif folder in ("datasets", "linkedServices") and size > DATASET_LINKED_SERVICE_MAX_BYTES:
            kind = "dataset" if folder == "datasets" else "linked service"
            problems.append(f"{kind} `{name}` is {size} bytes; ADF's limit per {kind} object is {DATASET_LINKED_SERVICE_MAX_BYTES}")
        if folder == "linkedServices" and (body.get("properties") or {}).get("type") == "AzureBatch":
            reference = ((body["properties"].get("typeProperties") or {}).get("linkedServiceName") or {})
            problems += _batch_storage_problems(f"AzureBatch linked service `{name}`", "linkedServiceName", reference,
                                                linked_services)
    return problems


def check_activity_payload(activity: str, payload: Any) -> str | None:
    """The run-time payload limit: `payload` is what the activity run carries (its evaluated configuration and
    the configurations of its datasets and linked services)."""
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))
    if size > ACTIVITY_PAYLOAD_MAX_BYTES:
        return (f"activity `{activity}`: the activity-run payload is {size} bytes; ADF's limit is "
                f"{ACTIVITY_PAYLOAD_MAX_BYTES} (896 KB): pass large values through storage")
    return None


def check_foreach_items(activity: str, count: int) -> str | None:
    if count > FOREACH_MAX_ITEMS:
        return f"ForEach `{activity}`: {count} items; ADF's limit is {FOREACH_MAX_ITEMS} items per ForEach"
    return None


def user_properties_problems(where: str, value: Any) -> list[str]:
    """userProperties: a list of at most five `{"name": <text>, "value": <string or expression>}`."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [f"{where}: userProperties must be a list of {{\"name\", \"value\"}} objects"]
    if len(value) > MAX_USER_PROPERTIES:
        return [f"{where} has {len(value)} userProperties; ADF promotes at most {MAX_USER_PROPERTIES} (remove "
                f"{len(value) - MAX_USER_PROPERTIES})"]
    problems: list[str] = []
    names: set[str] = set()
    for item in value:
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name or "value" not in item:
            problems.append(f"{where}: every user property needs a non-empty \"name\" and a \"value\"")
        elif not isinstance(item["value"], str | Mapping):
            problems.append(f"{where}: user property `{name}` must be a string or an expression (resultType string)")
        elif name in names:
            problems.append(f"{where}: user property `{name}` appears twice")
        else:
            names.add(name)
    return problems


def timeout_problem(where: str, value: Any) -> str | None:
    """policy.timeout: a literal d.hh:mm:ss of at most 7 days (an expression is checked when it is evaluated)."""
    if value is None or isinstance(value, Mapping):
        return None
    match = TIMESPAN_PATTERN.match(value) if isinstance(value, str) else None
    if match is None:
        return f"{where}: policy.timeout {value!r} is not a d.hh:mm:ss timespan (e.g. 0.02:00:00)"
    days, hours, minutes, seconds = int(match[2] or 0), int(match[3]), int(match[4]), int(match[6])
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if total > MAX_ACTIVITY_TIMEOUT or hours > 23:
        return f"{where}: policy.timeout {value} is beyond ADF's maximum of 7.00:00:00 (hours at most 23)"
    return None


def _pipeline_problems(pipeline: str, properties: Mapping[str, Any], linked_services: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    parameters = properties.get("parameters") or {}
    if len(parameters) > MAX_PARAMETERS_PER_PIPELINE:
        problems.append(f"pipeline `{pipeline}` has {len(parameters)} parameters; ADF's limit is {MAX_PARAMETERS_PER_PIPELINE}")
    activities = list(_walk(properties.get("activities") or [], ()))
    if len(activities) > MAX_ACTIVITIES_PER_PIPELINE:
        problems.append(
            f"pipeline `{pipeline}` has {len(activities)} activities (inner activities included); ADF's limit is "
            f"{MAX_ACTIVITIES_PER_PIPELINE}"
        )
    for activity, ancestors in activities:
        name, kind = str(activity.get("name", "?")), activity.get("type")
        where = f"activity `{name}` in pipeline `{pipeline}`"
        problems += _name_problems(where, name)
        problems += _nesting_problems(where, kind, ancestors)
        problems += user_properties_problems(where, activity.get("userProperties"))
        problem = timeout_problem(where, (activity.get("policy") or {}).get("timeout"))
        if problem:
            problems.append(problem)
        type_properties = activity.get("typeProperties") or {}
        if kind == "ForEach":
            batch_count = type_properties.get("batchCount")
            if batch_count is not None and (not isinstance(batch_count, int) or not 1 <= batch_count <= FOREACH_MAX_BATCH_COUNT):
                problems.append(f"ForEach {where}: batchCount {batch_count!r} must be 1..{FOREACH_MAX_BATCH_COUNT}")
        if kind == "Custom" and type_properties.get("resourceLinkedService"):
            problems += _batch_storage_problems(where, "resourceLinkedService", type_properties["resourceLinkedService"],
                                                linked_services)
    for path, text in _expressions(properties, "properties"):
        if len(text) > MAX_EXPRESSION_CHARS:
            problems.append(
                f"pipeline `{pipeline}`: the expression at {path} has {len(text)} characters; ADF's limit is "
                f"{MAX_EXPRESSION_CHARS}"
            )
    return problems


def _walk(activities: list[Any], ancestors: tuple[str, ...]) -> Iterator[tuple[Mapping[str, Any], tuple[str, ...]]]:
    for activity in activities:
        if not isinstance(activity, Mapping):
            continue
        yield activity, ancestors
        type_properties = activity.get("typeProperties") or {}
        inner = ancestors + (str(activity.get("type")),)
        for key in _NESTED_KEYS:
            yield from _walk(type_properties.get(key) or [], inner)
        for case in type_properties.get("cases") or []:
            if isinstance(case, Mapping):
                yield from _walk(case.get("activities") or [], inner)


def _name_problems(where: str, name: str) -> list[str]:
    if len(name) > MAX_ACTIVITY_NAME:
        return [f"{where}: the name has {len(name)} characters; ADF allows {MAX_ACTIVITY_NAME}"]
    bad = sorted(set(name) & _NAME_FORBIDDEN)
    if bad or not (name[:1].isalnum() or name[:1] == "_"):
        return [f"{where}: an activity name starts with a letter, a number or _ and holds none of . + ? / < > * % & : \\"]
    return []


def _nesting_problems(where: str, kind: Any, ancestors: tuple[str, ...]) -> list[str]:
    if kind in _LOOPS and _LOOPS.intersection(ancestors):
        return [f"{where}: a {kind} cannot be nested in a ForEach or Until (ADF supports one level of loops; "
                "move the inner loop to a pipeline run by Execute Pipeline)"]
    if kind in _BRANCHES and _BRANCHES.intersection(ancestors):
        return [f"{where}: a {kind} cannot be nested in an If Condition or Switch (use Execute Pipeline)"]
    if kind == "Validation" and ancestors:
        return [f"{where}: a Validation activity cannot be nested in a {ancestors[-1]}"]
    return []


def _batch_storage_problems(where: str, field: str, reference: Any, linked_services: Mapping[str, Any]) -> list[str]:
    name = reference.get("referenceName") if isinstance(reference, Mapping) else None
    target = linked_services.get(name) if isinstance(name, str) else None
    if target is None:
        return []  # a dangling reference is the reference check's to report
    properties = target.get("properties") or {}
    type_properties = properties.get("typeProperties") or {}
    endpoint = str(type_properties.get("serviceEndpoint") or "")
    if properties.get("type") != "AzureBlobStorage":
        return [f"{where}: {field} `{name}` must be an AzureBlobStorage linked service"]
    if any(type_properties.get(key) for key in _KEY_PROPERTIES) or endpoint.startswith("file:"):
        return []  # file:///: the runner's local folder standing in for a key-based account
    return [
        f"{where}: {field} `{name}` authenticates without an account key or SAS; Batch task files need one "
        "(\"Cannot create Shared Access Signature unless Account Key credentials are used\"): use a linked service "
        "with a connectionString from Key Vault"
    ]


def _expressions(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every expression string (`@...`, `...@{...}...`) under `value`, with its path."""
    if isinstance(value, str):
        if (value.startswith("@") and not value.startswith("@@")) or "@{" in value:
            yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _expressions(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _expressions(item, f"{path}[{index}]")
