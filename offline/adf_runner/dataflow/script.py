"""Parse mapping data flow script (the text of a data flow's ``scriptLines``) into a syntax tree (pure).

The parser reads the whole syntax of the script language as ADF Studio writes it: a ``parameters{...}``
block, then one statement per transformation::

    [input[, input...]] <kind>(<arguments>) ~> <output>

where an argument is an option (``allowSchemaDrift: true``), an assignment (``name = expr``, in derive and
mapColumn) or a positional expression (``filter(!isNull(id))``, ``output(id as string)``). Whether the
local runner can *execute* a kind, option or function is decided by the engine, which names whatever it
does not implement; this module only refuses text that is not data flow script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from offline.adf_runner.errors import DataFlowScriptError

__all__ = [
    "Array", "Assign", "Binary", "Call", "Column", "Current", "Expr", "Index", "Literal", "Option", "Param",
    "ParameterDecl", "Positional", "Script", "Transformation", "TypeRef", "Typed", "Unary", "parse_expression",
    "parse_script", "walk",
]


# --- syntax tree -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeRef:
    name: str  # string, integer, decimal, ... (lower case)
    args: tuple[int, ...] = ()  # decimal(10,2)
    array_depth: int = 0  # string[] -> 1

    def __str__(self) -> str:
        text = self.name + (f"({','.join(str(a) for a in self.args)})" if self.args else "")
        return text + "[]" * self.array_depth


class Expr:
    """Base of expression nodes."""


@dataclass(frozen=True)
class Literal(Expr):
    value: Any  # str, int, float, bool or None


@dataclass(frozen=True)
class Column(Expr):
    name: str


@dataclass(frozen=True)
class Param(Expr):
    name: str


@dataclass(frozen=True)
class Current(Expr):
    """``$$``: the column (or name) a pattern rule is applied to."""


@dataclass(frozen=True)
class Call(Expr):
    name: str
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
class Typed(Expr):
    """``expr as type`` (projections in ``output(...)``/``input(...)``)."""

    expr: Expr
    type: TypeRef


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
    kind: str  # source, select, derive, filter, sink, ...
    inputs: tuple[str, ...]
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


def walk(expr: Expr) -> Any:
    """Every node of an expression, depth first."""
    yield expr
    children: tuple[Expr, ...] = ()
    if isinstance(expr, Call):
        children = expr.args
    elif isinstance(expr, Unary):
        children = (expr.operand,)
    elif isinstance(expr, (Binary,)):
        children = (expr.left, expr.right)
    elif isinstance(expr, Array):
        children = expr.items
    elif isinstance(expr, Typed):
        children = (expr.expr,)
    elif isinstance(expr, Index):
        children = (expr.expr, expr.index)
    elif isinstance(expr, Assign):
        children = (expr.target, expr.value)
    for child in children:
        yield from walk(child)


# --- tokens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # ident, qident, param, current, string, number, op, eof
    value: Any
    offset: int


_OPS = ("~>", "===", "!==", "<=>", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ":",
        "@", "=", "<", ">", "!", "+", "-", "*", "/", "%")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?([lLdDfF])?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _tokenize(text: str, where: str) -> list[_Token]:
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = len(text) if end < 0 else end + 2
            continue
        if text.startswith("$$", index):
            tokens.append(_Token("current", "$$", index))
            index += 2
            continue
        if char == "$":
            match = _IDENT.match(text, index + 1)
            if match is None:
                raise _error(text, index, where, "`$` must be followed by a parameter name")
            tokens.append(_Token("param", match.group(0), index))
            index = match.end()
            continue
        if char in "'\"":
            text_value, index = _string(text, index, where)
            tokens.append(_Token("string", text_value, index))
            continue
        if char == "{" and not (tokens and tokens[-1].kind == "ident" and tokens[-1].value == "parameters"):
            end = text.find("}", index)
            if end < 0:
                raise _error(text, index, where, "`{` of a quoted column name is never closed")
            tokens.append(_Token("qident", text[index + 1: end], index))
            index = end + 1
            continue
        number = _NUMBER.match(text, index)
        if number:
            literal = number.group(0).rstrip("lLdDfF")
            is_float = "." in literal or "e" in literal.lower() or number.group(3) in ("d", "D", "f", "F")
            value: Any = float(literal) if is_float else int(literal)
            tokens.append(_Token("number", value, index))
            index = number.end()
            continue
        ident = _IDENT.match(text, index)
        if ident:
            tokens.append(_Token("ident", ident.group(0), index))
            index = ident.end()
            continue
        op = next((op for op in _OPS if text.startswith(op, index)), None)
        if op is None:
            raise _error(text, index, where, f"unexpected character `{char}`")
        tokens.append(_Token("op", op, index))
        index += len(op)
    tokens.append(_Token("eof", None, len(text)))
    return tokens


def _string(text: str, start: int, where: str) -> tuple[str, int]:
    quote = text[start]
    index = start + 1
    out = []
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(_ESCAPES.get(text[index + 1], text[index + 1]))
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


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = _tokenize(text, where)
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

    def expect(self, kind: str, value: Any = None, what: str | None = None) -> _Token:
        if not self.at(kind, value):
            token = self.peek()
            found = "the end of the script" if token.kind == "eof" else f"`{token.value}`"
            raise self.error(token.offset, f"expected {what or value or kind}, found {found}")
        return self.next()

    def error(self, offset: int, problem: str) -> DataFlowScriptError:
        return _error(self.text, offset, self.where, problem)

    # script
    def script(self) -> Script:
        parameters: tuple[ParameterDecl, ...] = ()
        if self.at("ident", "parameters") and self.at("op", "{", 1):
            parameters = self.parameters()
        transformations = []
        names: set[str] = set()
        while not self.at("eof"):
            transformation = self.statement()
            if transformation.name in names:
                raise self.error(self.peek().offset, f"stream `{transformation.name}` is defined twice")
            names.add(transformation.name)
            transformations.append(transformation)
        return Script(parameters, tuple(transformations))

    def parameters(self) -> tuple[ParameterDecl, ...]:
        self.next()
        self.expect("op", "{")
        declarations = []
        while not self.at("op", "}"):
            name = self.expect("ident", what="a parameter name").value
            self.expect("ident", "as", what="`as <type>`")
            type_ref = self.type_ref()
            default = None
            if self.at("op", "("):
                self.next()
                default = self.expression()
                self.expect("op", ")")
            declarations.append(ParameterDecl(name, type_ref, default))
            if not self.at("op", "}"):
                self.expect("op", ",")
        self.next()
        return tuple(declarations)

    def type_ref(self) -> TypeRef:
        if self.at("op", "("):
            raise self.error(self.peek().offset, "struct types `(...)` are not supported by the local runner")
        name = self.expect("ident", what="a type name").value.lower()
        args: list[int] = []
        if self.at("op", "(") and self.at("number", None, 1):
            self.next()
            while True:
                args.append(int(self.expect("number").value))
                if not self.at("op", ","):
                    break
                self.next()
            self.expect("op", ")")
        depth = 0
        while self.at("op", "[") and self.at("op", "]", 1):
            self.index += 2
            depth += 1
        return TypeRef(name, tuple(args), depth)

    def statement(self) -> Transformation:
        start = self.peek().offset
        inputs: list[str] = []
        if not (self.at("ident") and self.at("op", "(", 1)):
            inputs.append(self.stream())
            while self.at("op", ","):
                self.next()
                inputs.append(self.stream())
        kind = self.expect("ident", what="a transformation (source, select, derive, filter, sink, ...)").value
        self.expect("op", "(")
        args = self.arguments()
        self.expect("op", ")")
        self.expect("op", "~>", what="`~> <output stream>`")
        name = self.expect("ident", what="the output stream name").value
        split: tuple[str, ...] = ()
        if self.at("op", "@"):
            self.next()
            self.expect("op", "(")
            outputs = [self.expect("ident").value]
            while self.at("op", ","):
                self.next()
                outputs.append(self.expect("ident").value)
            self.expect("op", ")")
            split = tuple(outputs)
        return Transformation(name, kind, tuple(inputs), tuple(args), _position(self.text, start)[0], split)

    def stream(self) -> str:
        name = self.expect("ident", what="an input stream").value
        if self.at("op", "@"):
            self.next()
            name += "@" + self.expect("ident").value
        return name

    def arguments(self) -> list[Option | Positional]:
        args: list[Option | Positional] = []
        while not self.at("op", ")"):
            if self.at("ident") and self.at("op", ":", 1):
                name = self.next().value
                self.next()
                args.append(Option(name, self.expression()))
            else:
                args.append(Positional(self.assignment()))
            if not self.at("op", ")"):
                self.expect("op", ",", what="`,` or `)`")
        return args

    # expressions
    def assignment(self) -> Expr:
        expr = self.expression()
        if self.at("op", "="):
            self.next()
            return Assign(expr, self.expression())
        return expr

    def expression(self) -> Expr:
        return self.binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
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
            if self.at("op", "["):
                self.next()
                index = self.expression()
                self.expect("op", "]")
                expr = Index(expr, index)
            elif self.at("ident", "as"):
                self.next()
                expr = Typed(expr, self.type_ref())
            else:
                return expr

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind in ("number", "string"):
            self.next()
            return Literal(token.value)
        if token.kind == "param":
            self.next()
            return Param(token.value)
        if token.kind == "current":
            self.next()
            return Current()
        if token.kind == "qident":
            self.next()
            return Column(token.value)
        if token.kind == "ident":
            self.next()
            if self.at("op", "("):
                self.next()
                args: list[Expr] = []
                while not self.at("op", ")"):
                    args.append(self.assignment())
                    if not self.at("op", ")"):
                        self.expect("op", ",", what="`,` or `)`")
                self.next()
                return Call(token.value, tuple(args))
            if token.value in ("true", "false"):
                return Literal(token.value == "true")
            if token.value == "null":
                return Literal(None)
            return Column(token.value)
        if token.kind == "op" and token.value == "(":
            self.next()
            expr = self.assignment()
            self.expect("op", ")")
            return expr
        if token.kind == "op" and token.value == "[":
            self.next()
            items: list[Expr] = []
            while not self.at("op", "]"):
                items.append(self.expression())
                if not self.at("op", "]"):
                    self.expect("op", ",", what="`,` or `]`")
            self.next()
            return Array(tuple(items))
        found = "the end of the script" if token.kind == "eof" else f"`{token.value}`"
        raise self.error(token.offset, f"expected an expression, found {found}")


def parse_expression(text: str, where: str) -> Expr:
    """One data flow expression, e.g. a parameter value the pipeline passes (``'2026-11-24'``)."""
    parser = _Parser(text, where)
    expr = parser.expression()
    parser.expect("eof", what="the end of the expression")
    return expr


def parse_script(text: str, where: str) -> Script:
    """Parse a whole data flow script; ``where`` names it in errors (``data flow `Df_Load_Serving```)."""
    return _Parser(text, where).script()
