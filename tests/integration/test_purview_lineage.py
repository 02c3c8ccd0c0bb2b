"""PL_Load_Spotify in the local runner with the global parameter purviewEndpoint pointing at the fake Atlas server:
the lineage activity (a real subprocess, as on Batch) registers the tables and columns linked to their Blob Storage
resource sets, and one Process per data-moving activity between storage paths; a rerun updates them; 429s and 500s are
retried; with Purview unreachable the load still succeeds and the lineage waits for the next run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from activities.load.purview import COLUMN_TYPE, TABLE_TYPE
from activities.load.purview_processes import PROCESS_TYPE, STORAGE_TYPE
from activities.transform.schemas import TABLES
from offline.adf_runner.monitor import PipelineRun
from tests.fake_atlas import FakeAtlas
from tests.integration.load_fixtures import LoadHarness, load_harness

SNAPSHOT = "2026-11-24"
ACCOUNT = "stspotifytest"
BLOB = f"https://{ACCOUNT}.blob.core.windows.net"
DATE = "{Year}-{Month}-{Day}"
PROCESSES = [f"spotify://{ACCOUNT}/pipelines/{p}/activities/{a}" for p, a in (
    ("PL_Extract_Spotify", "Extract Spotify"), ("PL_Extract_Spotify", "Extract Spotify shard"),
    ("PL_Transform_Spotify", "Transform raw run"), ("PL_Load_Spotify", "Check serving schemas"))]


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas() as fake:
        fake.seed_typedefs()  # as after scripts/deploy.py
        yield fake


def _harness(tmp_path: Path, endpoint: str) -> LoadHarness:
    return load_harness(tmp_path, {"purviewEndpoint": endpoint, "storageAccount": ACCOUNT})


def _land(harness: LoadHarness, snapshot: str) -> PipelineRun:
    """A curated snapshot whose marker names a run manifest (discovery parts of albums, shard parts of tracks)."""
    run_id = f"{snapshot}-0000-4000-8000-000000000000"
    parts = [{"entity": entity, "path": f"spotify/{entity}/ingest_date={snapshot}/run_id={run_id}/part-{writer}-00000.json.gz",
              "items": 20} for entity, writer in (("albums", "d"), ("tracks", "000"), ("tracks", "001"))]
    manifest = {"manifest_version": 1, "source": "spotify", "container": "raw", "ingest_date": snapshot, "run_id": run_id,
                "parts": parts}
    harness.lake.storage.write_bytes("raw", f"spotify/manifests/ingest_date={snapshot}/_manifest.json",
                                     json.dumps(manifest).encode())
    (run,) = harness.land(snapshot)
    return run


def _lineage_attempts(harness: LoadHarness, run: PipelineRun) -> list[Any]:
    return sorted((a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Record lineage"),
                  key=lambda a: a.attempt)


def _purview(harness: LoadHarness, run: PipelineRun) -> Any:
    return _lineage_attempts(harness, run)[-1].output["customOutput"]["purview"]


def _ends(atlas: FakeAtlas, process: dict[str, Any], key: str) -> list[str]:
    return [atlas.state.entities[ref["guid"]]["attributes"]["qualifiedName"] for ref in process["attributes"][key]]


def test_when_a_load_runs_with_purview_then_tables_join_their_storage_and_activities_connect_storage_paths(
        tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = load_harness(tmp_path, {"purviewEndpoint": atlas.endpoint, "storageAccount": ACCOUNT,
                                      "purviewCollectionId": "spotify-test"})

    run = _land(harness, SNAPSHOT)

    assert run.status == "Succeeded", run.message
    tables = atlas.state.of_type(TABLE_TYPE)
    assert sorted(t["attributes"]["qualifiedName"] for t in tables) == sorted(
        [f"spotify://{ACCOUNT}/curated/{t}" for t in TABLES] + [f"spotify://{ACCOUNT}/serving/{t}" for t in TABLES])
    columns = atlas.state.of_type(COLUMN_TYPE)
    curated_columns = sum(len(schema) for schema in TABLES.values())
    assert len(columns) == curated_columns + curated_columns - len(TABLES)  # serving has no snapshot_date column
    tracks = atlas.state.find(TABLE_TYPE, f"spotify://{ACCOUNT}/serving/tracks")
    popularity = atlas.state.find(COLUMN_TYPE, f"spotify://{ACCOUNT}/serving/tracks#popularity")
    assert tracks is not None and popularity is not None
    assert popularity["relationshipAttributes"]["table"] == {"guid": tracks["guid"], "typeName": TABLE_TYPE}
    serving_tracks = f"{BLOB}/serving/tracks/snapshot_date={DATE}/part-{{N}}.parquet"
    storage = atlas.state.find(STORAGE_TYPE, serving_tracks)
    assert storage is not None and tracks["relationshipAttributes"]["storage"]["guid"] == storage["guid"]

    processes = {p["attributes"]["qualifiedName"]: p for p in atlas.state.of_type(PROCESS_TYPE)}
    assert sorted(processes) == sorted(PROCESSES)
    extract, shards, transform, publish = (processes[name] for name in PROCESSES)
    raw = f"{BLOB}/raw/spotify"
    assert _ends(atlas, extract, "inputs") == ["https://api.spotify.com/v1"]
    assert _ends(atlas, extract, "outputs") == [f"{raw}/albums/ingest_date={DATE}/run_id={{GUID}}/part-d-{{N}}.json.gz"]
    assert _ends(atlas, shards, "outputs") == [f"{raw}/tracks/ingest_date={DATE}/run_id={{GUID}}/part-{{N}}-{{N}}.json.gz"]
    assert _ends(atlas, transform, "inputs") == _ends(atlas, extract, "outputs") + _ends(atlas, shards, "outputs")
    assert sorted(_ends(atlas, transform, "outputs")) == sorted(
        f"{BLOB}/curated/{t}/snapshot_date={DATE}/part-{{N}}.parquet" for t in TABLES)
    assert serving_tracks in _ends(atlas, publish, "outputs")
    assert f"{BLOB}/serving/_staging/run_id={{GUID}}/tracks/snapshot_date={DATE}/{{SparkPartitions}}" in _ends(
        atlas, publish, "inputs")
    assert (publish["attributes"]["runId"], publish["attributes"]["rowCounts"]["serving.tracks"]) == (run.runId, 3)
    every_end = {ref["typeName"] for p in processes.values() for key in ("inputs", "outputs") for ref in p["attributes"][key]}
    assert every_end == {STORAGE_TYPE, "spotify_web_api"}  # no dataset is registered twice: the ends are storage paths

    purview = _purview(harness, run)
    assert (purview["account"], purview["status"], purview["registered"], purview["pending"]) == (
        atlas.endpoint, "registered", [run.runId], [])
    assert purview["processes"] == {name: processes[name]["guid"] for name in PROCESSES}
    assert purview["tables"][f"spotify://{ACCOUNT}/serving/tracks"] == tracks["guid"]
    assert purview["created"] == len(atlas.state.entities) and (purview["updated"], purview["unchanged"]) == (0, 0)
    assert {e["collectionId"] for e in atlas.state.entities.values()} == {"spotify-test"}
    assert all(r.authorization == "" for r in atlas.received)  # a loopback endpoint never gets a token


def test_when_snapshots_are_loaded_again_and_later_then_each_activity_stays_one_process_with_the_latest_run(
        tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    first = _land(harness, SNAPSHOT)
    guids = {e["attributes"]["qualifiedName"]: guid for guid, e in atlas.state.entities.items()}

    again = _land(harness, SNAPSHOT)
    assert again.status == "Succeeded", again.message
    assert {e["attributes"]["qualifiedName"]: guid for guid, e in atlas.state.entities.items()} == guids
    assert (_purview(harness, again)["created"], _purview(harness, again)["updated"]) == (0, 1)  # the publish step's run id
    later = _land(harness, "2026-11-25")

    assert later.status == "Succeeded", later.message
    processes = {p["attributes"]["qualifiedName"]: p for p in atlas.state.of_type(PROCESS_TYPE)}
    assert sorted(processes) == sorted(PROCESSES)
    publish = processes[PROCESSES[-1]]["attributes"]
    assert (publish["runId"], publish["snapshotDate"]) == (later.runId, "2026-11-25") != (first.runId, SNAPSHOT)
    assert processes[PROCESSES[0]]["attributes"]["runId"] == "2026-11-25-0000-4000-8000-000000000000"
    history = sorted(p.name for p in (harness.lake.root / "serving" / "lineage").glob("*.json"))
    assert history == sorted(f"{r.runId}.json" for r in (first, again, later))


def test_when_purview_answers_429_and_500_once_then_the_registration_retries_and_succeeds(tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    atlas.fail("POST", "/entity/bulk", 429, retry_after="0")
    atlas.fail("POST", "/entity/bulk", 500, retry_after="0")

    run = _land(harness, SNAPSHOT)

    assert run.status == "Succeeded", run.message
    assert [r.status for r in atlas.received if r.path == "/entity/bulk" and r.method == "POST"][:3] == [429, 500, 200]
    assert len(atlas.state.of_type(PROCESS_TYPE)) == len(PROCESSES)
    assert len(_lineage_attempts(harness, run)) == 1  # retried inside the activity, not by ADF


def test_when_purview_is_down_then_the_load_publishes_and_the_next_run_registers_the_pending_lineage(
        tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    atlas.down = True

    missed = _land(harness, SNAPSHOT)

    assert missed.status == "Succeeded", missed.message
    assert harness.query("SELECT count(*) AS n FROM spotify.tracks")[0]["n"] == 3  # the data is published
    purview = _purview(harness, missed)
    assert (purview["status"], purview["registered"], purview["pending"]) == ("pending", [], [missed.runId])
    assert "gave up after 4 attempts" in purview["reason"]
    assert atlas.state.entities == {}
    assert (harness.lake.root / "serving" / "lineage" / "_pending" / f"{missed.runId}.json").is_file()

    atlas.down = False
    caught_up = _land(harness, "2026-11-25")

    assert caught_up.status == "Succeeded", caught_up.message
    purview = _purview(harness, caught_up)
    assert (purview["status"], purview["registered"], purview["pending"]) == (
        "registered", [missed.runId, caught_up.runId], [])
    publish = atlas.state.find(PROCESS_TYPE, PROCESSES[-1])
    assert publish is not None and publish["attributes"]["runId"] == caught_up.runId  # oldest first: the newest wins
    assert not list((harness.lake.root / "serving" / "lineage" / "_pending").iterdir())


def test_when_purview_refuses_the_lineage_then_the_activity_fails_clearly_and_keeps_it_queued(tmp_path: Path) -> None:
    with FakeAtlas() as atlas:  # the types were never published: Atlas refuses every entity
        harness = _harness(tmp_path, atlas.endpoint)

        run = _land(harness, SNAPSHOT)

    assert run.status == "Failed"
    attempts = _lineage_attempts(harness, run)
    assert attempts[-1].error.errorCode == "2500"  # ADF's code; the reason is in customOutput.error
    message = attempts[-1].output["customOutput"]["error"]["message"]
    assert f"lineage serving/lineage/{run.runId}.json is written, but registering it in Purview failed" in message
    assert "HTTP 400" in message and "publish purview/typedefs.json first" in message
    assert f"serving/lineage/_pending/{run.runId}.json keeps it queued" in message
    assert (harness.lake.root / "serving" / "lineage" / "_pending" / f"{run.runId}.json").is_file()


def test_when_no_purview_endpoint_is_configured_then_registration_is_skipped_with_one_log_line(tmp_path: Path) -> None:
    harness = load_harness(tmp_path, {"purviewEndpoint": ""})

    (run,) = harness.land(SNAPSHOT)

    assert run.status == "Succeeded", run.message
    activity = _lineage_attempts(harness, run)[-1]
    assert activity.output["customOutput"]["purview"] == "skipped: no Purview account configured"
    stdout = Path(url2pathname(urlsplit(activity.output["outputs"][0]).path)).read_text()  # a blob URL in adfjobs
    assert [line for line in stdout.splitlines() if "Purview" in line] == [
        line for line in stdout.splitlines()
        if "Purview: skipped: no Purview account configured (extended property `purviewEndpoint` is empty)" in line]
    assert len([line for line in stdout.splitlines() if "Purview" in line]) == 1
