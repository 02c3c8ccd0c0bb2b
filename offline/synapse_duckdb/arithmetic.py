"""T-SQL arithmetic on DuckDB: integer division, AVG's integer result, truncating casts, decimal precision.

- `/` of two integers is an integer division truncating toward zero (learn.DIVIDE: "If an integer
  dividend is divided by an integer divisor, the result is an integer that has any fractional part of the
  result truncated"); DuckDB's `/` returns a DOUBLE.
- A decimal result has the precision and scale of learn.PRECISION_SCALE; a decimal quotient is truncated
  at that scale (computed exactly on scaled HUGEINTs: DuckDB divides decimals in DOUBLE).
- AVG of an integer column is an integer (learn.AVG), the truncated SUM / COUNT; SUM of an int is an int
  (learn.SUM) and fails past 2^31-1 as T-SQL's arithmetic overflow does.
- CAST/CONVERT of a decimal or float to an integer type truncates (learn.CAST_CONVERT: "When you convert
  ... to an integer, ... the value is truncated"); DuckDB rounds. A string that is not an integer fails
  the conversion as T-SQL does (DuckDB would round '2.7' to 3).
- ROUND(x, n, f) with f <> 0 truncates (learn.ROUND) and ROUND keeps its argument's type.
- `+` of two strings concatenates (learn.STRING_CONCAT).
- POWER(x, y) has x's type (learn.POWER).
"""

from __future__ import annotations

from sqlglot import exp

from offline.synapse_duckdb.rewrite import Context, duck
from offline.synapse_duckdb.tsql_types import SqlType, avg_result, decimal_result, sum_result


def rewrite(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if isinstance(node, exp.Div):
        return _divide(node, ctx)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod)):
        return _decimal_operator(node, ctx)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Avg):
        return _average(node.this, ctx, window=node)
    if isinstance(node, exp.Avg) and not isinstance(node.parent, exp.Window):
        return _average(node, ctx, window=None)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.Sum):
        return _integer_sum(node, node.this, ctx)
    if isinstance(node, exp.Sum) and not isinstance(node.parent, exp.Window):
        return _integer_sum(node, node, ctx)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _cast_to_integer(node, ctx)
    if isinstance(node, exp.Round):
        return _round(node, ctx)
    if isinstance(node, exp.Pow):
        return _power(node, ctx)
    return None


def _power(node: exp.Pow, ctx: Context) -> exp.Expr | None:
    """POWER returns its first argument's type (learn.POWER): POWER(2, 10) is an int, POWER(2, 0.5) is 1."""
    base = ctx.type(node.this)
    if base.is_integer:
        return duck(f"CAST(trunc(power({{a}}, {{b}})) AS {base.duckdb()})", a=node.this, b=node.expression)
    return None


def _divide(node: exp.Div, ctx: Context) -> exp.Expr | None:
    left, right = ctx.type(node.this), ctx.type(node.expression)
    if left.is_integer and right.is_integer:
        return duck("{a} // {b}", a=node.this, b=node.expression)
    if left.is_numeric and right.is_numeric and not (left.is_float or right.is_float):
        return exact_division(node.this, left, node.expression, right, decimal_result("/", left, right))
    if left.is_float or right.is_float:
        return duck("CAST({a} AS DOUBLE) / CAST({b} AS DOUBLE)", a=node.this, b=node.expression)
    return None


def exact_division(
    dividend: exp.Expr, left: SqlType, divisor: exp.Expr, right: SqlType, result: SqlType
) -> exp.Expr:
    """dividend / divisor truncated at result.scale, exactly: both as scaled integers, one integer division."""
    s1, s2 = left.as_decimal().scale, right.as_decimal().scale
    exponent = result.scale - s1 + s2
    scaled_dividend = f"CAST({{a}} * {10**s1} AS HUGEINT)" if s1 else "CAST({a} AS HUGEINT)"
    scaled_divisor = f"CAST({{b}} * {10**s2} AS HUGEINT)" if s2 else "CAST({b} AS HUGEINT)"
    unit = f"CAST('{_unit(result.scale)}' AS DECIMAL({result.scale + 1}, {result.scale}))"
    template = (
        f"CAST(CAST(({scaled_dividend} * CAST('{10**exponent}' AS HUGEINT)) // {scaled_divisor} AS DECIMAL(38, 0))"
        f" * {unit} AS DECIMAL({result.precision}, {result.scale}))"
    )
    return duck(template, a=dividend, b=divisor)


