"""Row-shaping T-SQL that serverless supports and DuckDB spells differently: OPENJSON and TOP ... WITH TIES.

- OPENJSON(json [, path]) with the default schema returns key, value and type per element
  (learn.OPENJSON: value is the string itself for a JSON string, the JSON text for an array or object;
  type 0 null, 1 string, 2 number, 3 true/false, 4 array, 5 object); with a WITH schema, each column is
  its lax path ('$.<name>' by default) in each element, converted to its type, or the JSON text AS JSON.
  CROSS APPLY is an inner lateral join, OUTER APPLY a left one. Malformed JSON fails, as in T-SQL.
- TOP (n) WITH TIES returns every row tying with the n-th on the ORDER BY (learn.TOP), which is
  rank() <= n; without ORDER BY T-SQL refuses it.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from offline.synapse_duckdb.errors import NotSupportedLocallyError, TsqlError
from offline.synapse_duckdb.rewrite import Context, sql, string_literal

_TYPE_CODE = (
    "CASE json_type(__e.value) WHEN 'NULL' THEN 0 WHEN 'VARCHAR' THEN 1 WHEN 'BOOLEAN' THEN 3 "
    "WHEN 'ARRAY' THEN 4 WHEN 'OBJECT' THEN 5 ELSE 2 END"
)
_DEFAULT_VALUE = (
    "CASE json_type(__e.value) WHEN 'VARCHAR' THEN json_extract_string(__e.value, '$') WHEN 'NULL' THEN NULL "
    "ELSE CAST(__e.value AS VARCHAR) END"
)


def rewrite(node: exp.Expr, ctx: Context) -> exp.Expr | None:
    if isinstance(node, exp.Join) and isinstance(node.this, exp.Lateral) and isinstance(node.this.this, exp.OpenJSON):
        return _openjson_join(node.this)
    if isinstance(node, exp.Select):
        _with_ties(node)
    return None


def _openjson_join(lateral: exp.Lateral) -> exp.Expr:
    call: exp.OpenJSON = lateral.this
    source = sql(call.this)
    path = call.args.get("path")
    each = f"json_each({source}, {sql(path)})" if isinstance(path, exp.Expr) else f"json_each({source})"
    columns = call.expressions
    if columns:
        outputs = ", ".join(_column(c) for c in columns)
    else:
        outputs = f"__e.key AS key, {_DEFAULT_VALUE} AS value, {_TYPE_CODE} AS type"
    alias = lateral.args.get("alias")
    alias_sql = sql(alias) if alias is not None else "__openjson"
    if lateral.args.get("cross_apply") is False:
        join = f"LEFT JOIN (SELECT {outputs} FROM {each} AS __e) AS {alias_sql} ON TRUE"
    else:
        join = f"CROSS JOIN (SELECT {outputs} FROM {each} AS __e) AS {alias_sql}"
    return sqlglot.parse_one(f"SELECT 1 FROM __anchor {join}", read="duckdb").args["joins"][0]


def _column(column: exp.OpenJSONColumnDef) -> str:
    name = column.name
    path_node = column.args.get("path")
    path = path_node.name if path_node is not None else f"$.{name}"
    if path.lower().startswith("strict"):
        raise NotSupportedLocallyError(f"OPENJSON strict path `{path}`")
    path = path.removeprefix("lax").strip()
    target = column.args["kind"]
    if column.args.get("as_json"):
        return f'CAST(json_extract(__e.value, {string_literal(path)}) AS VARCHAR) AS "{name}"'
    value = f"json_extract_string(__e.value, {string_literal(path)})"
    return f'CAST({value} AS {target.sql(dialect="duckdb")}) AS "{name}"'


def _with_ties(select: exp.Select) -> None:
    limit = select.args.get("limit")
    if not isinstance(limit, exp.Limit):
        return
    options = limit.args.get("limit_options")
    if options is None or not options.args.get("with_ties"):
        return
    order = select.args.get("order")
    if order is None:
        raise TsqlError("The TOP N WITH TIES clause is not allowed without a corresponding ORDER BY clause.")
    window = exp.Window(this=exp.Anonymous(this="rank"), order=order.copy())
    select.set("limit", None)
    select.set("qualify", exp.Qualify(this=exp.LTE(this=window, expression=limit.expression.copy())))


__all__ = ["rewrite"]
