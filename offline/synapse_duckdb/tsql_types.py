"""T-SQL types of expressions in a qualified sqlglot tree (pure).

DuckDB types expressions its own way (7/2 is a DOUBLE, AVG of an INT is a DOUBLE, 1.5 is a DECIMAL(2,1)
only by luck), so the translation computes each expression's T-SQL type itself: column types come from
the catalog (views and OPENROWSET WITH lists), derived tables and CTEs from their projections, literals,
casts and operators from Learn's "Precision, scale, and length (Transact-SQL)" (learn.PRECISION_SCALE)
and "Data type precedence (Transact-SQL)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from offline.synapse_duckdb.errors import SqlTranslationError

INTEGERS = {"bit": 1, "tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}
STRINGS = ("varchar", "nvarchar", "char", "nchar")
# Highest first (Data type precedence (Transact-SQL)).
_PRECEDENCE = (
    "datetimeoffset", "datetime2", "datetime", "smalldatetime", "date", "time", "float", "real", "decimal",
    "money", "smallmoney", "bigint", "int", "smallint", "tinyint", "bit", "uniqueidentifier", "nvarchar",
    "nchar", "varchar", "char", "varbinary", "binary",
)
MAX_PRECISION = 38


@dataclass(frozen=True)
class SqlType:
    name: str  # lower-case T-SQL type name; "unknown" when the translation cannot tell
    precision: int = 0
    scale: int = 0

    @property
    def is_integer(self) -> bool:
        return self.name in INTEGERS

    @property
    def is_decimal(self) -> bool:
        return self.name == "decimal"

    @property
    def is_float(self) -> bool:
        return self.name in ("float", "real")

    @property
    def is_string(self) -> bool:
        return self.name in STRINGS

    @property
    def is_numeric(self) -> bool:
        return self.is_integer or self.is_decimal or self.is_float

    @property
    def known(self) -> bool:
        return self.name != "unknown"

    def as_decimal(self) -> SqlType:
        """An integer as the DECIMAL(p, 0) T-SQL converts it to in decimal arithmetic: an integer constant
        has as many digits as it is written with (2.0/3 is 0.666666), an int column 10."""
        return SqlType("decimal", self.precision or INTEGERS[self.name], 0) if self.is_integer else self

    def duckdb(self) -> str:
        if self.is_decimal:
            return f"DECIMAL({self.precision}, {self.scale})"
        return _DUCKDB.get(self.name, "VARCHAR")


UNKNOWN = SqlType("unknown")
_DUCKDB = {
    "bit": "BOOLEAN", "tinyint": "UTINYINT", "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT",
    "float": "DOUBLE", "real": "FLOAT", "date": "DATE", "time": "TIME", "datetime2": "TIMESTAMP",
    "datetime": "TIMESTAMP", "smalldatetime": "TIMESTAMP", "datetimeoffset": "TIMESTAMPTZ",
}
_SQLGLOT_NAMES = {
    "BIT": "bit", "BOOLEAN": "bit", "UTINYINT": "tinyint", "TINYINT": "tinyint", "SMALLINT": "smallint",
    "INT": "int", "BIGINT": "bigint", "INT128": "bigint", "UINT128": "bigint", "FLOAT": "real", "DOUBLE": "float", "DATE": "date",
    "TIME": "time", "DATETIME2": "datetime2", "DATETIME": "datetime", "SMALLDATETIME": "smalldatetime",
    "TIMESTAMP": "datetime2", "TIMESTAMPTZ": "datetimeoffset", "DATETIMEOFFSET": "datetimeoffset",
    "VARCHAR": "varchar", "NVARCHAR": "nvarchar", "CHAR": "char", "NCHAR": "nchar", "TEXT": "varchar",
    "VARBINARY": "varbinary", "BINARY": "binary", "BLOB": "varbinary", "UNIQUEIDENTIFIER": "uniqueidentifier",
    "UUID": "uniqueidentifier", "MONEY": "money", "SMALLMONEY": "smallmoney",
}


def from_datatype(data_type: exp.DataType, dialect: str = "tsql") -> SqlType:
    """A sqlglot DataType (parsed from T-SQL or DuckDB type text) as a SqlType. sqlglot parses T-SQL FLOAT
    (8 bytes) and REAL alike as FLOAT; DuckDB's FLOAT is 4 bytes."""
    name = data_type.this.name
    if name == "FLOAT" and dialect == "tsql":
        params = [p.this.name for p in data_type.expressions if p.this is not None]
        return SqlType("real") if params and params[0].isdigit() and int(params[0]) <= 24 else SqlType("float")
    if name in ("VARCHAR", "NVARCHAR", "CHAR", "NCHAR"):  # precision carries the length (0: none or MAX)
        params = [p.this.name for p in data_type.expressions if p.this is not None]
        return SqlType(_SQLGLOT_NAMES[name], int(params[0]) if params and params[0].isdigit() else 0)
    if name in ("DECIMAL", "NUMERIC", "BIGDECIMAL"):
        params = [int(p.this.name) for p in data_type.expressions if p.this is not None and p.this.name.isdigit()]
        precision = params[0] if params else 18
        return SqlType("decimal", precision, params[1] if len(params) > 1 else 0)
    return SqlType(_SQLGLOT_NAMES.get(name, "unknown"))


