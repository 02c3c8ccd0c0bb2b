"""Publish the Synapse serverless SQL: the database, its setup (keys, credential, data sources) and the views.

Reads first, then writes only what differs: a missing database or setup object runs its script; an external data
source whose LOCATION differs is dropped and created again (serverless SQL has no ALTER EXTERNAL DATA SOURCE); a
view runs only when its definition differs from ``OBJECT_DEFINITION``; ``--prune`` drops views of the repo's
schemas that the repo no longer has (not the load's ``<table>_latest`` views of its tables). A setup script
guards each object it creates with ``IF NOT EXISTS (SELECT 1 FROM sys.<catalog> WHERE name = '<name>')``: those
guards are how deploy tells what is missing (a script without any guard runs only when the database is created).
Its ``GRANT ... TO`` and ``ALTER ROLE ... ADD MEMBER`` statements are compared with ``sys.database_permissions`` and
``sys.database_role_members``: a grant or role membership an operator revoked makes the script run again (a GRANT of
a permission already held and a guarded ADD MEMBER change nothing), so deploy restores it, and sends nothing when
all are in place.
Secrets from Key Vault are escaped for the string literal they sit in (`escape_in_literal`), never pasted raw, and
never logged. Every batch is drained with ``nextset()``, because SQL Server reports an error of a later statement in
a batch only when the client reaches its result set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from factory_deploy.errors import DeployError
from factory_deploy.plan import CREATE, DELETE, UNCHANGED, UPDATE, Change

PART = "synapse"
Log = Callable[[str], None]
SECRET_VARIABLES = {"MasterKeyPassword": "synapse-master-key-password"}  # sqlcmd variable -> Key Vault secret
_VARIABLE = re.compile(r"\$\((\w+)\)")
_REQUIRES = re.compile(r"FROM\s+(sys\.\w+)\s+WHERE\s+name\s*=\s*'([^']+)'", re.IGNORECASE)
_DATA_SOURCE = re.compile(r"CREATE\s+EXTERNAL\s+DATA\s+SOURCE\s+(\w+)\s+WITH\s*\(\s*LOCATION\s*=\s*'([^']+)'", re.IGNORECASE)
_NAME = r"(?:\[([^\]]+)\]|(\w+))"  # [bracketed name] or plain identifier
_GRANT = re.compile(rf"^\s*GRANT\s+([A-Z][A-Z ]*?)(?:\s+ON\s+([A-Z][A-Z ]*?)\s*::\s*{_NAME})?\s+TO\s+{_NAME}\s*;",
                    re.IGNORECASE | re.MULTILINE)
_MEMBER = re.compile(rf"ALTER\s+ROLE\s+{_NAME}\s+ADD\s+MEMBER\s+{_NAME}", re.IGNORECASE)
# Permissions held (state G = GRANT, W = WITH GRANT OPTION; a DENY is not held) with the securable's name by class:
# Microsoft Learn "sys.database_permissions (Transact-SQL)".
_PERMISSIONS_SQL = (
    "SELECT pr.name, pe.permission_name, pe.class_desc, COALESCE(s.name, c.name, '') "
    "FROM sys.database_permissions AS pe "
    "JOIN sys.database_principals AS pr ON pr.principal_id = pe.grantee_principal_id "
    "LEFT JOIN sys.schemas AS s ON pe.class_desc = 'SCHEMA' AND s.schema_id = pe.major_id "
    "LEFT JOIN sys.database_scoped_credentials AS c ON pe.class_desc = 'DATABASE_SCOPED_CREDENTIAL' "
    "AND c.credential_id = pe.major_id "
    "WHERE pe.state IN ('G', 'W')"
)
_MEMBERS_SQL = (
    "SELECT r.name, m.name FROM sys.database_role_members AS rm "
    "JOIN sys.database_principals AS r ON r.principal_id = rm.role_principal_id "
    "JOIN sys.database_principals AS m ON m.principal_id = rm.member_principal_id"
)
_VIEW = re.compile(r"CREATE\s+(?:OR\s+ALTER\s+)?VIEW\s+([\w.\[\]]+)\s+AS\b", re.IGNORECASE)
LOAD_MANAGED_SUFFIX = "_latest"  # activities.load.ddl.LATEST_SUFFIX
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


class Connection(Protocol):
    def cursor(self) -> Any: ...
    def close(self) -> None: ...


Connect = Callable[[str], Connection]  # database name -> open DB-API connection


@dataclass(frozen=True)
class Script:
    database: str
    name: str  # e.g. setup/02_data_sources.sql
    sql: str  # sqlcmd variables substituted, secrets still as $(Name)


Statement = tuple[str, str, str]  # (database, what the log calls it, SQL)


@dataclass(frozen=True)
class SynapsePlan:
    changes: list[Change]
    statements: list[Statement]  # in order


def escape_in_literal(value: str, depth: int) -> str:
    """`value` escaped to sit inside `depth` nested T-SQL string literals (`'` doubles at each level)."""
    if depth < 1:
        raise ValueError("a secret must sit inside a string literal")
    return value.replace("'", "'" * (2**depth))


def substitute_secrets(sql: str, secrets: Mapping[str, str]) -> str:
    """Replace each secret `$(Name)` by its value, escaped for the literal nesting its quotes show.

    The script writes a secret as `'$(Name)'` inside one literal or `''$(Name)''` inside a literal within a
    literal (EXEC ('... ''$(Name)'' ...')); the run of quotes before the placeholder gives the depth.
    """
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in secrets:
            return match.group(0)
        quotes = len(match.string[: match.start()]) - len(match.string[: match.start()].rstrip("'"))
        if quotes == 0 or quotes & (quotes - 1):
            raise DeployError(f"synapse: secret variable $({name}) must sit inside a string literal ('...' or ''...'')")
        return escape_in_literal(secrets[name], quotes.bit_length())

    return _VARIABLE.sub(replace, sql)


def load_scripts(synapse_dir: Path, variables: Mapping[str, str]) -> list[Script]:
    """Setup scripts then views, sqlcmd variables substituted (secrets left as placeholders)."""
    scripts = []
    for path in sorted((synapse_dir / "setup").glob("*.sql")) + sorted((synapse_dir / "views").glob("*.sql")):
        database = "master" if path.parent.name == "setup" and path.name.startswith("01_") else variables["Database"]
        name = path.relative_to(synapse_dir).as_posix()
        scripts.append(Script(database, name, _substitute(path.read_text(encoding="utf-8"), variables, name)))
    return scripts


def _substitute(sql: str, variables: Mapping[str, str], name: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) in SECRET_VARIABLES:
            return match.group(0)
        if match.group(1) not in variables:
            raise DeployError(f"synapse/{name}: unknown sqlcmd variable $({match.group(1)}); "
                              "add it to factory_deploy/env_config/synapse.py")
        return variables[match.group(1)]

    return _VARIABLE.sub(replace, sql)


Grant = tuple[str, str, str, str]  # (grantee, permission, class_desc, securable), lower case; securable "" on DATABASE


def grants_in(sql: str) -> dict[Grant, str]:
    """Each `GRANT <permission> [ON <class>::<securable>] TO <principal>;` of a script -> its statement text."""
    found = {}
    for match in _GRANT.finditer(sql):
        permission, on, securable = " ".join(match[1].split()), match[2], match[3] or match[4] or ""
        cls = "_".join(on.split()).lower() if on else "database"
        found[(str(match[5] or match[6]).lower(), permission.lower(), cls, securable.lower())] = _statement(match[0])
    return found


def members_in(sql: str) -> dict[tuple[str, str], str]:
    """Each `ALTER ROLE <role> ADD MEMBER <member>` of a script -> its statement text."""
    return {(str(m[1] or m[2]).lower(), str(m[3] or m[4]).lower()): _statement(m[0]) for m in _MEMBER.finditer(sql)}


def _statement(text: str) -> str:
    return " ".join(text.split()).rstrip(";")


@dataclass(frozen=True)
class SynapseState:
    database_exists: bool
    objects: set[tuple[str, str]]  # (sys table, name), lower case
    data_sources: dict[str, str]  # name -> location
    views: dict[str, str]  # schema.view (lower) -> definition
    grants: frozenset[Grant] = frozenset()
    members: frozenset[tuple[str, str]] = frozenset()  # (role, member), lower case


def read_state(connect: Connect, scripts: list[Script], database: str) -> SynapseState:
    tables = sorted({table.lower() for s in scripts for table, _ in _REQUIRES.findall(s.sql)} - {"sys.databases"})
    with _connection(connect, "master") as master:
        exists = bool(_query(master, "SELECT name FROM sys.databases WHERE name = ?", (database,)))
    if not exists:
        return SynapseState(False, set(), {}, {})
    with _connection(connect, database) as connection:
        objects = {(table, str(row[0]).lower()) for table in tables for row in _query(connection, f"SELECT name FROM {table}")}
        sources = {str(r[0]).lower(): str(r[1]) for r in _query(connection, "SELECT name, location FROM sys.external_data_sources")}
        views = {str(r[0]).lower(): str(r[1] or "") for r in _query(
            connection, "SELECT s.name + '.' + v.name, OBJECT_DEFINITION(v.object_id) FROM sys.views v "
                        "JOIN sys.schemas s ON s.schema_id = v.schema_id")}
        grants: frozenset[Grant] = frozenset()
        members: frozenset[tuple[str, str]] = frozenset()
        if any(grants_in(s.sql) for s in scripts):
            grants = frozenset((str(r[0]).lower(), str(r[1]).lower(), str(r[2]).lower(), str(r[3] or "").lower())
                               for r in _query(connection, _PERMISSIONS_SQL))
        if any(members_in(s.sql) for s in scripts):
            members = frozenset((str(r[0]).lower(), str(r[1]).lower()) for r in _query(connection, _MEMBERS_SQL))
    return SynapseState(True, objects | {("sys.databases", database.lower())}, sources, views, grants, members)


def plan_synapse(scripts: list[Script], state: SynapseState, prune: bool) -> SynapsePlan:
    changes: list[Change] = []
    statements: list[Statement] = []
    repo_views: set[str] = set()
    for script in scripts:
        view_match = _VIEW.search(script.sql)
        if view_match:
            key = view_match.group(1).replace("[", "").replace("]", "").lower()
            repo_views.add(key)
            change, script_statements = _view_plan(script, key, state)
        else:
            change, script_statements = _setup_plan(script, state)
        changes.append(change)
        statements += script_statements
    if prune:
        for view, database in _views_to_drop(scripts, state, repo_views):
            changes.append(Change(PART, DELETE, f"views/{view}", "not in synapse/views"))
            statements.append((database, f"views/{view} (drop)", f"DROP VIEW {view}"))
    return SynapsePlan(changes, statements)


def _view_plan(script: Script, key: str, state: SynapseState) -> tuple[Change, list[Statement]]:
    """A view script runs when the database's definition of view ``key`` differs (comments and spacing aside)."""
    current = state.views.get(key)
    if current is not None and _normalized(current) == _normalized(script.sql):
        return Change(PART, UNCHANGED, script.name), []
    return Change(PART, CREATE if current is None else UPDATE, script.name), [(script.database, script.name, script.sql)]


