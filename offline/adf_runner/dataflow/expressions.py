"""The data flow expression language, two ways: evaluated in Python (parameters, option values, the
``match()`` conditions of column patterns) and compiled to DuckDB SQL (row expressions of derive and filter).

Only the functions in ``FUNCTIONS`` exist locally; ``unknown_functions`` lists the others an expression
calls, so the engine can refuse a data flow before it runs. Each function has a Python implementation, a
SQL one, or both; using it where its side is missing is refused the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from offline.adf_runner.dataflow.script import (
    Array,
    Assign,
    Binary,
    CacheCall,
    Call,
    Capture,
    Column,
    ColumnGroup,
    Current,
    Expr,
    Field,
    Index,
    Interpolated,
    LambdaVar,
    Literal,
    MapEntry,
    Param,
    Typed,
    TypeRef,
    Unary,
    walk,
)

__all__ = [
    "FUNCTIONS",
    "SCALAR_TYPES",
    "Compiled",
    "ExpressionFailure",
    "SqlEnv",
    "ValueEnv",
    "cast_value",
    "compile_sql",
    "dfs_type",
    "duckdb_type",
    "evaluate",
    "sql_literal",
    "unknown_functions",
    "unsupported_syntax",
]

# Calls that are structure of a transformation, not functions (checked by the transformation itself).
STRUCTURAL = frozenset({"mapColumn", "each", "match", "output", "input", "partitionBy"})


class ExpressionFailure(Exception):
    """An expression cannot be evaluated or compiled; the engine adds the data flow and transformation."""


@dataclass(frozen=True)
class Compiled:
    sql: str
    type: str  # data flow type name (string, integer, ...), "any" when unknown


@dataclass(frozen=True)
class ValueEnv:
    """What a Python-evaluated expression sees: parameters, and in a pattern the column's metadata."""

    parameters: Mapping[str, Any]
    columns: Mapping[str, Any] | None = None  # name/type/position inside match()
    current: Any = None


@dataclass(frozen=True)
class SqlEnv:
    """What a SQL-compiled expression sees: the stream's columns (name -> compiled reference)."""

    columns: Mapping[str, Compiled]
    parameters: Mapping[str, Any]
    current: Compiled | None = None
    drifted: frozenset[str] = frozenset()  # reachable only through byName()/byPosition() or a pattern


# --- types -----------------------------------------------------------------------------------------------------

