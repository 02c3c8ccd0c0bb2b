"""A recording DB-API connection standing in for Synapse serverless SQL in deploy tests.

It keeps the catalog deploy reads (databases, master key, credentials, external data sources, file formats,
schemas, views with their definitions, permissions granted and role memberships), applies the statements of the
committed scripts to it (GRANT/REVOKE and ALTER ROLE ADD/DROP MEMBER included), records every
batch, and fails any statement on demand, either at execute() or, as SQL Server reports an error of a later
statement in a batch, only when the client calls nextset() (pyodbc documents nextset() as where those surface).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class FakeSqlError(Exception):
    """Stands in for pyodbc.Error."""


@dataclass
class Failure:
    pattern: re.Pattern[str]
    at_nextset: bool
    message: str


@dataclass
class FakeSynapse:
    databases: set[str] = field(default_factory=set)
    objects: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # database -> (sys table, lower name)
    data_sources: dict[str, dict[str, str]] = field(default_factory=dict)  # database -> lower name -> location
    views: dict[str, dict[str, str]] = field(default_factory=dict)  # database -> lower schema.view -> definition
    # database -> (grantee, permission, class_desc, securable) as sys.database_permissions names them
    grants: dict[str, set[tuple[str, str, str, str]]] = field(default_factory=dict)
    members: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # database -> (role, member)
    master_key_passwords: list[str] = field(default_factory=list)
    executed: list[tuple[str, str]] = field(default_factory=list)  # (database, sql), reads included
    failures: list[Failure] = field(default_factory=list)

    def fail(self, pattern: str, at_nextset: bool = False, message: str = "injected SQL error") -> None:
        self.failures.append(Failure(re.compile(pattern, re.IGNORECASE | re.DOTALL), at_nextset, message))

    def connect(self, database: str) -> FakeConnection:
        return FakeConnection(self, database)

    def writes(self) -> list[tuple[str, str]]:
        return [(db, sql) for db, sql in self.executed if not sql.lstrip().upper().startswith("SELECT")]


class FakeConnection:
    def __init__(self, server: FakeSynapse, database: str) -> None:
        self.server, self.database = server, database

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.server, self.database)

    def close(self) -> None:
        pass


class FakeCursor:
    def __init__(self, server: FakeSynapse, database: str) -> None:
        self.server, self.database = server, database
        self.rows: list[tuple[Any, ...]] = []
        self.pending: FakeSqlError | None = None

    def execute(self, sql: str, *params: Any) -> FakeCursor:
        server, db = self.server, self.database
        server.executed.append((db, sql))
        for failure in list(server.failures):
            if failure.pattern.search(sql):
                server.failures.remove(failure)
                if not failure.at_nextset:
                    raise FakeSqlError(failure.message)
                self.pending = FakeSqlError(failure.message)
        if db != "master" and db not in server.databases:
            raise FakeSqlError(f"Cannot open database \"{db}\" requested by the login.")
        if sql.lstrip().upper().startswith("SELECT"):
            self.rows = self._select(sql, params[0] if params else ())
        else:
            self._apply(sql)
        return self

    def nextset(self) -> bool:
        if self.pending is not None:
            error, self.pending = self.pending, None
            raise error
        return False

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        server, db = self.server, self.database
        if "FROM sys.databases" in sql:
            return [(name,) for name in sorted(server.databases) if name == params[0]]
        if "FROM sys.external_data_sources" in sql and "location" in sql:
            return sorted(server.data_sources.get(db, {}).items())
        if "FROM sys.views" in sql:
            return sorted(server.views.get(db, {}).items())
        if "FROM sys.database_permissions" in sql:
            return sorted(server.grants.get(db, set()))
        if "FROM sys.database_role_members" in sql:
            return sorted(server.members.get(db, set()))
        table = re.search(r"FROM (sys\.\w+)", sql)
        assert table, sql
        return [(name,) for t, name in sorted(server.objects.get(db, set())) if t == table.group(1).lower()]

    def _apply(self, sql: str) -> None:
        server, db = self.server, self.database
        objects = server.objects.setdefault(db, set())
        if match := re.search(r"CREATE DATABASE \[(\w+)\]", sql):
            server.databases.add(match.group(1))
        if match := re.search(r"EXEC \('CREATE MASTER KEY", sql):
            inner, _ = _literal(sql, sql.index("'", match.start()))
            password, _ = _literal(inner, inner.index("'", inner.index("PASSWORD")))
            if ("sys.symmetric_keys", "##ms_databasemasterkey##") not in objects:
                server.master_key_passwords.append(password)
        for name, location in re.findall(r"CREATE EXTERNAL DATA SOURCE (\w+)\s+WITH \(LOCATION = '([^']+)'", sql):
            if ("sys.external_data_sources", name.lower()) not in objects:
                server.data_sources.setdefault(db, {})[name.lower()] = location
        # Whatever a script creates under `IF NOT EXISTS (SELECT ... FROM sys.<catalog> WHERE name = '<name>')` exists after it.
        for table, name in re.findall(r"IF NOT EXISTS \(SELECT 1 FROM (sys\.\w+) WHERE name = '([^']+)'\)", sql):
            objects.add((table.lower(), name.lower()))
        if match := re.match(r"DROP EXTERNAL DATA SOURCE \[(\w+)\]", sql):
            objects.discard(("sys.external_data_sources", match.group(1).lower()))
            server.data_sources.get(db, {}).pop(match.group(1).lower(), None)
        if match := re.match(r"DROP VIEW ([\w.]+)", sql):
            server.views.get(db, {}).pop(match.group(1).lower(), None)
        for verb, permission, on, securable, grantee in _PERMISSION.findall(sql):
            grant = (grantee.strip("[]"), permission.upper(), "_".join(on.upper().split()) or "DATABASE", securable)
            getattr(server.grants.setdefault(db, set()), "add" if verb.upper() == "GRANT" else "discard")(grant)
        for role, verb, member in _MEMBERSHIP.findall(sql):
            membership = (role, member.strip("[]"))
            getattr(server.members.setdefault(db, set()), "add" if verb.upper() == "ADD" else "discard")(membership)
        if match := re.search(r"CREATE OR ALTER VIEW ([\w.]+) AS", sql):
            server.views.setdefault(db, {})[match.group(1).lower()] = sql[match.start():]


_PERMISSION = re.compile(r"\b(GRANT|REVOKE) ([A-Z ]+?)(?: ON ([A-Z ]+?)::(\w+))? (?:TO|FROM) (\[[^\]]+\]|\w+)", re.IGNORECASE)
_MEMBERSHIP = re.compile(r"ALTER ROLE (\w+) (ADD|DROP) MEMBER (\[[^\]]+\]|\w+)", re.IGNORECASE)


def _literal(text: str, start: int) -> tuple[str, int]:
    """The T-SQL string literal opening at text[start] (`''` is a quote inside it), and where it ends."""
    assert text[start] == "'"
    out, index = [], start + 1
    while True:
        if text[index] == "'":
            if index + 1 < len(text) and text[index + 1] == "'":
                out.append("'")
                index += 2
                continue
            return "".join(out), index + 1
        out.append(text[index])
        index += 1
