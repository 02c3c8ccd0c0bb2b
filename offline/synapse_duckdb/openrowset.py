"""Find `OPENROWSET(BULK ..., FORMAT = 'PARQUET') WITH (...) AS alias` in a T-SQL view (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from offline.synapse_duckdb.errors import SqlTranslationError

_HEAD = re.compile(r"OPENROWSET\s*\(", re.IGNORECASE)
_OPTION = re.compile(r"(BULK|DATA_SOURCE|FORMAT)\s*=?\s*'([^']*)'", re.IGNORECASE)
_WITH = re.compile(r"\)\s*WITH\s*\(", re.IGNORECASE)
_ALIAS = re.compile(r"\)\s*(?:AS\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_COLUMN = re.compile(r"^\s*\[?([A-Za-z_][A-Za-z0-9_]*)\]?\s+(.+?)\s*$", re.DOTALL)
_COLLATE = re.compile(r"\s+COLLATE\s+\S+", re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # T-SQL type text, collation removed


@dataclass(frozen=True)
class OpenRowset:
    start: int  # span in the script, covering OPENROWSET(...) WITH (...) AS alias
    end: int
    bulk: str
    data_source: str | None
    file_format: str
    columns: tuple[Column, ...]
    alias: str


def find_openrowsets(sql: str) -> list[OpenRowset]:
    found: list[OpenRowset] = []
    for head in _HEAD.finditer(sql):
        options_end = _closing_paren(sql, head.end() - 1)
        options = {key.upper(): value for key, value in _OPTION.findall(sql[head.end() : options_end])}
        if "BULK" not in options:
            raise SqlTranslationError(f"OPENROWSET at offset {head.start()} has no BULK path")
        file_format = options.get("FORMAT", "").upper()
        if file_format != "PARQUET":
            raise SqlTranslationError(f"OPENROWSET FORMAT `{file_format or '?'}` is not supported locally; use PARQUET")
        with_match = _WITH.match(sql, options_end)
        if with_match is None:
            raise SqlTranslationError(
                f"OPENROWSET over `{options['BULK']}` has no WITH column list; add one so types are explicit"
            )
        with_end = _closing_paren(sql, with_match.end() - 1)
        columns = tuple(_parse_column(text) for text in _split_top_level(sql[with_match.end() : with_end]))
        alias_match = _ALIAS.match(sql, with_end)
        if alias_match is None:
            raise SqlTranslationError(f"OPENROWSET over `{options['BULK']}` needs an alias (… ) AS r)")
        found.append(
            OpenRowset(
                start=head.start(),
                end=alias_match.end(),
                bulk=options["BULK"],
                data_source=options.get("DATA_SOURCE"),
                file_format=file_format,
                columns=columns,
                alias=alias_match.group(1),
            )
        )
    return found


def _closing_paren(sql: str, open_index: int) -> int:
    depth = 0
    in_string = False
    for index in range(open_index, len(sql)):
        char = sql[index]
        if char == "'":
            in_string = not in_string
        elif not in_string and char == "(":
            depth += 1
        elif not in_string and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise SqlTranslationError(f"unbalanced parentheses after offset {open_index}")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _parse_column(text: str) -> Column:
    match = _COLUMN.match(text)
    if match is None:
        raise SqlTranslationError(f"cannot read WITH column definition `{text.strip()}`")
    return Column(name=match.group(1), sql_type=_COLLATE.sub("", match.group(2)).strip())
