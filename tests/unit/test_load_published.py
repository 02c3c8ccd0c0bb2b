"""The published-snapshots pointer (activities.load.published) and the orphan clean-up (activities.load.orphans)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from activities.common.storage import LocalFolderStorage
from activities.load.errors import SchemaHistoryError
from activities.load.orphans import remove_orphans
from activities.load.published import read_published, write_published

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def test_when_the_pointer_is_written_then_it_reads_back_sorted_with_its_runs(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)

    where = write_published(storage, "serving", {"2026-11-24": "load-2", "2026-11-23": "load-1"}, NOW)

    assert where == "serving/_published/snapshots.parquet"
    assert list(read_published(storage, "serving").items()) == [("2026-11-23", "load-1"), ("2026-11-24", "load-2")]


def test_when_no_pointer_exists_yet_then_every_date_with_a_stored_schema_counts_as_published(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("serving", "_schemas/tracks/2026-11-23.json", b"{}")
    storage.write_bytes("serving", "_schemas/albums/2026-11-24.json", b"{}")

    assert read_published(storage, "serving") == {"2026-11-23": "", "2026-11-24": ""}


def test_when_the_pointer_is_not_parquet_then_the_error_names_it_and_the_fix(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("serving", "_published/snapshots.parquet", b"not parquet")

    with pytest.raises(SchemaHistoryError, match=r"serving/_published/snapshots.parquet cannot be read: .*delete it"):
        read_published(storage, "serving")


def test_when_cleaning_then_only_other_runs_unpublished_dates_and_old_temporaries_go(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    keep = ["_staging/run_id=me/tracks/snapshot_date=2026-11-24/part-00000.parquet",
            "tracks/snapshot_date=2026-11-23/part-00000.parquet", "_schemas/tracks/2026-11-23.json",
            "_published/snapshots.parquet", "lineage/load-1.json"]
    gone = ["_staging/run_id=old/tracks/snapshot_date=2026-11-22/part-00000.parquet",
            "tracks/snapshot_date=2026-11-22/part-00000.parquet", "_schemas/tracks/2026-11-22.json"]
    for path in keep + gone:
        storage.write_bytes("serving", path, b"x")
    (tmp_path / "serving" / "_schemas" / "tracks" / ".tmp-old").write_text("{")

    removed = remove_orphans(storage, "serving", own_staging="_staging/run_id=me", published={"2026-11-23"},
                             now=NOW.replace(year=2100))
    in_flight = tmp_path / "serving" / "_schemas" / "tracks" / ".tmp-new"
    in_flight.write_text("{")
    later = remove_orphans(storage, "serving", own_staging="_staging/run_id=me", published={"2026-11-23"},
                           now=datetime.now(UTC) - timedelta(minutes=1))

    assert removed.to_json() == {
        "staging": ["serving/_staging/run_id=old"],
        "unpublished": ["serving/_schemas/tracks/2026-11-22.json", "serving/tracks/snapshot_date=2026-11-22"],
        "abandonedWrites": ["serving/_schemas/tracks/.tmp-old"],
    }
    assert sorted(blob.path for blob in storage.list_blobs("serving")) == sorted(keep)
    assert later.abandoned_writes == () and in_flight.exists()  # written after the cut-off: not abandoned
