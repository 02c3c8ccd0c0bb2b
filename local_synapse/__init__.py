"""DuckDB stand-in for Synapse serverless SQL: runs the project's T-SQL views and queries locally."""

from local_synapse.engine import LocalServerlessPool, QueryResult, ScriptResult
from local_synapse.errors import SqlExecutionError, SqlTranslationError

__all__ = ["LocalServerlessPool", "QueryResult", "ScriptResult", "SqlExecutionError", "SqlTranslationError"]
