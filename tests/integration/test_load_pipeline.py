"""PL_Load_Spotify in the local runner, fired by TR_Curated_Landed on a curated snapshot marker: the data flow
stages every table, the schema check publishes it, the Script activity creates the views on the local Synapse
pool, lineage is recorded; then a second snapshot with an additive and one with a breaking schema change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.context import load_context
from activities.common.errors import StorageError
from activities.common.storage import LocalFolderStorage
from activities.load.check import check_and_publish
from activities.load.errors import PublishError
from activities.load.publish import publish_snapshot
from activities.transform.schemas import NATURAL_KEYS, TABLES
from offline.adf_runner.monitor import PipelineRun
from tests.integration.load_fixtures import ROWS, LoadHarness, load_harness

FIRST, SECOND = "2026-11-23", "2026-11-24"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadHarness, list[PipelineRun]]:
    harness = load_harness(tmp_path_factory.mktemp("load"))
    return harness, harness.land(FIRST)


def _json(harness: LoadHarness, container: str, path: str) -> Any:
    return json.loads((harness.lake.root / container / path).read_text())


def _activity_error(harness: LoadHarness, run: PipelineRun, name: str) -> str:
    """The activity's own reason (customOutput.error; ADF's error of a failed Custom activity is only its 2500)."""
    (activity,) = [a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == name]
    reason = ((activity.output or {}).get("customOutput") or {}).get("error") if isinstance(activity.output, dict) else None
    return str(reason["message"]) if reason else (activity.error.message if activity.error else "")


def test_when_the_snapshot_marker_lands_then_every_table_is_served_with_its_schema_and_view(loaded) -> None:  # type: ignore[no-untyped-def]
    harness, runs = loaded

    assert [(r.pipelineName, r.status) for r in runs] == [("PL_Load_Spotify", "Succeeded")], [r.message for r in runs]
    assert runs[0].invokedBy["name"] == "TR_Curated_Landed"
    for table in TABLES:
        partition = harness.lake.root / "serving" / table / f"snapshot_date={FIRST}"
        assert sorted(p.name for p in partition.iterdir()) == ["part-00000.parquet"], table
        schema = _json(harness, "serving", f"_schemas/{table}/{FIRST}.json")
        assert schema["classification"] == "new" and schema["rows"] == ROWS
        assert [c["name"] for c in schema["columns"]] == [n for n in TABLES[table].names if n != "snapshot_date"]
        key = NATURAL_KEYS[table][0]
        rows = harness.query(f"SELECT snapshot_date, {key} FROM spotify.{table} ORDER BY {key}")
        assert len(rows) == ROWS and {str(r["snapshot_date"]) for r in rows} == {FIRST}, table
    assert not list((harness.lake.root / "serving" / "_staging").rglob("*.parquet"))


def test_when_the_load_succeeds_then_lineage_names_inputs_outputs_run_ids_and_row_counts(loaded) -> None:  # type: ignore[no-untyped-def]
    harness, (run,) = loaded

    lineage = _json(harness, "serving", f"lineage/{run.runId}.json")

    assert lineage["pipeline"]["run_id"] == run.runId and lineage["pipeline"]["trigger"]["name"] == "TR_Curated_Landed"
    assert lineage["upstream"] == {"snapshot_marker": f"curated/_snapshots/snapshot_date={FIRST}/_SUCCESS",
                                   "run_id": f"transform-{FIRST}",
                                   "manifest": f"raw/spotify/manifests/ingest_date={FIRST}/_manifest.json"}
    tracks_in = next(i for i in lineage["inputs"] if i["table"] == "tracks")
    tracks_out = next(o for o in lineage["outputs"] if o["table"] == "tracks")
    assert tracks_in["files"] == [f"curated/tracks/snapshot_date={FIRST}/part-00000.parquet"]
    assert (tracks_in["rows_read"], tracks_in["rows_in_marker"]) == (ROWS, ROWS)
    assert tracks_out["files"] == [f"serving/tracks/snapshot_date={FIRST}/part-00000.parquet"]
    assert (tracks_out["rows"], tracks_out["rows_written"], tracks_out["classification"]) == (ROWS, ROWS, "new")
    assert "spotify.tracks" in lineage["views"]


def _add_tempo(schema: pa.Schema) -> tuple[pa.Schema, Any]:
    def change(rows: list[dict[str, Any]]) -> None:
        for index, row in enumerate(rows):
            row["tempo"] = 120.0 + index

    return schema.append(pa.field("tempo", pa.float64())), change


def test_when_a_snapshot_adds_a_nullable_column_then_it_is_additive_and_the_view_serves_it(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)

    (run,) = harness.land(SECOND, {"tracks": _add_tempo(TABLES["tracks"])})

    assert run.status == "Succeeded", run.message
    schema = _json(harness, "serving", f"_schemas/tracks/{SECOND}.json")
    assert schema["classification"] == "additive"
    assert schema["changes"] == [{"column": "tempo", "change": "added", "before": None, "after": "float64", "breaking": False}]
    assert _json(harness, "serving", f"_schemas/albums/{SECOND}.json")["classification"] == "unchanged"
    rows = harness.query("SELECT snapshot_date, tempo FROM spotify.tracks ORDER BY snapshot_date, tempo")
    assert [(str(r["snapshot_date"]), r["tempo"]) for r in rows] == [(FIRST, None)] * ROWS + [
        (SECOND, 120.0), (SECOND, 121.0), (SECOND, 122.0)]


def test_when_a_snapshot_changes_a_column_type_then_the_load_fails_naming_it_and_the_last_good_data_stays(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)
    retyped = pa.schema([pa.field("popularity", pa.string()) if f.name == "popularity" else f for f in TABLES["tracks"]])

    def to_text(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row["popularity"] = f"p{row['popularity']}"

    (run,) = harness.land(SECOND, {"tracks": (retyped, to_text)})

    assert run.status == "Failed"
    message = _activity_error(harness, run, "Check serving schemas")
    assert "breaking schema change in snapshot 2026-11-24: table `tracks`: column `popularity` changed type int16 -> string" in message
    # The activity shows ADF's own error (Learn, "Troubleshoot Azure Data Factory", Custom: 2500); the run, through the
    # pipeline's Fail activity, the check's reason.
    (check,) = [a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Check serving schemas"]
    assert check.error is not None and (check.error.errorCode, check.error.message) == (
        "2500", "Hit unexpected exception and execution failed.")
    assert run.message == f"Operation on target Fail with the schema check's reason failed: {message}"
    assert not (harness.lake.root / "serving" / "tracks" / f"snapshot_date={SECOND}").exists()
    assert not (harness.lake.root / "serving" / "albums" / f"snapshot_date={SECOND}").exists()
    assert not (harness.lake.root / "serving" / "_schemas" / "tracks" / f"{SECOND}.json").exists()
    rows = harness.query("SELECT snapshot_date, popularity FROM spotify.tracks ORDER BY popularity")
    assert [(str(r["snapshot_date"]), r["popularity"]) for r in rows] == [(FIRST, i) for i in range(ROWS)]


def test_when_the_same_snapshot_is_loaded_again_then_it_is_unchanged_and_no_view_is_touched(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)

    (run,) = harness.land(FIRST)

    assert run.status == "Succeeded", run.message
    (check,) = [a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Check serving schemas"]
    assert check.output["customOutput"]["views"] == []
    assert {t["classification"] for t in check.output["customOutput"]["tables"].values()} == {"unchanged"}
    assert len(harness.query("SELECT * FROM spotify.tracks")) == ROWS


def test_when_the_previous_load_stopped_before_its_lineage_then_the_next_load_recreates_the_views(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    (first,) = harness.land(FIRST)
    # As if its view refresh had failed: no lineage record, and the view is gone.
    (harness.lake.root / "serving" / "lineage" / f"{first.runId}.json").unlink()
    harness.pool.execute_script("DROP VIEW spotify.tracks")

    (run,) = harness.land(FIRST)

    assert run.status == "Succeeded", run.message
    (check,) = [a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Check serving schemas"]
    views = check.output["customOutput"]["views"]
    assert {v["table"] for v in views} == set(TABLES) and {v["classification"] for v in views} == {"unchanged"}
    assert len(harness.query("SELECT * FROM spotify.tracks")) == ROWS


# -- atomic serving (issue 12 item 1) and orphans (issue 12 item 2) ------------------------------------------


class _FailingStorage(LocalFolderStorage):
    """Fails the first write under ``fail_prefix``: a crash between two tables' publishes."""

    def __init__(self, root: Path, fail_prefix: str) -> None:
        super().__init__(root)
        self.fail_prefix = fail_prefix

    def write_bytes(self, container: str, path: str, data: bytes, *, metadata: Any = None) -> Any:
        if container == "serving" and path.startswith(self.fail_prefix):
            raise StorageError(f"cannot write {container}/{path}: injected failure", operation="write",
                               container=container, path=path)
        return super().write_bytes(container, path, data, metadata=metadata)


