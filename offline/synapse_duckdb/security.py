"""The security statements of the setup scripts, checked against their T-SQL grammar (pure).

DuckDB has no database users, roles or permissions, so locally these statements change nothing; but a
misspelt GRANT would only fail on Synapse. Every statement that creates a principal or grants a permission
must match one of the forms below, with a permission the securable class has, or setup fails naming it.

Forms and permission lists follow Microsoft Learn: "CREATE USER (Transact-SQL)" (``FROM EXTERNAL PROVIDER``
for Microsoft Entra principals), "CREATE ROLE (Transact-SQL)", "ALTER ROLE (Transact-SQL)", "GRANT Database
Permissions (Transact-SQL)", "GRANT Schema Permissions (Transact-SQL)", "GRANT Database Scoped Credential
Permissions (Transact-SQL)"; serverless SQL pool's own needs are on "Control storage account access for
serverless SQL pool in Azure Synapse Analytics".
"""

from __future__ import annotations

import re

from offline.synapse_duckdb.errors import SqlTranslationError

_NAME = r"(?:\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_]*)"
_FORMS = (
    re.compile(rf"^CREATE\s+USER\s+{_NAME}\s+FROM\s+EXTERNAL\s+PROVIDER$", re.IGNORECASE),
    re.compile(rf"^CREATE\s+ROLE\s+{_NAME}(?:\s+AUTHORIZATION\s+{_NAME})?$", re.IGNORECASE),
    re.compile(rf"^ALTER\s+ROLE\s+{_NAME}\s+(?:ADD|DROP)\s+MEMBER\s+{_NAME}$", re.IGNORECASE),
)
_GRANT = re.compile(
    rf"^(GRANT|DENY|REVOKE)\s+(?P<permissions>.+?)(?:\s+ON\s+(?P<class>[A-Z ]+?)\s*::\s*{_NAME})?"
    rf"\s+(?:TO|FROM)\s+{_NAME}(?:\s*,\s*{_NAME})*(?:\s+WITH\s+GRANT\s+OPTION)?$",
    re.IGNORECASE | re.DOTALL,
)
_DATABASE_PERMISSIONS = frozenset({
    "ADMINISTER DATABASE BULK OPERATIONS", "ALTER", "ALTER ANY EXTERNAL DATA SOURCE", "ALTER ANY EXTERNAL FILE FORMAT",
    "ALTER ANY DATABASE SCOPED CREDENTIAL", "ALTER ANY ROLE", "ALTER ANY SCHEMA", "ALTER ANY USER", "CONNECT",
    "CONTROL", "CREATE FUNCTION", "CREATE PROCEDURE", "CREATE ROLE", "CREATE SCHEMA", "CREATE TABLE", "CREATE VIEW",
    "EXECUTE", "REFERENCES", "SELECT", "SHOWPLAN", "VIEW DATABASE STATE", "VIEW DEFINITION",
})
_PERMISSIONS = {
    None: _DATABASE_PERMISSIONS,
    "SCHEMA": frozenset({"ALTER", "CONTROL", "DELETE", "EXECUTE", "INSERT", "REFERENCES", "SELECT",
                         "TAKE OWNERSHIP", "UPDATE", "VIEW CHANGE TRACKING", "VIEW DEFINITION"}),
    "DATABASE SCOPED CREDENTIAL": frozenset({"ALTER", "CONTROL", "REFERENCES", "TAKE OWNERSHIP", "VIEW DEFINITION"}),
    "OBJECT": frozenset({"ALTER", "CONTROL", "REFERENCES", "SELECT", "TAKE OWNERSHIP", "VIEW DEFINITION"}),
}
_SECURITY = re.compile(r"^(?:CREATE\s+(?:USER|ROLE)|ALTER\s+ROLE|GRANT|DENY|REVOKE)\b", re.IGNORECASE)
_STATEMENT_START = re.compile(
    r"\b(?:CREATE\s+(?:USER|ROLE)|ALTER\s+ROLE|GRANT|DENY|REVOKE)\b[^;]*", re.IGNORECASE
)


def check_security_statements(sql: str) -> list[str]:
    """Every security statement of ``sql`` (comments removed, sqlcmd variables substituted), each normalised
    to one line; raises SqlTranslationError naming the first one that is not valid T-SQL."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    text = re.sub(r"'(?:[^']|'')*'", "''", text)  # string literals (catalog lookups) are not statements
    found = []
    for match in _STATEMENT_START.finditer(text):
        statement = " ".join(match.group(0).split())
        if not _SECURITY.match(statement):
            continue
        check_security_statement(statement)
        found.append(statement)
    return found


def check_security_statement(statement: str) -> None:
    if any(form.match(statement) for form in _FORMS):
        return
    grant = _GRANT.match(statement)
    if grant is None:
        raise SqlTranslationError(
            f"`{statement}` is not valid T-SQL: expected CREATE USER [name] FROM EXTERNAL PROVIDER, CREATE ROLE, "
            "ALTER ROLE .. ADD MEMBER, or GRANT/DENY/REVOKE <permission> [ON <class>::<name>] TO <principal>"
        )
    securable = " ".join(grant.group("class").upper().split()) if grant.group("class") else None
    if securable not in _PERMISSIONS:
        raise SqlTranslationError(
            f"`{statement}`: securable class `{securable}` is not one the setup scripts may grant on "
            f"(known: DATABASE, {', '.join(sorted(c for c in _PERMISSIONS if c))})"
        )
    allowed = _PERMISSIONS[securable]
    for permission in grant.group("permissions").split(","):
        name = " ".join(permission.upper().split())
        if name not in allowed:
            raise SqlTranslationError(
                f"`{statement}`: `{name}` is not a permission on {securable or 'the database'} "
                "(see Microsoft Learn \"GRANT ... Permissions (Transact-SQL)\" for the class)"
            )


__all__ = ["check_security_statement", "check_security_statements"]
