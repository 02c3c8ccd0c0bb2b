"""Evaluate parsed expressions, and whole JSON values of the factory, over a run's state."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from offline.adf_runner.errors import ExpressionError, UnsupportedFunctionError
from offline.adf_runner.expressions.functions import FUNCTIONS, NOT_SUPPORTED_LOCALLY, to_string
from offline.adf_runner.expressions.parser import (
    Call,
    Index,
    Interpolation,
    Literal,
    Member,
    Node,
    Template,
    parse_template,
)

__all__ = [
    "EvaluationState",
    "evaluate",
    "evaluate_node",
    "evaluate_value",
    "expression_strings",
    "is_expression",
    "template",
    "validate_value",
]

_NO_ITEM = object()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class EvaluationState:
    """What the accessor functions read. Built by the engine for each activity (and each ForEach item).

    `activity_lookup(name)` returns `{"output": ..., "status": ..., "error": ...}` of an activity that has
    run, or None. `variables` is read live (the engine's dict) so SetVariable is seen by later activities."""

    pipeline: Mapping[str, Any] | None = None
    variables: Mapping[str, Any] | None = None
    activity_lookup: Callable[[str], Mapping[str, Any] | None] | None = None
    item: Any = _NO_ITEM
    trigger: Mapping[str, Any] | None = None
    dataset: Mapping[str, Any] | None = None
    linked_service: Mapping[str, Any] | None = None
    now: Callable[[], datetime] = field(default=_utc_now)
    pipeline_name: str | None = None

    def with_item(self, item: Any) -> EvaluationState:
        return replace(self, item=item)

    def current_item(self) -> Any:
        if self.item is _NO_ITEM:
            raise ExpressionError("item() is only available inside a ForEach or a Filter")
        return self.item

    def variable(self, name: str) -> Any:
        # Variable names are case-insensitive in ADF (Microsoft's engine finds `variables('NAMES')`).
        if self.variables is not None and name not in self.variables:
            name = next((key for key in self.variables if key.lower() == name.lower()), name)
        if self.variables is None or name not in self.variables:
            where = f" pipeline `{self.pipeline_name}`" if self.pipeline_name else " this pipeline"
            raise ExpressionError(f"variable `{name}` is not declared in{where}: add it to the pipeline's variables")
        return self.variables[name]

    def activity(self, name: str) -> Any:
        found = self.activity_lookup(name) if self.activity_lookup else None
        if found is None:
            raise ExpressionError(
                f"the output of activity `{name}` can't be referenced since it is either not an ancestor of the "
                "current activity or does not exist"
            )
        return found


def is_expression(value: Any) -> bool:
    """True for a JSON value that needs evaluation (an `@` string, an interpolation or an Expression object)."""
    if isinstance(value, str):
        return value.startswith("@") or "@{" in value
    return isinstance(value, dict) and value.get("type") == "Expression" and isinstance(value.get("value"), str)


@lru_cache(maxsize=4096)
def template(text: str) -> Template:
    """Parse a factory string once (cached: the same strings are evaluated for every ForEach item)."""
    return parse_template(text)


def evaluate(text: str, state: EvaluationState) -> Any:
    """Evaluate one factory string (`@expr`, interpolation, `@@` escape or plain literal)."""
    parsed = template(text)
    try:
        if isinstance(parsed, str):
            return parsed
        if isinstance(parsed, Interpolation):
            return "".join(p if isinstance(p, str) else to_string(evaluate_node(p, state)) for p in parsed.parts)
        return evaluate_node(parsed, state)
    except ExpressionError as exc:
        if exc.expression is None and not isinstance(exc, UnsupportedFunctionError):
            exc.expression = text
        raise


def evaluate_node(node: Node, state: EvaluationState) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Call):
        return _call(node, state)
    if isinstance(node, Member):
        return _member(evaluate_node(node.target, state), node.name, node.safe)
    if isinstance(node, Index):
        return _index(evaluate_node(node.target, state), evaluate_node(node.index, state), node.safe)
    raise AssertionError(node)


def _call(node: Call, state: EvaluationState) -> Any:
    spec = FUNCTIONS.get(node.name.lower())
    if spec is None:
        raise _unsupported(node.name)
    count = len(node.args)
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        expected = (
            f"{spec.min_args}" if spec.max_args == spec.min_args
            else f"at least {spec.min_args}" if spec.max_args is None
            else f"{spec.min_args} to {spec.max_args}"
        )
        raise ExpressionError(f"function `{spec.name}` takes {expected} argument(s), got {count}")
    if spec.lazy:
        thunks = [(lambda arg=arg: evaluate_node(arg, state)) for arg in node.args]
        return spec.impl(state, *thunks)
    return spec.impl(state, *(evaluate_node(arg, state) for arg in node.args))


