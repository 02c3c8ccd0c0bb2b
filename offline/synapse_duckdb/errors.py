class SqlTranslationError(Exception):
    """A T-SQL script uses something the local DuckDB stand-in cannot translate; the message names it."""


class SqlExecutionError(SqlTranslationError):
    """Translated T-SQL failed on DuckDB (a missing view, no files under a view's path, a type error)."""


class NotSupportedByServerlessError(SqlTranslationError):
    """The script uses a feature Synapse serverless SQL pool refuses: it would fail in Azure too."""

    def __init__(self, feature: str, page: str) -> None:
        super().__init__(f"not supported by serverless SQL pool: {feature} ({page})")
        self.feature = feature
        self.page = page


class NotSupportedLocallyError(SqlTranslationError):
    """Serverless runs it, but the local stand-in cannot reproduce it exactly, so it refuses rather than differ."""

    def __init__(self, feature: str) -> None:
        super().__init__(f"not supported locally: {feature}")
        self.feature = feature


class TsqlError(SqlTranslationError):
    """An error T-SQL itself raises for this statement (e.g. an invalid column name, a datepart a type lacks)."""