_DFS_TO_DUCKDB = {
    "string": "VARCHAR", "integer": "INTEGER", "long": "BIGINT", "short": "SMALLINT", "byte": "TINYINT",
    "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}
_DUCKDB_TO_DFS = {
    "VARCHAR": "string", "INTEGER": "integer", "BIGINT": "long", "SMALLINT": "short", "TINYINT": "byte",
    "DOUBLE": "double", "FLOAT": "float", "BOOLEAN": "boolean", "DATE": "date", "BLOB": "binary",
    "UTINYINT": "short", "USMALLINT": "integer", "UINTEGER": "long", "UBIGINT": "decimal", "HUGEINT": "decimal",
}


SCALAR_TYPES = (*_DFS_TO_DUCKDB, "decimal")


def duckdb_type(type_ref: TypeRef) -> str:
    if type_ref.name == "decimal":
        precision, scale = (type_ref.args + (38, 18))[:2] if type_ref.args else (38, 18)
        base = f"DECIMAL({precision}, {scale})"
    elif type_ref.name in _DFS_TO_DUCKDB:
        base = _DFS_TO_DUCKDB[type_ref.name]
    else:
        raise ExpressionFailure(f"type `{type_ref}` is not supported by the local runner")
    return base + "[]" * type_ref.array_depth


def dfs_type(duckdb_name: str) -> str:
    """The data flow type name of a DuckDB column type (what ``type`` is inside ``match()``)."""
    text = duckdb_name.upper()
    if text.endswith("[]"):
        return dfs_type(duckdb_name[:-2]) + "[]"
    if text.startswith("TIMESTAMP"):
        return "timestamp"
    if text.startswith("DECIMAL"):
        return "decimal"
    if text.startswith("STRUCT"):
        return "complex"
    if text.startswith("MAP"):
        return "map"
    return _DUCKDB_TO_DFS.get(text, "any")


def cast_value(value: Any, type_ref: TypeRef, what: str) -> Any:
    """A parameter value as its declared type (``what`` names it in errors)."""
    if value is None or type_ref.array_depth:
        return value
    try:
        name = type_ref.name
        if name == "string":
            return value if isinstance(value, str) else _to_string(value)
        if name in ("integer", "long", "short", "byte"):
            return int(value)
        if name in ("double", "float"):
            return float(value)
        if name == "decimal":
            return Decimal(str(value))
        if name == "boolean":
            return value if isinstance(value, bool) else str(value).strip().lower() == "true"
        if name == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if name == "timestamp":
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ExpressionFailure(f"{what}: {value!r} is not a {type_ref}") from exc
    raise ExpressionFailure(f"{what}: type `{type_ref}` is not supported by the local runner")


def sql_literal(value: Any) -> Compiled:
    if value is None:
        return Compiled("NULL", "any")
    if isinstance(value, bool):
        return Compiled("TRUE" if value else "FALSE", "boolean")
    if isinstance(value, int):
        return Compiled(str(value), "integer" if -(2**31) <= value < 2**31 else "long")
    if isinstance(value, (float, Decimal)):
        return Compiled(repr(float(value)) if isinstance(value, float) else str(value), "double")
    if isinstance(value, datetime):
        return Compiled(f"TIMESTAMP '{value.isoformat(sep=' ')}'", "timestamp")
    if isinstance(value, date):
        return Compiled(f"DATE '{value.isoformat()}'", "date")
    if isinstance(value, list):
        return Compiled("[" + ", ".join(sql_literal(v).sql for v in value) + "]", "any")
    return Compiled("'" + str(value).replace("'", "''") + "'", "string")


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# --- functions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    python: Callable[..., Any] | None = None
    sql: Callable[[list[Compiled]], Compiled] | None = None


def _null_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        return None if any(a is None for a in args) else fn(*args)

    return wrapped


def _sql_call(name: str, result: str) -> Callable[[list[Compiled]], Compiled]:
    return lambda args: Compiled(f"{name}({', '.join(a.sql for a in args)})", result)


def _sql_cast(target: str, result: str) -> Callable[[list[Compiled]], Compiled]:
    return lambda args: Compiled(f"TRY_CAST({args[0].sql} AS {target})", result)


def _text(args: list[Compiled]) -> list[str]:
    return [a.sql if a.type == "string" else f"CAST({a.sql} AS VARCHAR)" for a in args]


def _iif_sql(args: list[Compiled]) -> Compiled:
    otherwise = args[2].sql if len(args) > 2 else "NULL"
    return Compiled(f"CASE WHEN {args[0].sql} THEN {args[1].sql} ELSE {otherwise} END", args[1].type)


def _case_sql(args: list[Compiled]) -> Compiled:
    pairs = [f"WHEN {args[i].sql} THEN {args[i + 1].sql}" for i in range(0, len(args) - 1, 2)]
    otherwise = f" ELSE {args[-1].sql}" if len(args) % 2 else ""
    return Compiled(f"CASE {' '.join(pairs)}{otherwise} END", args[1].type)


def _case_py(*args: Any) -> Any:
    for i in range(0, len(args) - 1, 2):
        if args[i]:
            return args[i + 1]
    return args[-1] if len(args) % 2 else None


def _like_py(text: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("concat", 1, None, _null_safe(lambda *a: "".join(_to_string(v) for v in a)),
                     lambda a: Compiled("(" + " || ".join(_text(a)) + ")", "string")),
        FunctionSpec("toString", 1, 1, _null_safe(_to_string), lambda a: Compiled(_text(a)[0], "string")),
        FunctionSpec("toInteger", 1, 1, _null_safe(int), _sql_cast("INTEGER", "integer")),
        FunctionSpec("toLong", 1, 1, _null_safe(int), _sql_cast("BIGINT", "long")),
        FunctionSpec("toShort", 1, 1, _null_safe(int), _sql_cast("SMALLINT", "short")),
        FunctionSpec("toDouble", 1, 1, _null_safe(float), _sql_cast("DOUBLE", "double")),
        FunctionSpec("toFloat", 1, 1, _null_safe(float), _sql_cast("FLOAT", "float")),
        FunctionSpec("toBoolean", 1, 1, _null_safe(lambda v: v if isinstance(v, bool) else str(v).lower() == "true"),
                     _sql_cast("BOOLEAN", "boolean")),
        FunctionSpec("toDate", 1, 1, _null_safe(lambda v: v if isinstance(v, date) else date.fromisoformat(str(v))),
                     _sql_cast("DATE", "date")),
        FunctionSpec("toTimestamp", 1, 1, None, _sql_cast("TIMESTAMP", "timestamp")),
        FunctionSpec("isNull", 1, 1, lambda v: v is None, lambda a: Compiled(f"({a[0].sql} IS NULL)", "boolean")),
        FunctionSpec("coalesce", 1, None, lambda *a: next((v for v in a if v is not None), None),
                     lambda a: Compiled(f"coalesce({', '.join(x.sql for x in a)})", a[0].type)),
        FunctionSpec("iif", 2, 3, lambda c, t, f=None: t if c else f, _iif_sql),
        FunctionSpec("case", 2, None, _case_py, _case_sql),
        FunctionSpec("equals", 2, 2, lambda a, b: a == b, lambda a: Compiled(f"({a[0].sql} = {a[1].sql})", "boolean")),
        FunctionSpec("not", 1, 1, lambda v: None if v is None else not v, lambda a: Compiled(f"(NOT {a[0].sql})", "boolean")),
        FunctionSpec("and", 2, 2, lambda a, b: a and b, lambda a: Compiled(f"({a[0].sql} AND {a[1].sql})", "boolean")),
        FunctionSpec("or", 2, 2, lambda a, b: a or b, lambda a: Compiled(f"({a[0].sql} OR {a[1].sql})", "boolean")),
        FunctionSpec("true", 0, 0, lambda: True, lambda a: Compiled("TRUE", "boolean")),
        FunctionSpec("false", 0, 0, lambda: False, lambda a: Compiled("FALSE", "boolean")),
        FunctionSpec("lower", 1, 1, _null_safe(str.lower), _sql_call("lower", "string")),
        FunctionSpec("upper", 1, 1, _null_safe(str.upper), _sql_call("upper", "string")),
        FunctionSpec("trim", 1, 1, _null_safe(str.strip), _sql_call("trim", "string")),
        FunctionSpec("ltrim", 1, 1, _null_safe(str.lstrip), _sql_call("ltrim", "string")),
        FunctionSpec("rtrim", 1, 1, _null_safe(str.rstrip), _sql_call("rtrim", "string")),
        FunctionSpec("length", 1, 1, _null_safe(len), _sql_call("length", "integer")),
        FunctionSpec("startsWith", 2, 2, _null_safe(str.startswith), _sql_call("starts_with", "boolean")),
        FunctionSpec("endsWith", 2, 2, _null_safe(str.endswith), _sql_call("ends_with", "boolean")),
        FunctionSpec("instr", 2, 2, _null_safe(lambda s, sub: s.find(sub) + 1), _sql_call("instr", "integer")),
        FunctionSpec("substring", 2, 3, _null_safe(lambda s, start, n=None: s[start - 1: None if n is None else start - 1 + n]),
                     _sql_call("substring", "string")),
        FunctionSpec("replace", 3, 3, _null_safe(str.replace), _sql_call("replace", "string")),
        FunctionSpec("left", 2, 2, _null_safe(lambda s, n: s[:n]), _sql_call("left", "string")),
        FunctionSpec("right", 2, 2, _null_safe(lambda s, n: s[-n:] if n else ""), _sql_call("right", "string")),
        FunctionSpec("like", 2, 2, _null_safe(_like_py), lambda a: Compiled(f"({a[0].sql} LIKE {a[1].sql})", "boolean")),
        FunctionSpec("regexMatch", 2, 2, _null_safe(lambda s, p: re.search(p, s) is not None),
                     _sql_call("regexp_matches", "boolean")),
        FunctionSpec("in", 2, 2, lambda items, v: v in (items or []),
                     lambda a: Compiled(f"list_contains({a[0].sql}, {a[1].sql})", "boolean")),
        FunctionSpec("year", 1, 1, None, _sql_call("year", "integer")),
        FunctionSpec("month", 1, 1, None, _sql_call("month", "integer")),
        FunctionSpec("dayOfMonth", 1, 1, None, _sql_call("day", "integer")),
        FunctionSpec("abs", 1, 1, _null_safe(abs), _sql_call("abs", "any")),
        FunctionSpec("round", 1, 2, _null_safe(round), _sql_call("round", "double")),
        FunctionSpec("byName", 1, 1),  # a column by its name: compiled by compile_sql itself
        FunctionSpec("byPosition", 1, 1),  # a column by its 1-based position: compiled by compile_sql itself
        FunctionSpec("currentDate", 0, 0, None, lambda a: Compiled("current_date", "date")),
        FunctionSpec("currentTimestamp", 0, 0, None,
                     lambda a: Compiled("CAST(get_current_timestamp() AT TIME ZONE 'UTC' AS TIMESTAMP)", "timestamp")),
    )
}


