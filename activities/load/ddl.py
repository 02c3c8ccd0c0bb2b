"""The T-SQL view over a serving table, generated from its schema (pure).

One function, two users: ``python -m activities.load.generate`` writes the committed
``synapse/views/spotify.<table>.sql`` from the curated schemas, and the load pipeline's schema check
emits the same DDL for a table whose schema is new or changed compatibly (the Script activity runs it).

Two views per table, both through OPENROWSET with an explicit WITH column list (types fixed by the schema,
not inferred per query):

- ``<schema>.<table>``: every *published* snapshot. The folder's ``snapshot_date=`` value is ``snapshot_date``
  (``filepath(1)``), so a literal filter on it reads only that snapshot's files; the view keeps only the dates
  listed in the published-snapshots pointer (``_published/snapshots.parquet``, written by the load after all
  of a snapshot's tables), so a snapshot half-published by a failed load is never seen.
- ``<schema>.<table>_latest``: the latest published snapshot only. Each snapshot date it may show is a literal
  BULK path, so the pool lists and reads those folders alone (Microsoft Learn, "Best practices for serverless
  SQL pool": filter on partition columns with literals; a subquery in the filter can prevent partition
  elimination): one branch per date, the new snapshot's and the one the view showed until now, each kept only
  while the pointer's newest date is that branch's date. The load creates these views *before* it writes the
  pointer, so while it switches them one by one they all still show the previous snapshot; writing the pointer
  then switches every ``_latest`` view at once (serverless SQL has no transactions to switch views together).
"""

from __future__ import annotations

import re

from activities.load.schema import Column, TableSchema

PARTITION_COLUMN = "snapshot_date"
VIEW_SCHEMA = "spotify"
DATA_SOURCE = "spotify_serving"
UTF8_COLLATION = "Latin1_General_100_BIN2_UTF8"
# Spotify ids are 22 base-62 characters; a tight width helps the serverless pool's estimates.
SPOTIFY_ID_LENGTH = 22
_SPOTIFY_OBJECTS = {
    "album", "artist", "audiobook", "chapter", "episode", "playlist", "primary_artist", "show", "track",
}
_INTEGERS = {
    "int8": "SMALLINT", "uint8": "SMALLINT", "int16": "SMALLINT", "uint16": "INT", "int32": "INT",
    "uint32": "BIGINT", "int64": "BIGINT", "uint64": "DECIMAL(20, 0)",
}
_SIMPLE = {
    "bool": "BIT", "float16": "REAL", "float32": "REAL", "float64": "FLOAT", "date": "DATE",
    "binary": "VARBINARY(8000)",
}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# T-SQL reserved keywords (a column named like one is bracket-quoted).
_RESERVED_WORDS = """
ADD ALL ALTER AND ANY AS ASC AUTHORIZATION BACKUP BEGIN BETWEEN BREAK BROWSE BULK BY CASCADE CASE CHECK
CHECKPOINT CLOSE CLUSTERED COALESCE COLLATE COLUMN COMMIT COMPUTE CONSTRAINT CONTAINS CONTAINSTABLE CONTINUE
CONVERT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DBCC
DEALLOCATE DECLARE DEFAULT DELETE DENY DESC DISK DISTINCT DISTRIBUTED DOUBLE DROP DUMP ELSE END ERRLVL ESCAPE
EXCEPT EXEC EXECUTE EXISTS EXIT EXTERNAL FETCH FILE FILLFACTOR FOR FOREIGN FREETEXT FREETEXTTABLE FROM FULL
FUNCTION GOTO GRANT GROUP HAVING HOLDLOCK IDENTITY IDENTITY_INSERT IDENTITYCOL IF IN INDEX INNER INSERT
INTERSECT INTO IS JOIN KEY KILL LEFT LIKE LINENO LOAD MERGE NATIONAL NOCHECK NONCLUSTERED NOT NULL NULLIF OF
OFF OFFSETS ON OPEN OPENDATASOURCE OPENQUERY OPENROWSET OPENXML OPTION OR ORDER OUTER OVER PERCENT PIVOT PLAN
PRECISION PRIMARY PRINT PROC PROCEDURE PUBLIC RAISERROR READ READTEXT RECONFIGURE REFERENCES REPLICATION
RESTORE RESTRICT RETURN REVERT REVOKE RIGHT ROLLBACK ROWCOUNT ROWGUIDCOL RULE SAVE SCHEMA SELECT
SEMANTICKEYPHRASETABLE SEMANTICSIMILARITYDETAILSTABLE SEMANTICSIMILARITYTABLE SESSION_USER SET SETUSER
SHUTDOWN SOME STATISTICS SYSTEM_USER TABLE TABLESAMPLE TEXTSIZE THEN TO TOP TRAN TRANSACTION TRIGGER TRUNCATE
TRY_CONVERT TSEQUAL UNION UNIQUE UNPIVOT UPDATE UPDATETEXT USE USER VALUES VARYING VIEW WAITFOR WHEN WHERE
WHILE WITH WITHIN WRITETEXT
"""
_RESERVED = frozenset(_RESERVED_WORDS.split())


