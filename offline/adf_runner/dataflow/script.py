"""Parse mapping data flow script (the text of a data flow's ``scriptLines``) into a syntax tree (pure).

The parser reads the whole data flow script (DFS) language as ADF Studio writes it (Microsoft Learn, "Data flow
script (DFS)", https://learn.microsoft.com/azure/data-factory/data-flow-script, and the "Data flow script" section
of each transformation's page): a ``parameters{...}`` block, then one statement per transformation::

    [input[, input...]] <kind>(<arguments>) ~> <output>[@(<split output>, ...)]

An input is a stream or one output of a conditional split (``Split1@hasNulls``). An argument is an option
(``allowSchemaDrift: true``), an assignment (``name = expr``; ``{} = count()`` in pivot, ``'movie' = ...`` in a
pattern) or a positional expression (``filter(!isNull(id))``, ``output(id as string)``, ``asc(sk, true)``).
Expressions hold literals (``'text'``, ``"interpolated {$p}"``, `` `regex` ``, ``7L``), ``$param``, ``$$``
and ``$1`` (column patterns), ``#item`` (higher-order functions), columns plain, quoted (``{Order Date}``),
stream-qualified (``Reseller@ResellerKey``) and nested (``a.b``, ``event.{x.y}.z``), column groups
(``@(a = x, b = y)``), map entries (``'type' -> 'json'``), cached lookups (``Cache#lookup(id)``) and types
(``expr as type``, ``expr ? (a as string, b as integer[])`` in parse/stringify, maps ``[string,string]``).

Whether the local runner can *execute* a kind, option, function or construct is decided by the engine, which
names whatever it does not implement; this module only refuses text that is not data flow script.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from offline.adf_runner.errors import DataFlowScriptError

__all__ = [
    "Array", "Assign", "Binary", "CacheCall", "Call", "Capture", "Column", "ColumnGroup", "Current", "Expr", "Field",
    "Index", "Interpolated", "LambdaVar", "Literal", "MapEntry", "Option", "Param", "ParameterDecl", "Positional",
    "Script", "Transformation", "TypeRef", "Typed", "Unary", "parse_expression", "parse_script", "walk",
]


# --- syntax tree -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeRef:
    name: str  # string, integer, decimal, ... (lower case); "struct" for (a as t, ...), "map" for [k,v]
    args: tuple[int, ...] = ()  # decimal(10,2)
    array_depth: int = 0  # string[] -> 1
    fields: tuple[tuple[str, TypeRef], ...] = ()  # struct members
    elements: tuple[TypeRef, ...] = ()  # map key and value types
    format: str | None = None  # date 'yyyy-MM-dd'

    def __str__(self) -> str:
        if self.name == "struct":
            text = "(" + ", ".join(f"{name} as {kind}" for name, kind in self.fields) + ")"
        elif self.name == "map":
            text = "[" + ",".join(str(e) for e in self.elements) + "]"
        else:
            text = self.name + (f"({','.join(str(a) for a in self.args)})" if self.args else "")
        return text + "[]" * self.array_depth + (f" '{self.format}'" if self.format is not None else "")


class Expr:
    """Base of expression nodes."""


@dataclass(frozen=True)
class Literal(Expr):
    value: Any  # str, int, float, bool or None


@dataclass(frozen=True)
class Interpolated(Expr):
    """A double-quoted string holding ``{...}`` (``"id {$p}"``): ADF interpolates columns and parameters."""

    text: str


@dataclass(frozen=True)
class Column(Expr):
    name: str
    stream: str | None = None  # `Reseller@ResellerKey`: the column of that input stream


@dataclass(frozen=True)
class Field(Expr):
    """``expr.name``: a member of a complex (hierarchical) column."""

    expr: Expr
    name: str


@dataclass(frozen=True)
class Param(Expr):
    name: str


@dataclass(frozen=True)
class Current(Expr):
    """``$$``: the column (or name) a pattern rule is applied to."""


@dataclass(frozen=True)
class Capture(Expr):
    """``$1``: a group of the regular expression a rule-based mapping matched the name with."""

    index: int


@dataclass(frozen=True)
class LambdaVar(Expr):
    """``#item``, ``#index``, ``#acc``: the variables of higher-order functions (map, filter, reduce, ...)."""

    name: str


