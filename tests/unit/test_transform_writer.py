"""Unit tests of the transform's output side: schemas, Parquet writer, partition publishing,
config and the data-model page (the import boundary is tests/unit/test_import_boundaries.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError
from activities.common.storage import BlobInfo, LocalFolderStorage
from activities.transform.config import TransformConfig
from activities.transform.publish import StagedFile, clear_partition, publish_partition
from activities.transform.schemas import LINEAGE_FIELDS, NATURAL_KEYS, QUARANTINE, STRING_LIST, TABLES, TIMESTAMP
from activities.transform.writer import TableWriter

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = date(2026, 11, 24)
LINEAGE = {"snapshot_date": SNAPSHOT, "source_run_id": "run-1", "source_blob": "raw/spotify/x/part-00000.json.gz"}

def _sample(field: pa.Field) -> Any:
    """A non-null value of a column's type."""
    samples = {pa.string(): "x", pa.int16(): 7, pa.int32(): 7, pa.int64(): 10_000_000_000, pa.bool_(): True,
               pa.float64(): 3.5, pa.date32(): date(2012, 11, 16), STRING_LIST: ["dance pop"],
               TIMESTAMP: datetime(2026, 11, 24, 5, tzinfo=UTC)}
    return samples[field.type]


def _row(table: str) -> dict[str, Any]:
    return {**{f.name: _sample(f) for f in TABLES[table]}, **LINEAGE}


def _write(tmp: Path, table: str, rows: list[dict[str, Any]], **options: Any) -> list[Any]:
    writer = TableWriter(TABLES[table], tmp / table, **options)
    if rows:
        writer.write(pa.Table.from_pylist(rows, schema=TABLES[table]))
    return writer.close()


# -- schemas and the writer ------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(TABLES))
def test_when_a_table_is_written_then_the_parquet_schema_is_exactly_the_declared_one(table: str, tmp_path: Path) -> None:
    (written,) = _write(tmp_path, table, [_row(table)])

    parquet = pq.ParquetFile(written.path)
    assert parquet.schema_arrow.equals(TABLES[table], check_metadata=False)
    assert {parquet.metadata.row_group(0).column(i).compression for i in range(len(TABLES[table]))} == {"ZSTD"}
    assert pq.read_table(written.path).to_pylist() == [_row(table)]


def test_when_every_table_is_declared_then_it_ends_with_lineage_and_its_key_is_non_nullable() -> None:
    for table, schema in TABLES.items():
        assert list(schema)[-3:] == list(LINEAGE_FIELDS), table
        for column in NATURAL_KEYS[table]:
            assert not schema.field(column).nullable, (table, column)
        assert all(name == name.lower() and " " not in name for name in schema.names), table
    assert list(QUARANTINE)[-3:] == list(LINEAGE_FIELDS)


def test_when_rows_exceed_rows_per_file_then_several_files_are_written_in_order(tmp_path: Path) -> None:
    rows = [{**_row("track_artists"), "track_id": f"t{i:03d}"} for i in range(10)]

    files = _write(tmp_path, "track_artists", rows, rows_per_file=4, rows_per_group=3)

    assert [(f.index, f.rows, f.path.name) for f in files] == [
        (0, 4, "part-00000.parquet"), (1, 4, "part-00001.parquet"), (2, 2, "part-00002.parquet")]
    assert [r["track_id"] for f in files for r in pq.read_table(f.path).to_pylist()] == [f"t{i:03d}" for i in range(10)]
    assert pq.ParquetFile(files[0].path).metadata.num_row_groups == 2  # 3 + 1 rows


def test_when_a_table_is_empty_then_one_file_with_the_schema_and_no_rows_is_written(tmp_path: Path) -> None:
    (written,) = _write(tmp_path, "artists", [])

    assert written.rows == 0
    assert pq.read_table(written.path).schema.equals(TABLES["artists"], check_metadata=False)


def test_when_a_non_nullable_column_is_null_then_the_writer_refuses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`album_id` is declared non-nullable"):
        _write(tmp_path, "albums", [{**_row("albums"), "album_id": None}])


def test_when_the_same_rows_are_written_twice_then_the_bytes_are_identical(tmp_path: Path) -> None:
    (first,) = _write(tmp_path / "1", "albums", [_row("albums")])
    (second,) = _write(tmp_path / "2", "albums", [_row("albums")])

    assert first.path.read_bytes() == second.path.read_bytes()


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


