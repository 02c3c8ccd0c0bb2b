"""Load `config/<env>.json` into `EnvironmentConfig`, naming the file and key on any problem."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from factory_deploy.env_config.errors import ConfigError
from factory_deploy.env_config.model import MAY_BE_EMPTY, EnvironmentConfig

ENVIRONMENTS = ("local", "dev", "prod")
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def load_config(environment: str, config_dir: Path | None = None) -> EnvironmentConfig:
    """Read and type-check the config of one environment."""
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment `{environment}`: choose one of {', '.join(ENVIRONMENTS)}")
    path = (config_dir or DEFAULT_CONFIG_DIR) / f"{environment}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found: create it (copy config/dev.json and edit the names)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    config = _build(EnvironmentConfig, raw, path, "")
    if config.environment != environment:
        raise ConfigError(f"{path}: key `environment` is `{config.environment}`, expected `{environment}`")
    return config


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _build(cls: type, raw: Any, path: Path, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: `{where or '<root>'}` must be an object, got {_kind(raw)}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        key = _camel(field.name)
        dotted = f"{where}.{key}" if where else key
        if key not in raw and field.default is not dataclasses.MISSING:
            values[field.name] = field.default  # optional keys (newer settings) default as documented
            continue
        if key not in raw:
            raise ConfigError(f"{path}: key `{dotted}` is missing; add it (see config/dev.json for an example)")
        values[field.name] = _convert(hints[field.name], raw[key], path, dotted, may_be_empty=MAY_BE_EMPTY in field.metadata)
    unknown = sorted(set(raw) - {_camel(f.name) for f in dataclasses.fields(cls)})
    if unknown:
        prefix = f"{where}." if where else ""
        names = ", ".join(f"`{prefix}{key}`" for key in unknown)
        raise ConfigError(f"{path}: unknown key(s) {names}; remove them or fix the spelling")
    return cls(**values)


def _convert(hint: Any, value: Any, path: Path, dotted: str, *, may_be_empty: bool = False) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, path, dotted)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if isinstance(item_type, type) and dataclasses.is_dataclass(item_type) and isinstance(value, list):
            return tuple(_build(item_type, item, path, f"{dotted}[{index}]") for index, item in enumerate(value))
        if not isinstance(value, list) or not all(_is(item_type, v) for v in value):
            raise ConfigError(f"{path}: key `{dotted}` must be a list of {item_type.__name__}, got {_kind(value)}")
        return tuple(value)
    if isinstance(hint, type) and not _is(hint, value):
        raise ConfigError(f"{path}: key `{dotted}` must be {hint.__name__}, got {_kind(value)}")
    if hint is str and not value.strip() and not may_be_empty:
        raise ConfigError(f"{path}: key `{dotted}` is empty")
    return value


def _is(expected: type, value: Any) -> bool:
    # bool is an int in Python; a config that says `true` where a count belongs is a mistake.
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


