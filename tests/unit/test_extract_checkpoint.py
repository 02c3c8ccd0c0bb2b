"""activities.extract.checkpoint: progress blobs written and read back, and the shards' level barrier."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from activities.common import LocalFolderStorage
from activities.extract.checkpoint import (
    Checkpoint,
    progress_path,
    read_state,
    shard_worker,
    wait_for_level,
)
from activities.extract.client import ApiResponse
from activities.extract.errors import BarrierTimeoutError, ProgressError
from activities.extract.raw_writer import RawWriter
from tests.unit.test_extract_client import FakeClock

DAY = date(2026, 11, 24)


def checkpoint(storage: LocalFolderStorage, worker: str, fingerprint: str = "fp") -> Checkpoint:
    return Checkpoint(storage, "raw", DAY, "run-1", worker, fingerprint, save_every_parts=2)


def test_when_parts_are_recorded_then_the_blob_lists_them_and_a_retry_reads_them_back(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    first = checkpoint(storage, "shard=0")
    writer = RawWriter(storage, "raw", DAY, "run-1", writer="000")
    response = ApiResponse("https://api/v1/tracks?ids=a", 200, b"{}", datetime(2026, 11, 24, tzinfo=UTC))
    records = [writer.write_part("tracks", response, items=1) for _ in range(3)]

    # Act
    for index, record in enumerate(records):
        first.add_part(f"/tracks?ids={index}", record)  # saved every 2 parts: the third is not saved yet
    retry = checkpoint(storage, "shard=0")
    resumed = retry.load()

    # Assert
    assert resumed and retry.attempt == 2
    assert [retry.part_for(f"/tracks?ids={index}") for index in range(3)] == [records[0], records[1], None]


def test_when_a_retry_has_other_settings_then_it_is_refused(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    checkpoint(storage, "discover", "fp-1").save()

    # Act / Assert
    with pytest.raises(ProgressError, match=r"other extraction settings .* start a new pipeline run"):
        checkpoint(storage, "discover", "fp-2").load()


def test_when_every_shard_published_the_level_then_the_barrier_returns_their_ids_in_shard_order(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    for index in range(3):
        checkpoint(storage, shard_worker(index)).finish_level("1", {"tracks": [f"t{index}"]})

    # Act
    found = wait_for_level(storage, "raw", DAY, "run-1", 3, "1", "fp", timeout_seconds=1)

    # Assert
    assert found == [{"tracks": ["t0"]}, {"tracks": ["t1"]}, {"tracks": ["t2"]}]


def test_when_a_shard_never_publishes_then_the_barrier_gives_up_naming_it(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    checkpoint(storage, shard_worker(0)).finish_level("1", {})
    clock = FakeClock()

    # Act / Assert
    with pytest.raises(BarrierTimeoutError, match=r"waited 60 s for shard\(s\) 1 of 2 to finish level 1"):
        wait_for_level(storage, "raw", DAY, "run-1", 2, "1", "fp", timeout_seconds=60, sleep=clock.sleep,
                       monotonic=clock.monotonic)
    assert sum(clock.sleeps) == pytest.approx(60)


def test_when_a_shard_failed_its_last_attempt_then_the_barrier_stops_waiting_at_once(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    checkpoint(storage, shard_worker(0)).finish_level("1", {})
    failing = checkpoint(storage, shard_worker(1))
    failing.save(failed="GET /v1/albums returned HTTP 400: Invalid id")
    clock = FakeClock()

    # Act: its first attempt failed, so ADF may retry it: still waiting
    with pytest.raises(BarrierTimeoutError, match="waited 5 s"):
        wait_for_level(storage, "raw", DAY, "run-1", 2, "1", "fp", timeout_seconds=5, peer_attempts=2,
                       sleep=clock.sleep, monotonic=clock.monotonic)
    retried = checkpoint(storage, shard_worker(1))
    retried.load()
    retried.save(failed="GET /v1/albums returned HTTP 400: Invalid id")

    # Assert: its last attempt failed too: no point waiting
    with pytest.raises(BarrierTimeoutError, match=r"shard 1 of 2 failed its last attempt \(2 of 2\) before finishing "
                                                  r"level 1: GET /v1/albums returned HTTP 400"):
        wait_for_level(storage, "raw", DAY, "run-1", 2, "1", "fp", timeout_seconds=5, peer_attempts=2)
    state = read_state(storage, "raw", progress_path(DAY, "run-1", shard_worker(1)))
    assert state is not None and state.attempts == 2 and not state.complete
