"""The local expression engine against Microsoft's (the engine Data Factory runs, shipped in
`data-factory-testing-framework`; see tests/adf_reference.py): every expression of tests/expression_corpus.py
is evaluated by both, which must agree on value and JSON type, or both fail."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from offline.adf_runner.errors import ExpressionError, ExpressionSyntaxError
from offline.adf_runner.expressions import EvaluationState, evaluate
from offline.adf_runner.expressions.parser import Call, Index, Interpolation, Member, Node, parse_template
from tests.adf_reference import ReferenceEngine, ReferenceResult, reference_engine  # noqa: F401 - fixture
from tests.expression_corpus import (
    ACTIVITIES,
    AGREE,
    CLOCK_NEAR,
    DOCUMENTED_FUNCTIONS,
    ITEM,
    LOCAL_RAISES,
    LOCAL_STRICTER,
    PIPELINE,
    REFERENCE_ZONES,
    SHAPED,
    VARIABLES,
)


def _local(expression: str) -> tuple[bool, Any]:
    """(ok, value) of the local engine; (False, message) when it raises an ExpressionError."""
    state = EvaluationState(pipeline=PIPELINE, variables=VARIABLES, activity_lookup=ACTIVITIES.get, item=ITEM)
    try:
        return True, evaluate(expression, state)
    except ExpressionError as exc:
        return False, str(exc)


def _reference(engine: ReferenceEngine, expression: str) -> ReferenceResult:
    for windows_id, iana_id in REFERENCE_ZONES.items():
        expression = expression.replace(f"'{windows_id}'", f"'{iana_id}'")
    return engine.evaluate(expression, parameters=PIPELINE, variables=VARIABLES, item=ITEM, activities=ACTIVITIES)


def _typed(value: Any) -> Any:
    """The value with its JSON type made explicit: 1, 1.0, True and -0.0 all differ."""
    if isinstance(value, float):
        return ("float", "-0.0" if value == 0 and math.copysign(1, value) < 0 else repr(value))
    if isinstance(value, (bool, int, str)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return {k: _typed(v) for k, v in value.items()}


@pytest.mark.parametrize("expression", AGREE)
def test_when_engines_evaluate_the_corpus_then_they_agree(reference_engine: ReferenceEngine, expression: str) -> None:  # noqa: F811
    expected = _reference(reference_engine, expression)
    ok, local = _local(expression)

    if not expected.ok:
        assert not ok, f"Microsoft's engine fails ({expected.error}) but the local runner returns {local!r}"
    else:
        assert ok, f"Microsoft's engine returns {expected.value!r} but the local runner fails: {local}"
        assert _typed(local) == _typed(expected.value)


@pytest.mark.parametrize("expression", sorted(LOCAL_RAISES))
def test_when_the_local_runner_cannot_reproduce_a_value_then_it_says_so(reference_engine: ReferenceEngine, expression: str) -> None:  # noqa: F811
    expected = _reference(reference_engine, expression)
    ok, local = _local(expression)

    assert expected.ok, f"Microsoft's engine fails too ({expected.error}): move the case to AGREE"
    assert not ok, f"the local runner returns {local!r} where Microsoft's engine returns {expected.value!r}"
    assert "not supported locally" in local


@pytest.mark.parametrize("expression", sorted(LOCAL_STRICTER))
def test_when_microsoft_accepts_malformed_input_then_the_local_runner_refuses(reference_engine: ReferenceEngine, expression: str) -> None:  # noqa: F811
    expected = _reference(reference_engine, expression)
    ok, local = _local(expression)

    assert expected.ok, f"Microsoft's engine fails too ({expected.error}): move the case to AGREE"
    assert not ok, f"the local runner returns {local!r} where Microsoft's engine returns {expected.value!r}"


@pytest.mark.parametrize("expression", sorted(SHAPED))
def test_when_a_result_is_random_or_clock_dependent_then_both_have_its_shape(reference_engine: ReferenceEngine, expression: str) -> None:  # noqa: F811
    expected = _reference(reference_engine, expression)
    ok, local = _local(expression)

    assert expected.ok and ok, (expected, local)
    assert re.fullmatch(SHAPED[expression], expected.value), expected.value
    assert re.fullmatch(SHAPED[expression], local), local


def _instant(text: str) -> datetime:
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


@pytest.mark.parametrize("expression", CLOCK_NEAR)
def test_when_a_result_reads_the_clock_then_both_engines_read_the_same_time(reference_engine: ReferenceEngine, expression: str) -> None:  # noqa: F811
    expected = _reference(reference_engine, expression)
    ok, local = _local(expression)

    assert expected.ok and ok, (expected, local)
    assert abs((_instant(local) - _instant(expected.value)).total_seconds()) < 60


def _function_names(node: Node | str) -> set[str]:
    if isinstance(node, Call):
        return {node.name.lower()}.union(*(_function_names(arg) for arg in node.args))
    if isinstance(node, Member):
        return _function_names(node.target)
    if isinstance(node, Index):
        return _function_names(node.target) | _function_names(node.index)
    return set()


def test_when_the_corpus_is_read_then_it_covers_every_documented_function() -> None:
    used: set[str] = set()
    for expression in (*AGREE, *LOCAL_RAISES, *LOCAL_STRICTER, *SHAPED, *CLOCK_NEAR):
        try:
            parsed = parse_template(expression)
        except ExpressionSyntaxError:
            continue  # cases of the parser itself (an int64 literal overflow) call no function
        for part in parsed.parts if isinstance(parsed, Interpolation) else (parsed,):
            used |= _function_names(part)

    documented = {name.lower() for names in DOCUMENTED_FUNCTIONS.values() for name in names}

    assert len(documented) == 88
    assert sorted(documented - used) == []


def test_when_a_time_zone_is_an_iana_id_then_the_local_runner_refuses_it_as_data_factory_does() -> None:
    # Data Factory runs on Windows, where TimeZoneInfo only knows Windows ids (Microsoft Learn: convertFromUtc
    # takes a time zone name from "Default Time Zones"); the reference engine runs on Linux and cannot show it.
    ok, message = _local("@convertFromUtc('2026-01-01T00:00:00Z', 'Europe/Berlin')")

    assert not ok
    assert "time zone `Europe/Berlin` is an IANA id: ADF takes Windows ids" in message
