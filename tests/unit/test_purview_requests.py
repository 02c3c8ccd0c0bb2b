"""What is sent to Purview, built by pure functions: qualifiedNames, entities, batches, typedef and glossary diffs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activities.common.atlas import find_entities, parse_mutation, upsert_entities
from activities.common.context import load_context
from activities.common.errors import ActivityConfigError
from activities.load.purview import (
    COLUMN_TYPE,
    SKIPPED,
    TABLE_TYPE,
    USER_DATA_CLASSIFICATION,
    USER_DATA_TABLES,
    PurviewTarget,
    TableRef,
    batches,
    declared_tables,
    lineage_requests,
    lineage_tables,
    placeholders,
    table_group,
)
from activities.load.purview_processes import PROCESS_TYPE, STORAGE_TYPE, activity_processes, raw_summary, storage_reference
from activities.load.schema import Column, TableSchema
from activities.transform.schemas import TABLES
from factory_deploy.errors import DeployError
from factory_deploy.purview import PlanRecorder, load_definitions, publish_purview, term_links, typedef_changes

PURVIEW = Path(__file__).resolve().parents[2] / "purview"
NS = "stspotifytest"
TRACKS = TableRef("curated", "curated", "tracks", (Column("track_id", "string", False), Column("popularity", "int16")), ("track_id",))


def _document(run_id: str = "load-1") -> dict[str, Any]:
    return {
        "snapshot_date": "2026-11-24", "recorded_at": "2026-11-24T06:00:00Z",
        "pipeline": {"name": "PL_Load_Spotify", "run_id": run_id, "trigger": {"name": "TR_Curated_Landed", "time": "t"}},
        "inputs": [{"table": "tracks", "location": "curated/tracks/snapshot_date=2026-11-24/", "rows_read": 3}],
        "outputs": [{"table": "tracks", "location": "serving/tracks/snapshot_date=2026-11-24/", "rows": 3,
                     "schema": "serving/_schemas/tracks/2026-11-24.json"}],
    }


def test_when_a_table_is_grouped_then_its_columns_point_at_its_placeholder_guid() -> None:
    group = table_group(NS, TRACKS, placeholders())

    table, *columns = group
    assert table == {"typeName": TABLE_TYPE, "guid": "-1", "attributes": {
        "qualifiedName": "spotify://stspotifytest/curated/tracks", "name": "curated.tracks", "zone": "curated",
        "location": "curated/tracks/", "partitionColumn": "snapshot_date", "naturalKey": ["track_id"]}}
    assert [c["attributes"]["qualifiedName"] for c in columns] == [
        "spotify://stspotifytest/curated/tracks#track_id", "spotify://stspotifytest/curated/tracks#popularity"]
    assert [c["guid"] for c in columns] == ["-2", "-3"]
    assert {json.dumps(c["relationshipAttributes"]) for c in columns} == {json.dumps({"table": {"typeName": TABLE_TYPE, "guid": "-1"}})}
    assert columns[0]["attributes"] | {} == {"qualifiedName": "spotify://stspotifytest/curated/tracks#track_id",
                                             "name": "track_id", "dataType": "string", "nullable": False}


def test_when_a_table_holds_one_users_listening_data_then_it_is_classified_as_user_data() -> None:
    typedefs = json.loads((PURVIEW / "typedefs.json").read_text())
    played = TableRef("curated", "curated", "recently_played", (Column("played_at", "timestamp", False),), ("played_at",))

    (table, _) = table_group(NS, played, placeholders())

    assert USER_DATA_CLASSIFICATION in {c["name"] for c in typedefs["classificationDefs"]}
    assert USER_DATA_TABLES <= set(TABLES)
    assert table["classifications"] == [{"typeName": USER_DATA_CLASSIFICATION}]
    assert "classifications" not in table_group(NS, TRACKS, placeholders())[0]


def test_when_groups_are_packed_then_no_request_passes_the_limit_and_no_table_is_split_from_its_columns() -> None:
    groups = [[{"n": i}] * size for i, size in enumerate([3, 2, 4, 1, 6])]

    packed = batches(groups, limit=5)

    assert [len(b) for b in packed] == [5, 5, 6]
    assert [sorted({e["n"] for e in b}) for b in packed] == [[0, 1], [2, 3], [4]]


def test_when_the_same_snapshot_is_loaded_by_another_run_then_every_qualified_name_is_the_same() -> None:
    inputs, outputs = lineage_tables(_document(), {"tracks": TableSchema("tracks", TRACKS.columns or ())}, {}, {"tracks": ("track_id",)})

    first = lineage_requests(NS, _document("load-1"), inputs, outputs)
    again = lineage_requests(NS, _document("load-2"), inputs, outputs)

    def names(requests: list[Any]) -> list[str]:
        return [e["attributes"]["qualifiedName"] for r in requests for e in r.body["entities"]]

    assert names(first) == names(again)
    assert names(first)[-1] == f"spotify://{NS}/pipelines/PL_Load_Spotify/activities/Check serving schemas"
    assert first[-1].body["entities"][-1]["attributes"]["runId"] == "load-1"
    assert again[-1].body["entities"][-1]["attributes"]["runId"] == "load-2"


def test_when_lineage_is_turned_into_requests_then_storage_then_tables_then_processes_between_storage_paths() -> None:
    inputs, outputs = lineage_tables(_document(), {"tracks": TableSchema("tracks", TRACKS.columns or ())}, {}, {})

    storage, tables, processes = lineage_requests(NS, _document(), inputs, outputs, collection="spotify-dev")

    assert [(r.method, r.path, r.params) for r in (storage, tables, processes)] == [
        ("POST", "/entity/bulk", (("collectionId", "spotify-dev"),))] * 3
    curated = f"https://{NS}.blob.core.windows.net/curated/tracks/snapshot_date={{Year}}-{{Month}}-{{Day}}/part-{{N}}.parquet"
    serving = f"https://{NS}.blob.core.windows.net/serving/tracks/snapshot_date={{Year}}-{{Month}}-{{Day}}/part-{{N}}.parquet"
    staged = (f"https://{NS}.blob.core.windows.net/serving/_staging/run_id={{GUID}}/tracks/"
              "snapshot_date={Year}-{Month}-{Day}/{SparkPartitions}")
    assert [(e["typeName"], e["attributes"]["qualifiedName"]) for e in storage.body["entities"]] == [
        (STORAGE_TYPE, curated), (STORAGE_TYPE, serving), (STORAGE_TYPE, staged)]
    sent = tables.body["entities"]
    assert [(e["typeName"], e["attributes"]["qualifiedName"]) for e in sent] == [
        (TABLE_TYPE, "spotify://stspotifytest/curated/tracks"),
        (COLUMN_TYPE, "spotify://stspotifytest/curated/tracks#track_id"),
        (COLUMN_TYPE, "spotify://stspotifytest/curated/tracks#popularity"),
        (TABLE_TYPE, "spotify://stspotifytest/serving/tracks"),  # no stored schema given: registered without columns
    ]
    assert sent[0]["relationshipAttributes"] == {"storage": storage_reference(curated)}
    (process,) = processes.body["entities"]  # no upstream.extract: only the publishing step is described
    assert process["typeName"] == PROCESS_TYPE
    assert process["attributes"]["inputs"] == [storage_reference(staged)]
    assert process["attributes"]["outputs"] == [storage_reference(serving)]
    assert process["attributes"]["rowCounts"] == {"serving.tracks": 3}


def test_when_the_manifest_is_known_then_extract_and_transform_are_processes_from_the_api_to_raw_to_curated() -> None:
    manifest = {"run_id": "extract-1", "ingest_date": "2026-11-24", "container": "raw", "source": "spotify", "parts": [
        {"entity": "albums", "path": "spotify/albums/ingest_date=2026-11-24/run_id=extract-1/part-d-00000.json.gz", "items": 20},
        {"entity": "tracks", "path": "spotify/tracks/ingest_date=2026-11-24/run_id=extract-1/part-000-00000.json.gz", "items": 50},
        {"entity": "tracks", "path": "spotify/tracks/ingest_date=2026-11-24/run_id=extract-1/part-001-00000.json.gz", "items": 50}]}
    document = {**_document(), "upstream": {"run_id": "transform-1", "extract": raw_summary(manifest)}}
    document["inputs"][0]["rows_in_marker"] = 3

    discovery, shards, transform, publish = activity_processes(NS, document)

    raw = f"https://{NS}.blob.core.windows.net/raw/spotify"
    api = {"typeName": "spotify_web_api", "uniqueAttributes": {"qualifiedName": "https://api.spotify.com/v1"}}
    assert (discovery["attributes"]["inputs"], discovery["attributes"]["outputs"]) == (
        [api], [storage_reference(f"{raw}/albums/ingest_date={{Year}}-{{Month}}-{{Day}}/run_id={{GUID}}/part-d-{{N}}.json.gz")])
    assert shards["attributes"]["outputs"] == [
        storage_reference(f"{raw}/tracks/ingest_date={{Year}}-{{Month}}-{{Day}}/run_id={{GUID}}/part-{{N}}-{{N}}.json.gz")]
    assert (shards["attributes"]["runId"], shards["attributes"]["rowCounts"]) == ("extract-1", {"raw.tracks": 100})
    assert transform["attributes"]["inputs"] == discovery["attributes"]["outputs"] + shards["attributes"]["outputs"]
    assert transform["attributes"]["outputs"] == [storage_reference(
        f"https://{NS}.blob.core.windows.net/curated/tracks/snapshot_date={{Year}}-{{Month}}-{{Day}}/part-{{N}}.parquet")]
    assert [p["attributes"]["qualifiedName"] for p in (discovery, shards, transform, publish)] == [
        f"spotify://{NS}/pipelines/PL_Extract_Spotify/activities/Extract Spotify",
        f"spotify://{NS}/pipelines/PL_Extract_Spotify/activities/Extract Spotify shard",
        f"spotify://{NS}/pipelines/PL_Transform_Spotify/activities/Transform raw run",
        f"spotify://{NS}/pipelines/PL_Load_Spotify/activities/Check serving schemas"]
    assert (transform["attributes"]["runId"], transform["attributes"]["rowCounts"]) == ("transform-1", {"curated.tracks": 3})


def test_when_a_lineage_entry_has_no_location_then_the_error_names_it() -> None:
    document = _document()
    del document["outputs"][0]["location"]

    with pytest.raises(ActivityConfigError, match=r"lineage serving entry 0 \(`tracks`\) has no `location`"):
        lineage_tables(document, {}, {}, {})


def test_when_atlas_answers_an_upsert_then_guids_come_from_assignments_and_headers() -> None:
    sent = [{"guid": "-1", "typeName": TABLE_TYPE, "attributes": {"qualifiedName": "a"}},
            {"guid": "-2", "typeName": COLUMN_TYPE, "attributes": {"qualifiedName": "a#x"}},
            {"guid": "-3", "typeName": COLUMN_TYPE, "attributes": {"qualifiedName": "a#y"}}]
    answer = {"guidAssignments": {"-1": "g1", "-2": "g2"},
              "mutatedEntities": {"CREATE": [{"guid": "g2", "typeName": COLUMN_TYPE}],
                                  "UPDATE": [{"guid": "g1", "attributes": {"qualifiedName": "a"}}]}}

    mutation = parse_mutation(answer, sent)

    assert mutation.guids == {"a": "g1", "a#x": "g2"}
    assert (mutation.created, mutation.updated) == ({"a#x"}, {"a"})


def test_when_entities_are_looked_up_then_each_name_is_a_numbered_unique_attribute() -> None:
    request = find_entities(TABLE_TYPE, ["q1", "q2"])

    assert request.path == "/entity/bulk/uniqueAttribute/type/spotify_table" and request.missing_ok
    assert request.params[:2] == (("attr_0:qualifiedName", "q1"), ("attr_1:qualifiedName", "q2"))
    assert upsert_entities([{}], "x").to_json() == {"method": "POST", "path": "/datamap/api/atlas/v2/entity/bulk",
                                                   "what": "upsert 1 entities (x)", "body": {"entities": [{}]}}


def test_when_a_remote_typedef_only_adds_atlas_defaults_then_it_is_unchanged() -> None:
    local = json.loads((PURVIEW / "typedefs.json").read_text())["entityDefs"][0]
    remote = {**local, "guid": "g", "version": 3, "category": "ENTITY",
              "superTypes": list(reversed(local["superTypes"])),
              "attributeDefs": [{**a, "valuesMinCount": 0} for a in reversed(local["attributeDefs"])]}

    assert typedef_changes(local, remote) == []


def test_when_a_typedef_changed_then_the_changes_are_named() -> None:
    local = json.loads((PURVIEW / "typedefs.json").read_text())["entityDefs"][0]
    remote = {**local, "description": "old", "attributeDefs": local["attributeDefs"][:-1]}
    enum = {"name": "spotify_zone", "elementDefs": [{"value": "raw", "ordinal": 0}, {"value": "curated", "ordinal": 1}]}

    assert typedef_changes(local, remote) == [f"description 'old' -> {local['description']!r}", "attribute partitionColumn added"]
    assert typedef_changes(enum, {**enum, "elementDefs": enum["elementDefs"][:1]}) == ["elementDefs ['raw'] -> ['raw', 'curated']"]
    assert typedef_changes(enum, None) == ["not in the account"]


def test_when_glossary_links_are_resolved_then_wildcards_reach_every_zone_that_has_the_column() -> None:
    tables = declared_tables("curated", "serving")
    glossary = {"terms": [{"name": "Snapshot date", "columns": ["*.snapshot_date"]},
                          {"name": "Followers", "columns": ["artists.followers"]}]}

    links = term_links(glossary, tables, NS)

    assert len(links["Snapshot date"]) == len(TABLES)  # the partition column is a folder in serving, not a column
    assert all(name.startswith("spotify://stspotifytest/curated/") for name in links["Snapshot date"])
    assert links["Followers"] == ["spotify://stspotifytest/curated/artists#followers", "spotify://stspotifytest/serving/artists#followers"]


def test_when_a_glossary_link_matches_no_column_then_deploy_refuses_naming_term_and_link() -> None:
    with pytest.raises(DeployError, match=r"term `Tempo` links `tracks.tempo`, which matches no column"):
        term_links({"terms": [{"name": "Tempo", "columns": ["tracks.tempo"]}]}, declared_tables("curated", "serving"), NS)


def test_when_a_dry_run_plans_against_an_empty_account_then_every_type_term_and_linked_column_is_written() -> None:
    definitions = load_definitions(PURVIEW)
    tables = declared_tables("curated", "serving")
    recorder = PlanRecorder()

    report = publish_purview(recorder, definitions, tables, NS, lambda _line: None)

    writes = [r for r in recorder.requests if r.is_write]
    (create_types,) = [r for r in writes if r.path == "/types/typedefs"]
    assert create_types.method == "POST"
    assert sorted(d["name"] for group in create_types.body.values() for d in group) == sorted(
        d["name"] for group in definitions.typedefs.values() for d in group)
    assert [r.body["name"] for r in writes if r.path == "/glossary/term"] == [t["name"] for t in definitions.glossary["terms"]]
    created = [e for r in writes if r.path == "/entity/bulk" for e in r.body["entities"]]
    assert len(created) == len(tables) + sum(len(t.columns or ()) for t in tables) == report.entities_created
    links = term_links(definitions.glossary, tables, NS)
    assigned = [g["guid"] for r in writes if r.path.endswith("/assignedEntities") for g in r.body]
    assert sorted(assigned) == sorted(f"<guid of {name}>" for names in links.values() for name in names)


def _context(tmp_path: Path, **properties: str) -> Any:
    activity = {"name": "Record lineage", "type": "Custom", "typeProperties": {"command": "x", "extendedProperties": properties}}
    (tmp_path / "activity.json").write_text(json.dumps(activity))
    return load_context(tmp_path)


def test_when_no_purview_endpoint_is_set_then_there_is_no_target(tmp_path: Path) -> None:
    assert PurviewTarget.from_context(_context(tmp_path)) is None
    assert PurviewTarget.from_context(_context(tmp_path, purviewEndpoint="  ", storageAccount="st")) is None
    assert SKIPPED == "skipped: no Purview account configured"


def test_when_an_endpoint_is_set_without_a_storage_account_then_the_error_names_the_property(tmp_path: Path) -> None:
    with pytest.raises(ActivityConfigError, match=r"extended property `storageAccount` is '' while `purviewEndpoint` is set"):
        PurviewTarget.from_context(_context(tmp_path, purviewEndpoint="https://pv.purview.azure.com"))

    target = PurviewTarget.from_context(_context(tmp_path, purviewEndpoint="https://pv.purview.azure.com", storageAccount="st"))
    assert target is not None and (target.endpoint, target.namespace) == ("https://pv.purview.azure.com", "st")


def test_when_a_collection_is_configured_then_deploy_creates_its_entities_there() -> None:
    recorder = PlanRecorder()

    publish_purview(recorder, load_definitions(PURVIEW), declared_tables("curated", "serving"), NS, lambda _line: None,
                    collection="spotify-dev")

    upserts = [r for r in recorder.requests if r.path == "/entity/bulk" and r.method == "POST"]
    assert upserts and {r.params for r in upserts} == {(("collectionId", "spotify-dev"),)}


def test_when_entities_are_built_then_every_attribute_they_set_is_declared_by_their_type() -> None:
    """Atlas does not refuse an attribute its type lacks, so a misspelt one would vanish on Azure: refuse it here."""
    from tests.fake_atlas_types import TypeRegistry

    registry = TypeRegistry()
    for category, definition in registry.write(json.loads((PURVIEW / "typedefs.json").read_text()), create=True):
        registry.defs[definition["name"]] = {**definition, "category": category}
    manifest = {"run_id": "e", "ingest_date": "2026-11-24", "parts": [
        {"entity": "albums", "path": "spotify/albums/ingest_date=2026-11-24/run_id=e/part-d-00000.json.gz", "items": 1}]}
    document = {**_document(), "upstream": {"run_id": "t", "extract": raw_summary(manifest)}}
    inputs, outputs = lineage_tables(document, {"tracks": TableSchema("tracks", TRACKS.columns or ())}, {}, {})
    recorder = PlanRecorder()
    publish_purview(recorder, load_definitions(PURVIEW), declared_tables("curated", "serving"), NS, lambda _line: None)
    sent = [e for r in [*lineage_requests(NS, document, inputs, outputs), *recorder.requests]
            if r.path == "/entity/bulk" and r.method == "POST" for e in r.body["entities"]]

    assert {e["typeName"] for e in sent} == {TABLE_TYPE, COLUMN_TYPE, STORAGE_TYPE, PROCESS_TYPE, "spotify_web_api"}
    for entity in sent:
        assert set(entity["attributes"]) <= set(registry.attributes(entity["typeName"])), entity["typeName"]
        for name in entity.get("relationshipAttributes", {}):
            assert name in registry.relationship_ends(entity["typeName"]), (entity["typeName"], name)
