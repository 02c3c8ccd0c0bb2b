class SqlTranslationError(Exception):
    """A T-SQL script uses something the local DuckDB stand-in cannot translate; the message names it."""


class SqlExecutionError(SqlTranslationError):
    """Translated T-SQL failed on DuckDB (a missing view, no files under a view's path, a type error)."""