def _setup_plan(script: Script, state: SynapseState) -> tuple[Change, list[Statement]]:
    """A setup script runs when something it creates is missing, or when an external data source it creates points
    elsewhere: the script's guard would skip a source that exists, so that source is dropped first and the script
    creates it again at the new location."""
    missing = _missing(script, state)
    moved = [n for n, location in _DATA_SOURCE.findall(script.sql)
             if n.lower() in state.data_sources and state.data_sources[n.lower()].rstrip("/") != location.rstrip("/")]
    statements = [(script.database, f"{script.name} (drop {name})", f"DROP EXTERNAL DATA SOURCE [{name}]") for name in moved]
    if not (missing or moved):
        return Change(PART, UNCHANGED, script.name), statements
    detail = "; ".join(filter(None, [f"missing: {', '.join(missing)}" if missing else "",
                                     f"location changed: {', '.join(moved)}" if moved else ""]))
    statements.append((script.database, script.name, script.sql))
    return Change(PART, CREATE if not state.database_exists else UPDATE, script.name, detail), statements


def _missing(script: Script, state: SynapseState) -> list[str]:
    """What the script's guards look for and the database lacks, plus the grants and role memberships it gives that
    were taken away since."""
    guards = _REQUIRES.findall(script.sql)
    missing = [f"{t} {n}" for t, n in guards if (t.lower(), n.lower()) not in state.objects]
    if not guards and not state.database_exists:
        missing = ["(no guard: runs with a new database)"]
    if state.database_exists:  # a new database gets every grant anyway; list only what was taken away
        missing += [text for grant, text in grants_in(script.sql).items() if grant not in state.grants]
        missing += [text for member, text in members_in(script.sql).items() if member not in state.members]
    return missing


