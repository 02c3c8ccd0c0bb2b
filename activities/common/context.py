"""The Custom activity's context, parsed once from the files Azure Batch puts in the task working directory.

ADF writes ``activity.json`` (the activity with expressions evaluated), ``linkedServices.json`` and
``datasets.json`` (the objects listed in ``referenceObjects``). Business code reads them only through
:class:`ActivityContext`; it never indexes the raw dicts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from activities.common.errors import ActivityConfigError

_Named = TypeVar("_Named", "LinkedService", "Dataset")

ACTIVITY_FILE = "activity.json"
LINKED_SERVICES_FILE = "linkedServices.json"
DATASETS_FILE = "datasets.json"

_EXTENDED = "extended property"
_FIX = "set it in the pipeline's extendedProperties"


@dataclass(frozen=True, repr=False)
class SecureString:
    """A secret value that never shows itself by accident: ``repr``/``str`` are ``***``."""

    value: str

    def reveal(self) -> str:
        """Return the secret; call this only where the value is handed to the service that needs it."""
        return self.value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return "***"

    def __reduce__(self) -> Any:
        # Pickling would carry the value into places (caches, queues, files) it should not go.
        raise TypeError("SecureString cannot be pickled")

    def __copy__(self) -> SecureString:
        return self  # immutable: copies may share it (and must not go through __reduce__)

    def __deepcopy__(self, memo: dict[int, Any]) -> SecureString:
        return self

    def __eq__(self, other: object) -> bool:
        # Compared by value so config objects holding secrets can still be compared in tests,
        # but the value never enters repr() of the comparison failure (repr is ***).
        return isinstance(other, SecureString) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("SecureString", self.value))


@dataclass(frozen=True)
class LinkedService:
    """One entry of linkedServices.json: ``{"name": …, "properties": {"type": …, "typeProperties": {…}}}``."""

    name: str
    type: str
    type_properties: Mapping[str, Any]


@dataclass(frozen=True)
class Dataset:
    """One entry of datasets.json.

    ``{"name": …, "properties": {"type", "linkedServiceName", "typeProperties", "parameters"}}``.
    """

    name: str
    type: str
    linked_service_name: str
    type_properties: Mapping[str, Any]
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ActivityContext:
    """Everything the activity was started with; built by :func:`load_context`."""

    working_dir: Path
    activity_name: str
    command: str
    extended_properties: Mapping[str, Any]
    linked_services: Mapping[str, LinkedService]
    datasets: Mapping[str, Dataset]
    # Files ADF did not write (only linkedServices.json / datasets.json may be absent): lets a later
    # lookup say *why* the object is missing instead of only that it is.
    missing_files: frozenset[str] = frozenset()

    # -- extended properties ---------------------------------------------------------------

    def _get(self, name: str, default: Any, kind: str) -> Any:
        if name in self.extended_properties:
            value = self.extended_properties[name]
            if value is not None:
                return value
        if default is not None:
            return default
        raise ActivityConfigError(
            f"{_EXTENDED} `{name}` is missing from {ACTIVITY_FILE}; {_FIX} ({kind})"
        )

    def get_str(self, name: str, default: str | None = None) -> str:
        """Return a string extended property; a missing one without default is an error."""
        value = self._get(name, default, "a string")
        if isinstance(value, SecureString):
            raise ActivityConfigError(
                f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} is a SecureString; read it with get_secure"
            )
        if not isinstance(value, str):
            raise ActivityConfigError(
                f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be a string, got {_type_name(value)}; {_FIX}"
            )
        return value

    def get_int(self, name: str, default: int | None = None) -> int:
        """Return an integer extended property; accepts a JSON number or a string of digits.

        ADF evaluates ``@pipeline().parameters.x`` of type String to a string, so ``"50"`` is accepted.
        """
        value = self._get(name, default, "an integer")
        if isinstance(value, bool):  # bool is an int subclass; true/false is never a count
            raise ActivityConfigError(
                f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be an integer, got a boolean; {_FIX}"
            )
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ActivityConfigError(
            f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be an integer, got {value!r}; {_FIX}"
        )

    def get_float(self, name: str, default: float | None = None) -> float:
        """Return a number extended property; accepts a JSON number or a numeric string."""
        value = self._get(name, default, "a number")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise ActivityConfigError(
            f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be a number, got {value!r}; {_FIX}"
        )

    def get_list(self, name: str, default: list[Any] | None = None) -> list[Any]:
        """Return a list extended property: a JSON array, or a string holding a JSON array."""
        value = self._get(name, default, "a JSON array")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ActivityConfigError(
                    f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} is a string but not a JSON array "
                    f"({exc.msg}); give a JSON array such as [\"US\", \"GB\"]"
                ) from exc
        if not isinstance(value, (list, tuple)):
            raise ActivityConfigError(
                f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be a JSON array, got {_type_name(value)}; {_FIX}"
            )
        return list(value)

    def get_secure(self, name: str) -> SecureString:
        """Return a secret extended property; a plain string is accepted and wrapped."""
        value = self._get(name, None, "a SecureString")
        if isinstance(value, SecureString):
            return value
        if isinstance(value, str):
            return SecureString(value)
        raise ActivityConfigError(
            f"{_EXTENDED} `{name}` in {ACTIVITY_FILE} must be a SecureString, got {_type_name(value)}; {_FIX}"
        )

    # -- referenced objects ----------------------------------------------------------------

    def linked_service(self, name: str) -> LinkedService:
        """Return the linked service called ``name`` from linkedServices.json."""
        try:
            return self.linked_services[name]
        except KeyError:
            where = self._present_or_missing(LINKED_SERVICES_FILE, self.linked_services)
            raise ActivityConfigError(
                f"linked service `{name}` is not in {where}; "
                "add it to the Custom activity's typeProperties.referenceObjects.linkedServices"
            ) from None

    def dataset(self, name: str) -> Dataset:
        """Return the dataset called ``name`` from datasets.json."""
        try:
            return self.datasets[name]
        except KeyError:
            raise ActivityConfigError(
                f"dataset `{name}` is not in {self._present_or_missing(DATASETS_FILE, self.datasets)}; "
                "add it to the Custom activity's typeProperties.referenceObjects.datasets"
            ) from None

    def _present_or_missing(self, file_name: str, known: Mapping[str, Any]) -> str:
        if file_name in self.missing_files:
            return f"{file_name} ({file_name} does not exist in {self.working_dir})"
        names = ", ".join(sorted(known)) or "none"
        return f"{file_name} (it has: {names})"


def load_context(working_dir: Path | None = None) -> ActivityContext:
    """Parse the three context files of a Batch task working directory.

    Args:
        working_dir: the task working directory; default ``$AZ_BATCH_TASK_WORKING_DIR``, else the cwd.

    Raises:
        ActivityConfigError: a file is missing or not valid JSON, or a property is missing or mistyped.
    """
    if working_dir is None:
        env_dir = os.environ.get("AZ_BATCH_TASK_WORKING_DIR")
        working_dir = Path(env_dir) if env_dir else Path.cwd()
    working_dir = Path(working_dir)
    missing: set[str] = set()

    activity = _read_json(working_dir, ACTIVITY_FILE, required=True)
    activity_obj = _expect_object(activity, ACTIVITY_FILE, "the top level")
    activity_name = _expect_str(activity_obj, "name", ACTIVITY_FILE)
    type_properties = _expect_object(
        activity_obj.get("typeProperties", {}), ACTIVITY_FILE, "`typeProperties`"
    )
    command = type_properties.get("command", "")
    if not isinstance(command, str):
        raise ActivityConfigError(
            f"`typeProperties.command` in {ACTIVITY_FILE} must be a string, got {_type_name(command)}"
        )
    extended = _expect_object(
        type_properties.get("extendedProperties") or {},
        ACTIVITY_FILE,
        "`typeProperties.extendedProperties`",
    )

    linked_services = _read_resources(working_dir, LINKED_SERVICES_FILE, _parse_linked_service, missing)
    datasets = _read_resources(working_dir, DATASETS_FILE, _parse_dataset, missing)

    return ActivityContext(
        working_dir=working_dir,
        activity_name=activity_name,
        command=command,
        extended_properties=_freeze_top(extended),
        linked_services=MappingProxyType(linked_services),
        datasets=MappingProxyType(datasets),
        missing_files=frozenset(missing),
    )


# -- parsing helpers -----------------------------------------------------------------------


def _read_resources(
    working_dir: Path, file_name: str, parse: Callable[[Any, int], _Named], missing: set[str]
) -> dict[str, _Named]:
    """Name -> parsed resource of an optional array file (linkedServices.json, datasets.json).

    A missing file reads as empty and is recorded in `missing`, so a later lookup can say why it failed.
    """
    raw = _read_json(working_dir, file_name, required=False)
    if raw is None:
        missing.add(file_name)
        raw = []
    resources: dict[str, _Named] = {}
    for index, entry in enumerate(_expect_array(raw, file_name)):
        resource = parse(entry, index)
        resources[resource.name] = resource
    return resources


def _read_json(working_dir: Path, file_name: str, *, required: bool) -> Any:
    path = working_dir / file_name
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate a BOM written by Windows tools
    except FileNotFoundError:
        if not required:
            return None
        raise ActivityConfigError(
            f"{file_name} not found in {working_dir}; run the activity with the Batch task working "
            f"directory as cwd (or set AZ_BATCH_TASK_WORKING_DIR)"
        ) from None
    except OSError as exc:
        raise ActivityConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ActivityConfigError(
            f"{file_name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; fix the file"
        ) from exc


def _parse_linked_service(entry: Any, index: int) -> LinkedService:
    where = f"{LINKED_SERVICES_FILE} entry {index}"
    obj = _expect_object(entry, LINKED_SERVICES_FILE, f"entry {index}")
    name = _expect_str(obj, "name", LINKED_SERVICES_FILE, where=where)
    where = f"linked service `{name}` in {LINKED_SERVICES_FILE}"
    properties = _expect_object(obj.get("properties"), LINKED_SERVICES_FILE, f"`properties` of {where}")
    type_ = _expect_str(properties, "type", LINKED_SERVICES_FILE, where=where, prefix="properties.")
    type_properties = _expect_object(
        properties.get("typeProperties", {}), LINKED_SERVICES_FILE, f"`properties.typeProperties` of {where}"
    )
    return LinkedService(name=name, type=type_, type_properties=_freeze_top(type_properties))


def _parse_dataset(entry: Any, index: int) -> Dataset:
    where = f"{DATASETS_FILE} entry {index}"
    obj = _expect_object(entry, DATASETS_FILE, f"entry {index}")
    name = _expect_str(obj, "name", DATASETS_FILE, where=where)
    where = f"dataset `{name}` in {DATASETS_FILE}"
    properties = _expect_object(obj.get("properties"), DATASETS_FILE, f"`properties` of {where}")
    type_ = _expect_str(properties, "type", DATASETS_FILE, where=where, prefix="properties.")
    reference = _expect_object(
        properties.get("linkedServiceName"), DATASETS_FILE, f"`properties.linkedServiceName` of {where}"
    )
    linked_service_name = _expect_str(
        reference, "referenceName", DATASETS_FILE, where=where, prefix="properties.linkedServiceName."
    )
    type_properties = _expect_object(
        properties.get("typeProperties", {}), DATASETS_FILE, f"`properties.typeProperties` of {where}"
    )
    parameters = _expect_object(
        properties.get("parameters") or {}, DATASETS_FILE, f"`properties.parameters` of {where}"
    )
    return Dataset(
        name=name,
        type=type_,
        linked_service_name=linked_service_name,
        type_properties=_freeze_top(type_properties),
        parameters=_freeze_top(parameters),
    )


def _expect_object(value: Any, file_name: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ActivityConfigError(
            f"{what} in {file_name} must be a JSON object, got {_type_name(value)}; fix the file"
        )
    return value


def _expect_array(value: Any, file_name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ActivityConfigError(
            f"{file_name} must be a JSON array of {{\"name\", \"properties\"}} objects, got {_type_name(value)}"
        )
    return value


def _expect_str(
    obj: Mapping[str, Any], key: str, file_name: str, *, where: str | None = None, prefix: str = ""
) -> str:
    value = obj.get(key)
    location = f"{where or file_name}"
    if value is None:
        raise ActivityConfigError(f"property `{prefix}{key}` is missing from {location}; add it")
    if not isinstance(value, str) or not value:
        raise ActivityConfigError(
            f"property `{prefix}{key}` of {location} must be a non-empty string, got {_type_name(value)}"
        )
    return value


def _wrap_secure(value: Any) -> Any:
    """Replace every ``{"type": "SecureString", "value": …}`` (at any depth) by a :class:`SecureString`."""
    if isinstance(value, dict):
        if value.get("type") == "SecureString" and isinstance(value.get("value"), str):
            return SecureString(value["value"])
        return {key: _wrap_secure(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wrap_secure(item) for item in value]
    return value


def _freeze_top(value: dict[str, Any]) -> Mapping[str, Any]:
    # The top level is read-only; nested values stay plain dicts/lists (copies of the parsed JSON)
    # so callers can use ordinary isinstance(…, dict) checks on e.g. Key Vault references.
    return MappingProxyType(_wrap_secure(value))


# JSON's kinds as an error message names them, bool before int (a bool is an int in Python).
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"), (bool, "a boolean"), ((int, float), "a number"), (str, "a string"), (list, "an array"),
    (dict, "an object"), (SecureString, "a SecureString"),
)


def _type_name(value: Any) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


__all__ = [
    "ACTIVITY_FILE",
    "DATASETS_FILE",
    "LINKED_SERVICES_FILE",
    "ActivityContext",
    "Dataset",
    "LinkedService",
    "SecureString",
    "load_context",
]
