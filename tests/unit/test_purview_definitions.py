"""Purview definitions stay consistent with themselves and with the curated model."""

import json
from pathlib import Path

import pytest

from activities.transform.schemas import TABLES

PURVIEW = Path(__file__).resolve().parents[2] / "purview"
ATLAS_BUILT_INS = {"DataSet", "Process", "string", "boolean", "long", "int", "array<string>", "map<string,long>"}
PURVIEW_BUILT_INS = {"azure_blob_resource_set"}  # what Purview's scans and ADF lineage create for Blob Storage


def _typedefs() -> dict:  # type: ignore[type-arg]
    return json.loads((PURVIEW / "typedefs.json").read_text())


def test_when_typedefs_are_read_then_every_referenced_type_is_defined_or_built_in() -> None:
    typedefs = _typedefs()
    defined = {d["name"] for group in typedefs.values() for d in group}

    for entity in typedefs["entityDefs"]:
        assert set(entity["superTypes"]) <= defined | ATLAS_BUILT_INS, entity["name"]
        for attribute in entity["attributeDefs"]:
            assert attribute["typeName"] in defined | ATLAS_BUILT_INS, (entity["name"], attribute["name"])
    for relationship in typedefs["relationshipDefs"]:
        assert {relationship["endDef1"]["type"], relationship["endDef2"]["type"]} <= defined | PURVIEW_BUILT_INS


def test_when_typedefs_are_read_then_names_are_unique() -> None:
    names = [d["name"] for group in _typedefs().values() for d in group]

    assert len(names) == len(set(names))


@pytest.mark.parametrize("term", json.loads((PURVIEW / "glossary.json").read_text())["terms"], ids=lambda t: t["name"])
def test_when_a_glossary_term_links_columns_then_each_link_resolves_to_a_curated_column(term: dict) -> None:  # type: ignore[type-arg]
    assert term["shortDescription"]
    for link in term["columns"]:
        table, column = link.split(".", 1)
        tables = TABLES if table == "*" else {table: TABLES[table]}
        matches = [name for name, schema in tables.items() if column in schema.names]
        assert matches, f"glossary term `{term['name']}` links `{link}`, which matches no curated column"


def test_when_typedefs_are_read_then_tables_and_columns_fill_purviews_schema_tab() -> None:
    """Learn, "Type definitions and how to create custom types", section 4: a table type's
    ``options.schemaElementsAttribute`` names its relationship to its columns; a column type's
    ``options.schemaAttributes`` (a JSON list in a string) names the attributes the Schema tab shows."""
    entities = {d["name"]: d for d in _typedefs()["entityDefs"]}
    columns = next(r for r in _typedefs()["relationshipDefs"] if r["name"] == "spotify_table_columns")

    assert entities["spotify_table"]["options"]["schemaElementsAttribute"] == columns["endDef1"]["name"] == "columns"
    shown = json.loads(entities["spotify_column"]["options"]["schemaAttributes"])
    assert shown and set(shown) <= {a["name"] for a in entities["spotify_column"]["attributeDefs"]}
