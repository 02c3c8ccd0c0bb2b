"""Leftovers of killed or failed runs are removed once a run of the same ingest date published, never what a
published run or a run still writing uses: raw run folders (activities.extract.cleanup) and curated staging
(activities.transform.cleanup)."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from activities.common.storage import LocalFolderStorage
from activities.extract.cleanup import remove_unpublished_runs
from activities.extract.raw_writer import manifest_path
from activities.transform.cleanup import remove_abandoned_writes, remove_dead_staging

DAY = date(2026, 11, 24)
RAW = "raw"


def _write(storage: LocalFolderStorage, path: str, age_seconds: float, container: str = RAW) -> None:
    storage.write_bytes(container, path, b"{}")
    moment = time.time() - age_seconds
    os.utime(storage.root / container / path, (moment, moment))


def _paths(storage: LocalFolderStorage, container: str = RAW) -> set[str]:
    return {blob.path for blob in storage.list_blobs(container, "")}


def test_when_a_run_of_the_date_published_then_the_killed_runs_before_it_are_removed_and_reported(
    tmp_path: Path,
) -> None:
    # Arrange: "killed" wrote parts and progress and died; "published" has a manifest; "now" is the run publishing;
    # "running" (no manifest) wrote after "now" began, so it may still be in flight; another date is not touched.
    storage = LocalFolderStorage(tmp_path)
    killed = [f"spotify/albums/ingest_date={DAY}/run_id=killed/part-d-00000.json.gz",
              f"spotify/_progress/ingest_date={DAY}/run_id=killed/discover.json"]
    for path in killed:
        _write(storage, path, 7200)
    kept = [f"spotify/albums/ingest_date={DAY}/run_id=published/part-d-00000.json.gz",
            manifest_path(DAY, "published"),
            "spotify/albums/ingest_date=2026-11-23/run_id=other-day/part-d-00000.json.gz",
            f"spotify/tracks/ingest_date={DAY}/run_id=now/part-d-00000.json.gz",
            f"spotify/_progress/ingest_date={DAY}/run_id=now/discover.json"]
    for path in kept:
        _write(storage, path, 3600 if "run_id=now/" in path else 7200)
    running = f"spotify/tracks/ingest_date={DAY}/run_id=running/part-s0-00000.json.gz"
    _write(storage, running, 10)
    abandoned = tmp_path / RAW / f"spotify/albums/ingest_date={DAY}/run_id=killed/.tmp-part-d-00001"
    abandoned.write_bytes(b"half")
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))

    # Act
    cleanup = remove_unpublished_runs(storage, RAW, DAY, "now", ["albums", "tracks"])

    # Assert
    assert cleanup.to_outputs() == {
        "runs": ["killed"],
        "folders": [f"spotify/_progress/ingest_date={DAY}/run_id=killed/",
                    f"spotify/albums/ingest_date={DAY}/run_id=killed/"],
        "blobs": 2,
        "abandonedWrites": [f"spotify/albums/ingest_date={DAY}/run_id=killed/.tmp-part-d-00001"],
    }
    assert _paths(storage) == set(kept) | {running}
    assert not abandoned.exists()


def test_when_a_kill_stopped_the_state_or_manifest_write_then_its_temporary_file_goes_with_the_next_publish(
    tmp_path: Path,
) -> None:
    # Arrange: the chaos suite's case: killed between writing its manifest and the date's state blob
    storage = LocalFolderStorage(tmp_path)
    _write(storage, f"spotify/albums/ingest_date={DAY}/run_id=now/part-d-00000.json.gz", 60)
    halves = [tmp_path / RAW / f"spotify/_state/ingest_date={DAY}/.tmp-state",
              tmp_path / RAW / f"spotify/manifests/ingest_date={DAY}/run_id=killed/.tmp-manifest"]
    for half in halves:
        half.parent.mkdir(parents=True, exist_ok=True)
        half.write_bytes(b"half")
        os.utime(half, (time.time() - 7200, time.time() - 7200))

    # Act
    cleanup = remove_unpublished_runs(storage, RAW, DAY, "now", ["albums"])

    # Assert
    assert sorted(cleanup.abandoned_writes) == [f"spotify/_state/ingest_date={DAY}/.tmp-state",
                                                f"spotify/manifests/ingest_date={DAY}/run_id=killed/.tmp-manifest"]
    assert not any(half.exists() for half in halves)


def test_when_nothing_of_the_publishing_run_is_listed_then_nothing_is_removed(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    dead = f"spotify/albums/ingest_date={DAY}/run_id=killed/part-d-00000.json.gz"
    _write(storage, dead, 3600)

    cleanup = remove_unpublished_runs(storage, RAW, DAY, "now", ["albums"])

    assert cleanup.runs == () and _paths(storage) == {dead}


def test_when_a_transform_of_the_date_published_then_staging_of_its_dead_runs_goes_and_other_dates_stay(
    tmp_path: Path,
) -> None:
    # Arrange: "dead" and "other-day" are extract runs whose transforms were killed; "fresh" staged just now
    storage = LocalFolderStorage(tmp_path)
    for run, day in (("dead", DAY), ("fresh", DAY), ("other-day", date(2026, 11, 23)), ("now", DAY)):
        _write(storage, manifest_path(day, run), 7200)
    _write(storage, "_staging/dead/curated/albums/part-00000.parquet", 7200, "curated")
    kept = {"_staging/other-day/curated/albums/part-00000.parquet", "_staging/fresh/curated/albums/part-00000.parquet",
            "albums/snapshot_date=2026-11-24/part-00000.parquet"}
    for path in kept:
        _write(storage, path, 0 if "fresh" in path else 7200, "curated")

    # Act
    removed = remove_dead_staging(
        storage, "curated", manifest_container=RAW, date_folder=f"spotify/manifests/ingest_date={DAY}",
        manifest_file="_manifest.json", own_run="now", started=datetime.now(UTC) - timedelta(seconds=60))

    # Assert
    assert removed == ["_staging/dead/"]
    assert _paths(storage, "curated") == kept


def test_when_a_transform_was_killed_inside_a_partition_write_then_the_next_publish_removes_its_temporary_files(
    tmp_path: Path,
) -> None:
    # Arrange: the chaos suite's case: killed while writing an artists partition and the snapshot marker
    storage = LocalFolderStorage(tmp_path)
    halves = [tmp_path / "curated" / f"artists/snapshot_date={DAY}/.tmp-part",
              tmp_path / "curated" / f"_snapshots/snapshot_date={DAY}/.tmp-marker"]
    other_day = tmp_path / "curated" / "artists/snapshot_date=2026-11-23/.tmp-part"
    for half in [*halves, other_day]:
        half.parent.mkdir(parents=True, exist_ok=True)
        half.write_bytes(b"half")
        os.utime(half, (time.time() - 7200, time.time() - 7200))

    # Act
    removed = remove_abandoned_writes(storage, "curated", ["artists", "albums"], DAY, datetime.now(UTC) - timedelta(minutes=1))

    # Assert: this date's go, another date's transform may still be writing its own
    assert removed == [f"artists/snapshot_date={DAY}/.tmp-part", f"_snapshots/snapshot_date={DAY}/.tmp-marker"]
    assert not any(half.exists() for half in halves) and other_day.exists()
