"""Write rows as zstd Parquet with a declared Arrow schema, batch by batch.

One ``pyarrow.parquet.ParquetWriter`` per output file, fed ``RecordBatch``es built against the
table's schema (never inferred types), so every file of a table has exactly the schema in
``schemas.py``. A table larger than ``rows_per_file`` is split into several files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# Large enough that this slice's tables fit in one file, small enough to bound the memory of
# one in-memory file; a row group per batch keeps readers' memory bounded too.
DEFAULT_ROWS_PER_FILE = 1_000_000
DEFAULT_ROWS_PER_BATCH = 100_000
COMPRESSION = "zstd"


@dataclass(frozen=True)
class ParquetFile:
    """One finished Parquet file: its position in the table's file sequence, bytes and row count."""

    index: int
    data: bytes
    rows: int


def _chunks(rows: Iterator[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _record_batch(rows: list[Mapping[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    # Arrow does not enforce non-nullable fields on construction; a null key here is a bug
    # in the parse or dedupe code and must not reach a file as a "required" column.
    for index, schema_field in enumerate(schema):
        if not schema_field.nullable and batch.column(index).null_count:
            raise ValueError(f"column `{schema_field.name}` is declared non-nullable but has nulls")
    return batch


def iter_parquet_files(
    rows: Iterable[Mapping[str, Any]],
    schema: pa.Schema,
    *,
    rows_per_file: int = DEFAULT_ROWS_PER_FILE,
    rows_per_batch: int = DEFAULT_ROWS_PER_BATCH,
) -> Iterator[ParquetFile]:
    """Yield Parquet files holding ``rows`` in order, each finished before the next starts.

    Always yields at least one file: an empty table still gets a file with its schema, so
    readers (Synapse views) can bind to the partition.

    Args:
        rows: mappings of column name -> Python value; keys not in ``schema`` are ignored.
        schema: the declared schema every file is written with.
        rows_per_file: most rows in one file.
        rows_per_batch: rows per ``RecordBatch`` (one row group each).
    """
    if rows_per_file < 1 or rows_per_batch < 1:
        raise ValueError("rows_per_file and rows_per_batch must be >= 1")
    remaining = iter(rows)
    index = 0
    while True:
        first = next(remaining, None)
        if first is None and index > 0:
            return
        file_rows: Iterator[Mapping[str, Any]] = (
            chain([first], islice(remaining, rows_per_file - 1)) if first is not None else iter(())
        )
        sink = pa.BufferOutputStream()
        written = 0
        with pq.ParquetWriter(sink, schema, compression=COMPRESSION) as writer:
            for chunk in _chunks(file_rows, rows_per_batch):
                writer.write_batch(_record_batch(chunk, schema))
                written += len(chunk)
        yield ParquetFile(index=index, data=sink.getvalue().to_pybytes(), rows=written)
        index += 1
        if first is None:
            return


__all__ = ["COMPRESSION", "DEFAULT_ROWS_PER_BATCH", "DEFAULT_ROWS_PER_FILE", "ParquetFile", "iter_parquet_files"]