def _lookup(target: dict[str, Any], name: str) -> tuple[bool, Any]:
    # ADF property names are case-insensitive (`output.Value` finds `value`); an exact match wins.
    if name in target:
        return True, target[name]
    lowered = name.lower()
    for key, value in target.items():
        if key.lower() == lowered:
            return True, value
    return False, None


def _member(target: Any, name: str, safe: bool) -> Any:
    if target is None:
        if safe:
            return None
        raise ExpressionError(f"property `{name}` cannot be selected: the value it is selected from is null (use `?.`)")
    if not isinstance(target, dict):
        raise ExpressionError(f"property `{name}` cannot be selected from a {type(target).__name__} value")
    found, value = _lookup(target, name)
    if not found:
        if safe:
            return None
        available = ", ".join(sorted(target)) or "none"
        raise ExpressionError(f"property `{name}` doesn't exist, available properties are: {available}")
    return value


def _index(target: Any, index: Any, safe: bool) -> Any:
    if target is None:
        if safe:
            return None
        raise ExpressionError(f"cannot index null with `[{to_string(index)}]` (use `?[`)")
    if isinstance(target, list):
        if isinstance(index, bool) or not isinstance(index, int):
            raise ExpressionError(f"an array index must be an integer, got `{to_string(index)}`")
        if not 0 <= index < len(target):
            if safe:
                return None
            raise ExpressionError(f"array index {index} is out of range (the array has {len(target)} items)")
        return target[index]
    if isinstance(target, dict):
        return _member(target, to_string(index), safe)
    raise ExpressionError(f"cannot index a {type(target).__name__} value with `[{to_string(index)}]`")


def evaluate_value(
    value: Any,
    state: EvaluationState,
    path: str = "",
    skip: frozenset[str] = frozenset(),
    where: str | None = None,
) -> Any:
    """Evaluate every expression inside a JSON value. `path` (e.g. `typeProperties`) and `where` (e.g.
    "activity `X`") name the property in errors; keys in `skip` (at the top level) are copied unevaluated
    (nested activities, a Filter's condition).

    `{"value": ..., "type": "Expression"}` becomes the expression's value; a SecureString object stays an
    object with its literal value (ADF does not evaluate secure strings)."""
    try:
        return _evaluate_json(value, state, path, skip)
    except ExpressionError as exc:
        location = f"property `{exc.json_path or path}`"
        raise exc.located(f"{where} {location}" if where else location) from None


def _evaluate_json(value: Any, state: EvaluationState, path: str, skip: frozenset[str]) -> Any:
    try:
        if isinstance(value, str):
            return evaluate(value, state)
        if isinstance(value, dict):
            if value.get("type") == "Expression" and isinstance(value.get("value"), str):
                return evaluate(value["value"], state)
            if value.get("type") == "SecureString":
                return dict(value)
            return {
                key: (item if key in skip else _evaluate_json(item, state, _join(path, key), frozenset()))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [_evaluate_json(item, state, f"{path}[{i}]", frozenset()) for i, item in enumerate(value)]
        return value
    except ExpressionError as exc:
        if exc.json_path is None:
            exc.json_path = path
        raise


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def expression_strings(value: Any, path: str = "", skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """Every (json path, expression text) inside a JSON value, for validation before a run."""
    if isinstance(value, str):
        if is_expression(value):
            yield path, value
    elif isinstance(value, dict):
        if value.get("type") == "Expression" and isinstance(value.get("value"), str):
            yield path, value["value"]
            return
        if value.get("type") == "SecureString":
            return
        for key, item in value.items():
            if key not in skip:
                yield from expression_strings(item, _join(path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from expression_strings(item, f"{path}[{i}]")


def validate_value(value: Any, where: str, path: str = "", skip: frozenset[str] = frozenset()) -> None:
    """Parse every expression in `value` and check every function exists; raise the first problem,
    naming `where` (e.g. "activity `X`") and the property path."""
    for json_path, text in expression_strings(value, path, skip):
        location = f"{where} property `{json_path}`"
        try:
            parsed = template(text)
        except ExpressionError as exc:
            raise exc.located(location) from None
        nodes = parsed.parts if isinstance(parsed, Interpolation) else (parsed,)
        for node in nodes:
            if not isinstance(node, str):
                for name in _function_names(node):
                    if name.lower() not in FUNCTIONS:
                        raise _unsupported(name, text, location)


def _unsupported(name: str, expression: str | None = None, where: str | None = None) -> UnsupportedFunctionError:
    return UnsupportedFunctionError(name, expression, where, NOT_SUPPORTED_LOCALLY.get(name.lower()))


def _function_names(node: Node) -> Iterator[str]:
    if isinstance(node, Call):
        yield node.name
        for arg in node.args:
            yield from _function_names(arg)
    elif isinstance(node, Member):
        yield from _function_names(node.target)
    elif isinstance(node, Index):
        yield from _function_names(node.target)
        yield from _function_names(node.index)
