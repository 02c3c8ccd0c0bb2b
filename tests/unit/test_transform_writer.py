"""Unit tests of the transform's output side: schemas, Parquet writer, partition publishing,
config and the data-model page (the import boundary is tests/unit/test_common_boundaries.py)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError
from activities.common.storage import BlobInfo, LocalFolderStorage
from activities.transform.config import TransformConfig
from activities.transform.publish import publish_partition
from activities.transform.schemas import LINEAGE_FIELDS, NATURAL_KEYS, TABLES
from activities.transform.writer import ParquetFile, iter_parquet_files

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = date(2026, 11, 24)
LINEAGE = {"snapshot_date": SNAPSHOT, "source_run_id": "run-1", "source_blob": "raw/spotify/x/part-00000.json.gz"}

SAMPLE_ROWS: Mapping[str, dict[str, Any]] = {
    "albums": {
        "album_id": "4aawyAB9vmqN3uQ7FjRGTy",
        "name": "Global Warming",
        "album_type": "album",
        "release_date": date(2012, 11, 16),
        "release_date_raw": "2012-11-16",
        "release_date_precision": "day",
        "release_year": 2012,
        "total_tracks": 18,
        "label": "Mr.305",
        "popularity": 71,
    },
    "tracks": {
        "track_id": "6OmhkSOpvYBokMKQxpIGx2",
        "name": "Global Warming",
        "album_id": "4aawyAB9vmqN3uQ7FjRGTy",
        "duration_ms": 85400,
        "explicit": True,
        "popularity": 60,
        "isrc": "USRC11700001",
        "track_number": 1,
        "disc_number": 1,
        "is_local": False,
        "primary_artist_id": "0TnOYISbd1XYRBk9myaseg",
        "_artist_ids": ("0TnOYISbd1XYRBk9myaseg",),  # internal key: must not be written
    },
    "artists": {
        "artist_id": "0TnOYISbd1XYRBk9myaseg",
        "name": "Pitbull",
        "followers": 10_000_000_000,
        "popularity": 80,
        "genres": ["dance pop"],
        "image_url": "https://i.scdn.co/image/large",
    },
    "track_artists": {
        "track_id": "6OmhkSOpvYBokMKQxpIGx2",
        "artist_id": "0TnOYISbd1XYRBk9myaseg",
        "artist_position": 0,
    },
}


# -- schemas and the writer ------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(TABLES))
def test_when_a_table_is_written_then_the_parquet_schema_is_exactly_the_declared_one(table: str) -> None:
    schema = TABLES[table]

    (written,) = iter_parquet_files([{**SAMPLE_ROWS[table], **LINEAGE}], schema)

    parquet = pq.ParquetFile(io.BytesIO(written.data))
    assert parquet.schema_arrow.equals(schema, check_metadata=False)
    assert pq.read_table(io.BytesIO(written.data)).schema.equals(schema, check_metadata=False)
    assert {parquet.metadata.row_group(0).column(i).compression for i in range(len(schema))} == {"ZSTD"}
    row = pq.read_table(io.BytesIO(written.data)).to_pylist()[0]
    expected = {k: v for k, v in {**SAMPLE_ROWS[table], **LINEAGE}.items() if not k.startswith("_")}
    assert row == expected


def test_when_every_table_is_declared_then_it_ends_with_lineage_and_its_key_is_non_nullable() -> None:
    for table, schema in TABLES.items():
        assert list(schema)[-3:] == list(LINEAGE_FIELDS), table
        for column in NATURAL_KEYS[table]:
            assert not schema.field(column).nullable, (table, column)


def test_when_rows_exceed_rows_per_file_then_several_files_are_written_in_order() -> None:
    rows = [{**SAMPLE_ROWS["track_artists"], "track_id": f"t{i:03d}", **LINEAGE} for i in range(10)]

    files = list(iter_parquet_files(rows, TABLES["track_artists"], rows_per_file=4, rows_per_batch=3))

    assert [(f.index, f.rows) for f in files] == [(0, 4), (1, 4), (2, 2)]
    read_back = [r["track_id"] for f in files for r in pq.read_table(io.BytesIO(f.data)).to_pylist()]
    assert read_back == [f"t{i:03d}" for i in range(10)]
    assert pq.ParquetFile(io.BytesIO(files[0].data)).metadata.num_row_groups == 2  # 3 + 1 rows


def test_when_a_table_is_empty_then_one_file_with_the_schema_and_no_rows_is_written() -> None:
    (written,) = iter_parquet_files([], TABLES["artists"])

    assert written.rows == 0
    assert pq.read_table(io.BytesIO(written.data)).schema.equals(TABLES["artists"], check_metadata=False)


def test_when_a_non_nullable_column_is_null_then_the_writer_refuses() -> None:
    row = {**SAMPLE_ROWS["albums"], **LINEAGE, "album_id": None}

    with pytest.raises(ValueError, match="`album_id` is declared non-nullable"):
        list(iter_parquet_files([row], TABLES["albums"]))


def test_when_the_same_rows_are_written_twice_then_the_bytes_are_identical() -> None:
    rows = [{**SAMPLE_ROWS["albums"], **LINEAGE}]

    first = [f.data for f in iter_parquet_files(rows, TABLES["albums"])]
    second = [f.data for f in iter_parquet_files(rows, TABLES["albums"])]

    assert first == second


# -- publishing ------------------------------------------------------------------------------------


class RecordingStorage(LocalFolderStorage):
    """A real local folder storage that also remembers the order of writes and deletes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.operations: list[tuple[str, str]] = []

    def write_bytes(
        self, container: str, path: str, data: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> BlobInfo:
        self.operations.append(("write", path))
        return super().write_bytes(container, path, data, metadata=metadata)

    def delete(self, container: str, path: str) -> None:
        self.operations.append(("delete", path))
        super().delete(container, path)


def _files(count: int) -> list[ParquetFile]:
    return [ParquetFile(index=i, data=f"parquet {i}".encode(), rows=10) for i in range(count)]


def test_when_a_partition_is_published_then_success_is_deleted_first_written_last_and_stale_parts_go(
    tmp_path: Path,
) -> None:
    # Arrange: a previous, larger run left three parts, _SUCCESS and an unrelated file.
    storage = RecordingStorage(tmp_path)
    prefix = "tracks/snapshot_date=2026-11-24"
    for name in ("part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "_SUCCESS", "notes.txt"):
        storage.write_bytes("curated", f"{prefix}/{name}", b"old")
    storage.write_bytes("curated", "tracks/snapshot_date=2026-11-23/part-00005.parquet", b"other day")
    storage.operations.clear()

    # Act
    published = publish_partition(
        storage,
        "curated",
        table="tracks",
        snapshot_date=SNAPSHOT,
        files=_files(2),
        run_id="run-1",
        manifest_blob="raw/m.json",
    )

    # Assert
    assert storage.operations == [
        ("delete", f"{prefix}/_SUCCESS"),
        ("write", f"{prefix}/part-00000.parquet"),
        ("write", f"{prefix}/part-00001.parquet"),
        ("delete", f"{prefix}/part-00002.parquet"),
        ("write", f"{prefix}/_SUCCESS"),
    ]
    assert sorted(b.path for b in storage.list_blobs("curated")) == [
        "tracks/snapshot_date=2026-11-23/part-00005.parquet",
        f"{prefix}/_SUCCESS",
        f"{prefix}/notes.txt",
        f"{prefix}/part-00000.parquet",
        f"{prefix}/part-00001.parquet",
    ]
    assert published.rows == 20
    assert json.loads(storage.read_bytes("curated", f"{prefix}/_SUCCESS")) == {
        "table": "tracks",
        "snapshot_date": "2026-11-24",
        "run_id": "run-1",
        "manifest": "raw/m.json",
        "rows": 20,
        "files": [f"curated/{prefix}/part-00000.parquet", f"curated/{prefix}/part-00001.parquet"],
    }


# -- config ----------------------------------------------------------------------------------------


def _context(**extended: Any) -> ActivityContext:
    return ActivityContext(
        working_dir=Path("."),
        activity_name="Transform raw run",
        command="python -m activities.transform",
        extended_properties=extended,
        linked_services={},
        datasets={},
    )


def test_when_manifest_folder_path_is_container_slash_dir_then_config_splits_it() -> None:
    config = TransformConfig.from_context(
        _context(
            manifestFolderPath="raw/spotify/manifests/ingest_date=2026-11-24/run_id=r1",
            manifestFileName="_manifest.json",
            curatedContainer="curated",
            storageLinkedService="Ls_Blob_Storage",
        )
    )

    assert config.manifest_container == "raw"
    assert config.manifest_path == "spotify/manifests/ingest_date=2026-11-24/run_id=r1/_manifest.json"
    assert config.manifest_blob == "raw/spotify/manifests/ingest_date=2026-11-24/run_id=r1/_manifest.json"
    assert (config.curated_container, config.storage_linked_service) == ("curated", "Ls_Blob_Storage")


@pytest.mark.parametrize("folder", ["raw", "/raw/", ""])
def test_when_manifest_folder_path_has_no_folder_then_activity_config_error(folder: str) -> None:
    context = _context(manifestFolderPath=folder, curatedContainer="curated", storageLinkedService="Ls")

    with pytest.raises(ActivityConfigError, match="manifestFolderPath"):
        TransformConfig.from_context(context)


def test_when_curated_container_is_missing_then_activity_config_error_names_it() -> None:
    with pytest.raises(ActivityConfigError, match="curatedContainer"):
        TransformConfig.from_context(_context(manifestFolderPath="raw/x", storageLinkedService="Ls"))


# -- the data-model page and the import boundary ---------------------------------------------------

_DOC_TYPES = {"date32": "date32[day]", "list<string>": "list<item: string>"}


def _documented_columns(section: str) -> dict[str, tuple[str, bool]]:
    text = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/data-model.md has no section `## {section}`"
    columns: dict[str, tuple[str, bool]] = {}
    for line in match.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("column", "---"):
            continue
        type_text, _, nullability = cells[1].partition(",")
        columns[cells[0]] = (_DOC_TYPES.get(type_text.strip(), type_text.strip()), nullability.strip() != "not null")
    return columns


@pytest.mark.parametrize("table", list(TABLES))
def test_when_data_model_page_is_read_then_it_documents_every_column_with_its_schema_type(table: str) -> None:
    documented = {**_documented_columns(table), **_documented_columns("Lineage columns (every table)")}

    declared = {f.name: (str(f.type), f.nullable) for f in TABLES[table]}

    assert documented == declared