LATEST_SUFFIX = "_latest"
PUBLISHED_POINTER = "_published/snapshots.parquet"  # see activities.load.published


def view_name(table: str, view_schema: str = VIEW_SCHEMA) -> str:
    return f"{view_schema}.{table}"


def latest_view_name(table: str, view_schema: str = VIEW_SCHEMA) -> str:
    return f"{view_schema}.{table}{LATEST_SUFFIX}"


def view_file_name(table: str, view_schema: str = VIEW_SCHEMA) -> str:
    """``spotify.tracks.sql``: the committed file under synapse/views/."""
    return f"{view_name(table, view_schema)}.sql"


def sql_type(column: Column) -> str:
    """The T-SQL type of a column in the OPENROWSET WITH list.

    Strings are VARCHAR with a UTF-8 BIN2 collation (Parquet strings are UTF-8, and BIN2 lets filters
    push down to the files); Spotify id columns (``<object>_id``) are VARCHAR(22), other strings
    VARCHAR(8000). Nested types (list, struct, map) are read as their JSON text, as serverless SQL does.
    """
    type_name = column.type
    if type_name == "string":
        length = SPOTIFY_ID_LENGTH if _is_spotify_id(column.name) else 8000
        return f"VARCHAR({length}) COLLATE {UTF8_COLLATION}"
    if type_name in _INTEGERS:
        return _INTEGERS[type_name]
    if type_name in _SIMPLE:
        return _SIMPLE[type_name]
    decimal = _DECIMAL.match(type_name)
    if decimal:
        return f"DECIMAL({min(int(decimal[1]), 38)}, {decimal[2]})"
    if type_name.startswith("timestamp["):
        return "DATETIME2(7)"
    if type_name == "time" or type_name.startswith("time["):
        return "TIME"
    if type_name.startswith(("list<", "struct<", "map<")) or type_name == "null":
        return f"VARCHAR(8000) COLLATE {UTF8_COLLATION}"
    raise ValueError(f"column `{column.name}` has type `{type_name}`, which has no T-SQL mapping in activities.load.ddl")


def quote(name: str) -> str:
    """A column name as T-SQL needs it: bare when it is a plain, non-reserved identifier, else ``[name]``."""
    if _IDENTIFIER.match(name) and name.upper() not in _RESERVED:
        return name
    return "[" + name.replace("]", "]]") + "]"


def view_ddl(
    schema: TableSchema, *, view_schema: str = VIEW_SCHEMA, data_source: str = DATA_SOURCE
) -> str:
    """``CREATE OR ALTER VIEW <schema>.<table>`` over ``<table>/snapshot_date=*/*.parquet`` in ``data_source``,
    limited to the published snapshots.

    A ``snapshot_date`` column in ``schema`` is skipped: the view takes it from the folder name.
    """
    columns = _columns(schema)
    select = _select_list("CAST(r.filepath(1) AS DATE)", columns)
    return (
        f"-- Serving table `{schema.table}`, one row per row of each published snapshot. Generated from its schema\n"
        "-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes\n"
        "-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only\n"
        f"-- snapshots listed in {PUBLISHED_POINTER} (written last by each load) are visible.\n"
        f"CREATE OR ALTER VIEW {view_name(schema.table, view_schema)} AS\n"
        "SELECT\n"
        f"{select}\n"
        f"{_openrowset(schema.table, f'{PARTITION_COLUMN}=*', columns, data_source)}\n"
        f"WHERE CAST(r.filepath(1) AS DATE) IN (\n"
        "    SELECT p.snapshot_date\n"
        f"{_pointer(data_source)}\n"
        ");\n"
    )


