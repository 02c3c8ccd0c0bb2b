"""DuckDB stand-in for Synapse serverless SQL: runs the project's T-SQL views and queries locally.

Offline only; imports DuckDB and sqlglot, nothing of the product but the SQL it is given.
"""

from offline.synapse_duckdb.engine import LocalServerlessPool, QueryResult, ScriptResult
from offline.synapse_duckdb.errors import SqlExecutionError, SqlTranslationError

__all__ = ["LocalServerlessPool", "QueryResult", "ScriptResult", "SqlExecutionError", "SqlTranslationError"]