def _views_to_drop(scripts: list[Script], state: SynapseState, repo_views: set[str]) -> list[tuple[str, str]]:
    """(view, database) of the views in the database that the repo no longer has, in name order."""
    schemas = {v.split(".")[0] for v in repo_views}
    drops = []
    for view in sorted(set(state.views) - repo_views):
        if view.removesuffix(LOAD_MANAGED_SUFFIX) in repo_views:
            continue  # <table>_latest: created and switched by each load (activities.load.ddl), not by deploy
        if view.split(".")[0] in schemas:  # a view of a schema the repo does not own is left alone
            drops.append((view, next(s.database for s in scripts if _VIEW.search(s.sql))))
    return drops


def apply_synapse(connect: Connect, plan: SynapsePlan, secrets: Mapping[str, str], log: Log) -> None:
    for database, what, sql in plan.statements:
        text = substitute_secrets(sql, secrets)
        with _connection(connect, database) as connection:
            try:
                cursor = connection.cursor()
                cursor.execute(text)
                while cursor.nextset():  # a later statement's error surfaces only here
                    pass
            except Exception as exc:  # DB-API drivers raise their own Error classes; this is the boundary
                raise DeployError(f"synapse: {what} failed on database `{database}`: {_redact(str(exc), secrets)}") from None
        log(f"synapse: ran {what}")


class _connection:
    def __init__(self, connect: Connect, database: str) -> None:
        self.connect, self.database = connect, database

    def __enter__(self) -> Connection:
        try:
            self.connection = self.connect(self.database)
        except Exception as exc:  # the driver's own error classes
            raise DeployError(f"synapse: connecting to database `{self.database}` failed: {exc}") from None
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _query(connection: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return list(cursor.fetchall())
    except Exception as exc:  # the driver's own error classes
        raise DeployError(f"synapse: reading state ({sql.split(' FROM ')[-1][:60]}) failed: {exc}") from None


def _normalized(sql: str) -> str:
    text = _COMMENT.sub(" ", sql)
    start = _VIEW.search(text)
    body = text[start.end():] if start else text
    return " ".join(body.split()).rstrip(";").strip().lower()


def _redact(message: str, secrets: Mapping[str, str]) -> str:
    for value in secrets.values():
        if value:
            message = message.replace(value, "***")
    return " ".join(message.split())
