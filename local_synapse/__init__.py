"""DuckDB stand-in for Synapse serverless SQL: runs the project's T-SQL views and queries locally."""

from local_synapse.engine import LocalServerlessPool, QueryResult
from local_synapse.errors import SqlTranslationError

__all__ = ["LocalServerlessPool", "QueryResult", "SqlTranslationError"]