def unknown_functions(expr: Expr, allowed_structural: frozenset[str] = frozenset()) -> Iterator[str]:
    """Names of functions ``expr`` calls that the local runner does not implement."""
    for node in walk(expr):
        if isinstance(node, Call) and node.name not in FUNCTIONS and node.name not in allowed_structural:
            yield node.name


def unsupported_syntax(expr: Expr) -> Iterator[str]:
    """The constructs of ``expr`` that parse as data flow script but that this engine does not evaluate, named."""
    for node in walk(expr):
        if isinstance(node, Column) and node.stream is not None:
            yield f"stream-qualified column `{node.stream}@{node.name}` (a column of one input of a join, lookup, ...)"
        elif isinstance(node, Typed) and node.op == "?":
            yield f"`? {node.type}` (parse/stringify a complex type)"
        elif isinstance(node, CacheCall):
            yield f"cached lookup `{node.sink}#{node.method}()`"
        elif isinstance(node, LambdaVar):
            yield f"`#{node.name}` (higher-order functions)"
        elif isinstance(node, Field):
            yield f"member `.{node.name}` of a complex column (hierarchical column access)"
        elif isinstance(node, Capture):
            yield f"`${node.index}` (a regular-expression group of a rule-based mapping)"
        elif type(node) in _NOT_EVALUATED:
            yield _NOT_EVALUATED[type(node)]