def from_text(type_text: str, dialect: str = "tsql") -> SqlType:
    if dialect == "tsql" and re.match(r"^\s*REAL\b", type_text, re.IGNORECASE):
        return SqlType("real")
    try:
        return from_datatype(exp.DataType.build(type_text, dialect=dialect), dialect)
    except Exception:  # noqa: BLE001 - an unparseable type is simply unknown to the rules
        return UNKNOWN


def higher(left: SqlType, right: SqlType) -> SqlType:
    """The operand type of higher precedence (what T-SQL converts the other operand to)."""
    if not left.known or not right.known:
        return UNKNOWN
    rank = {name: index for index, name in enumerate(_PRECEDENCE)}
    return left if rank.get(left.name, 99) <= rank.get(right.name, 99) else right


def decimal_result(operator: str, left: SqlType, right: SqlType) -> SqlType:
    """Precision and scale of `left <op> right` for decimals (learn.PRECISION_SCALE), capped at 38."""
    p1, s1 = left.as_decimal().precision, left.as_decimal().scale
    p2, s2 = right.as_decimal().precision, right.as_decimal().scale
    if operator in ("+", "-"):
        scale = max(s1, s2)
        integral = max(p1 - s1, p2 - s2) + 1
    elif operator == "*":
        scale = s1 + s2
        integral = p1 + p2 + 1 - scale
    elif operator == "/":
        scale = max(6, s1 + p2 + 1)
        integral = p1 - s1 + s2
    else:  # %
        scale = max(s1, s2)
        integral = min(p1 - s1, p2 - s2)
    if integral + scale <= MAX_PRECISION:
        return SqlType("decimal", integral + scale, scale)
    if operator in ("+", "-"):
        return SqlType("decimal", MAX_PRECISION, max(0, min(scale, MAX_PRECISION - integral)))
    # Multiplication and division: keep the integral part, reduce the scale (but not below 6).
    if integral < 32:
        return SqlType("decimal", MAX_PRECISION, min(scale, MAX_PRECISION - integral))
    return SqlType("decimal", MAX_PRECISION, scale if scale < 6 else 6)


def arithmetic(operator: str, left: SqlType, right: SqlType) -> SqlType:
    if operator == "+" and left.is_string and right.is_string:
        return SqlType("nvarchar" if "nvarchar" in (left.name, right.name) else "varchar")
    if not (left.is_numeric and right.is_numeric):
        return higher(left, right) if left.known and right.known else UNKNOWN
    if left.is_float or right.is_float:
        return SqlType("real") if left.name == right.name == "real" else SqlType("float")
    if left.is_decimal or right.is_decimal:
        return decimal_result(operator, left, right)
    return higher(left, right)


