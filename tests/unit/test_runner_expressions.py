"""The ADF expression language of the local runner: parsing, interpolation, escaping, every function."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from offline.adf_runner.errors import (
    ExpressionError,
    ExpressionSyntaxError,
    UnsupportedFunctionError,
)
from offline.adf_runner.expressions import (
    FUNCTIONS,
    EvaluationState,
    evaluate,
    evaluate_value,
    validate_value,
)

NOW = datetime(2026, 11, 24, 5, 0, 12, 345678, tzinfo=UTC)


def _state(**overrides: Any) -> EvaluationState:
    outputs = {"Extract": {"output": {"customOutput": {"parts": 3, "Counts": {"albums": 20}}, "value": [1, 2]},
                           "status": "Succeeded", "error": None}}
    base: dict[str, Any] = {
        "pipeline": {
            "DataFactory": "adf-local", "Pipeline": "PL_Test", "RunId": "run-1", "TriggerTime": "2026-11-24T05:00:00Z",
            "TriggerType": "ScheduleTrigger", "TriggerName": "TR_Daily", "TriggerId": "t-1", "GroupId": "run-1",
            "parameters": {"ingestDate": "2026-11-24", "limit": 5, "markets": ["US", "GB"], "empty": ""},
            "globalParameters": {"rawContainer": "raw"},
        },
        "variables": {"names": ["a", "b"], "flag": True},
        "activity_lookup": outputs.get,
        "trigger": {"name": "TR_Daily", "scheduledTime": "2026-11-24T05:00:00Z", "startTime": "2026-11-24T05:00:01Z",
                    "outputs": {"body": {"folderPath": "raw/spotify/manifests", "fileName": "_manifest.json"}}},
        "now": lambda: NOW,
    }
    base.update(overrides)
    return EvaluationState(**base)


def ev(text: str, **overrides: Any) -> Any:
    return evaluate(text, _state(**overrides))


# --- templates ---------------------------------------------------------------------------------------------


def test_when_string_has_no_at_sign_then_it_is_a_literal() -> None:
    assert ev("python -m activities.extract") == "python -m activities.extract"


def test_when_string_starts_with_at_then_value_keeps_its_type() -> None:
    assert ev("@pipeline().parameters.limit") == 5
    assert ev("@pipeline().parameters.markets") == ["US", "GB"]
    assert ev("@variables('flag')") is True


def test_when_string_interpolates_then_parts_are_joined_as_strings() -> None:
    assert ev("run @{pipeline().RunId} on @{pipeline().parameters.ingestDate}: @{variables('flag')}") == (
        "run run-1 on 2026-11-24: True"
    )
    assert ev("@{pipeline().parameters.limit}") == "5"
    assert ev("@{pipeline().parameters.markets}") == '["US","GB"]'


def test_when_string_starts_with_double_at_then_one_at_is_kept_literally() -> None:
    assert ev("@@pipeline().RunId") == "@pipeline().RunId"
    assert ev("mail me @ home") == "mail me @ home"
    assert ev("literal @@{pipeline().RunId} and @{pipeline().RunId}") == "literal @{pipeline().RunId} and run-1"


def test_when_string_literal_has_doubled_quote_then_it_is_one_quote() -> None:
    assert ev("@concat('it''s ', 'ok')") == "it's ok"
    assert ev("@{concat('}', '{')}x") == "}{x"


def test_when_literals_are_used_then_they_have_json_types() -> None:
    assert ev("@createArray(1, -2, 2.5, true, false, null, 'x')") == [1, -2, 2.5, True, False, None, "x"]


def test_when_expression_object_is_evaluated_then_value_replaces_it() -> None:
    value = {"a": {"value": "@pipeline().RunId", "type": "Expression"}, "b": ["@{pipeline().Pipeline}", 3],
             "s": {"type": "SecureString", "value": "@not-evaluated"}}
    assert evaluate_value(value, _state()) == {"a": "run-1", "b": ["PL_Test", 3],
                                               "s": {"type": "SecureString", "value": "@not-evaluated"}}


def test_when_properties_are_accessed_then_dot_brackets_index_and_case_insensitive_work() -> None:
    assert ev("@activity('Extract').output.customOutput.parts") == 3
    assert ev("@activity('Extract').output['customOutput']['counts'].ALBUMS") == 20
    assert ev("@activity('Extract').output.value[1]") == 2
    assert ev("@activity('Extract').Output.Value[0]") == 1


def test_when_optional_access_hits_missing_then_null() -> None:
    assert ev("@activity('Extract').output?.missing") is None
    assert ev("@activity('Extract').output?.missing?.deeper") is None
    assert ev("@coalesce(activity('Extract').output?.missing, 'fallback')") == "fallback"


def test_when_property_is_missing_then_error_lists_available_properties() -> None:
    with pytest.raises(ExpressionError, match=r"property `missing` doesn't exist, available properties are: customOutput, value"):
        ev("@activity('Extract').output.missing")


def test_when_index_is_out_of_range_then_error_names_the_size() -> None:
    with pytest.raises(ExpressionError, match="index 5 is out of range"):
        ev("@variables('names')[5]")


@pytest.mark.parametrize(
    "text", ["@concat('a'", "@concat('a',)", "@'unterminated", "@pipeline().", "@pipeline", "@concat('a') extra", "@{oops"]
)
def test_when_expression_is_malformed_then_syntax_error(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        ev(text)


def test_when_function_is_unknown_then_error_names_function_activity_and_property() -> None:
    with pytest.raises(UnsupportedFunctionError) as caught:
        evaluate_value({"command": "@foo(pipeline().RunId)"}, _state(), "typeProperties", where="activity `X`")
    assert str(caught.value) == (
        "function `foo` is not supported by the local runner (in activity `X` property `typeProperties.command`)"
    )
    assert isinstance(caught.value, ExpressionError)


def test_when_validating_then_unknown_function_is_found_without_evaluating() -> None:
    expected = r"not supported locally: xpath .* \(in activity `Y` property `typeProperties.a\[1\]`\)"
    with pytest.raises(UnsupportedFunctionError, match=expected):
        validate_value({"a": ["ok", "x @{xpath(xml('<a/>'), '/a')}"]}, "activity `Y`", "typeProperties")


def test_when_function_name_has_other_case_then_it_is_found() -> None:
    assert ev("@CONCAT('a', toupper('b'))") == "aB"


def test_when_function_gets_wrong_argument_count_then_error_names_it() -> None:
    with pytest.raises(ExpressionError, match=r"function `substring` takes 2 to 3 argument\(s\), got 1"):
        ev("@substring('abc')")


def test_when_accessor_is_used_outside_its_context_then_error_says_where_it_works() -> None:
    with pytest.raises(ExpressionError, match="item\\(\\) is only available inside a ForEach"):
        ev("@item()")
    with pytest.raises(ExpressionError, match="trigger\\(\\) is only available"):
        ev("@trigger()", trigger=None)
    with pytest.raises(ExpressionError, match="variable `nope` is not declared"):
        ev("@variables('nope')")
    with pytest.raises(ExpressionError, match="activity `Nope` can't be referenced"):
        ev("@activity('Nope').output")


def test_when_accessors_are_used_then_they_read_the_state() -> None:
    assert ev("@pipeline().globalParameters.rawContainer") == "raw"
    assert ev("@{pipeline().DataFactory}/@{pipeline().Pipeline}/@{pipeline().TriggerType}/@{pipeline().TriggerName}"
              "/@{pipeline().TriggerId}/@{pipeline().GroupId}/@{pipeline().TriggerTime}") == (
        "adf-local/PL_Test/ScheduleTrigger/TR_Daily/t-1/run-1/2026-11-24T05:00:00Z")
    assert ev("@item().id", item={"id": 7}) == 7
    assert ev("@trigger().scheduledTime") == "2026-11-24T05:00:00Z"
    assert ev("@triggerBody().folderPath") == "raw/spotify/manifests"
    assert ev("@trigger().outputs.body.fileName") == "_manifest.json"
    assert ev("@linkedService().account", linked_service={"account": "st1"}) == "st1"
    assert ev("@dataset().folderPath", dataset={"folderPath": "raw/x"}) == "raw/x"


# --- functions, one case (or a few) each ------------------------------------------------------------------

CASES: list[tuple[str, Any]] = [
    # strings
    ("@concat('a', 1, true, null, 2.5)", "a1True2.5"),
    ("@substring('hello world', 6)", "world"),
    ("@substring('hello world', 0, 5)", "hello"),
    ("@replace('a-b-c', '-', '/')", "a/b/c"),
    ("@replace('Aa', 'a', 'x')", "Ax"),
    ("@toLower('AbC')", "abc"),
    ("@toUpper('AbC')", "ABC"),
    ("@trim('  x  ')", "x"),
    ("@split('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("@startsWith('Spotify', 'spot')", True),
    ("@startsWith('Spotify', 'tify')", False),
    ("@endsWith('_manifest.JSON', '.json')", True),
    ("@indexOf('Hello', 'L')", 2),
    ("@indexOf('Hello', 'z')", -1),
    ("@lastIndexOf('hello', 'l')", 3),
    ("@base64('hi there')", "aGkgdGhlcmU="),
    ("@base64ToString('aGkgdGhlcmU=')", "hi there"),
    ("@uriComponent('a b&c/d')", "a%20b%26c%2Fd"),
    ("@uriComponentToString('a%20b%26c')", "a b&c"),
    # conversions
    ("@string(12)", "12"),
    ("@string(true)", "True"),
    ("@string(json('{\"a\":[1]}'))", '{"a":[1]}'),
    ("@int('42')", 42),
    ("@float('2.5')", 2.5),
    ("@bool('TRUE')", True),
    ("@bool(0)", False),
    ("@json('{\"a\": {\"b\": [1, 2]}}').a.b[1]", 2),
    ("@json('[1, 2]')", [1, 2]),
    ("@coalesce(null, null, 'x', 'y')", "x"),
    ("@coalesce(null)", None),
    ("@array('x')", ["x"]),
    ("@createArray('a', 1)", ["a", 1]),
    # collections
    ("@empty('')", True),
    ("@empty(createArray(1))", False),
    ("@empty(json('[]'))", True),
    ("@empty(json('{}'))", True),
    ("@empty(null)", True),
    ("@empty('x')", False),
    ("@length('abc')", 3),
    ("@length(createArray(1, 2))", 2),
    ("@contains('abc', 'b')", True),
    ("@contains('abc', 'B')", False),
    ("@contains(createArray('x', 'y'), 'y')", True),
    ("@contains(json('{\"k\": 1}'), 'k')", True),
    ("@first('abc')", "a"),
    ("@first(createArray(3, 4))", 3),
    ("@first(json('[]'))", None),
    ("@last('abc')", "c"),
    ("@last(createArray(3, 4))", 4),
    ("@skip(createArray(1, 2, 3), 1)", [2, 3]),
    ("@take(createArray(1, 2, 3), 2)", [1, 2]),
    ("@take('abcdef', 3)", "abc"),
    ("@union(createArray(1, 2), createArray(2, 3))", [1, 2, 3]),
    ("@union(json('{\"a\":1}'), json('{\"b\":2}'))", {"a": 1, "b": 2}),
    ("@intersection(createArray(1, 2, 3), createArray(2, 3, 4), createArray(3, 2))", [2, 3]),
    ("@intersection(json('{\"a\":1,\"b\":2}'), json('{\"a\":1,\"b\":3}'))", {"a": 1}),
    ("@join(createArray('a', 1, true), ';')", "a;1;True"),
    ("@range(3, 4)", [3, 4, 5, 6]),
    ("@range(0, 0)", []),
    # logic
    ("@if(equals(1, 1), 'yes', 'no')", "yes"),
    ("@if(false, div(1, 0), 'lazy')", "lazy"),
    # Microsoft's engine compares strings case-sensitively (tests/integration/test_expression_differential.py).
    ("@equals('ABC', 'abc')", False),
    ("@equals(1, 1.0)", True),
    ("@equals(1, '1')", False),
    ("@equals(createArray(1, 'a'), createArray(1, 'A'))", False),
    ("@equals(null, null)", True),
    ("@and(true, true, false)", False),
    ("@and(false, div(1, 0))", False),
    ("@or(false, true)", True),
    ("@or(true, div(1, 0))", True),
    ("@not(false)", True),
    ("@less(1, 2)", True),
    ("@less('b', 'a')", False),
    ("@lessOrEquals(2, 2)", True),
    ("@greater(2.5, 2)", True),
    ("@greaterOrEquals('b', 'b')", True),
    # math
    ("@add(1, 2)", 3),
    ("@add(1, 0.5)", 1.5),
    ("@sub(1, 3)", -2),
    ("@mul(4, 2.5)", 10.0),
    ("@div(11, 5)", 2),
    ("@div(-11, 5)", -2),
    ("@div(11, 4.0)", 2.75),
    ("@mod(11, 5)", 1),
    ("@mod(-11, 5)", -1),
    ("@min(3, 1, 2)", 1),
    ("@min(createArray(4, 2))", 2),
    ("@max(3, 7.5, 2)", 7.5),
    ("@max(createArray(4, 9))", 9),
    # dates
    ("@utcnow()", "2026-11-24T05:00:12.3456780Z"),
    ("@utcNow('yyyy-MM-dd')", "2026-11-24"),
    ("@formatDateTime('2026-11-24T05:06:07.1234567Z', 'yyyy-MM-dd HH:mm:ss.fff')", "2026-11-24 05:06:07.123"),
    ("@formatDateTime('2026-11-24T05:06:07Z', 'yyyy-MM-ddTHH:mm:ssZ')", "2026-11-24T05:06:07Z"),
    ("@formatDateTime('2026-11-24T05:06:07Z', 'o')", "2026-11-24T05:06:07.0000000Z"),
    ("@formatDateTime('2026-11-24T05:06:07Z')", "2026-11-24T05:06:07.0000000Z"),
    ("@formatDateTime('2026-11-24T05:06:07+02:00', 'HH:mm')", "03:06"),
    ("@formatDateTime('2026-03-05T17:04:09Z', 'yy M d h:m:s tt dddd MMM')", "26 3 5 5:4:9 PM Thursday Mar"),
    ("@formatDateTime('2026-11-24', 'yyyyMMdd')", "20261124"),
    ("@formatDateTime('2026-11-24T05:06:07Z', 's')", "2026-11-24T05:06:07"),
    ("@formatDateTime('2026-11-24T05:06:07Z', '''day'' d')", "day 24"),
    ("@addDays('2026-11-24T05:00:00Z', -1, 'yyyy-MM-dd')", "2026-11-23"),
    ("@addDays('2026-11-24T05:00:00Z', 7)", "2026-12-01T05:00:00.0000000Z"),
    ("@addHours('2026-11-24T23:00:00Z', 2, 'yyyy-MM-dd HH')", "2026-11-25 01"),
    ("@addMinutes('2026-11-24T05:00:00Z', 90, 'HH:mm')", "06:30"),
    ("@addSeconds('2026-11-24T05:00:00Z', -1, 'HH:mm:ss')", "04:59:59"),
    ("@addToTime('2026-01-31T00:00:00Z', 1, 'Month', 'yyyy-MM-dd')", "2026-02-28"),
    ("@addToTime('2026-11-24T00:00:00Z', 2, 'Week', 'yyyy-MM-dd')", "2026-12-08"),
    ("@addToTime('2024-02-29T00:00:00Z', 1, 'Year', 'yyyy-MM-dd')", "2025-02-28"),
    ("@startOfDay('2026-11-24T05:06:07Z')", "2026-11-24T00:00:00.0000000Z"),
    ("@dayOfWeek('2026-11-24T05:00:00Z')", 2),
    ("@dayOfWeek('2026-11-22T05:00:00Z')", 0),
    ("@convertFromUtc('2026-11-24T05:00:00Z', 'UTC')", "2026-11-24T05:00:00.0000000Z"),
    ("@convertFromUtc('2026-11-24T05:00:00Z', 'UTC', 'HH:mm')", "05:00"),
    ("@convertFromUtc('2026-07-01T05:00:00Z', 'W. Europe Standard Time')", "2026-07-01T07:00:00.0000000"),
    ("@formatDateTime(trigger().scheduledTime, 'yyyy-MM-dd')", "2026-11-24"),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_when_function_is_called_then_it_returns_the_adf_result(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_when_guid_is_called_then_formats_follow_dotnet() -> None:
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", ev("@guid()"))
    assert re.fullmatch(r"[0-9a-f]{32}", ev("@guid('N')"))
    assert re.fullmatch(r"\{[0-9a-f-]{36}\}", ev("@guid('B')"))
    assert ev("@guid()") != ev("@guid()")


def test_when_every_required_function_is_listed_then_it_is_registered() -> None:
    required = [
        "concat",
        "substring",
        "replace",
        "toLower",
        "toUpper",
        "trim",
        "split",
        "startsWith",
        "endsWith",
        "indexOf",
        "lastIndexOf",
        "guid",
        "base64",
        "base64ToString",
        "uriComponent",
        "string",
        "int",
        "float",
        "bool",
        "json",
        "coalesce",
        "empty",
        "length",
        "contains",
        "first",
        "last",
        "skip",
        "take",
        "union",
        "intersection",
        "join",
        "createArray",
        "range",
        "array",
        "if",
        "equals",
        "and",
        "or",
        "not",
        "less",
        "lessOrEquals",
        "greater",
        "greaterOrEquals",
        "add",
        "sub",
        "mul",
        "div",
        "mod",
        "min",
        "max",
        "utcnow",
        "formatDateTime",
        "addDays",
        "addHours",
        "addMinutes",
        "addSeconds",
        "addToTime",
        "startOfDay",
        "dayOfWeek",
        "convertFromUtc",
        "pipeline",
        "activity",
        "item",
        "variables",
        "trigger",
        "triggerBody",
        "linkedService",
        "dataset",
    ]
    assert [name for name in required if name.lower() not in FUNCTIONS] == []


@pytest.mark.parametrize(
    "text,message",
    [
        ("@substring('abc', 2, 5)", "function `substring`: start index 2 and length 5 are out of range"),
        ("@div(1, 0)", "function `div`: division by zero"),
        ("@int('x1')", "function `int`: `x1` cannot be converted to an integer"),
        ("@bool('yes')", "function `bool`: `yes` cannot be converted to a boolean"),
        ("@json('{bad')", "function `json`: `{bad` is not valid JSON"),
        ("@toLower(1)", "function `toLower`: expects a string, got Integer `1`"),
        ("@and(true, 'x')", "function `and`: expects booleans"),
        ("@less(1, 'a')", "function `less`: cannot compare Integer with String"),
        ("@formatDateTime('yesterday')", "function `formatDateTime`: `yesterday` is not an ISO 8601 timestamp"),
        ("@addToTime('2026-11-24', 1, 'Fortnight')", "function `addToTime`: time unit `Fortnight`"),
        ("@convertFromUtc('2026-11-24T00:00:00Z', 'Mars Standard Time')", "function `convertFromUtc`: time zone `Mars Standard Time`"),
        # `Coordinated Universal Time` is the display name, not the id: Microsoft's engine refuses it.
        ("@convertFromUtc('2026-11-24T00:00:00Z', 'Coordinated Universal Time')", "time zone `Coordinated Universal Time`"),
        # A fractional number is refused, not rounded, by Microsoft's engine.
        ("@int(2.5)", "function `int`: `2.5` cannot be converted to an integer"),
        ("@range(1, -1)", "function `range`: count must not be negative"),
    ],
)
def test_when_function_gets_bad_arguments_then_error_names_the_function(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        ev(text)
    assert message in str(caught.value)
    assert f"(expression `{text}`)" in str(caught.value)
