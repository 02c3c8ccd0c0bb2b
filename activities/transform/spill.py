"""Buffer parsed rows per table and spill them to local disk in key-range buckets.

Peak memory must not grow with the number of parts, and a dimension's dedupe needs every
candidate row of a key together. So rows are not kept: each table's row tuples are buffered
up to ``flush_rows``, turned into Arrow columns (type-checked; bad rows go to quarantine),
and written to one Arrow IPC file per table as one record batch per *bucket*. A bucket is the
first byte of the first natural-key column (Spotify ids are base62, so about 62 buckets of
similar size); since buckets are byte ranges, reading them in order yields keys in sorted
order. Later, ``buckets()`` reads one bucket at a time: memory holds one bucket's candidates,
whatever the number of parts. A bucket is about 1/62 of its table, so a big table's buckets are
split again before they are read: one more pass re-spills a bucket of more than
``max_bucket_rows`` rows into ranges of its keys' second byte, and those are read one at a time.

Each spilled row carries what the dedupe ranks by (see ``dedupe.py``): ``_richness`` (full or
simplified object, times two, plus one for a row of this run: a row of the earlier snapshot
loses to an equally rich row of this run), ``_filled`` (non-null parsed columns), ``_part`` (the
part's rank in ``(fetched_at, path)`` order; also the index of its blob name in the lineage) and
``_seq`` (arrival order). Rows of the earlier snapshot come in through ``add_previous``
(``incremental.py``), already typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activities.transform.columns import to_array
from activities.transform.parse.document import is_proxy, plain
from activities.transform.schemas import TableSpec

DEFAULT_FLUSH_ROWS = 20_000

META_FIELDS: tuple[pa.Field, ...] = (
    pa.field("_richness", pa.int8()),
    pa.field("_filled", pa.int8()),
    pa.field("_part", pa.int32()),
    pa.field("_seq", pa.int64()),
)

# on_bad(table, reason, field, natural_key, record, part_rank)
BadRow = Callable[[str, str, "str | None", "str | None", dict[str, Any], int], None]


def spill_schema(spec: TableSpec) -> pa.Schema:
    """Parsed columns (all nullable while spilled) followed by the ranking columns."""
    return pa.schema([pa.field(f.name, f.type) for f in spec.parsed] + list(META_FIELDS))


DEFAULT_MAX_BUCKET_ROWS = 32_768


def key_bytes(keys: pa.Array, position: int = 0) -> np.ndarray:
    """Byte ``position`` of each string (0 where the string is shorter), e.g. the first byte as the bucket number."""
    if not (pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type)):
        return np.zeros(len(keys), dtype=np.uint8)
    count = len(keys)
    if count == 0:
        return np.zeros(0, dtype=np.uint8)
    offset_type = np.int64 if pa.types.is_large_string(keys.type) else np.int32
    _, offsets_buffer, data_buffer = keys.buffers()
    offsets: np.ndarray = np.frombuffer(offsets_buffer, dtype=offset_type)[keys.offset : keys.offset + count + 1]
    if data_buffer is None or data_buffer.size == 0:
        return np.zeros(count, dtype=np.uint8)
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts = offsets[:-1] + position
    found = data[np.minimum(starts, data.size - 1)]
    return np.where(offsets[1:] > starts, found, 0).astype(np.uint8)


def _byte_classes() -> np.ndarray:
    """A non-decreasing map of bytes to classes: each ASCII letter and digit its own, each run of other bytes one."""
    classes = np.zeros(256, dtype=np.int64)
    current, in_gap = 0, False
    for byte in range(1, 256):
        alphanumeric = chr(byte).isascii() and chr(byte).isalnum()
        if alphanumeric or not in_gap:
            current += 1
        in_gap = not alphanumeric
        classes[byte] = current
    return classes


_BYTE_CLASSES = _byte_classes()


def key_ranges(keys: pa.Array, position: int, ranges: int) -> np.ndarray:
    """Which of ``ranges`` ordered ranges the byte ``position`` of each key falls in (base62 ids spread evenly)."""
    return _BYTE_CLASSES[key_bytes(keys, position)] * ranges // (int(_BYTE_CLASSES[-1]) + 1)


class BucketFile:
    """Record batches of one schema in a local Arrow IPC file, grouped by bucket number."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._batches = 0
        self._index: dict[int, list[int]] = {}  # bucket -> batch numbers in the file
        self.rows: dict[int, int] = {}  # bucket -> rows

    def write(self, batch: pa.RecordBatch, buckets: np.ndarray) -> None:
        """Write ``batch``'s rows, row ``i`` into bucket ``buckets[i]`` (one record batch per bucket present)."""
        if batch.num_rows == 0:
            return
        order = np.argsort(buckets, kind="stable")
        ordered = batch.take(pa.array(order))
        values, starts = np.unique(buckets[order], return_index=True)
        ends = np.append(starts[1:], batch.num_rows)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pa.ipc.new_file(str(self.path), self.schema)
        for bucket, start, end in zip(values.tolist(), starts.tolist(), ends.tolist(), strict=True):
            self._writer.write_batch(ordered.slice(start, end - start))
            self._index.setdefault(bucket, []).append(self._batches)
            self._batches += 1
            self.rows[bucket] = self.rows.get(bucket, 0) + end - start

    def read(self) -> Iterator[tuple[int, Iterator[pa.RecordBatch]]]:
        """``(bucket, its batches)`` in bucket order; the file is deleted after the last one."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        try:
            with pa.OSFile(str(self.path)) as source:
                reader = pa.ipc.open_file(source)
                for bucket in sorted(self._index):
                    yield bucket, (reader.get_batch(i) for i in self._index[bucket])
        finally:
            self.path.unlink(missing_ok=True)
            self._index.clear()
            self.rows.clear()


class TableSpill:
    """One parsed table's row buffer and its bucketed spill file."""

    def __init__(
        self, spec: TableSpec, directory: Path, on_bad: BadRow, *, flush_rows: int = DEFAULT_FLUSH_ROWS,
        max_bucket_rows: int = DEFAULT_MAX_BUCKET_ROWS,
    ):
        self.spec = spec
        self.rows: list[tuple[Any, ...]] = []
        self.append = self.rows.append
        self._path = directory / f"{spec.name}.arrow"
        self._schema = spill_schema(spec)
        self._on_bad = on_bad
        self._flush_rows = flush_rows
        self._max_bucket_rows = max_bucket_rows
        self._marks: list[tuple[int, int]] = []  # (end row in self.rows, part rank) per part
        self._marked = 0  # rows covered by _marks
        self._seq = 0
        self._file = BucketFile(self._path, self._schema)
        self.spilled_rows = 0
        self.bad_rows = 0
        self._key_positions = tuple(spec.parsed_names.index(k) for k in spec.key)
        # Lists (replace_scope) this run brought rows of: their rows in the earlier snapshot are replaced.
        self.scopes: set[tuple[Any, ...]] = set()

    def detach_open_rows(self) -> None:
        """Replace document objects and arrays in the current part's rows by plain dicts and lists.

        Only a field whose type changed (an object where a string was promised) puts one in a row;
        it is checked, and quarantined, at the next flush, after its document is gone.
        """
        rows = self.rows
        for index in range(self._marked, len(rows)):
            row = rows[index]
            if any(is_proxy(value) for value in row):
                rows[index] = tuple(plain(value) for value in row)

    def end_part(self, part_rank: int) -> None:
        """Close the current part's rows (they all get ``part_rank``); flush when the buffer is full."""
        count = len(self.rows)
        if count == self._marked:
            return
        self._marks.append((count, part_rank))
        self._marked = count
        if count >= self._flush_rows:
            self.flush()

    def _part_ranks(self, count: int) -> np.ndarray:
        ends = np.fromiter((end for end, _ in self._marks), dtype=np.int64, count=len(self._marks))
        ranks = np.fromiter((rank for _, rank in self._marks), dtype=np.int32, count=len(self._marks))
        lengths = np.diff(ends, prepend=0)
        assert ends[-1] == count, "rows appended after the last end_part"
        return np.repeat(ranks, lengths)

    def flush(self) -> None:
        """Convert the buffer to Arrow, quarantine bad rows, write one batch per bucket."""
        rows = self.rows
        count = len(rows)
        if count == 0:
            return
        parts = self._part_ranks(count)
        columns = list(zip(*rows, strict=True))
        # A row of this run ranks above an equally rich row of the earlier snapshot (module docstring).
        richness = pa.array(np.asarray(columns[-1], dtype=np.int8) * 2 + 1)
        fields = self.spec.parsed
        arrays: list[pa.Array] = []
        bad: dict[int, tuple[str, str]] = {}
        for field, values in zip(fields, columns, strict=False):
            array, problems = to_array(values, field.type)
            arrays.append(array)
            for index, reason in problems.items():
                bad.setdefault(index, (f"type change: {reason}", field.name))
        for position, key in zip(self._key_positions, self.spec.key, strict=True):
            if arrays[position].null_count:
                for missing in np.flatnonzero(arrays[position].is_null().to_numpy(zero_copy_only=False)).tolist():
                    bad.setdefault(missing, (f"missing {key}", key))
        filled = np.zeros(count, dtype=np.int8)
        for array in arrays:
            if array.null_count:
                filled += array.is_valid().to_numpy(zero_copy_only=False)
            else:
                filled += 1
        seq = np.arange(self._seq, self._seq + count, dtype=np.int64)
        self._seq += count
        batch = pa.RecordBatch.from_arrays(
            [*arrays, richness, pa.array(filled), pa.array(parts), pa.array(seq)], schema=self._schema
        )
        if bad:
            self._quarantine(rows, bad, parts)
            keep = np.ones(count, dtype=bool)
            keep[list(bad)] = False
            batch = batch.filter(pa.array(keep))
        rows.clear()
        self._marks.clear()
        self._marked = 0
        self._note_scopes(batch)
        self._write_buckets(batch)

    def _note_scopes(self, batch: pa.RecordBatch) -> None:
        scope = self.spec.replace_scope
        if scope is None or batch.num_rows == 0:
            return
        if not scope:
            self.scopes.add(())
        elif len(scope) == 1:  # playlist_items: large, one column
            self.scopes.update((value,) for value in pc.unique(batch.column(scope[0])).to_pylist())
        else:  # the user's top items, search results, artist top tracks: a few rows per list
            self.scopes.update(zip(*(batch.column(name).to_pylist() for name in scope), strict=True))

    def add_previous(self, batch: pa.RecordBatch) -> None:
        """Spill rows of the earlier snapshot (the spilled schema but ``_seq``), after this run's rows are flushed."""
        if batch.num_rows == 0:
            return
        seq = pa.array(np.arange(self._seq, self._seq + batch.num_rows, dtype=np.int64))
        self._seq += batch.num_rows
        self._write_buckets(pa.RecordBatch.from_arrays([*batch.columns, seq], schema=self._schema))

    def _quarantine(self, rows: list[tuple[Any, ...]], bad: dict[int, tuple[str, str]], parts: np.ndarray) -> None:
        names = self.spec.parsed_names
        for index in sorted(bad):
            reason, field = bad[index]
            values = rows[index]
            record = dict(zip(names, values, strict=False))
            key = "/".join("" if values[p] is None else str(values[p]) for p in self._key_positions)
            self._on_bad(self.spec.name, reason, field, key, record, int(parts[index]))
        self.bad_rows += len(bad)

    def _write_buckets(self, batch: pa.RecordBatch) -> None:
        self._file.write(batch, key_bytes(batch.column(self._key_positions[0])))
        self.spilled_rows += batch.num_rows

    def buckets(self) -> Iterator[pa.Table]:
        """Flush, then yield each bucket's candidate rows, in bucket (so key) order."""
        self.flush()
        for bucket, batches in self._file.read():
            rows = self._file.rows[bucket]
            if rows <= self._max_bucket_rows:
                yield pa.Table.from_batches(list(batches), schema=self._schema)
                continue
            # Every key here shares its first byte: ranges of the second byte keep the key order.
            ranges = -(-rows // self._max_bucket_rows)
            split = BucketFile(self._path.with_name(f"{self._path.stem}-{bucket}.arrow"), self._schema)
            for batch in batches:
                split.write(batch, key_ranges(batch.column(self._key_positions[0]), 1, ranges))
            for _, parts in split.read():
                yield pa.Table.from_batches(list(parts), schema=self._schema)


__all__ = [
    "DEFAULT_FLUSH_ROWS",
    "DEFAULT_MAX_BUCKET_ROWS",
    "META_FIELDS",
    "BucketFile",
    "TableSpill",
    "key_bytes",
    "key_ranges",
    "spill_schema",
]
