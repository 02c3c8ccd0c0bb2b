"""T-SQL built-in functions that DuckDB lacks, spells differently, or that sqlglot translates loosely.

- LIKE with a [set] or [^set] wildcard (learn.LIKE): DuckDB's LIKE has no sets and would match '[' itself,
  so such a pattern becomes a regular expression.
- CHOOSE(i, a, b, ...) (learn.CHOOSE; serverless has it) is a CASE.
- ISNULL(x, y) has x's type (learn.ISNULL): y is cut to x's length, or converted to x's numeric type.
- HASHBYTES returns varbinary (learn.HASHBYTES), hashing the UTF-8 bytes of a varchar under the UTF-8
  collation; sqlglot gives DuckDB's hex text, and would hash SHA2_512 with SHA-256.
- DATALENGTH of a varchar is its UTF-8 byte count, trailing spaces included (learn.DATALENGTH).
Functions with no exact local counterpart are refused by name in refusals.NO_LOCAL_TRANSLATION.
"""

from __future__ import annotations

import re

from sqlglot import exp

from offline.synapse_duckdb.errors import NotSupportedLocallyError
from offline.synapse_duckdb.rewrite import Context, duck, string_literal

_HASHES = {"MD5": "md5", "SHA": "sha1", "SHA256": "sha256"}


def rewrite(node: exp.Expr, ctx: Context) -> exp.Expr | None:  # noqa: PLR0911 - one case per function
    if isinstance(node, exp.Anonymous):
        name = str(node.name).upper()
        if name == "CHOOSE":
            return _choose(node)
        if name == "DATALENGTH":
            return _datalength(node, ctx)
        return None
    if isinstance(node, exp.Like):
        return _like(node)
    if isinstance(node, exp.Coalesce) and node.args.get("is_null"):
        return _isnull(node, ctx)
    if isinstance(node, (exp.MD5, exp.SHA, exp.SHA2)):
        return _hashbytes(node, ctx)
    return None


def _choose(node: exp.Anonymous) -> exp.Expr:
    index, *values = node.expressions
    whens = " ".join(f"WHEN {n} THEN {{v{n}}}" for n in range(1, len(values) + 1))
    return duck(f"CASE {{i}} {whens} END", i=index, **{f"v{n}": v for n, v in enumerate(values, start=1)})


def _datalength(node: exp.Anonymous, ctx: Context) -> exp.Expr:
    (value,) = node.expressions
    value_type = ctx.type(value)
    if value_type.name != "varchar" and not (isinstance(value, exp.Literal) and value.is_string):
        raise NotSupportedLocallyError(f"DATALENGTH of a {value_type.name} value")
    return duck("CAST(strlen({x}) AS INTEGER)", x=value)


def _like(node: exp.Like) -> exp.Expr | None:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string and "[" in pattern.name):
        return None
    if isinstance(node.parent, exp.Escape):
        raise NotSupportedLocallyError("LIKE with both a [set] wildcard and ESCAPE")
    regex = "(?s)" + "".join(_like_part(part) for part in re.findall(r"\[[^\]]*\]|.", pattern.name, re.DOTALL))
    match = duck(f"regexp_full_match({{x}}, {string_literal(regex)})", x=node.this)
    return exp.Not(this=match) if node.args.get("negate") else match


def _like_part(part: str) -> str:
    if part == "%":
        return ".*"
    if part == "_":
        return "."
    if part.startswith("[") and len(part) > 2:
        inner = part[1:-1]
        negated = inner.startswith("^")
        body = inner[1:] if negated else inner
        return "[" + ("^" if negated else "") + body.replace("\\", "\\\\") + "]"
    return re.escape(part)


def _isnull(node: exp.Coalesce, ctx: Context) -> exp.Expr | None:
    first = ctx.type(node.this)
    (fallback,) = node.expressions
    if first.is_string and first.precision:
        return duck(f"COALESCE({{x}}, left(CAST({{y}} AS VARCHAR), {first.precision}))", x=node.this, y=fallback)
    if first.is_numeric and ctx.type(fallback).known and ctx.type(fallback) != first:
        converted: exp.Expr = exp.Cast(this=fallback, to=exp.DataType.build(first.duckdb(), dialect="duckdb"))
        if first.is_integer and (ctx.type(fallback).is_decimal or ctx.type(fallback).is_float):
            converted = duck(f"CAST(trunc({{y}}) AS {first.duckdb()})", y=fallback)
        return exp.Coalesce(this=node.this, expressions=[converted])
    return None


def _hashbytes(node: exp.Expr, ctx: Context) -> exp.Expr:
    if isinstance(node, exp.SHA2) and node.args.get("length") is not None and node.args["length"].name != "256":
        raise NotSupportedLocallyError(f"HASHBYTES SHA2_{node.args['length'].name} (DuckDB has SHA-256 only)")
    if ctx.type(node.this).name in ("nvarchar", "nchar"):
        raise NotSupportedLocallyError("HASHBYTES of nvarchar (T-SQL hashes its UTF-16 bytes)")
    function = _HASHES["SHA256" if isinstance(node, exp.SHA2) else type(node).__name__]
    return duck(f"unhex({function}({{x}}))", x=node.this)


__all__ = ["rewrite"]