def _unit(scale: int) -> str:
    return "1" if scale == 0 else "0." + "0" * (scale - 1) + "1"


def _decimal_operator(node: exp.Binary, ctx: Context) -> exp.Expr | None:
    left, right = ctx.type(node.this), ctx.type(node.expression)
    if isinstance(node, exp.Add) and _is_text(node.this, left) and _is_text(node.expression, right) and (
        left.is_string or right.is_string
    ):
        return exp.DPipe(this=node.this, expression=node.expression, safe=False)
    result = ctx.type(node)
    if not (result.is_decimal and left.is_numeric and right.is_numeric):
        return None
    operator = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Mod: "%"}[type(node)]
    return duck(f"CAST({{a}} {operator} {{b}} AS {result.duckdb()})", a=node.this, b=node.expression)


def _is_text(node: exp.Expr, node_type: SqlType) -> bool:
    return node_type.is_string or isinstance(node, exp.Null)


def _average(avg: exp.Avg, ctx: Context, window: exp.Window | None) -> exp.Expr | None:
    argument = avg.this
    argument_type = ctx.type(argument.expressions[0] if isinstance(argument, exp.Distinct) else argument)
    if not (argument_type.is_integer or argument_type.is_decimal):
        return None
    result = avg_result(argument_type)

    def over(function: exp.Expr) -> exp.Expr:
        if window is None:
            return function
        copy = window.copy()
        copy.set("this", function)
        return copy

    total = over(exp.Sum(this=argument.copy()))
    count = over(exp.Count(this=argument.copy()))
    if argument_type.is_integer:
        return duck(f"CAST({{s}} // {{c}} AS {result.duckdb()})", s=total, c=count)
    return exact_division(total, SqlType("decimal", 38, argument_type.scale), count, SqlType("bigint"), result)


def _integer_sum(node: exp.Expr, total: exp.Sum, ctx: Context) -> exp.Expr | None:
    """SUM of an int is an int (bigint for bigint) and overflows as one; DuckDB sums into a HUGEINT."""
    argument = total.this.expressions[0] if isinstance(total.this, exp.Distinct) else total.this
    argument_type = ctx.type(argument)
    if not argument_type.is_integer:
        return None
    return exp.Cast(this=node.copy(), to=exp.DataType.build(sum_result(argument_type).duckdb(), dialect="duckdb"))


_INTEGER_CHECK = r"'^\s*[+-]?[0-9]+\s*$'"


def _cast_to_integer(node: exp.Cast, ctx: Context) -> exp.Expr | None:
    target, source = ctx.type(node), ctx.type(node.this)
    if not target.is_integer or target.name == "bit":
        return None
    function = "TRY_CAST" if isinstance(node, exp.TryCast) else "CAST"
    if source.is_decimal or source.is_float:
        return duck(f"{function}(trunc({{x}}) AS {target.duckdb()})", x=node.this)
    if source.is_string:
        failure = (
            "NULL" if isinstance(node, exp.TryCast) else
            f"error('Conversion failed when converting the varchar value ''' || {{x}} || ''' to data type "
            f"{target.name}.')"
        )
        return duck(
            f"CASE WHEN regexp_matches({{x}}, {_INTEGER_CHECK}) THEN {function}(trim({{x}}) AS {target.duckdb()}) "
            f"WHEN {{x}} IS NOT NULL THEN {failure} END",
            x=node.this,
        )
    return None


def _round(node: exp.Round, ctx: Context) -> exp.Expr | None:
    value_type = ctx.type(node.this)
    decimals = node.args.get("decimals") or exp.Literal.number(0)
    truncate = node.args.get("truncate")
    truncating = truncate is not None and not (truncate.is_int and int(truncate.name) == 0)
    if not truncating and not value_type.is_decimal:
        return None
    function = "trunc" if truncating else "round"
    cast_to = value_type.duckdb() if value_type.known else None
    body = f"{function}({{x}}, {{n}})"
    return duck(f"CAST({body} AS {cast_to})" if cast_to else body, x=node.this, n=decimals)


__all__ = ["exact_division", "rewrite"]