def test_when_a_partition_is_published_then_success_is_deleted_first_written_last_and_stale_parts_go(
    tmp_path: Path,
) -> None:
    # Arrange: a previous, larger run left three parts, _SUCCESS and an unrelated file; this run staged two.
    storage = RecordingStorage(tmp_path)
    prefix = "tracks/snapshot_date=2026-11-24"
    for name in ("part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "_SUCCESS", "notes.txt"):
        storage.write_bytes("curated", f"{prefix}/{name}", b"old")
    storage.write_bytes("curated", "tracks/snapshot_date=2026-11-23/part-00005.parquet", b"other day")
    staged = []
    for index in range(2):
        path = f"_staging/run-1/curated/{prefix}/part-0000{index}.parquet"
        storage.write_bytes("curated", path, f"new {index}".encode())
        staged.append(StagedFile(path, f"part-0000{index}.parquet", 10))
    storage.operations.clear()

    # Act
    published = publish_partition(
        storage, staging_container="curated", container="curated", table="tracks", snapshot_date=SNAPSHOT,
        files=staged, run_id="run-1", manifest_blob="raw/m.json",
    )

    # Assert
    assert storage.operations == [
        ("delete", f"{prefix}/_SUCCESS"),
        ("write", f"{prefix}/part-00000.parquet"),
        ("write", f"{prefix}/part-00001.parquet"),
        ("delete", f"{prefix}/part-00002.parquet"),
        ("write", f"{prefix}/_SUCCESS"),
    ]
    assert storage.read_bytes("curated", f"{prefix}/part-00001.parquet") == b"new 1"
    assert sorted(b.path for b in storage.list_blobs("curated") if not b.path.startswith("_staging")) == [
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


def test_when_a_quarantine_partition_has_nothing_this_run_then_it_is_cleared(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    prefix = "tracks/snapshot_date=2026-11-24"
    for name in ("part-00000.parquet", "_SUCCESS"):
        storage.write_bytes("quarantine", f"{prefix}/{name}", b"old")

    clear_partition(storage, "quarantine", "tracks", SNAPSHOT)

    assert list(storage.list_blobs("quarantine")) == []


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
    assert (config.quarantine_container, config.force) == ("quarantine", False)


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("False", False), (None, False)])
def test_when_force_and_quarantine_container_are_given_then_config_reads_them(value: Any, expected: bool) -> None:
    config = TransformConfig.from_context(
        _context(manifestFolderPath="raw/x", curatedContainer="curated", storageLinkedService="Ls",
                 quarantineContainer="bad-records", force=value)
    )

    assert (config.quarantine_container, config.force) == ("bad-records", expected)


def test_when_force_is_not_a_boolean_then_activity_config_error_names_it() -> None:
    with pytest.raises(ActivityConfigError, match="force"):
        TransformConfig.from_context(
            _context(manifestFolderPath="raw/x", curatedContainer="curated", storageLinkedService="Ls", force="maybe")
        )


@pytest.mark.parametrize("folder", ["raw", "/raw/", ""])
def test_when_manifest_folder_path_has_no_folder_then_activity_config_error(folder: str) -> None:
    context = _context(manifestFolderPath=folder, curatedContainer="curated", storageLinkedService="Ls")

    with pytest.raises(ActivityConfigError, match="manifestFolderPath"):
        TransformConfig.from_context(context)


def test_when_curated_container_is_missing_then_activity_config_error_names_it() -> None:
    with pytest.raises(ActivityConfigError, match="curatedContainer"):
        TransformConfig.from_context(_context(manifestFolderPath="raw/x", storageLinkedService="Ls"))


# -- the data-model page and the import boundary ---------------------------------------------------

_DOC_TYPES = {"date32": "date32[day]", "list<string>": "list<item: string>", "timestamp": "timestamp[us, tz=UTC]"}


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


@pytest.mark.parametrize("table", [*TABLES, "quarantine"])
def test_when_data_model_page_is_read_then_it_documents_every_column_with_its_schema_type(table: str) -> None:
    documented = {**_documented_columns(table), **_documented_columns("Lineage columns (every table)")}

    schema = QUARANTINE if table == "quarantine" else TABLES[table]
    declared = {f.name: (str(f.type), f.nullable) for f in schema}

    assert documented == declared
