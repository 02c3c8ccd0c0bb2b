"""activities.extract.raw_writer: parts stored byte-exact (gzip) and the manifest written last."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

from activities.common import LocalFolderStorage
from activities.extract.client import ApiResponse
from activities.extract.raw_writer import RawWriter, write_manifest

DAY = date(2026, 11, 24)
FETCHED = datetime(2026, 11, 24, 5, 0, 1, 200000, tzinfo=UTC)


def response(body: bytes, url: str = "https://api.spotify.com/v1/albums?ids=a,b") -> ApiResponse:
    return ApiResponse(url=url, status=200, body=body, fetched_at=FETCHED)


def test_when_parts_are_written_then_each_stores_the_exact_body_gzipped_with_its_record(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    writer = RawWriter(storage, "raw", DAY, "run-1", writer="003")
    body = b'{"albums": [ {"id":"a"} ]}\n'

    # Act
    first = writer.write_part("albums", response(body), items=1)
    second = writer.write_part("albums", response(b"{}"), items=0)

    # Assert
    assert first.path == "spotify/albums/ingest_date=2026-11-24/run_id=run-1/part-003-00000.json.gz"
    assert second.path.endswith("/part-003-00001.json.gz")
    stored = (tmp_path / "raw" / first.path).read_bytes()
    assert gzip.decompress(stored) == body
    assert (first.size, first.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    assert first.fetched_at == "2026-11-24T05:00:01.200000Z"
    assert first.request_url == "https://api.spotify.com/v1/albums?ids=a,b"


def test_when_the_manifest_is_written_then_it_lists_every_part_sorted_and_the_counts(tmp_path: Path) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    shard_1 = RawWriter(storage, "raw", DAY, "run-1", writer="001")
    discovery = RawWriter(storage, "raw", DAY, "run-1", writer="d")
    parts = [
        shard_1.write_part("tracks", response(b"{}"), items=7),
        discovery.write_part("new_releases", response(b'{"albums":{}}'), items=2),
        shard_1.write_part("albums", response(b"{}"), items=2),
    ]

    # Act
    path = write_manifest(storage, "raw", DAY, "run-1", parts,
                          now=lambda: datetime(2026, 11, 24, 5, 0, 12, 345678, UTC))

    # Assert
    assert path == "spotify/manifests/ingest_date=2026-11-24/run_id=run-1/_manifest.json"
    manifest = json.loads((tmp_path / "raw" / path).read_text())
    assert {key: manifest[key] for key in ("manifest_version", "source", "ingest_date", "run_id", "created_at", "container")} == {
        "manifest_version": 1, "source": "spotify", "ingest_date": "2026-11-24", "run_id": "run-1",
        "created_at": "2026-11-24T05:00:12.345678Z", "container": "raw"}
    assert [part["entity"] for part in manifest["parts"]] == ["albums", "new_releases", "tracks"]
    assert set(manifest["parts"][0]) == {"entity", "path", "size", "sha256", "request_url", "fetched_at", "items"}
    assert manifest["counts"] == {"new_releases": 2, "albums": 2, "tracks": 7}


def test_when_a_retry_adopts_stored_parts_then_numbering_continues_and_unlisted_parts_are_deleted(
    tmp_path: Path,
) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    earlier = RawWriter(storage, "raw", DAY, "run-1", writer="000")
    listed = [earlier.write_part("tracks", response(b"{}"), items=1) for _ in range(2)]
    orphan = earlier.write_part("tracks", response(b"{}"), items=1)  # stored after the last checkpoint save
    other_shard = RawWriter(storage, "raw", DAY, "run-1", writer="001").write_part("tracks", response(b"{}"), items=1)
    retry = RawWriter(storage, "raw", DAY, "run-1", writer="000")

    # Act
    deleted = retry.remove_orphans(part.path for part in listed)
    orphan_gone = not storage.exists("raw", orphan.path)
    retry.adopt(listed)
    following = retry.write_part("tracks", response(b"{}"), items=1)

    # Assert
    assert deleted == 1 and orphan_gone
    assert storage.exists("raw", other_shard.path)
    assert following.path.endswith("/part-000-00002.json.gz")
    assert retry.counts == {"tracks": 3}
