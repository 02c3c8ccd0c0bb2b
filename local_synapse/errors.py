class SqlTranslationError(Exception):
    """A T-SQL script uses something the local DuckDB stand-in cannot translate; the message names it."""
