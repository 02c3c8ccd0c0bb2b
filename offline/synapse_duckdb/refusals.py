"""What serverless SQL pool refuses, and what the local stand-in cannot reproduce: the one list of both.

Serverless refusals come from Learn's "Transact-SQL features supported in Azure Synapse SQL"
(learn.FEATURES, the Query language, Database objects and Types rows) and "GROUP BY options in Synapse
SQL" (learn.GROUP_BY_OPTIONS: "Serverless SQL pool doesn't support GROUP BY options"). A statement that
uses one fails here as it would in Azure, before anything runs, instead of being dropped or run by DuckDB.
Refusals that depend on an operand's type (a CONVERT style, FORMAT pattern, text of a float) are raised
where the rule is translated (dates, strings, functions) and listed in offline/synapse_duckdb/README.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from offline.synapse_duckdb import learn
from offline.synapse_duckdb.errors import NotSupportedByServerlessError, NotSupportedLocallyError


@dataclass(frozen=True)
class Refusal:
    feature: str
    page: str | None  # None: serverless runs it, only the local stand-in refuses it
    matches: Callable[[exp.Expr], bool]


def _table_create(node: exp.Expr) -> bool:
    if not isinstance(node, exp.Create) or str(node.args.get("kind", "")).upper() != "TABLE":
        return False
    properties = node.args.get("properties")
    external = properties is not None and any(isinstance(p, exp.ExternalProperty) for p in properties.expressions)
    return not external


def _kind(node: exp.Expr, kind: str) -> bool:
    return isinstance(node, exp.Create) and str(node.args.get("kind", "")).upper() == kind


def _materialized(node: exp.Expr) -> bool:
    properties = node.args.get("properties") if isinstance(node, exp.Create) else None
    return properties is not None and any(isinstance(p, exp.MaterializedProperty) for p in properties.expressions)


def _scalar_function(node: exp.Expr) -> bool:
    if not _kind(node, "FUNCTION"):
        return False
    returns = node.find(exp.ReturnsProperty)
    return returns is None or not (returns.args.get("is_table") or returns.args.get("table"))


def _for_clause(kind: str) -> Callable[[exp.Expr], bool]:
    return lambda node: isinstance(node, exp.ForClause) and str(node.args.get("kind", "")).upper() == kind


def _function_named(*names: str) -> Callable[[exp.Expr], bool]:
    wanted = {n.upper() for n in names}
    return lambda node: isinstance(node, exp.Anonymous) and str(node.name).upper() in wanted


# Types serverless does not have ("Types" row of learn.FEATURES). LEN(x) parses into CAST(x AS TEXT)
# inside sqlglot, so a TEXT cast directly under LENGTH is sqlglot's, not the script's.
_UNSUPPORTED_TYPES = {
    exp.DataType.Type.IMAGE: "image",
    exp.DataType.Type.ROWVERSION: "rowversion",
    exp.DataType.Type.GEOMETRY: "geometry (spatial types)",
    exp.DataType.Type.GEOGRAPHY: "geography (spatial types)",
    exp.DataType.Type.VARIANT: "sql_variant",
    exp.DataType.Type.XML: "xml",
    exp.DataType.Type.TEXT: "text",
}


def _unsupported_type(node: exp.Expr) -> bool:
    if not isinstance(node, exp.DataType) or node.this not in _UNSUPPORTED_TYPES:
        return False
    cast = node.parent
    return not (node.this == exp.DataType.Type.TEXT and isinstance(cast, exp.Cast) and isinstance(cast.parent, exp.Length))


# T-SQL functions serverless has and DuckDB has no exact counterpart for.
NO_LOCAL_TRANSLATION = (
    "PATINDEX", "ISJSON", "STRING_SPLIT", "STR", "QUOTENAME", "SOUNDEX", "DIFFERENCE", "PARSE", "TRY_PARSE",
    "STRING_ESCAPE", "COMPRESS", "DECOMPRESS", "JSON_MODIFY", "FORMATMESSAGE", "CHECKSUM", "BINARY_CHECKSUM",
)


def _top(option: str) -> Callable[[exp.Expr], bool]:
    def matches(node: exp.Expr) -> bool:
        options = node.args.get("limit_options") if isinstance(node, exp.Limit) else None
        return bool(options is not None and options.args.get(option))

    return matches


def _ties_with_distinct(node: exp.Expr) -> bool:
    limit = node.args.get("limit") if isinstance(node, exp.Select) else None
    options = limit.args.get("limit_options") if limit is not None else None
    return bool(node.args.get("distinct") and options is not None and options.args.get("with_ties"))


REFUSALS: tuple[Refusal, ...] = (
    Refusal("GROUPING SETS", learn.GROUP_BY_OPTIONS, lambda n: isinstance(n, exp.GroupingSets)),
    Refusal("GROUP BY ROLLUP", learn.GROUP_BY_OPTIONS, lambda n: isinstance(n, exp.Rollup)),
    Refusal("GROUP BY CUBE", learn.GROUP_BY_OPTIONS, lambda n: isinstance(n, exp.Cube)),
    Refusal("query hints (OPTION (...))", learn.FEATURES, lambda n: isinstance(n, exp.QueryOption)),
    Refusal("FOR XML", learn.FEATURES, _for_clause("XML")),
    Refusal("PREDICT", learn.FEATURES, _function_named("PREDICT")),
    Refusal("INSERT (data lives in storage; use CETAS)", learn.FEATURES, lambda n: isinstance(n, exp.Insert)),
    Refusal("UPDATE", learn.FEATURES, lambda n: isinstance(n, exp.Update)),
    Refusal("DELETE", learn.FEATURES, lambda n: isinstance(n, exp.Delete)),
    Refusal("MERGE", learn.FEATURES, lambda n: isinstance(n, exp.Merge)),
    Refusal("CREATE TABLE / CREATE TABLE AS SELECT (only external tables)", learn.FEATURES, _table_create),
    Refusal("materialized views", learn.FEATURES, _materialized),
    Refusal("indexes", learn.FEATURES, lambda n: _kind(n, "INDEX")),
    Refusal("scalar user-defined functions", learn.FEATURES, _scalar_function),
    Refusal("OPENXML / OPENDATASOURCE / OPENQUERY", learn.FEATURES,
            _function_named("OPENXML", "OPENDATASOURCE", "OPENQUERY")),
    Refusal("cryptographic functions other than HASHBYTES", learn.FEATURES,
            _function_named("ENCRYPTBYKEY", "DECRYPTBYKEY", "ENCRYPTBYPASSPHRASE", "DECRYPTBYPASSPHRASE",
                            "ENCRYPTBYCERT", "DECRYPTBYCERT", "SIGNBYCERT", "VERIFYSIGNEDBYCERT", "ENCRYPTBYASYMKEY",
                            "DECRYPTBYASYMKEY", "SIGNBYASYMKEY", "CERTENCODED", "CERTPRIVATEKEY")),
    Refusal("type cursor, hierarchyid, text/ntext/image, rowversion, spatial, sql_variant or xml", learn.FEATURES,
            _unsupported_type),
    # Serverless runs these; DuckDB has no exact counterpart, so they are refused rather than approximated.
    Refusal("FOR JSON", None, _for_clause("JSON")),
    Refusal("TOP ... PERCENT", None, _top("percent")),
    Refusal("TOP ... WITH TIES together with DISTINCT", None, _ties_with_distinct),
    *(Refusal(f"function {name}", None, _function_named(name)) for name in NO_LOCAL_TRANSLATION),
)


def check(statement: exp.Expr) -> None:
    """Raise for the first refused feature the statement uses."""
    for node in statement.walk():
        for refusal in REFUSALS:
            if refusal.matches(node):
                if refusal.page is None:
                    raise NotSupportedLocallyError(refusal.feature)
                raise NotSupportedByServerlessError(refusal.feature, refusal.page)


__all__ = ["NO_LOCAL_TRANSLATION", "REFUSALS", "Refusal", "check"]
