"""PL_Load_Spotify in the local runner with the global parameter purviewEndpoint pointing at the fake Atlas server:
the lineage activity (a real subprocess, as on Batch) registers tables, columns and the run; a rerun updates them;
429s and 500s are retried; a Purview that keeps failing fails the activity after the lineage JSON is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from activities.load.purview import COLUMN_TYPE, RUN_TYPE, TABLE_TYPE
from activities.transform.schemas import TABLES
from offline.adf_runner.monitor import PipelineRun
from tests.fake_atlas import FakeAtlas
from tests.integration.load_fixtures import LoadHarness, load_harness

SNAPSHOT = "2026-11-24"
ACCOUNT = "stspotifytest"
RUN_NAME = f"spotify://{ACCOUNT}/pipelines/PL_Load_Spotify/snapshot_date={SNAPSHOT}"


@pytest.fixture
def atlas() -> Iterator[FakeAtlas]:
    with FakeAtlas() as fake:
        fake.seed_typedefs()  # as after scripts/deploy.py
        yield fake


def _harness(tmp_path: Path, endpoint: str) -> LoadHarness:
    return load_harness(tmp_path, {"purviewEndpoint": endpoint, "storageAccount": ACCOUNT})


def _lineage_attempts(harness: LoadHarness, run: PipelineRun) -> list[Any]:
    return sorted((a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Record lineage"),
                  key=lambda a: a.attempt)


def _lineage_activity(harness: LoadHarness, run: PipelineRun) -> Any:
    return _lineage_attempts(harness, run)[-1]


def test_when_a_load_runs_with_purview_then_its_tables_columns_and_run_are_registered(tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)

    (run,) = harness.land(SNAPSHOT)

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
    assert popularity["relationshipAttributes"]["table"] == {"guid": tracks["guid"]}
    assert (popularity["attributes"]["dataType"], popularity["attributes"]["nullable"]) == ("int16", True)
    (process,) = atlas.state.of_type(RUN_TYPE)
    assert process["attributes"]["qualifiedName"] == RUN_NAME and process["attributes"]["runId"] == run.runId
    assert len(process["attributes"]["inputs"]) == len(process["attributes"]["outputs"]) == len(TABLES)
    assert process["attributes"]["rowCounts"]["serving.tracks"] == 3

    output = _lineage_activity(harness, run).output["customOutput"]
    purview = output["purview"]
    assert purview["account"] == atlas.endpoint
    assert purview["process"] == {"qualifiedName": RUN_NAME, "guid": process["guid"]}
    assert purview["tables"][f"spotify://{ACCOUNT}/serving/tracks"] == tracks["guid"]
    assert (purview["created"], purview["updated"], purview["unchanged"]) == (len(tables) + len(columns) + 1, 0, 0)
    assert output["lineage"] == f"serving/lineage/{run.runId}.json"
    assert all(r.authorization == "" for r in atlas.received)  # a loopback endpoint never gets a token


def test_when_the_same_snapshot_is_loaded_again_then_purview_entities_are_updated_not_duplicated(tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    (first,) = harness.land(SNAPSHOT)
    guids = {e["attributes"]["qualifiedName"]: guid for guid, e in atlas.state.entities.items()}

    (again,) = harness.land(SNAPSHOT)

    assert again.status == "Succeeded", again.message
    assert {e["attributes"]["qualifiedName"]: guid for guid, e in atlas.state.entities.items()} == guids
    (process,) = atlas.state.of_type(RUN_TYPE)
    assert process["attributes"]["runId"] == again.runId != first.runId
    purview = _lineage_activity(harness, again).output["customOutput"]["purview"]
    assert (purview["created"], purview["updated"]) == (0, 1)  # only the run changed: its run id and time


def test_when_purview_answers_429_and_500_once_then_the_registration_retries_and_succeeds(tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    atlas.fail("POST", "/entity/bulk", 429, retry_after="0")
    atlas.fail("POST", "/entity/bulk", 500, retry_after="0")

    (run,) = harness.land(SNAPSHOT)

    assert run.status == "Succeeded", run.message
    assert [r.status for r in atlas.received if r.path == "/entity/bulk"][:3] == [429, 500, 200]
    assert len(atlas.state.of_type(RUN_TYPE)) == 1
    assert len(_lineage_attempts(harness, run)) == 1  # retried inside the activity, not by ADF


def test_when_purview_keeps_failing_then_the_activity_fails_clearly_after_writing_its_lineage(tmp_path: Path, atlas: FakeAtlas) -> None:
    harness = _harness(tmp_path, atlas.endpoint)
    atlas.fail("POST", "/entity/bulk", 500, times=100, retry_after="0")

    (run,) = harness.land(SNAPSHOT)

    assert run.status == "Failed"
    attempts = _lineage_attempts(harness, run)
    assert len(attempts) == 2  # the activity's retry policy (retry: 1) ran it again, and it failed again
    assert attempts[-1].error.errorCode == "2500"  # ADF's code; the reason is in customOutput.error
    message = attempts[-1].output["customOutput"]["error"]["message"]
    assert f"lineage serving/lineage/{run.runId}.json is written, but registering it in Purview failed" in message
    assert "POST /datamap/api/atlas/v2/entity/bulk" in message and "HTTP 500" in message
    assert "gave up after 4 attempts" in message and "rerun this activity" in message
    lineage = json.loads((harness.lake.root / "serving" / "lineage" / f"{run.runId}.json").read_text())
    assert lineage["pipeline"]["run_id"] == run.runId
    assert atlas.state.entities == {}


def test_when_no_purview_endpoint_is_configured_then_registration_is_skipped_with_one_log_line(tmp_path: Path) -> None:
    harness = load_harness(tmp_path, {"purviewEndpoint": ""})

    (run,) = harness.land(SNAPSHOT)

    assert run.status == "Succeeded", run.message
    activity = _lineage_activity(harness, run)
    assert activity.output["customOutput"]["purview"] == "skipped: no Purview account configured"
    stdout = Path(url2pathname(urlsplit(activity.output["outputs"][0]).path)).read_text()  # a blob URL in adfjobs
    assert [line for line in stdout.splitlines() if "Purview" in line] == [
        line for line in stdout.splitlines()
        if "Purview: skipped: no Purview account configured (extended property `purviewEndpoint` is empty)" in line]
    assert len([line for line in stdout.splitlines() if "Purview" in line]) == 1
