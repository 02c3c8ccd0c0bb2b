"""`scripts/deploy.py --only purview` against the fake Atlas server: types, glossary, column entities and term
assignments are published once, a second deploy writes nothing, a changed type or term is updated alone,
and Purview failures are retried or end deploy with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities.common.atlas import AtlasClient
from activities.load.purview import COLUMN_TYPE, TABLE_TYPE, declared_tables
from factory_deploy.errors import DeployError
from factory_deploy.purview import load_definitions, publish_purview, term_links
from tests.fake_atlas import FakeAtlas

ROOT = Path(__file__).resolve().parents[2]
PURVIEW = ROOT / "purview"
DEV_ACCOUNT = "stspotifydev"  # config/dev.json storage.account: the qualifiedNames' namespace


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas() as fake:
        yield fake


def _deploy(atlas: FakeAtlas) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy.py"), "--env", "dev", "--only", "purview", "--purview-endpoint", atlas.endpoint],
        capture_output=True, text=True, timeout=120,
    )


def test_when_deploying_to_an_empty_account_then_types_glossary_columns_and_assignments_are_published(atlas: FakeAtlas) -> None:
    definitions = load_definitions(PURVIEW)

    result = _deploy(atlas)

    assert result.returncode == 0, result.stderr
    names = [d["name"] for group in definitions.typedefs.values() for d in group]
    assert sorted(atlas.state.typedefs) == sorted(names)
    (glossary,) = atlas.state.glossaries.values()
    assert glossary["name"] == definitions.glossary["name"]
    assert sorted(t["name"] for t in atlas.state.terms.values()) == sorted(t["name"] for t in definitions.glossary["terms"])
    tables = declared_tables("curated", "serving")
    assert len(atlas.state.of_type(TABLE_TYPE)) == len(tables)
    assert len(atlas.state.of_type(COLUMN_TYPE)) == sum(len(t.columns or ()) for t in tables)
    links = term_links(definitions.glossary, tables, DEV_ACCOUNT)
    for guid, term in atlas.state.terms.items():
        assigned = {atlas.state.entities[g]["attributes"]["qualifiedName"] for g in atlas.state.assignments.get(guid, [])}
        assert assigned == set(links[term["name"]]), term["name"]
    followers = atlas.state.find(COLUMN_TYPE, f"spotify://{DEV_ACCOUNT}/serving/artists#followers")
    assert followers is not None and followers["relationshipAttributes"]["table"]["guid"] == atlas.state.find(
        TABLE_TYPE, f"spotify://{DEV_ACCOUNT}/serving/artists")["guid"]  # type: ignore[index]
    assert "purview: type spotify_table: new" in result.stdout
    assert "deploy: purview of `dev` up to date" in result.stdout


def test_when_deploying_again_then_nothing_is_written(atlas: FakeAtlas) -> None:
    assert _deploy(atlas).returncode == 0
    before = len(atlas.received)

    result = _deploy(atlas)

    assert result.returncode == 0, result.stderr
    assert [r for r in atlas.received[before:] if r.is_write] == []
    assert "purview: type spotify_table: unchanged, skipped" in result.stdout
    assert "types 0 created, 0 updated, 8 unchanged" in result.stdout and "term assignments 0 added" in result.stdout


def test_when_one_type_and_one_term_changed_then_only_they_are_updated(atlas: FakeAtlas) -> None:
    definitions = load_definitions(PURVIEW)
    tables = declared_tables("curated", "serving")
    client = AtlasClient(atlas.endpoint, credential=None)
    publish_purview(client, definitions, tables, DEV_ACCOUNT, lambda _line: None)
    before = len(atlas.received)
    changed = json.loads(json.dumps(definitions.typedefs))
    column = next(d for d in changed["entityDefs"] if d["name"] == "spotify_column")
    column["attributeDefs"].append({"name": "description", "typeName": "string", "isOptional": True,
                                    "cardinality": "SINGLE", "isUnique": False, "isIndexable": False})
    glossary = json.loads(json.dumps(definitions.glossary))
    glossary["terms"][0]["shortDescription"] += " Recomputed daily."
    lines: list[str] = []

    report = publish_purview(client, type(definitions)(changed, glossary), tables, DEV_ACCOUNT, lines.append)

    writes = [r for r in atlas.received[before:] if r.is_write]
    assert [(r.method, r.path) for r in writes] == [("PUT", "/types/typedefs"), ("PUT", f"/glossary/term/{_term_guid(atlas, glossary)}")]
    assert [d["name"] for group in writes[0].body.values() for d in group] == ["spotify_column"]
    assert "purview: type spotify_column: changed (attribute description added)" in lines
    assert (report.types_updated, report.terms_updated) == (["spotify_column"], [glossary["terms"][0]["name"]])
    term = atlas.state.terms[_term_guid(atlas, glossary)]
    assert term["shortDescription"].endswith("Recomputed daily.") and term["anchor"]["glossaryGuid"] in atlas.state.glossaries


def _term_guid(atlas: FakeAtlas, glossary: dict) -> str:  # type: ignore[type-arg]
    return next(g for g, t in atlas.state.terms.items() if t["name"] == glossary["terms"][0]["name"])


def test_when_purview_answers_429_then_deploy_waits_and_goes_on(atlas: FakeAtlas) -> None:
    atlas.fail("POST", "/types/typedefs", 429, retry_after="0")

    result = _deploy(atlas)

    assert result.returncode == 0, result.stderr
    assert [r.status for r in atlas.received if r.path == "/types/typedefs"] == [429, 200]
    assert "returned HTTP 429" in result.stderr and "retrying in 0.00 s (attempt 2 of 4)" in result.stderr


def test_when_purview_keeps_failing_then_deploy_stops_with_a_clear_message_and_no_traceback(atlas: FakeAtlas) -> None:
    atlas.fail("POST", "/glossary", 500, times=100, retry_after="0")

    result = _deploy(atlas)

    assert result.returncode == 1
    assert f"deploy: error: publishing purview/ to {atlas.endpoint} failed: Purview {atlas.endpoint}: " \
           "POST /datamap/api/atlas/v2/glossary " \
           "(create glossary Spotify) returned HTTP 500" in result.stderr
    assert "gave up after 4 attempts" in result.stderr and "Traceback" not in result.stderr
    assert sorted(atlas.state.typedefs)  # what came before the failure stays published; a rerun goes on from there


@pytest.mark.parametrize(("change", "said"), [
    (lambda t: next(a for a in t["attributeDefs"] if a["name"] == "location").update(typeName="int"),
     "attribute location typeName string -> int"),
    (lambda t: t["attributeDefs"].pop(), "attribute partitionColumn removed"),
    (lambda t: t["attributeDefs"].append({"name": "team", "typeName": "string", "isOptional": False, "cardinality": "SINGLE"}),
     "mandatory attribute team added"),
])
def test_when_a_type_changes_incompatibly_then_deploy_refuses_before_writing_and_asks_for_a_new_type_name(
        atlas: FakeAtlas, change: Any, said: str) -> None:
    definitions = load_definitions(PURVIEW)
    tables = declared_tables("curated", "serving")
    client = AtlasClient(atlas.endpoint, credential=None)
    publish_purview(client, definitions, tables, DEV_ACCOUNT, lambda _line: None)
    before = len(atlas.received)
    changed = json.loads(json.dumps(definitions.typedefs))
    change(next(d for d in changed["entityDefs"] if d["name"] == "spotify_table"))

    with pytest.raises(DeployError) as caught:
        publish_purview(client, type(definitions)(changed, definitions.glossary), tables, DEV_ACCOUNT, lambda _line: None)

    assert str(caught.value) == (
        f"purview/typedefs.json: type `spotify_table` changed in a way Atlas refuses to update ({said}): a new type name "
        "is needed (e.g. `spotify_table_v2`, with the entities moved to it); nothing was written")
    assert [r for r in atlas.received[before:] if r.is_write] == []
