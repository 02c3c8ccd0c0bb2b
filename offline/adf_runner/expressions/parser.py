"""Tokenizer and parser of the ADF expression language.

A JSON string value in a factory is one of:
- a plain string (no leading `@`, no `@{`): a literal;
- `@@...`: a literal string starting with `@` (the escape);
- `@<expression>`: one expression, its value keeps its type (bool, int, array, object, ...);
- a string with `@{<expression>}` parts: string interpolation, the result is always a string; `@@{` is a
  literal `@{`.

Grammar of one expression (ADF has no operators, everything is a function call):
    expr    := primary postfix*
    primary := STRING | NUMBER | true | false | null | NAME '(' [expr (',' expr)*] ')'
    postfix := '.' NAME | '?.' NAME | '[' expr ']' | '?[' expr ']'
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from offline.adf_runner.errors import ExpressionSyntaxError

__all__ = [
    "Call",
    "Index",
    "Interpolation",
    "Literal",
    "Member",
    "Node",
    "Template",
    "parse_expression",
    "parse_template",
]


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Member:
    target: Node
    name: str
    safe: bool  # `?.`: null instead of an error when the target is null or lacks the property


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node
    safe: bool


Node = Literal | Call | Member | Index


@dataclass(frozen=True)
class Interpolation:
    """`text @{a} more @{b}`: literal text and expressions, joined as strings."""

    parts: tuple[str | Node, ...]


# What a JSON string in the factory is, once parsed: a literal string, one expression, or an interpolation.
Template = str | Node | Interpolation


@dataclass(frozen=True)
class _Token:
    kind: str  # STRING NUMBER NAME PUNCT END
    value: Any
    pos: int


_PUNCT = {"(", ")", "[", "]", ",", "."}
# Number literals as Microsoft's engine reads them: a sign, `5.` and `-.5` included; ASCII digits only.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            token, i = _string(text, i)
        elif (number := _NUMBER.match(text, i)) and (ch.isdigit() or ch in "+-"):
            token, i = _number(text, i, number.group())
        elif ch.isalpha() or ch in "_$":
            token, i = _name(text, i)
        elif ch == "?" and i + 1 < n and text[i + 1] in ".[":
            token, i = _Token("PUNCT", "?" + text[i + 1], i), i + 2
        elif ch in _PUNCT:
            token, i = _Token("PUNCT", ch, i), i + 1
        else:
            raise ExpressionSyntaxError(f"unexpected character `{ch}` at position {i}", text)
        tokens.append(token)
    tokens.append(_Token("END", None, n))
    return tokens


def _string(text: str, start: int) -> tuple[_Token, int]:
    """The single-quoted string at `start` (a quote inside is doubled: 'it''s') and the position after it."""
    j, chunks = start + 1, list[str]()
    while True:
        if j >= len(text):
            raise ExpressionSyntaxError(f"unterminated string literal starting at position {start}", text)
        if text[j] == "'":
            if text[j + 1:j + 2] != "'":
                return _Token("STRING", "".join(chunks), start), j + 1
            j += 1  # a doubled quote: keep one
        chunks.append(text[j])
        j += 1


def _number(text: str, start: int, literal: str) -> tuple[_Token, int]:
    """The number literal matched at `start`, read as Microsoft's engine reads it, and the position after it."""
    end = start + len(literal)
    if literal.endswith(".") and end < len(text) and (text[end].isalpha() or text[end] == "_"):
        literal = literal[:-1]  # `1.name` is a member access, not the float `1.`
    is_float = any(c in literal for c in ".eE")
    number = float(literal) if is_float else int(literal)
    if not is_float and not -(2**63) <= number < 2**63:
        # ADF reads integer literals as 64-bit (`9223372036854775808` is refused).
        raise ExpressionSyntaxError(f"integer literal {literal} at position {start} does not fit in 64 bits", text)
    if is_float and math.isinf(number):
        raise ExpressionSyntaxError(f"not supported locally: the literal {literal} at position {start} overflows a double", text)
    return _Token("NUMBER", number, start), start + len(literal)


def _name(text: str, start: int) -> tuple[_Token, int]:
    end = start + 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
        end += 1
    return _Token("NAME", text[start:end], start), end


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token.kind != "PUNCT" or token.value != value:
            found = "end of expression" if token.kind == "END" else f"`{token.value}`"
            raise ExpressionSyntaxError(f"expected `{value}` at position {token.pos}, found {found}", self.text)

    def parse(self) -> Node:
        node = self.expression()
        token = self.peek()
        if token.kind != "END":
            raise ExpressionSyntaxError(f"unexpected `{token.value}` at position {token.pos}", self.text)
        return node

    def expression(self) -> Node:
        node = self.primary()
        while True:
            token = self.peek()
            if token.kind != "PUNCT" or token.value not in (".", "?.", "[", "?["):
                return node
            self.take()
            if token.value in (".", "?."):
                name = self.take()
                if name.kind not in ("NAME", "NUMBER"):
                    raise ExpressionSyntaxError(f"expected a property name after `{token.value}` at position {name.pos}", self.text)
                node = Member(node, str(name.value), token.value == "?.")
            else:
                index = self.expression()
                self.expect("]")
                node = Index(node, index, token.value == "?[")

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("STRING", "NUMBER"):
            return Literal(token.value)
        if token.kind == "NAME":
            lowered = token.value.lower()
            following = self.peek()
            if following.kind == "PUNCT" and following.value == "(":
                self.take()
                args: list[Node] = []
                if not (self.peek().kind == "PUNCT" and self.peek().value == ")"):
                    args.append(self.expression())
                    while self.peek().kind == "PUNCT" and self.peek().value == ",":
                        self.take()
                        args.append(self.expression())
                self.expect(")")
                return Call(token.value, tuple(args))
            if lowered in ("true", "false"):
                return Literal(lowered == "true")
            if lowered == "null":
                return Literal(None)
            raise ExpressionSyntaxError(
                f"`{token.value}` at position {token.pos} is not a function call (write `{token.value}()`) "
                "or a literal", self.text
            )
        found = "end of expression" if token.kind == "END" else f"`{token.value}`"
        raise ExpressionSyntaxError(f"expected a value at position {token.pos}, found {found}", self.text)


def parse_expression(text: str) -> Node:
    """Parse one expression (the text after `@`)."""
    return _Parser(text).parse()


def parse_template(value: str) -> Template:
    """Parse a JSON string value of the factory into a literal, an expression or an interpolation."""
    if value.startswith("@@"):
        return value[1:]
    if value.startswith("@") and not value.startswith("@{"):
        return parse_expression(value[1:])
    if "@{" not in value:
        return value
    parts: list[str | Node] = []
    text: list[str] = []
    i, n = 0, len(value)
    while i < n:
        if value.startswith("@@{", i):
            text.append("@{")
            i += 3
        elif value.startswith("@{", i):
            end = _closing_brace(value, i + 2)
            if text:
                parts.append("".join(text))
                text = []
            parts.append(parse_expression(value[i + 2 : end]))
            i = end + 1
        else:
            text.append(value[i])
            i += 1
    if text:
        parts.append("".join(text))
    return Interpolation(tuple(parts))


def _closing_brace(value: str, start: int) -> int:
    in_string = False
    i = start
    while i < len(value):
        ch = value[i]
        if ch == "'":
            # A doubled quote inside a string is an escaped quote: toggling twice keeps us inside.
            in_string = not in_string
        elif ch == "}" and not in_string:
            return i
        i += 1
    raise ExpressionSyntaxError("`@{` without a closing `}`", value)
