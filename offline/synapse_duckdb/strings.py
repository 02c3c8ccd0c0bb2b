"""T-SQL string semantics on DuckDB: trailing spaces do not count, and casts to a length truncate.

T-SQL pads the shorter string with spaces before comparing (learn.STRING_PADDING, learn.ANSI_PADDING:
"SQL Server follows the ANSI/ISO SQL-92 specification ... on how to compare strings with spaces"), so
'a' = 'a ' is true, and GROUP BY, DISTINCT and UNION put both in one group; LEN does not count trailing
spaces (learn.LEN). DuckDB compares strings byte for byte, so each of these compares the right-trimmed
value here. (A group's representative is returned without its trailing spaces; T-SQL returns one of the
group's values.) Comparisons under the BIN2 collation are by code point, which DuckDB's byte order
of UTF-8 already matches.

CAST/CONVERT to VARCHAR(n) keeps the first n characters, and to VARCHAR without a length keeps 30
(learn.CAST_CONVERT); DuckDB ignores the length. The text of a bit is '1'/'0' and of a datetime2 has seven
fractional digits; float and datetime text (style 0) is refused rather than printed DuckDB's way.
"""

from __future__ import annotations

from sqlglot import exp

from offline.synapse_duckdb.errors import NotSupportedLocallyError
from offline.synapse_duckdb.openrowset_sql import METADATA_PREFIXES
from offline.synapse_duckdb.rewrite import Context, duck

_TEXT_TYPES = (exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR)
# Style 0 text that DuckDB does not print the same way (learn.CAST_CONVERT).
_TEXT_REFUSED = {
    "float": "style 0 prints at most 6 significant digits, e.g. 1e+006",
    "real": "style 0 prints at most 6 significant digits, e.g. 1e+006",
    "datetime": "style 0 is 'Jan  7 2024  1:14PM'",
    "smalldatetime": "style 0 is 'Jan  7 2024  1:14PM'",
    "datetimeoffset": "the offset is printed as +hh:mm",
}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_DEFAULT_CAST_LENGTH = 30


def rewrite(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if isinstance(node, _COMPARISONS):
        if ctx.type(node.this).is_string and ctx.type(node.expression).is_string:
            node.set("this", _rtrim(node.this))
            node.set("expression", _rtrim(node.expression))
        return None
    if isinstance(node, exp.In) and ctx.type(node.this).is_string:
        node.set("this", _rtrim(node.this))
        node.set("expressions", [_rtrim(e) for e in node.expressions])
        return None
    if isinstance(node, exp.Length):
        text = node.this.this if isinstance(node.this, exp.Cast) else node.this
        return duck("length(rtrim(CAST({x} AS VARCHAR), ' '))", x=text)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _cast_to_text(node, ctx)
    if isinstance(node, exp.Select):
        _group_by_padded(node, ctx)
        if node.args.get("distinct") or _in_distinct_union(node):
            _trim_string_outputs(node, ctx)
    return None


def _rtrim(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and node.is_string and not node.name.endswith(" "):
        return node
    if isinstance(node, exp.Null):
        return node
    if isinstance(node, exp.Column) and node.name.startswith(METADATA_PREFIXES):
        # Folder and file names: trimming them would stop DuckDB pruning files on a filepath() filter.
        return node
    return exp.Anonymous(this="rtrim", expressions=[node, exp.Literal.string(" ")])


def _cast_to_text(node: exp.Cast, ctx: Context) -> exp.Expr | None:
    """CAST/CONVERT to a string type: T-SQL's text of the value, cut to the target length."""
    target = node.to
    if target.this not in _TEXT_TYPES:
        return None
    params = [p.this.name for p in target.expressions if p.this is not None]
    if params and not params[0].isdigit():  # VARCHAR(MAX)
        length = None
    else:
        length = int(params[0]) if params else _DEFAULT_CAST_LENGTH
    source = ctx.type(node.this)
    function = "TRY_CAST" if isinstance(node, exp.TryCast) else "CAST"
    if source.name in _TEXT_REFUSED:
        raise NotSupportedLocallyError(f"CAST or CONVERT of a {source.name} value to text ({_TEXT_REFUSED[source.name]})")
    if source.name == "bit":  # '1' / '0' (DuckDB: 'true' / 'false')
        text = "CASE WHEN {x} THEN '1' WHEN NOT {x} THEN '0' END"
    elif source.name == "datetime2":  # datetime2(7): seven fractional digits, always
        text = "strftime({x}, '%Y-%m-%d %H:%M:%S.%f') || '0'"
    elif source.name == "time":
        text = "strftime(CAST('2000-01-01' AS DATE) + {x}, '%H:%M:%S.%f') || '0'"
    elif source.is_string or source.is_integer or source.is_decimal or source.name == "date":
        if length is None or not source.is_string:
            return None  # the text of numbers and dates is the same; a too long number fails in both
        text = f"{function}({{x}} AS VARCHAR)"
    else:
        return None
    return duck(f"left({text}, {length})" if length is not None else text, x=node.this)


def _group_by_padded(select: exp.Select, ctx: Context) -> None:
    group = select.args.get("group")
    if group is None:
        return
    keys = {e.sql(): e for e in group.expressions if ctx.type(e).is_string}
    if not keys:
        return
    group.set("expressions", [_rtrim(e) if e.sql() in keys else e for e in group.expressions])
    for clause in ("expressions", "having", "order"):
        value = select.args.get(clause)
        for root in value if isinstance(value, list) else [value] if value is not None else []:
            _trim_references(root, keys)


def _trim_references(root: exp.Expr, keys: dict[str, exp.Expr]) -> None:
    for node in list(root.walk()):
        if node.sql() in keys and not node.find_ancestor(exp.AggFunc) and not _is_trimmed(node):
            if isinstance(node.parent, exp.Select) and isinstance(node, exp.Column):
                node.replace(exp.alias_(_rtrim(node.copy()), node.name))
            else:
                node.replace(_rtrim(node.copy()))


def _is_trimmed(node: exp.Expr) -> bool:
    return isinstance(node.parent, exp.Anonymous) and node.parent.name.lower() == "rtrim"


def _in_distinct_union(select: exp.Select) -> bool:
    parent = select.parent
    while isinstance(parent, (exp.Union, exp.Subquery)) or (isinstance(parent, exp.Paren)):
        if isinstance(parent, exp.Union) and parent.args.get("distinct"):
            return True
        parent = parent.parent
    return False


def _trim_string_outputs(select: exp.Select, ctx: Context) -> None:
    outputs = []
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if ctx.type(inner).is_string and not _already_trimmed(inner):
            outputs.append(exp.alias_(_rtrim(inner.copy()), projection.alias_or_name))
        else:
            outputs.append(projection)
    select.set("expressions", outputs)


def _already_trimmed(node: exp.Expr) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == "rtrim"


__all__ = ["rewrite"]