def _files(folder: Path) -> list[Path]:
    """Files under ``folder`` (blob storage has no empty folders; the local stand-in may keep them)."""
    return [path for path in folder.rglob("*") if path.is_file()]


def _stage(harness: LoadHarness, snapshot: str, run_id: str) -> None:
    """What Df_Load_Serving does for ``snapshot``: every curated table into the run's staging folder."""
    harness.lake.write_snapshot(snapshot)
    harness.lake.write_marker(snapshot)
    for table in TABLES:
        source = harness.lake.root / "curated" / table / f"snapshot_date={snapshot}" / "part-00000.parquet"
        target = harness.lake.root / "serving" / "_staging" / f"run_id={run_id}" / table / f"snapshot_date={snapshot}"
        target.mkdir(parents=True)
        data = pq.read_table(source).drop(["snapshot_date"])
        nullable = pa.schema([field.with_nullable(True) for field in data.schema])  # as Spark writes it
        pq.write_table(data.cast(nullable), target / "part-00000.parquet")


def _check_in_process(
    harness: LoadHarness, tmp_path: Path, snapshot: str, run_id: str, fail_prefix: str = "-", step: Any = check_and_publish
) -> dict[str, Any]:
    properties = {
        "snapshotDate": snapshot, "runId": run_id, "servingContainer": "serving", "storageLinkedService": "Ls_Blob_Storage",
        "snapshotMarker": f"curated/_snapshots/snapshot_date={snapshot}/_SUCCESS", "stagingFolder": f"_staging/run_id={run_id}",
    }
    task = tmp_path / f"task-{run_id}-{step.__name__}"
    task.mkdir()
    (task / "activity.json").write_text(json.dumps({
        "name": "Check serving schemas", "type": "Custom",
        "typeProperties": {"command": "python -m activities.load.check", "extendedProperties": properties}}))
    storage = _FailingStorage(harness.lake.root, fail_prefix)
    with mock.patch(f"{step.__module__}.open_load_storage", lambda context, config: storage):
        return dict(step(load_context(task)))


