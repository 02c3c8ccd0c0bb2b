"""The data flow script parser reads the whole DFS language (Microsoft Learn, "Data flow script (DFS)",
https://learn.microsoft.com/azure/data-factory/data-flow-script, and the "Data flow script" section of each
transformation's page); what the engine does not run it refuses by name, never with a parse error."""

from __future__ import annotations

import pytest

from offline.adf_runner.dataflow.expressions import unsupported_syntax
from offline.adf_runner.dataflow.script import (
    Array,
    Assign,
    Binary,
    CacheCall,
    Call,
    Capture,
    Column,
    ColumnGroup,
    Current,
    Expr,
    Field,
    Index,
    Interpolated,
    LambdaVar,
    Literal,
    MapEntry,
    Param,
    Typed,
    TypeRef,
    Unary,
    parse_expression,
    parse_script,
)
from offline.adf_runner.errors import DataFlowScriptError


def _expr(text: str) -> Expr:
    return parse_expression(text, "test")


@pytest.mark.parametrize(("text", "tree"), [
    ("Reseller@ResellerKey", Column("ResellerKey", stream="Reseller")),
    ("Reseller@{Reseller Key}", Column("Reseller Key", stream="Reseller")),
    ("a.b", Field(Column("a"), "b")),
    ("event.{x.y}.z", Field(Field(Column("event"), "x.y"), "z")),
    ("{column with space}", Column("column with space")),
    ("{}", Column("")),
    ("@(a = x, b = 1)", ColumnGroup((Assign(Column("a"), Column("x")), Assign(Column("b"), Literal(1))))),
    ("['k' -> ($v)]", Array((MapEntry(Literal("k"), Param("v")),))),
    ("Cache#lookup(id).name", Field(CacheCall("Cache", "lookup", (Column("id"),)), "name")),
    ("Cache#outputs()[1]", Index(CacheCall("Cache", "outputs", ()), Literal(1))),
    ("map(tags, #item + 1)", Call("map", (Column("tags"), Binary("+", LambdaVar("item"), Literal(1))))),
    ("$1 + $$", Binary("+", Capture(1), Current())),
    ('"id {$p}"', Interpolated("id {$p}")),
    ('toString(n, "####")', Call("toString", (Column("n"), Literal("####")))),
    ("regexReplace(s, `[^a-z\\d]`, '')", Call("regexReplace", (Column("s"), Literal("[^a-z\\d]"), Literal("")))),
    ("-7L + 1.5d + 0022", Binary("+", Binary("+", Unary("-", Literal(7)), Literal(1.5)), Literal(22))),
    ("true() && !false", Binary("&&", Call("true", ()), Unary("!", Literal(False)))),
    ("'a\\'b\\n'", Literal("a'b\n")),
])
def test_when_an_expression_uses_a_dfs_construct_then_it_parses_to_its_node(text: str, tree: object) -> None:
    assert _expr(text) == tree


@pytest.mark.parametrize(("text", "type_text"), [
    ("x as decimal(10,2)", "decimal(10,2)"),
    ("x as string[][]", "string[][]"),
    ("x as [string,integer]", "[string,integer]"),
    ("x as (a as string, {@b} as (c as long)[])", "(a as string, @b as (c as long)[])"),
    ("x as date 'yyyy-MM-dd'", "date 'yyyy-MM-dd'"),
])
def test_when_a_type_is_written_then_every_form_of_it_is_read(text: str, type_text: str) -> None:
    typed = _expr(text)
    assert isinstance(typed, Typed) and str(typed.type) == type_text


def test_when_parse_and_stringify_name_a_type_after_question_mark_then_it_is_a_typed_expression() -> None:
    parsed = _expr("jsonString ? (trade as boolean, customers as string[])")
    assert parsed == Typed(Column("jsonString"), TypeRef("struct", fields=(
        ("trade", TypeRef("boolean")), ("customers", TypeRef("string", array_depth=1)))), "?")
    assert _expr("body.periods ? string") == Typed(Field(Column("body"), "periods"), TypeRef("string"), "?")