_NOT_EVALUATED: dict[type, str] = {
    ColumnGroup: "column group `@(...)` (building a complex column)",
    MapEntry: "map literal `key -> value`",
    Interpolated: 'string interpolation `"...{...}..."`',
}


def _check_arity(spec: FunctionSpec, count: int) -> None:
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        expected = str(spec.min_args) if spec.max_args == spec.min_args else (
            f"{spec.min_args} or more" if spec.max_args is None else f"{spec.min_args} to {spec.max_args}")
        raise ExpressionFailure(f"function `{spec.name}` takes {expected} argument(s), got {count}")


def _function(name: str) -> FunctionSpec:
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise ExpressionFailure(f"function `{name}` is not supported by the local runner")
    return spec


# --- Python evaluation -----------------------------------------------------------------------------------------


def evaluate(expr: Expr, env: ValueEnv) -> Any:
    """The value of ``expr`` (parameters, option values, match() conditions)."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Param):
        if expr.name not in env.parameters:
            raise ExpressionFailure(f"parameter `${expr.name}` is not declared in the data flow's parameters{{...}}")
        return env.parameters[expr.name]
    if isinstance(expr, Current):
        if env.current is None:
            raise ExpressionFailure("`$$` is only defined inside a column pattern (each(match(...), ...))")
        return env.current
    if isinstance(expr, Column):
        if env.columns is None or expr.name not in env.columns:
            allowed = ", ".join(env.columns) if env.columns else "none here (use $parameters)"
            raise ExpressionFailure(f"`{expr.name}` cannot be evaluated here; names available: {allowed}")
        return env.columns[expr.name]
    if isinstance(expr, Array):
        return [evaluate(item, env) for item in expr.items]
    if isinstance(expr, Index):
        container, index = evaluate(expr.expr, env), evaluate(expr.index, env)
        return None if container is None or index is None else container[int(index) - 1]  # 1-based
    if isinstance(expr, Unary):
        value = evaluate(expr.operand, env)
        if value is None:
            return None
        return (not value) if expr.op == "!" else -value
    if isinstance(expr, Binary):
        return _binary_value(expr.op, evaluate(expr.left, env), evaluate(expr.right, env))
    if isinstance(expr, Call):
        spec = _function(expr.name)
        if spec.python is None:
            raise ExpressionFailure(f"function `{expr.name}` is only supported in row expressions (derive, filter) locally")
        _check_arity(spec, len(expr.args))
        return spec.python(*(evaluate(arg, env) for arg in expr.args))
    raise ExpressionFailure(f"`{_describe(expr)}` is not a value expression")


def _binary_value(op: str, left: Any, right: Any) -> Any:
    if op in ("===", "<=>"):
        return left == right
    if op == "!==":
        return left != right
    if op == "&&":
        return None if left is None or right is None else bool(left and right)
    if op == "||":
        return None if left is None or right is None else bool(left or right)
    if left is None or right is None:
        return None
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return _to_string(left) + _to_string(right)
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        "%": lambda a, b: a % b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    return operations[op](left, right)


# --- SQL compilation -------------------------------------------------------------------------------------------

_SQL_OPS = {"==": "=", "!=": "<>", "&&": "AND", "||": "OR", "===": "IS NOT DISTINCT FROM",
            "<=>": "IS NOT DISTINCT FROM", "!==": "IS DISTINCT FROM", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
            "-": "-", "*": "*", "/": "/", "%": "%"}


def compile_sql(expr: Expr, env: SqlEnv) -> Compiled:
    """``expr`` as a DuckDB SQL expression over the stream's columns."""
    if isinstance(expr, Literal):
        return sql_literal(expr.value)
    if isinstance(expr, Param):
        if expr.name not in env.parameters:
            raise ExpressionFailure(f"parameter `${expr.name}` is not declared in the data flow's parameters{{...}}")
        return sql_literal(env.parameters[expr.name])
    if isinstance(expr, Current):
        if env.current is None:
            raise ExpressionFailure("`$$` is only defined inside a column pattern (each(match(...), ...))")
        return env.current
    if isinstance(expr, Column):
        if expr.name in env.drifted:
            raise ExpressionFailure(
                f"column `{expr.name}` is a drifted column (not in the source's projection): ADF reaches it only "
                f"through byName('{expr.name}') or byPosition(), a column pattern or rule-based mapping, not by its "
                "bare name"
            )
        return _column(expr.name, env)
    if isinstance(expr, Array):
        items = [compile_sql(item, env) for item in expr.items]
        return Compiled("[" + ", ".join(i.sql for i in items) + "]", (items[0].type + "[]") if items else "any")
    if isinstance(expr, Index):
        container, index = compile_sql(expr.expr, env), compile_sql(expr.index, env)
        return Compiled(f"({container.sql})[{index.sql}]", container.type.removesuffix("[]"))
    if isinstance(expr, Unary):
        operand = compile_sql(expr.operand, env)
        return Compiled(f"(NOT {operand.sql})", "boolean") if expr.op == "!" else Compiled(f"(-{operand.sql})", operand.type)
    if isinstance(expr, Binary):
        return _sql_binary(expr.op, compile_sql(expr.left, env), compile_sql(expr.right, env))
    if isinstance(expr, Call):
        return _compile_call(expr, env)
    raise ExpressionFailure(f"`{_describe(expr)}` is not a row expression")