def test_when_a_load_fails_between_two_table_publishes_then_the_views_stay_on_the_previous_whole_snapshot(
    tmp_path: Path,
) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)
    _stage(harness, SECOND, "killed-run")

    # Tables publish in name order: albums and artists of SECOND are in place when tracks fails.
    with pytest.raises(StorageError, match="injected failure"):
        _check_in_process(harness, tmp_path, SECOND, "killed-run", f"tracks/snapshot_date={SECOND}/")

    assert (harness.lake.root / "serving" / "albums" / f"snapshot_date={SECOND}" / "part-00000.parquet").exists()
    for table in ("albums", "tracks", "artists"):
        for view in (table, f"{table}_latest"):
            dates = harness.query(f"SELECT DISTINCT snapshot_date FROM spotify.{view}")
            assert [str(r["snapshot_date"]) for r in dates] == [FIRST], view
    joined = harness.query(
        "SELECT COUNT(*) AS n FROM spotify.tracks AS t JOIN spotify.albums AS al "
        "ON al.album_id = t.album_id AND al.snapshot_date = t.snapshot_date")
    assert joined == [{"n": ROWS}]

    (rerun,) = harness.land(SECOND)

    assert rerun.status == "Succeeded", rerun.message
    for view in ("albums", "tracks"):
        assert {str(r["snapshot_date"]) for r in harness.query(f"SELECT snapshot_date FROM spotify.{view}")} == {FIRST, SECOND}
        assert {str(r["snapshot_date"]) for r in harness.query(f"SELECT snapshot_date FROM spotify.{view}_latest")} == {SECOND}
    (publish,) = [a for a in harness.runner.monitor.activity_runs(rerun.runId) if a.activityName == "Publish snapshot"]
    assert publish.output["customOutput"]["removed"]["staging"] == ["serving/_staging/run_id=killed-run"]
    assert not _files(harness.lake.root / "serving" / "_staging" / "run_id=killed-run")


