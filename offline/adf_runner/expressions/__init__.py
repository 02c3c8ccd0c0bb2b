"""The ADF expression language: parse (`parser`), evaluate (`evaluator`), functions (`functions`)."""

from offline.adf_runner.expressions.evaluator import (
    EvaluationState,
    evaluate,
    evaluate_value,
    expression_strings,
    is_expression,
    validate_value,
)
from offline.adf_runner.expressions.functions import FUNCTIONS, to_string
from offline.adf_runner.expressions.parser import parse_expression, parse_template

__all__ = [
    "FUNCTIONS",
    "EvaluationState",
    "evaluate",
    "evaluate_value",
    "expression_strings",
    "is_expression",
    "parse_expression",
    "parse_template",
    "to_string",
    "validate_value",
]
