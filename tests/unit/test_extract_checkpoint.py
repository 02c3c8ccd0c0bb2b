"""activities.extract.checkpoint: progress blobs written and read back, and a level read by the next one."""

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
)
from activities.extract.client import ApiResponse
from activities.extract.config import ExtractConfig
from activities.extract.errors import ProgressError
from activities.extract.raw_writer import RawWriter
from activities.extract.run import published

DAY = date(2026, 11, 24)


def shard_config(shards: int) -> ExtractConfig:
    return ExtractConfig(
        ingest_date=DAY, run_id="run-1", api_base_url="http://127.0.0.1:9/v1", token_url="http://127.0.0.1:9/token",
        client_id="cid", client_secret_name="s", markets=("US",), new_releases_limit=1, storage_linked_service="Ls",
        key_vault_linked_service="Kv", raw_container="raw", access_mode="extended", mode="shard", shard_count=shards,
    )


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


def test_when_every_shard_published_the_level_then_the_next_level_reads_their_ids_without_waiting(
        tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    config = shard_config(3)
    for index in range(3):
        Checkpoint(storage, "raw", DAY, "run-1", shard_worker(index), config.fingerprint).finish_level(
            "1", {"tracks": [f"t{index}"]})

    # Act
    found = published(config, storage, 1)

    # Assert
    assert found.tracks == {"t0", "t1", "t2"}


def test_when_a_shard_has_not_published_the_level_then_reading_it_fails_at_once_naming_it(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    config = shard_config(2)
    Checkpoint(storage, "raw", DAY, "run-1", shard_worker(0), config.fingerprint).finish_level("1", {})

    # Act / Assert: no waiting: the level's ForEach has finished, so a missing shard is an error
    with pytest.raises(ProgressError, match=r"shard 1 of run run-1 has not finished level 1 .* level 2 runs after"):
        published(config, storage, 1)
    assert read_state(storage, "raw", progress_path(DAY, "run-1", shard_worker(1))) is None
