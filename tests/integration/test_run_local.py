"""`scripts/run_local.py` end to end: twin -> raw -> storage event -> transform -> curated -> DuckDB."""

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from factory_deploy.env_config import load_config
from offline.spotify_twin.truth import run_records, served_so_far

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-11-24"
PACKAGES = ("activities", "adf", "config", "factory_deploy", "offline", "scripts", "synapse")


def _run_local(workdir: Path, *extra: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(root / "scripts" / "run_local.py"), "--date", DAY, "--workdir", str(workdir),
               "--scale", "0.3", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _curated(workdir: Path, table: str) -> list[dict[str, object]]:
    partition = workdir / "storage" / "curated" / table / f"snapshot_date={DAY}"
    assert (partition / "_SUCCESS").exists()
    rows = [row for f in sorted(partition.glob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    lineage = {"source_run_id", "source_blob"}
    return sorted(({k: v for k, v in row.items() if k not in lineage} for row in rows), key=lambda r: json.dumps(r, default=str))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    workdir = tmp_path_factory.mktemp("run")
    return workdir, _run_local(workdir)


def test_when_run_for_a_date_then_curated_ids_equal_what_the_twin_served(first_run) -> None:  # type: ignore[no-untyped-def]
    workdir, result = first_run

    assert result.returncode == 0, result.stderr
    served = served_so_far(workdir / "truth", date.fromisoformat(DAY))
    track_ids = [row["track_id"] for row in _curated(workdir, "tracks")]
    assert len(track_ids) == len(set(track_ids))
    assert set(track_ids) == served["tracks"]
    assert {row["album_id"] for row in _curated(workdir, "albums")} == served["albums"]
    assert {row["artist_id"] for row in _curated(workdir, "artists")} == served["artists"]
    assert list((workdir / "storage" / "raw" / "spotify" / "manifests").rglob("_manifest.json"))


def test_when_run_in_development_mode_then_nothing_is_refused_deferred_or_empty(first_run) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = first_run
    record = json.loads((workdir / "runs" / f"{DAY}-runs.json").read_text())
    (output,) = [run["output"]["customOutput"] for run in record["activityRuns"] if run["activityName"] == "Write manifest"]

    assert load_config("local").spotify.access_mode == "development" == output["accessMode"]
    assert output["unavailable"] == [] and output["unavailableSources"] == [] and output["deferredTotal"] == 0
    for table in ("recently_played", "saved_tracks", "user_top_items", "followed_artists", "search_results"):
        assert _curated(workdir, table), table
    assert output["state"] and (workdir / "storage" / output["state"]).exists()


def test_when_run_then_monitoring_view_query_result_and_records_are_produced(first_run) -> None:  # type: ignore[no-untyped-def]
    workdir, result = first_run

    assert "PL_Extract_Spotify" in result.stdout and "PL_Transform_Spotify" in result.stdout
    assert "TR_Raw_Landed (BlobEventsTrigger)" in result.stdout
    assert "01_album_size_and_explicit_share" in result.stdout
    assert "TR_Curated_Landed (BlobEventsTrigger)" in result.stdout
    record = json.loads((workdir / "runs" / f"{DAY}-runs.json").read_text())
    assert [(run["pipelineName"], run["status"]) for run in record["pipelineRuns"]] == [
        ("PL_Extract_Spotify", "Succeeded"), ("PL_Transform_Spotify", "Succeeded"), ("PL_Load_Spotify", "Succeeded")]
    serving = workdir / "storage" / "serving"
    assert list((serving / "tracks" / f"snapshot_date={DAY}").glob("part-*.parquet"))
    assert (serving / "_schemas" / "tracks" / f"{DAY}.json").exists()
    assert (serving / "lineage" / f"{record['pipelineRuns'][2]['runId']}.json").exists()
    assert (workdir / "report.html").exists()


def test_when_run_twice_for_the_same_date_then_curated_rows_are_the_same(first_run) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = first_run
    before = {table: _curated(workdir, table) for table in ("tracks", "albums", "artists", "track_artists")}

    again = _run_local(workdir)

    assert again.returncode == 0, again.stderr
    after = {table: _curated(workdir, table) for table in before}
    assert after == before
    # Issue 12, item 6: each run keeps its own ground truth; the rerun did not overwrite the first run's.
    records = run_records(workdir / "truth", date.fromisoformat(DAY))
    assert len(records) == 2 and all(r["run"]["as_of"] == DAY for r in records)
    assert len(list((workdir / "truth" / DAY).glob("*-served.json"))) == 2


def test_when_the_twin_is_down_then_one_clear_error_line(tmp_path: Path) -> None:
    result = _run_local(tmp_path, "--twin-url", "http://127.0.0.1:9/v1")

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "run_local: error: the Spotify API at http://127.0.0.1:9/v1 is not reachable (Connection refused): "
        "start the twin (python -m offline.spotify_twin) or leave out --twin-url to let run_local start one"
    ]


@pytest.fixture()
def repo_copy(tmp_path: Path) -> Path:
    clone = tmp_path / "repo"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    return clone


def test_when_a_factory_file_is_malformed_then_one_clear_error_line(repo_copy: Path, tmp_path: Path) -> None:
    (repo_copy / "adf" / "pipelines" / "PL_Transform_Spotify.json").write_text('{"name": "PL_Transform_Spotify",\n "properties": {')

    result = _run_local(tmp_path / "work", root=repo_copy)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "PL_Transform_Spotify.json:2:17: malformed JSON" in lines[0]


def test_when_a_config_key_is_missing_then_one_clear_error_line(repo_copy: Path, tmp_path: Path) -> None:
    config_file = repo_copy / "config" / "local.json"
    config = json.loads(config_file.read_text())
    del config["spotify"]["markets"]
    config_file.write_text(json.dumps(config))

    result = _run_local(tmp_path / "work", root=repo_copy)

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"run_local: error: {config_file}: key `spotify.markets` is missing; add it (see config/dev.json for an example)"
    ]


def test_when_storage_is_azurite_then_the_pipeline_runs_through_blob_storage(tmp_path: Path) -> None:
    result = _run_local(tmp_path, "--storage", "azurite")

    assert result.returncode == 0, result.stderr
    # Activities reached Azurite through a Key Vault reference resolved from the environment, and the
    # curated container came back out of it for DuckDB.
    assert "tracks" in result.stdout and "MISMATCH" not in result.stdout
    assert list((tmp_path / "azurite-mirror" / "curated" / "tracks").rglob("*.parquet"))
    assert not (tmp_path / "storage" / "curated").exists()


def test_when_the_batch_pool_has_one_task_slot_then_the_run_still_equals_what_the_twin_served(tmp_path: Path) -> None:
    """ForEach batchCount is an upper bound: with one slot every Custom activity (each extract shard too) runs
    alone, and the result must not change (issue 10: correct and lossless under any concurrency)."""
    result = _run_local(tmp_path, "--batch-slots", "1")

    assert result.returncode == 0, result.stderr
    served = served_so_far(tmp_path / "truth", date.fromisoformat(DAY))
    assert {row["track_id"] for row in _curated(tmp_path, "tracks")} == served["tracks"]
    assert {row["album_id"] for row in _curated(tmp_path, "albums")} == served["albums"]
    assert {row["artist_id"] for row in _curated(tmp_path, "artists")} == served["artists"]
