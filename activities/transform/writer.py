"""Write one table as zstd Parquet files on local disk, batch by batch, with its declared schema.

One ``pyarrow.parquet.ParquetWriter`` per output file, fed in row groups of ``rows_per_group``
rows, so memory holds one row group, not the table. A table larger than ``rows_per_file`` is
split into several files. The files are uploaded to the staging prefix afterwards (``publish.py``).
Same rows in, same bytes out: reruns write identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_ROWS_PER_FILE = 250_000
DEFAULT_ROWS_PER_GROUP = 32_768
COMPRESSION = "zstd"


@dataclass(frozen=True)
class LocalFile:
    """One finished Parquet file: its position in the table's file sequence, local path and row count."""

    index: int
    path: Path
    rows: int


def part_file_name(index: int) -> str:
    """``part-00000.parquet`` for the first file of a partition."""
    return f"part-{index:05d}.parquet"


def check_required(table: pa.Table, schema: pa.Schema) -> None:
    """Refuse nulls in non-nullable columns: Arrow does not enforce them, readers trust them."""
    for index, schema_field in enumerate(schema):
        if not schema_field.nullable and table.column(index).null_count:
            raise ValueError(f"column `{schema_field.name}` is declared non-nullable but has nulls")


class TableWriter:
    """Parquet files of one table in ``directory``: ``part-00000.parquet``, ``part-00001.parquet``, …"""

    def __init__(
        self,
        schema: pa.Schema,
        directory: Path,
        *,
        rows_per_file: int = DEFAULT_ROWS_PER_FILE,
        rows_per_group: int = DEFAULT_ROWS_PER_GROUP,
    ) -> None:
        if rows_per_file < 1 or rows_per_group < 1:
            raise ValueError("rows_per_file and rows_per_group must be >= 1")
        self.schema = schema
        self._directory = directory
        self._rows_per_file = rows_per_file
        self._rows_per_group = min(rows_per_group, rows_per_file)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._file_rows = 0
        self._files: list[LocalFile] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        """Add rows (in their final order); full row groups are written at once."""
        if table.num_rows == 0:
            return
        check_required(table, self.schema)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._rows_per_group:
            self._write_group(self._rows_per_group)

    def _write_group(self, count: int) -> None:
        pending = pa.concat_tables(self._pending)
        room = self._rows_per_file - self._file_rows
        take = min(count, room, pending.num_rows)
        self._open().write_table(pending.slice(0, take), row_group_size=take)
        self._file_rows += take
        self.rows += take
        rest = pending.slice(take)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        if self._file_rows >= self._rows_per_file:
            self._close_file()

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            path = self._directory / part_file_name(len(self._files))
            self._directory.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(path), self.schema, compression=COMPRESSION)
        return self._writer

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            index = len(self._files)
            self._files.append(LocalFile(index, self._directory / part_file_name(index), self._file_rows))
            self._writer = None
            self._file_rows = 0

    def close(self) -> list[LocalFile]:
        """Write what is pending and return the files; an empty table still gets one file (readers bind to it)."""
        while self._pending_rows:
            self._write_group(self._pending_rows)
        if not self._files or self._writer is not None:
            self._open()
            self._close_file()
        return list(self._files)


__all__ = [
    "COMPRESSION",
    "DEFAULT_ROWS_PER_FILE",
    "DEFAULT_ROWS_PER_GROUP",
    "LocalFile",
    "TableWriter",
    "check_required",
    "part_file_name",
]