def test_when_the_latest_views_switch_one_by_one_then_all_show_the_previous_snapshot_until_the_pointer_names_the_new(
    tmp_path: Path,
) -> None:
    # Arrange: SECOND's tables published by its check, its _latest views not created yet
    harness = load_harness(tmp_path)
    harness.land(FIRST)
    _stage(harness, SECOND, "switching-run")
    output = _check_in_process(harness, tmp_path, SECOND, "switching-run")

    def shown() -> dict[str, list[str]]:
        return {table: [str(r["snapshot_date"]) for r in harness.query(f"SELECT DISTINCT snapshot_date FROM spotify.{table}_latest")]
                for table in ("albums", "tracks", "artists")}

    # Act and Assert: after each view switch, every _latest view still shows FIRST, whole
    for latest in output["latestViews"]:
        harness.pool.execute_script(latest["ddl"])
        assert shown() == {"albums": [FIRST], "tracks": [FIRST], "artists": [FIRST]}, latest["view"]
    assert len(harness.query("SELECT t.track_id FROM spotify.tracks_latest AS t JOIN spotify.albums_latest AS al "
                             "ON al.album_id = t.album_id")) == ROWS
    # ... and the one pointer write switches them all
    published = _check_in_process(harness, tmp_path, SECOND, "switching-run", step=publish_snapshot)
    assert published["publishedSnapshots"] == 2
    assert shown() == {"albums": [SECOND], "tracks": [SECOND], "artists": [SECOND]}


def test_when_a_table_of_the_snapshot_was_not_stored_by_this_run_then_the_pointer_is_not_written(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)
    _stage(harness, SECOND, "partial-run")
    _check_in_process(harness, tmp_path, SECOND, "partial-run")
    (harness.lake.root / "serving" / "_schemas" / "tracks" / f"{SECOND}.json").unlink()

    with pytest.raises(PublishError, match=f"table `tracks` of snapshot {SECOND} was not published by this load run"):
        _check_in_process(harness, tmp_path, SECOND, "partial-run", step=publish_snapshot)

    assert [str(r["snapshot_date"]) for r in harness.query("SELECT DISTINCT snapshot_date FROM spotify.tracks_latest")] == [FIRST]


def test_when_a_later_snapshot_loads_then_what_killed_loads_left_is_removed_and_reported(tmp_path: Path) -> None:
    harness = load_harness(tmp_path)
    harness.land(FIRST)
    # A load of SECOND killed after publishing albums (never rerun), a killed writer's temporary file, and a
    # data flow's output that no check published.
    _stage(harness, SECOND, "killed-run")
    with pytest.raises(StorageError):
        _check_in_process(harness, tmp_path, SECOND, "killed-run", f"artists/snapshot_date={SECOND}/")
    temporary = harness.lake.root / "serving" / "_schemas" / "tracks" / ".tmp-abc123"
    temporary.write_text("{")
    third = "2026-11-25"

    (run,) = harness.land(third)

    assert run.status == "Succeeded", run.message
    (publish,) = [a for a in harness.runner.monitor.activity_runs(run.runId) if a.activityName == "Publish snapshot"]
    removed = publish.output["customOutput"]["removed"]
    assert removed["staging"] == ["serving/_staging/run_id=killed-run"]
    assert f"serving/albums/snapshot_date={SECOND}" in removed["unpublished"]
    assert f"serving/_schemas/albums/{SECOND}.json" in removed["unpublished"]
    assert removed["abandonedWrites"] == ["serving/_schemas/tracks/.tmp-abc123"]
    assert not temporary.exists() and not _files(harness.lake.root / "serving" / "albums" / f"snapshot_date={SECOND}")
    assert [str(r["snapshot_date"]) for r in harness.query("SELECT DISTINCT snapshot_date FROM spotify.albums ORDER BY 1")] \
        == [FIRST, third]
    # The albums schema of the half-published SECOND never became the "previous" one.
    assert _json(harness, "serving", f"_schemas/albums/{third}.json")["compared_with"] == f"serving/_schemas/albums/{FIRST}.json"