def _select_list(partition_expression: str, columns: list[Column]) -> str:
    """The view's select list: the partition column first, then every data column as bound from OPENROWSET."""
    return ",\n".join([f"    {partition_expression} AS {PARTITION_COLUMN}"] + [f"    r.{quote(c.name)}" for c in columns])


def latest_view_ddl(
    schema: TableSchema, snapshot_date: str, previous_date: str | None = None, *, view_schema: str = VIEW_SCHEMA,
    data_source: str = DATA_SOURCE,
) -> str:
    """``CREATE OR ALTER VIEW <schema>.<table>_latest``: the rows of ``snapshot_date`` once the published pointer's
    newest date is ``snapshot_date``, and until then those of ``previous_date`` (the snapshot the view showed)."""
    dates = [snapshot_date] + ([previous_date] if previous_date and previous_date != snapshot_date else [])
    for day in dates:
        if not _DATE.match(day):
            raise ValueError(f"snapshot date {day!r} of table `{schema.table}` is not YYYY-MM-DD")
    columns = _columns(schema)
    branches = "\nUNION ALL\n".join(_latest_branch(schema.table, day, columns, data_source) for day in dates)
    until = f", {previous_date} until then" if len(dates) > 1 else ""
    return (
        f"-- Serving table `{schema.table}`, latest published snapshot only: {snapshot_date} once the published pointer\n"
        f"-- ({PUBLISHED_POINTER}) names it newest{until}. Regenerated\n"
        "-- by the load (activities.load.ddl) before it writes the pointer, so writing the pointer switches every\n"
        "-- _latest view at once; literal paths make the pool read those snapshots' files and nothing else.\n"
        f"CREATE OR ALTER VIEW {latest_view_name(schema.table, view_schema)} AS\n"
        f"{branches};\n"
    )


def _latest_branch(table: str, day: str, columns: list[Column], data_source: str) -> str:
    """The rows of snapshot ``day`` (a literal path), kept only while the pointer's newest date is ``day``."""
    select = _select_list(f"CAST('{day}' AS DATE)", columns)
    return (
        "SELECT\n"
        f"{select}\n"
        f"{_openrowset(table, f'{PARTITION_COLUMN}={day}', columns, data_source)}\n"
        f"WHERE CAST('{day}' AS DATE) = (\n"
        "    SELECT MAX(p.snapshot_date)\n"
        f"{_pointer(data_source)}\n"
        ")"
    )


def _pointer(data_source: str) -> str:
    """``FROM OPENROWSET(...)`` over the published-snapshots pointer, its dates as ``p.snapshot_date``."""
    return (
        "    FROM OPENROWSET(\n"
        f"        BULK '{PUBLISHED_POINTER}',\n"
        f"        DATA_SOURCE = '{data_source}',\n"
        "        FORMAT = 'PARQUET'\n"
        "    ) WITH (\n"
        "        snapshot_date DATE\n"
        "    ) AS p"
    )


def _columns(schema: TableSchema) -> list[Column]:
    columns = [column for column in schema.columns if column.name != PARTITION_COLUMN]
    if not columns:
        raise ValueError(f"table `{schema.table}` has no columns besides {PARTITION_COLUMN}: nothing to view")
    return columns


def _openrowset(table: str, partition: str, columns: list[Column], data_source: str) -> str:
    with_list = ",\n".join(f"    {quote(c.name)} {sql_type(c)}" for c in columns)
    return (
        "FROM OPENROWSET(\n"
        f"    BULK '{table}/{partition}/*.parquet',\n"
        f"    DATA_SOURCE = '{data_source}',\n"
        "    FORMAT = 'PARQUET'\n"
        ") WITH (\n"
        f"{with_list}\n"
        ") AS r"
    )


def _is_spotify_id(name: str) -> bool:
    return name.endswith("_id") and name[: -len("_id")] in _SPOTIFY_OBJECTS


__all__ = [
    "DATA_SOURCE", "LATEST_SUFFIX", "PARTITION_COLUMN", "PUBLISHED_POINTER", "VIEW_SCHEMA", "latest_view_ddl",
    "latest_view_name", "quote", "sql_type", "view_ddl", "view_file_name", "view_name",
]
