"""What every rewrite pass shares: the statement's types, the session settings, and DuckDB SQL snippets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from offline.synapse_duckdb.tsql_types import SqlType, Typer


@dataclass
class Session:
    """Per-connection T-SQL settings that change how statements evaluate."""

    datefirst: int = 7  # SET DATEFIRST; 7 (Sunday) is the us_english default (learn.DATEFIRST)


@dataclass(frozen=True)
class Context:
    typer: Typer
    session: Session

    def type(self, node: exp.Expr | None) -> SqlType:
        return self.typer.of(node)


# A pass looks at one node (children already rewritten) and returns its replacement, or None.
Pass = Callable[[exp.Expr, Context], exp.Expr | None]


def sql(node: exp.Expr) -> str:
    return node.sql(dialect="duckdb")


def duck(template: str, **parts: exp.Expr | str | int) -> exp.Expr:
    """DuckDB SQL from a template whose {names} are expressions (parenthesised) or literal text."""
    text = template.format(**{k: f"({sql(v)})" if isinstance(v, exp.Expr) else v for k, v in parts.items()})
    return sqlglot.parse_one(text, read="duckdb")


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


__all__ = ["Context", "Pass", "Session", "duck", "sql", "string_literal"]
