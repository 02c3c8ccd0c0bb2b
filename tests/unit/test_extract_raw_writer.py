"""activities.extract.raw_writer: parts stored byte-exact (gzip) and the manifest written last."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from activities.common import LocalFolderStorage
from activities.extract.client import ApiResponse
from activities.extract.raw_writer import RawWriter

DAY = date(2026, 11, 24)
FETCHED = datetime(2026, 11, 24, 5, 0, 1, 200000, tzinfo=timezone.utc)


def response(body: bytes, url: str = "https://api.spotify.com/v1/albums?ids=a,b") -> ApiResponse:
    return ApiResponse(url=url, status=200, body=body, fetched_at=FETCHED)


def test_when_parts_are_written_then_each_stores_the_exact_body_gzipped_with_its_record(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    writer = RawWriter(storage, "raw", DAY, "run-1")
    body = b'{"albums": [ {"id":"a"} ]}\n'

    # Act
    first = writer.write_part("albums", response(body), items=1)
    second = writer.write_part("albums", response(b"{}"), items=0)

    # Assert
    assert first.path == "spotify/albums/ingest_date=2026-11-24/run_id=run-1/part-00000.json.gz"
    assert second.path.endswith("/part-00001.json.gz")
    stored = (tmp_path / "raw" / first.path).read_bytes()
    assert gzip.decompress(stored) == body
    assert (first.size, first.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    assert first.fetched_at == "2026-11-24T05:00:01.200000Z"
    assert first.request_url == "https://api.spotify.com/v1/albums?ids=a,b"


def test_when_the_manifest_is_written_then_it_lists_every_part_and_the_counts(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    writer = RawWriter(storage, "raw", DAY, "run-1", now=lambda: datetime(2026, 11, 24, 5, 0, 12, 345678, timezone.utc))
    writer.write_part("new_releases", response(b'{"albums":{}}'), items=2)
    writer.write_part("albums", response(b"{}"), items=2)
    writer.write_part("tracks", response(b"{}"), items=7)

    # Act
    path = writer.write_manifest()

    # Assert
    assert path == "spotify/manifests/ingest_date=2026-11-24/run_id=run-1/_manifest.json"
    manifest = json.loads((tmp_path / "raw" / path).read_text())
    assert {key: manifest[key] for key in ("manifest_version", "source", "ingest_date", "run_id", "created_at", "container")} == {
        "manifest_version": 1, "source": "spotify", "ingest_date": "2026-11-24", "run_id": "run-1",
        "created_at": "2026-11-24T05:00:12.345678Z", "container": "raw"}
    assert [part["entity"] for part in manifest["parts"]] == ["new_releases", "albums", "tracks"]
    assert set(manifest["parts"][0]) == {"entity", "path", "size", "sha256", "request_url", "fetched_at", "items"}
    assert manifest["counts"] == {"new_releases": 2, "albums": 2, "tracks": 7}


def test_when_the_manifest_is_written_then_no_more_parts_are_accepted(tmp_path: Path) -> None:
    # Arrange
    writer = RawWriter(LocalFolderStorage(tmp_path), "raw", DAY, "run-1")
    writer.write_manifest()

    # Act / Assert
    with pytest.raises(RuntimeError, match="manifest is already written"):
        writer.write_part("albums", response(b"{}"), items=0)


def test_when_an_earlier_attempt_left_blobs_then_clearing_removes_only_this_runs(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    earlier = RawWriter(storage, "raw", DAY, "run-1")
    for _ in range(3):
        earlier.write_part("tracks", response(b"{}"), items=0)
    earlier.write_manifest()
    other_run = RawWriter(storage, "raw", DAY, "run-2")
    other_run.write_part("tracks", response(b"{}"), items=0)

    # Act
    deleted = RawWriter(storage, "raw", DAY, "run-1").clear_previous_attempt()

    # Assert
    assert deleted == 4
    assert [blob.path for blob in storage.list_blobs("raw")] == [
        "spotify/tracks/ingest_date=2026-11-24/run_id=run-2/part-00000.json.gz"]