def _sql_binary(op: str, left: Compiled, right: Compiled) -> Compiled:
    """``+`` concatenates when either side is a string (as ADF's ``+`` does); comparisons and logic give booleans."""
    if op == "+":
        if "string" in (left.type, right.type):
            return Compiled("(" + " || ".join(_text([left, right])) + ")", "string")
        return Compiled(f"({left.sql} + {right.sql})", left.type)
    kind = "boolean" if op not in ("-", "*", "/", "%") else ("double" if op == "/" else left.type)
    return Compiled(f"({left.sql} {_SQL_OPS[op]} {right.sql})", kind)


def _compile_call(expr: Call, env: SqlEnv) -> Compiled:
    """A function call; byName/byPosition pick a column by a name or position known before the rows are read (their
    argument is a value expression), every other function compiles from its arguments."""
    if expr.name == "byName":
        name = evaluate(expr.args[0], ValueEnv(env.parameters)) if expr.args else None
        return _column(str(name), env)
    if expr.name == "byPosition":
        return _by_position(evaluate(expr.args[0], ValueEnv(env.parameters)) if expr.args else None, env)
    spec = _function(expr.name)
    if spec.sql is None:
        raise ExpressionFailure(f"function `{expr.name}` is only supported in parameters and options locally")
    _check_arity(spec, len(expr.args))
    return spec.sql([compile_sql(arg, env) for arg in expr.args])


def _by_position(position: Any, env: SqlEnv) -> Compiled:
    names = list(env.columns)
    if not isinstance(position, int) or not 1 <= position <= len(names):
        raise ExpressionFailure(f"byPosition({position!r}): the stream has columns 1..{len(names)}")
    return env.columns[names[position - 1]]  # 1-based, as ADF counts


def _column(name: str, env: SqlEnv) -> Compiled:
    if name not in env.columns:
        raise ExpressionFailure(f"column `{name}` is not in the stream (columns: {', '.join(env.columns) or 'none'})")
    return env.columns[name]


def _describe(expr: Expr) -> str:
    if isinstance(expr, Typed):
        return f"... as {expr.type}"
    if isinstance(expr, Assign):
        return "... = ..."
    return type(expr).__name__
