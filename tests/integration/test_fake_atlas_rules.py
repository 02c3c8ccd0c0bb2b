"""The fake Atlas server refuses what Apache Atlas refuses (tests/fake_atlas_types.py names each check), and keeps
nothing of a refused request; its bodies keep to the Purview Data Map spec (tests/purview_specs)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from activities.common.atlas import AtlasClient, AtlasFatalError, AtlasRequest, create_typedefs, update_typedefs, upsert_entities
from tests.fake_atlas import TYPEDEFS, FakeAtlas


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas() as fake:
        fake.seed_typedefs()
        yield fake


def _refusal(atlas: FakeAtlas, request: AtlasRequest) -> str:
    before = (copy.deepcopy(atlas.state.typedefs), copy.deepcopy(atlas.state.entities))
    with AtlasClient(atlas.endpoint, credential=None, max_attempts=1) as client, pytest.raises(AtlasFatalError) as caught:
        client.send(request)
    assert (atlas.state.typedefs, atlas.state.entities) == before  # nothing of a refused request is kept
    return str(caught.value)


def _committed(name: str) -> dict[str, Any]:
    return next(d for group in json.loads(TYPEDEFS.read_text()).values() for d in group if d["name"] == name)


def _table_update(change: Any) -> AtlasRequest:
    table = _committed("spotify_table")
    change(table)
    return update_typedefs({"entityDefs": [table]})


def _attribute(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in definition["attributeDefs"] if a["name"] == name)


def _table(qualified_name: str = "spotify://a/curated/tracks", **attributes: Any) -> dict[str, Any]:
    return {"typeName": "spotify_table", "attributes": {"qualifiedName": qualified_name, "name": "curated.tracks",
                                                        "zone": "curated", "location": "curated/tracks/", **attributes}}


def test_when_an_update_changes_an_attributes_type_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    message = _refusal(atlas, _table_update(lambda t: _attribute(t, "location").update(typeName="int")))

    assert "HTTP 400: ATLAS-400-00-029: Data type update for attribute is not supported" in message


def test_when_an_update_drops_an_attribute_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    message = _refusal(atlas, _table_update(lambda t: t["attributeDefs"].remove(_attribute(t, "naturalKey"))))

    assert "HTTP 400: ATLAS-400-00-00D: spotify_table.naturalKey : attribute delete not supported" in message


def test_when_an_update_adds_a_mandatory_attribute_then_atlas_refuses_it_but_accepts_an_optional_one(atlas: FakeAtlas) -> None:
    mandatory = {"name": "owner_team", "typeName": "string", "isOptional": False, "cardinality": "SINGLE"}

    message = _refusal(atlas, _table_update(lambda t: t["attributeDefs"].append(mandatory)))

    assert "HTTP 400: ATLAS-400-00-00C: spotify_table.owner_team : can not add mandatory attribute" in message
    with AtlasClient(atlas.endpoint, credential=None) as client:
        client.send(_table_update(lambda t: t["attributeDefs"].append({**mandatory, "isOptional": True})))
    assert "owner_team" in {a["name"] for a in atlas.state.typedefs["spotify_table"]["attributeDefs"]}


def test_when_an_update_removes_a_super_type_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    message = _refusal(atlas, _table_update(lambda t: t.update(superTypes=[])))

    assert "HTTP 400: ATLAS-400-00-00E: superType remove not supported" in message


def test_when_an_attribute_names_an_unknown_type_then_atlas_refuses_the_definition(atlas: FakeAtlas) -> None:
    definition = {"name": "spotify_playlist", "superTypes": ["DataSet"],
                  "attributeDefs": [{"name": "owner", "typeName": "spotify_user", "isOptional": True, "cardinality": "SINGLE"}]}

    message = _refusal(atlas, create_typedefs({"entityDefs": [definition]}))

    assert "HTTP 400: ATLAS-400-00-001: Unknown type spotify_user for spotify_playlist.owner" in message


def test_when_a_relationship_end_names_an_unknown_type_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    relationship = {**_committed("spotify_table_columns"), "name": "spotify_table_owner",
                    "endDef2": {"type": "spotify_owner", "name": "tables", "isContainer": False, "cardinality": "SINGLE"}}

    message = _refusal(atlas, create_typedefs({"relationshipDefs": [relationship]}))

    assert "HTTP 400: ATLAS-400-00-035: relationshipDef spotify_table_owner has invalid end type spotify_owner" in message


def test_when_a_relationship_update_moves_an_end_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    relationship = _committed("spotify_table_columns")
    relationship["endDef2"] = {**relationship["endDef2"], "type": "DataSet"}

    message = _refusal(atlas, update_typedefs({"relationshipDefs": [relationship]}))

    assert "HTTP 400: ATLAS-400-00-038: invalid update for relationshipDef spotify_table_columns" in message


def test_when_an_entity_holds_a_value_outside_its_enum_then_atlas_refuses_it_and_normalizes_the_case_of_valid_ones(
        atlas: FakeAtlas) -> None:
    message = _refusal(atlas, upsert_entities([_table(zone="bronze")], "tables"))

    assert "HTTP 404: ATLAS-404-00-007: Invalid instance creation/updation parameters passed : " \
           "spotify_table.zone: invalid value 'bronze' for type spotify_zone" in message
    with AtlasClient(atlas.endpoint, credential=None) as client:
        client.send(upsert_entities([_table(zone="CURATED")], "tables"))
    (table,) = atlas.state.of_type("spotify_table")
    assert table["attributes"]["zone"] == "curated"  # AtlasEnumType.getNormalizedValue


def test_when_an_entity_lacks_a_mandatory_attribute_or_has_a_wrongly_typed_one_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    entity = _table()
    del entity["attributes"]["location"]

    assert "spotify_table.location: mandatory attribute value missing in type spotify_table" in _refusal(
        atlas, upsert_entities([entity], "tables"))
    assert "spotify_table.naturalKey: invalid value 'id' for type array<string>" in _refusal(
        atlas, upsert_entities([_table(naturalKey="id")], "tables"))


def test_when_an_entity_names_an_unknown_classification_then_atlas_refuses_it_and_stores_known_ones(atlas: FakeAtlas) -> None:
    message = _refusal(atlas, upsert_entities([{**_table(), "classifications": [{"typeName": "MICROSOFT.PII"}]}], "t"))

    assert "HTTP 404: ATLAS-404-00-008: Given classification MICROSOFT.PII was invalid" in message
    with AtlasClient(atlas.endpoint, credential=None) as client:
        client.send(upsert_entities([{**_table(), "classifications": [{"typeName": "spotify_user_data"}]}], "t"))
        client.send(upsert_entities([{**_table(), "classifications": []}], "t"))  # an update leaves them as they are
        found = client.send(AtlasRequest("GET", "/entity/bulk/uniqueAttribute/type/spotify_table", "look up",
                                         params=(("attr_0:qualifiedName", "spotify://a/curated/tracks"),)))
    (entity,) = found["entities"]
    assert [c["typeName"] for c in entity["classifications"]] == ["spotify_user_data"]


def test_when_a_relationship_attribute_points_at_the_wrong_type_then_atlas_refuses_it(atlas: FakeAtlas) -> None:
    with AtlasClient(atlas.endpoint, credential=None) as client:
        client.send(upsert_entities([_table("spotify://a/curated/tracks"), _table("spotify://a/curated/albums")], "t"))
    column = {"typeName": "spotify_column",
              "attributes": {"qualifiedName": "spotify://a/curated/tracks#id", "name": "id", "dataType": "string",
                             "nullable": False},
              "relationshipAttributes": {"table": {"typeName": "spotify_table",
                                                   "uniqueAttributes": {"qualifiedName": "spotify://a/curated/tracks"}}}}
    wrong = copy.deepcopy(column)
    wrong["relationshipAttributes"]["table"] = {"typeName": "spotify_column", "uniqueAttributes": {"qualifiedName": "x"}}
    unknown = copy.deepcopy(column)
    unknown["relationshipAttributes"] = {"owner": column["relationshipAttributes"]["table"]}

    assert "ATLAS-404-00-00A: Referenced entity spotify_column:x is not found" in _refusal(
        atlas, upsert_entities([wrong], "c"))
    assert "spotify_column.owner: no relationship of type spotify_column has an end with this name" in _refusal(
        atlas, upsert_entities([unknown], "c"))
    with AtlasClient(atlas.endpoint, credential=None) as client:
        client.send(upsert_entities([column], "c"))
    table_guid = atlas.state.find("spotify_table", "spotify://a/curated/tracks")["guid"]  # type: ignore[index]
    column["relationshipAttributes"]["table"] = {"guid": atlas.state.find("spotify_column", "spotify://a/curated/tracks#id")["guid"]}  # type: ignore[index]
    assert "HTTP 400: ATLAS-400-00-045: Invalid entity-type for relationship attribute 'table'" in _refusal(
        atlas, upsert_entities([column], "c"))
    assert atlas.state.find("spotify_column", "spotify://a/curated/tracks#id")["relationshipAttributes"]["table"][  # type: ignore[index]
        "guid"] == table_guid


def test_when_a_body_does_not_match_the_data_map_spec_then_the_fake_refuses_it(atlas: FakeAtlas) -> None:
    message = _refusal(atlas, upsert_entities([{**_table(), "classifications": "spotify_user_data"}], "tables"))

    assert "HTTP 400: ATLAS-400-00-01A: invalid parameters: body.entities[0].classifications: expected" in message


def test_when_types_are_created_twice_or_updated_before_they_exist_then_atlas_refuses(atlas: FakeAtlas) -> None:
    assert "HTTP 409: ATLAS-409-00-001: Given type spotify_table already exists" in _refusal(
        atlas, create_typedefs({"entityDefs": [_committed("spotify_table")]}))
    assert "HTTP 404: ATLAS-404-00-001: Given typename spotify_album was invalid" in _refusal(
        atlas, update_typedefs({"entityDefs": [{**_committed("spotify_table"), "name": "spotify_album"}]}))