def literal(node: exp.Literal) -> SqlType:
    text = node.name
    if node.is_string:
        return SqlType("varchar")
    if re.fullmatch(r"\d+", text):
        width = max(len(text.lstrip("0")), 1)
        return SqlType("int", width) if int(text) <= 2**31 - 1 else SqlType("decimal", width, 0)
    match = re.fullmatch(r"(\d*)\.(\d*)", text)
    if match:  # a decimal constant: precision and scale are its digits (e.g. 60000.0 is DECIMAL(6, 1))
        digits = (match.group(1).lstrip("0") or "") + match.group(2)
        return SqlType("decimal", max(len(digits), len(match.group(2)), 1), len(match.group(2)))
    return SqlType("float")  # 1e3


_OPERATORS: dict[type[exp.Expr], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}


class Typer:
    """T-SQL types of the expressions of one qualified statement."""

    def __init__(self, root: exp.Expr, catalog: Mapping[str, Mapping[str, SqlType]]) -> None:
        self._catalog = catalog
        self._memo: dict[int, SqlType] = {}
        self._scope_of: dict[int, Scope] = {}
        for scope in traverse_scope(root):
            for column in scope.columns:
                self._scope_of[id(column)] = scope

    def of(self, node: exp.Expr | None) -> SqlType:
        if node is None:
            return UNKNOWN
        key = id(node)
        if key not in self._memo:
            self._memo[key] = UNKNOWN  # guards against cycles through self-referencing aliases
            self._memo[key] = self._compute(node)
        return self._memo[key]

    def _compute(self, node: exp.Expr) -> SqlType:  # noqa: PLR0911, PLR0912 - one case per node kind
        if isinstance(node, exp.Literal):
            return literal(node)
        if isinstance(node, (exp.Paren, exp.Alias, exp.Neg, exp.Ordered)):
            return self.of(node.this)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return from_datatype(node.to)
        if type(node) in _OPERATORS:
            return arithmetic(_OPERATORS[type(node)], self.of(node.this), self.of(node.expression))
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, (exp.Count,)):
            return SqlType("int")
        if isinstance(node, exp.Window):
            return self.of(node.this)
        if isinstance(node, (exp.RowNumber,)) or node.key in ("rank", "denserank", "ntile"):
            return SqlType("bigint")
        if isinstance(node, exp.Avg):
            return avg_result(self.of(node.this))
        if isinstance(node, exp.Sum):
            return sum_result(self.of(node.this))
        if isinstance(node, (exp.Min, exp.Max, exp.Round, exp.Abs, exp.AnyValue, exp.Pow)):
            return self.of(node.this)
        if isinstance(node, exp.Distinct):
            return self.of(node.expressions[0]) if node.expressions else UNKNOWN
        if isinstance(node, (exp.Case, exp.Coalesce, exp.If, exp.Nullif)):
            return self._branches(node)
        if isinstance(node, (exp.Length, exp.DateDiff, exp.Extract)):
            return SqlType("int")
        if isinstance(node, exp.DateAdd):
            return self.of(node.this)
        if isinstance(node, (exp.Subquery,)):
            selects = node.this.selects if isinstance(node.this, exp.Query) else []
            return self.of(selects[0]) if len(selects) == 1 else UNKNOWN
        if isinstance(node, (exp.Upper, exp.Lower, exp.Trim, exp.Substring, exp.Left, exp.Right, exp.Concat,
                             exp.DPipe, exp.TimeToStr, exp.NumberToStr, exp.Repeat, exp.Chr, exp.Space, exp.Stuff,
                             exp.Reverse, exp.Replace, exp.ConcatWs)):
            return SqlType("varchar")
        if isinstance(node, (exp.Predicate, exp.Not, exp.And, exp.Or)):
            return SqlType("bit")
        return UNKNOWN

    def _branches(self, node: exp.Expr) -> SqlType:
        if isinstance(node, exp.Case):
            branches = [i.args.get("true") for i in node.args.get("ifs", [])] + [node.args.get("default")]
        elif isinstance(node, exp.Nullif):
            branches = [node.this]
        else:
            branches = [node.this, *node.expressions, node.args.get("true"), node.args.get("false")]
        types = [self.of(b) for b in branches if b is not None and not isinstance(b, exp.Null)]
        if not types:
            return UNKNOWN
        result = types[0]
        for other in types[1:]:
            if result.is_decimal and other.is_decimal:
                integral = max(result.precision - result.scale, other.precision - other.scale)
                scale = max(result.scale, other.scale)
                result = SqlType("decimal", min(integral + scale, MAX_PRECISION), scale)
            else:
                result = higher(result, other)
        return result

    def _column(self, column: exp.Column) -> SqlType:
        scope = self._scope_of.get(id(column))
        while scope is not None:
            source = scope.sources.get(column.table) if column.table else None
            if isinstance(source, exp.Table):
                table = f"{source.db}.{source.name}" if source.db else source.name
                return self._catalog.get(table, {}).get(column.name, UNKNOWN)
            if isinstance(source, Scope):
                return self._projection(source.expression, column.name)
            if source is not None:
                return UNKNOWN
            if not column.table:  # an output alias (ORDER BY tracks)
                return self._projection(scope.expression, column.name)
            scope = scope.parent
        return UNKNOWN

    def _projection(self, query: exp.Expr, name: str) -> SqlType:
        if isinstance(query, exp.Lateral) and isinstance(query.this, exp.OpenJSON):
            return _openjson_column(query.this, name)
        if isinstance(query, exp.SetOperation):
            left, right = self._projection(query.left, name), self._projection(query.right, name)
            return left if left == right or not right.known else higher(left, right)
        for select in query.selects if isinstance(query, exp.Query) else []:
            if select.alias_or_name == name:
                return self.of(select.this if isinstance(select, exp.Alias) else select)
        return UNKNOWN