def test_when_a_script_has_parameters_then_defaults_follow_the_type_even_for_integers() -> None:
    script = parse_script(
        "parameters{\n\tn as integer (1),\n\td as decimal(10,2) (1.5),\n\ttags as string[] (['a']),\n\tk as string\n}\n"
        "source(output(id as string)) ~> S",
        "test",
    )

    assert [(p.name, str(p.type), p.default) for p in script.parameters] == [
        ("n", "integer", Literal(1)),
        ("d", "decimal(10,2)", Literal(1.5)),
        ("tags", "string[]", Array((Literal("a"),))),
        ("k", "string", None),
    ]


def test_when_a_script_splits_and_joins_streams_then_inputs_and_outputs_are_read() -> None:
    script = parse_script(
        "source(output(id as string)) ~> A\n"
        "source(output(id as string)) ~> B\n"
        "A, B join(A@id == B@id, joinType:'inner', broadcast: 'auto')~> J\n"
        "J split(isNull(id), disjoint: false) ~> S@(missing, present)\n"
        "S@present sink(store: 'cache', format: 'inline', output: false, saveOrder: 1) ~> Cache",
        "test",
    )

    join, split, sink = script.transformations[2:]
    assert (join.kind, join.inputs, sorted(join.options())) == ("join", ("A", "B"), ["broadcast", "joinType"])
    assert (split.kind, split.split_outputs) == ("split", ("missing", "present"))
    assert sink.inputs == ("S@present",)


def test_when_a_pivot_names_its_column_prefix_empty_then_the_assignment_keeps_it() -> None:
    (pivot,) = parse_script(
        "Stats pivot(groupBy(Tm), pivotBy(Pos, ['C', 'PF']), {} = count(), columnNaming: '$V$N count', lateral: true) ~> P",
        "test",
    ).transformations

    assert pivot.positionals()[2] == Assign(Column(""), Call("count", ()))
    assert pivot.options()["columnNaming"] == Literal("$V$N count")


def test_when_an_external_call_declares_a_map_type_and_map_literals_then_both_are_read() -> None:
    (call,) = parse_script(
        "F call(output(headers as [string,string], body as (name as string)),\n"
        "\trequestFormat: ['type' -> 'json'], timeout: 30) ~> Called",
        "test",
    ).transformations

    assert call.options()["requestFormat"] == Array((MapEntry(Literal("type"), Literal("json")),))
    assert call.positionals() == [Call("output", (
        Typed(Column("headers"), TypeRef("map", elements=(TypeRef("string"), TypeRef("string")))),
        Typed(Column("body"), TypeRef("struct", fields=(("name", TypeRef("string")),))),
    ))]


@pytest.mark.parametrize(("text", "where"), [
    ("source(output(id as string)) ~> A\nA filter(x ==) ~> B", r"script line 2 column 14: expected an expression, found `\)`"),
    ("source(output(id as string)) ~> A\nA derive(x = 'open) ~> B", r"script line 2 column 14: string is never closed"),
    ("source(output(id as string)) A", r"expected `~> <output stream>`, found `A`"),
    ("source() ~> A\nsource() ~> A", r"stream `A` is defined twice"),
    ("source(x: {open) ~> A", r"`\{` of a quoted column name is never closed"),
])
def test_when_the_text_is_not_data_flow_script_then_the_error_gives_line_and_column(text: str, where: str) -> None:
    with pytest.raises(DataFlowScriptError, match=where):
        parse_script(text, "data flow `Df_X`")


@pytest.mark.parametrize(("text", "named"), [
    ("Reseller@ResellerKey", "stream-qualified column `Reseller@ResellerKey`"),
    ("a.b", "member `.b` of a complex column"),
    ("@(a = 1)", "column group `@(...)`"),
    ("['k' -> 1]", "map literal `key -> value`"),
    ("Cache#lookup(1)", "cached lookup `Cache#lookup()`"),
    ("#item", "`#item` (higher-order functions)"),
    ("$1", "`$1` (a regular-expression group"),
    ('"{id}"', "string interpolation"),
    ("s ? string", "`? string` (parse/stringify"),
])
def test_when_an_expression_uses_what_the_engine_does_not_evaluate_then_it_is_named(text: str, named: str) -> None:
    (construct,) = unsupported_syntax(_expr(text))
    assert construct.startswith(named)