@dataclass(frozen=True)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class CacheCall(Expr):
    """``CacheSink#lookup(key)`` / ``CacheSink#outputs()``: a cached lookup on a cache sink."""

    sink: str
    method: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(frozen=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Array(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class ColumnGroup(Expr):
    """``@(a = x, b = y)``: a complex column built from named members."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class MapEntry(Expr):
    """``key -> value`` (map literals, e.g. ``requestFormat: ['type' -> 'json']``)."""

    key: Expr
    value: Expr


@dataclass(frozen=True)
class Typed(Expr):
    """``expr as type`` (projections in ``output(...)``/``input(...)``) or ``expr ? type`` (parse, stringify)."""

    expr: Expr
    type: TypeRef
    op: str = "as"


@dataclass(frozen=True)
class Index(Expr):
    expr: Expr
    index: Expr


@dataclass(frozen=True)
class Assign(Expr):
    """``target = value`` inside a call (``mapColumn(new = old)``, ``each(match(...), $$ = expr)``)."""

    target: Expr
    value: Expr


@dataclass(frozen=True)
class Option:
    name: str
    value: Expr


@dataclass(frozen=True)
class Positional:
    value: Expr


@dataclass(frozen=True)
class ParameterDecl:
    name: str
    type: TypeRef
    default: Expr | None


@dataclass(frozen=True)
class Transformation:
    name: str  # the output stream
    kind: str  # source, select, derive, filter, sink, join, split, ...
    inputs: tuple[str, ...]  # streams, or split outputs as `Split1@hasNulls`
    args: tuple[Option | Positional, ...]
    line: int
    split_outputs: tuple[str, ...] = ()  # `~> name@(a, b)` (conditional split)

    def options(self) -> dict[str, Expr]:
        return {arg.name: arg.value for arg in self.args if isinstance(arg, Option)}

    def positionals(self) -> list[Expr]:
        return [arg.value for arg in self.args if isinstance(arg, Positional)]


@dataclass(frozen=True)
class Script:
    parameters: tuple[ParameterDecl, ...]
    transformations: tuple[Transformation, ...]

    def transformation(self, name: str) -> Transformation | None:
        return next((t for t in self.transformations if t.name == name), None)


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, (Call, CacheCall)):
        return expr.args
    if isinstance(expr, (Array, ColumnGroup)):
        return expr.items
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, (Typed, Field)):
        return (expr.expr,)
    if isinstance(expr, Index):
        return (expr.expr, expr.index)
    if isinstance(expr, Assign):
        return (expr.target, expr.value)
    if isinstance(expr, MapEntry):
        return (expr.key, expr.value)
    return ()


def walk(expr: Expr) -> Any:
    """Every node of an expression, depth first."""
    yield expr
    for child in _children(expr):
        yield from walk(child)


# --- tokens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # ident, qident, param, capture, current, hash, string, istring, number, op, eof
    value: Any
    offset: int


_OPS = ("~>", "->", "===", "!==", "<=>", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ":",
        "@", "=", "<", ">", "!", "+", "-", "*", "/", "%", ".", "?", "^")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"\d+")
# Integer and floating literals; L/l marks a long, D/d and F/f a double/float, S/s a short (DFS literals).
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?([lLdDfFsS])?(?![A-Za-z0-9_])")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


class _Lexer:
    """Turns script text into tokens; each ``_lex_*`` method reads one kind of token at ``index``."""

    def __init__(self, text: str, where: str) -> None:
        self.text, self.where = text, where
        self.tokens: list[_Token] = []
        self.index = 0

    def run(self) -> list[_Token]:
        readers = (self._skip, self._dollar, self._hash, self._quoted, self._braced, self._number, self._ident, self._op)
        while self.index < len(self.text):
            if not any(read() for read in readers):
                raise _error(self.text, self.index, self.where, f"unexpected character `{self.text[self.index]}`")
        self.tokens.append(_Token("eof", None, len(self.text)))
        return self.tokens

    def _add(self, kind: str, value: Any, start: int, end: int) -> bool:
        self.tokens.append(_Token(kind, value, start))
        self.index = end
        return True

    def _skip(self) -> bool:
        if self.text[self.index].isspace():
            self.index += 1
            return True
        if self.text.startswith("/*", self.index):
            end = self.text.find("*/", self.index + 2)
            self.index = len(self.text) if end < 0 else end + 2
            return True
        return False

    def _dollar(self) -> bool:
        start = self.index
        if self.text[start] != "$":
            return False
        if self.text.startswith("$$", start):
            return self._add("current", "$$", start, start + 2)
        digits = _DIGITS.match(self.text, start + 1)
        if digits:
            return self._add("capture", int(digits.group(0)), start, digits.end())
        name = _IDENT.match(self.text, start + 1)
        if name is None:
            raise _error(self.text, start, self.where, "`$` must be followed by a parameter name, `$` or a group number")
        return self._add("param", name.group(0), start, name.end())

    def _hash(self) -> bool:
        start = self.index
        if self.text[start] != "#":
            return False
        name = _IDENT.match(self.text, start + 1)
        if name is None:
            raise _error(self.text, start, self.where, "`#` must be followed by a name (#item, #index, #lookup(...))")
        return self._add("hash", name.group(0), start, name.end())

    def _quoted(self) -> bool:
        start = self.index
        quote = self.text[start]
        if quote not in "'\"`":
            return False
        value, end = _string(self.text, start, self.where)
        kind = "istring" if quote == '"' and "{" in value else "string"
        return self._add(kind, value, start, end)

    def _braced(self) -> bool:
        start = self.index
        if self.text[start] != "{":
            return False
        previous = self.tokens[-1] if self.tokens else None
        if previous is not None and previous.kind == "ident" and previous.value == "parameters":
            return False  # the parameters{...} block: `{` is an operator there
        end = self.text.find("}", start)
        if end < 0:
            raise _error(self.text, start, self.where, "`{` of a quoted column name is never closed")
        return self._add("qident", self.text[start + 1: end], start, end + 1)

    def _number(self) -> bool:
        match = _NUMBER.match(self.text, self.index)
        if match is None:
            return False
        literal, suffix = match.group(0), match.group(3)
        if suffix:
            literal = literal[:-1]
        is_float = "." in literal or "e" in literal.lower() or suffix in ("d", "D", "f", "F")
        return self._add("number", float(literal) if is_float else int(literal), self.index, match.end())

    def _ident(self) -> bool:
        match = _IDENT.match(self.text, self.index)
        return match is not None and self._add("ident", match.group(0), self.index, match.end())

    def _op(self) -> bool:
        op = next((op for op in _OPS if self.text.startswith(op, self.index)), None)
        return op is not None and self._add("op", op, self.index, self.index + len(op))


def _string(text: str, start: int, where: str) -> tuple[str, int]:
    quote = text[start]
    index = start + 1
    out = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            if quote == "`":  # a regular expression keeps its backslashes: only \` is an escape there
                out.append("`" if escaped == "`" else "\\" + escaped)
            else:
                out.append(_ESCAPES.get(escaped, escaped))
            index += 2
            continue
        if char == quote:
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise _error(text, start, where, "string is never closed")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(text: str, offset: int, where: str, problem: str) -> DataFlowScriptError:
    line, column = _position(text, offset)
    return DataFlowScriptError(where, line, column, problem)


# --- parser ----------------------------------------------------------------------------------------------------

_T = TypeVar("_T")


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = _Lexer(text, where).run()
        self.index = 0

    # helpers
    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    def at(self, kind: str, value: Any = None, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (value is None or token.value == value)

    def accept(self, value: str) -> bool:
        """Consume the operator ``value`` if it is next."""
        if self.at("op", value):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, value: Any = None, what: str | None = None) -> _Token:
        if not self.at(kind, value):
            token = self.peek()
            found = "the end of the script" if token.kind == "eof" else f"`{token.value}`"
            raise self.error(token.offset, f"expected {what or value or kind}, found {found}")
        return self.next()

    def error(self, offset: int, problem: str) -> DataFlowScriptError:
        return _error(self.text, offset, self.where, problem)

    def separated(self, close: str, item: Callable[[], _T]) -> list[_T]:
        """``item (, item)*`` up to the operator ``close``, which is consumed."""
        items = []
        while not self.accept(close):
            items.append(item())
            if not self.at("op", close):
                self.expect("op", ",", what=f"`,` or `{close}`")
        return items

    def name(self, what: str) -> str:
        """A plain or quoted (``{odd name}``) name."""
        if self.at("qident"):
            return str(self.next().value)
        return str(self.expect("ident", what=what).value)

    # script
    def script(self) -> Script:
        parameters: tuple[ParameterDecl, ...] = ()
        if self.at("ident", "parameters") and self.at("op", "{", 1):
            self.index += 2
            parameters = tuple(self.separated("}", self.parameter))
        transformations = []
        names: set[str] = set()
        while not self.at("eof"):
            transformation = self.statement()
            if transformation.name in names:
                raise self.error(self.peek().offset, f"stream `{transformation.name}` is defined twice")
            names.add(transformation.name)
            transformations.append(transformation)
        return Script(parameters, tuple(transformations))

    def parameter(self) -> ParameterDecl:
        name = self.expect("ident", what="a parameter name").value
        self.expect("ident", "as", what="`as <type>`")
        type_ref = self.type_ref()
        default = None
        if self.accept("("):
            default = self.expression()
            self.expect("op", ")")
        return ParameterDecl(name, type_ref, default)

    def type_ref(self) -> TypeRef:
        if self.accept("("):  # struct: (a as string, b as (c as integer)[])
            fields = tuple(self.separated(")", self.struct_field))
            type_ref = TypeRef("struct", fields=fields)
        elif self.accept("["):  # map: [string,integer]
            key = self.type_ref()
            self.expect("op", ",", what="`,` between the key and value types of a map type")
            value = self.type_ref()
            self.expect("op", "]")
            type_ref = TypeRef("map", elements=(key, value))
        else:
            name = self.expect("ident", what="a type name").value.lower()
            args: tuple[int, ...] = ()
            if name == "decimal" and self.at("op", "(") and self.at("number", None, 1):
                self.next()
                args = tuple(int(n) for n in self.separated(")", lambda: self.expect("number").value))
            type_ref = TypeRef(name, args)
        depth = 0
        while self.at("op", "[") and self.at("op", "]", 1):
            self.index += 2
            depth += 1
        text_format = str(self.next().value) if self.at("string") else None
        return TypeRef(type_ref.name, type_ref.args, depth, type_ref.fields, type_ref.elements, text_format)

    def struct_field(self) -> tuple[str, TypeRef]:
        name = str(self.next().value) if self.at("string") else self.name("a member name")
        self.expect("ident", "as", what="`as <type>`")
        return name, self.type_ref()

    def statement(self) -> Transformation:
        start = self.peek().offset
        inputs: list[str] = []
        if not (self.at("ident") and self.at("op", "(", 1)):
            inputs.append(self.stream())
            while self.accept(","):
                inputs.append(self.stream())
        kind = self.expect("ident", what="a transformation (source, select, derive, filter, sink, ...)").value
        self.expect("op", "(")
        args = self.separated(")", self.argument)
        self.expect("op", "~>", what="`~> <output stream>`")
        name = self.expect("ident", what="the output stream name").value
        split: tuple[str, ...] = ()
        if self.accept("@"):
            self.expect("op", "(")
            split = tuple(self.separated(")", lambda: self.expect("ident", what="a split output name").value))
        return Transformation(name, kind, tuple(inputs), tuple(args), _position(self.text, start)[0], split)

    def stream(self) -> str:
        name = self.expect("ident", what="an input stream").value
        if self.accept("@"):
            name += "@" + self.expect("ident", what="a split output name").value
        return str(name)

    def argument(self) -> Option | Positional:
        if self.at("ident") and self.at("op", ":", 1):
            name = self.next().value
            self.next()
            return Option(name, self.item())
        return Positional(self.item())

    # expressions
    def item(self) -> Expr:
        """An expression, an assignment ``target = value`` or a map entry ``key -> value``."""
        expr = self.expression()
        if self.accept("="):
            return Assign(expr, self.expression())
        if self.accept("->"):
            return MapEntry(expr, self.expression())
        return expr

    def expression(self) -> Expr:
        return self.binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("^",),
        ("==", "!=", "===", "!==", "<=>"),
        ("<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> Expr:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().value in self._LEVELS[level]:
            op = self.next().value
            left = Binary(op, left, self.binary(level + 1))
        return left

    def unary(self) -> Expr:
        if self.at("op", "!") or self.at("op", "-"):
            op = self.next().value
            return Unary(op, self.unary())
        return self.postfix()

    def postfix(self) -> Expr:
        expr = self.primary()
        while True:
            if self.accept("["):
                index = self.expression()
                self.expect("op", "]")
                expr = Index(expr, index)
            elif self.accept("."):
                expr = Field(expr, self.name("a member name after `.`"))
            elif self.at("ident", "as"):
                self.next()
                expr = Typed(expr, self.type_ref())
            elif self.accept("?"):
                expr = Typed(expr, self.type_ref(), "?")
            else:
                return expr

    def primary(self) -> Expr:
        token = self.next()
        simple = _SIMPLE.get(token.kind)
        if simple is not None:
            return simple(token.value)
        if token.kind == "ident":
            return self.named(token)
        if token.kind == "op" and token.value == "(":
            expr = self.item()
            self.expect("op", ")")
            return expr
        if token.kind == "op" and token.value == "[":
            return Array(tuple(self.separated("]", self.item)))
        if token.kind == "op" and token.value == "@":
            self.expect("op", "(", what="`(` of a column group `@(name = value, ...)`")
            return ColumnGroup(tuple(self.separated(")", self.item)))
        found = "the end of the script" if token.kind == "eof" else f"`{token.value}`"
        raise self.error(token.offset, f"expected an expression, found {found}")

    def named(self, token: _Token) -> Expr:
        """What an identifier starts: a call, a literal, a cached lookup, a (stream-qualified) column."""
        if self.accept("("):
            return Call(token.value, tuple(self.separated(")", self.item)))
        if token.value in ("true", "false"):
            return Literal(token.value == "true")
        if token.value == "null":
            return Literal(None)
        if self.at("hash") and self.at("op", "(", 1):
            method = self.next().value
            self.next()
            return CacheCall(token.value, method, tuple(self.separated(")", self.item)))
        if self.at("op", "@") and (self.at("ident", None, 1) or self.at("qident", None, 1)):
            self.next()
            return Column(self.name("a column name"), stream=token.value)
        return Column(token.value)


_SIMPLE: dict[str, Any] = {
    "number": Literal, "string": Literal, "istring": Interpolated, "param": Param, "capture": Capture,
    "current": lambda _: Current(), "qident": Column, "hash": LambdaVar,
}


def parse_expression(text: str, where: str) -> Expr:
    """One data flow expression, e.g. a parameter value the pipeline passes (``'2026-11-24'``)."""
    parser = _Parser(text, where)
    expr = parser.expression()
    parser.expect("eof", what="the end of the expression")
    return expr


def parse_script(text: str, where: str) -> Script:
    """Parse a whole data flow script; ``where`` names it in errors (``data flow `Df_Load_Serving```)."""
    return _Parser(text, where).script()