def _openjson_column(call: exp.OpenJSON, name: str) -> SqlType:
    """OPENJSON's default schema is key nvarchar(4000), value nvarchar(max), type int (learn.OPENJSON)."""
    for column in call.expressions:
        if column.name == name:
            return from_datatype(column.args["kind"])
    return {"key": SqlType("nvarchar"), "value": SqlType("nvarchar"), "type": SqlType("int")}.get(name, UNKNOWN)


def avg_result(argument: SqlType) -> SqlType:
    """AVG's return type (learn.AVG): int for the integer types up to int, else the argument's own type;
    decimal(38, max(s, 6)); float for real and float."""
    if argument.name in ("bit", "tinyint", "smallint", "int"):
        return SqlType("int")
    if argument.is_decimal:
        return SqlType("decimal", MAX_PRECISION, max(argument.scale, 6))
    if argument.is_float:
        return SqlType("float")
    return argument


def sum_result(argument: SqlType) -> SqlType:
    if argument.name in ("bit", "tinyint", "smallint", "int"):
        return SqlType("int")
    if argument.is_decimal:
        return SqlType("decimal", MAX_PRECISION, argument.scale)
    if argument.is_float:
        return SqlType("float")
    return argument


def to_duckdb(node: exp.Expr) -> exp.Expr:
    # T-SQL FLOAT is 8 bytes (DuckDB DOUBLE; sqlglot would give 4-byte REAL), BIT is a boolean (DuckDB BIT
    # is a bit string), TINYINT is 0..255 (DuckDB TINYINT is signed), and (N)VARCHAR(n|MAX) is VARCHAR.
    if isinstance(node, exp.DataType):
        if node.this == exp.DataType.Type.FLOAT:
            return exp.DataType.build("DOUBLE")
        if node.this == exp.DataType.Type.BIT:
            return exp.DataType.build("BOOLEAN")
        if node.this == exp.DataType.Type.TINYINT:
            return exp.DataType.build("UTINYINT", dialect="duckdb")
        if node.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.CHAR,
                         exp.DataType.Type.NCHAR, exp.DataType.Type.TEXT):
            return exp.DataType.build("VARCHAR")
    return node



def duckdb_type(tsql_type: str) -> str:
    """The DuckDB type of a T-SQL type text (as in an OPENROWSET WITH list)."""
    try:
        data_type = exp.DataType.build(tsql_type, dialect="tsql")
    except (sqlglot.errors.ParseError, ValueError) as exc:
        raise SqlTranslationError(f"unknown column type `{tsql_type}` in an OPENROWSET WITH list") from exc
    return to_duckdb(data_type).sql(dialect="duckdb")


__all__ = [
    "UNKNOWN", "SqlType", "Typer", "arithmetic", "avg_result", "decimal_result", "duckdb_type", "from_datatype",
    "from_text", "to_duckdb",
]
