"""Incremental snapshots: each curated snapshot is the full current state as of its date.

A daily extract brings only what is new (plays since the last one, newly saved tracks, objects
not seen before, a few refreshes), yet analysts read one snapshot as "the state on that date".
So a run's snapshot is the **earlier snapshot** (the newest snapshot date strictly before this
run's whose snapshot marker exists) plus what this run brought:

- rows of the earlier snapshot are fed into the same spill as this run's rows and the dedupe
  picks one row per key (``dedupe.py``): a richer object wins, and between equally rich rows this
  run's wins ("newer wins by key"). How rich an earlier row was is not stored: a row that has one
  of its table's ``full_only`` columns counts as a full object;
- a fact that is a list Spotify returns whole (``TableSpec.replace_scope``: a user's top items for
  one time range, a playlist's items, one query's results) is replaced list by list: the earlier
  snapshot's rows of a list this run brought are dropped, the other lists are kept;
- facts without a replace scope accumulate (recently played: one row per user and ``played_at``);
- carried rows keep their lineage (``source_run_id``, ``source_blob`` of the part they came from)
  and get this snapshot's ``snapshot_date``;
- bridges follow their base row: an earlier row's credits (``_artist_ids``) are read back from the
  earlier snapshot's bridge, which is sorted by the same key as its base table, in one pass.

A rerun of a date reads the same earlier snapshot and the same manifest, so it writes the same
snapshot. Memory: the earlier snapshot is read one row group at a time, like the spill.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date
from io import BytesIO
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from activities.common.storage import Storage
from activities.transform.enrich import Lineage
from activities.transform.errors import PreviousSnapshotError
from activities.transform.parse.emitter import FULL, SIMPLIFIED
from activities.transform.publish import SNAPSHOTS_ROOT, SUCCESS_FILE, partition_prefix
from activities.transform.schemas import TableSpec

_MARKER = re.compile(rf"{SNAPSHOTS_ROOT}/snapshot_date=(\d{{4}}-\d{{2}}-\d{{2}})/{SUCCESS_FILE}")
# Internal list columns read back from the bridge derived from them.
_BRIDGE_OF = {"_artist_ids": {"tracks": "track_artists", "albums": "album_artists"}}


def previous_snapshot(storage: Storage, container: str, snapshot_date: date) -> date | None:
    """The newest snapshot date strictly before ``snapshot_date`` whose snapshot marker exists, or None."""
    dates = [date.fromisoformat(m.group(1)) for blob in storage.list_blobs(container, f"{SNAPSHOTS_ROOT}/")
             if (m := _MARKER.fullmatch(blob.path))]
    earlier = [d for d in dates if d < snapshot_date]
    return max(earlier) if earlier else None


def _partition_batches(storage: Storage, container: str, table: str, snapshot_date: date) -> Iterator[pa.RecordBatch]:
    """The rows of one published partition, one row group at a time, in file (so key) order."""
    prefix = partition_prefix(table, snapshot_date)
    paths = sorted(blob.path for blob in storage.list_blobs(container, f"{prefix}/")
                   if blob.path.endswith(".parquet") and "/" not in blob.path[len(prefix) + 1:])
    for path in paths:
        try:
            parquet = pq.ParquetFile(BytesIO(storage.read_bytes(container, path)))
            yield from parquet.iter_batches()
        except (pa.ArrowException, OSError) as exc:
            raise PreviousSnapshotError(f"{container}/{path}", str(exc)) from exc


class LineageIndex:
    """``_part`` -> (blob, run id): this run's parts first (by rank), then each earlier blob once."""

    def __init__(self, blobs: Iterable[str], run_id: str) -> None:
        self.blobs = list(blobs)
        self.run_ids = [run_id] * len(self.blobs)
        self._index: dict[str, int] = {}  # earlier blobs only: a part of this run is never carried

    def parts(self, blobs: pa.Array, run_ids: pa.Array) -> pa.Array:
        """The ``_part`` of every carried row, from its ``source_blob`` and ``source_run_id``."""
        encoded = blobs.dictionary_encode()
        dictionary = encoded.dictionary.to_pylist()
        first_run = pc.take(run_ids, pc.index_in(encoded.dictionary, value_set=blobs)).to_pylist()
        mapped = []
        for blob, run_id in zip(dictionary, first_run, strict=True):
            index = self._index.get(blob)
            if index is None:
                index = self._index[blob] = len(self.blobs)
                self.blobs.append(blob)
                self.run_ids.append(run_id)
            mapped.append(index)
        return pa.array(mapped, pa.int32()).take(encoded.indices)

    def lineage(self, snapshot_date: date, run_id: str) -> Lineage:
        return Lineage(snapshot_date, run_id, pa.array(self.blobs, pa.string()), pa.array(self.run_ids, pa.string()))


class _Credits:
    """An earlier bridge (``track_artists``), read along its base table in key order, as list columns."""

    def __init__(self, batches: Iterator[pa.RecordBatch], key: str) -> None:
        self._batches = batches
        self._key = key
        self._pending: list[pa.RecordBatch] = []
        self._done = False

    def _pull_through(self, last: Any) -> pa.Table:
        """Every remaining bridge row whose key is <= ``last``."""
        while not self._done and (not self._pending or self._pending[-1].column(self._key)[-1].as_py() <= last):
            batch = next(self._batches, None)
            if batch is None:
                self._done = True
            elif batch.num_rows:
                self._pending.append(batch)
        if not self._pending:
            return pa.table({self._key: pa.array([], pa.string())})
        table = pa.Table.from_batches(self._pending)
        taken = pc.less_equal(table.column(self._key), pa.scalar(last, pa.string()))
        rest = table.filter(pc.invert(taken))
        self._pending = rest.combine_chunks().to_batches() if rest.num_rows else []
        return table.filter(taken)

    def lists(self, keys: pa.Array) -> pa.Array:
        """``list<string>`` per key (sorted keys of one base batch): artist ids by position, None where one is missing."""
        count = len(keys)
        if count == 0:
            return pa.array([], pa.list_(pa.string()))
        rows = self._pull_through(keys[-1].as_py())
        lengths = np.zeros(count, dtype=np.int64)
        if rows.num_rows:
            owner = pc.index_in(rows.column(self._key), value_set=keys)
            found = owner.is_valid()
            rows, owner = rows.filter(found), owner.filter(found)
            base = owner.to_numpy(zero_copy_only=False).astype(np.int64)
            positions = rows.column("artist_position").to_numpy().astype(np.int64)
            np.maximum.at(lengths, base, positions + 1)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        values = np.full(int(offsets[-1]), None, dtype=object)
        if rows.num_rows:
            values[offsets[base] + positions] = rows.column("artist_id").to_numpy(zero_copy_only=False)
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, pa.string()))


def _scope_table(spec: TableSpec, scopes: set[tuple[Any, ...]]) -> pa.Table:
    names = list(spec.replace_scope or ())
    rows = sorted(scopes, key=repr)
    return pa.table({name: pa.array([row[i] for row in rows], spec.schema.field(name).type)
                     for i, name in enumerate(names)})


class CarriedRows:
    """The earlier snapshot's rows of one table, as rows of the spill (``TableSpill.add_previous``)."""

    def __init__(self, storage: Storage, container: str, spec: TableSpec, previous: date, index: LineageIndex):
        self.spec = spec
        self._storage = storage
        self._container = container
        self._previous = previous
        self._index = index
        self.rows = 0
        self.dropped = 0  # rows without their key (written before the key had that column)

    def _batches(self, table: str) -> Iterator[pa.RecordBatch]:
        return _partition_batches(self._storage, self._container, table, self._previous)

    def batches(self, scopes: set[tuple[Any, ...]]) -> Iterator[pa.RecordBatch]:
        """Spill batches (parsed columns, ``_richness``, ``_filled``, ``_part``) of the rows carried over."""
        spec = self.spec
        scope = spec.replace_scope
        if scope == () and scopes:
            return  # the list as a whole came again
        replaced = _scope_table(spec, scopes) if scope and scopes else None
        # The bridge's key column is its base table's key (track_artists.track_id).
        credits = {name: _Credits(self._batches(bridges[spec.name]), spec.key[0])
                   for name, bridges in _BRIDGE_OF.items() if spec.name in bridges and name in spec.parsed_names}
        last_key: Any = None
        for batch in self._batches(spec.name):
            if credits:
                first = batch.column(spec.key[0])[0].as_py() if batch.num_rows else None
                if first is not None and last_key is not None and first < last_key:
                    raise PreviousSnapshotError(
                        f"{self._container}/{partition_prefix(spec.name, self._previous)}",
                        f"rows are not sorted by {spec.key[0]}")
                last_key = batch.column(spec.key[0])[-1].as_py() if batch.num_rows else last_key
            try:
                converted = self._convert(batch, credits)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise PreviousSnapshotError(
                    f"{self._container}/{partition_prefix(spec.name, self._previous)}", str(exc)) from exc
            if replaced is not None and converted.num_rows:
                kept = pa.Table.from_batches([converted]).join(replaced, keys=list(scope or ()), join_type="left anti")
                converted = kept.combine_chunks().to_batches()[0] if kept.num_rows else converted.slice(0, 0)
            self.rows += converted.num_rows
            yield converted

    def _convert(self, batch: pa.RecordBatch, credits: dict[str, _Credits]) -> pa.RecordBatch:
        spec = self.spec
        names = batch.schema.names
        count = batch.num_rows
        columns: list[pa.Array] = []
        for field in spec.parsed:
            if field.name in credits:
                columns.append(credits[field.name].lists(batch.column(spec.key[0])))
            elif field.name in names:
                columns.append(batch.column(field.name).cast(field.type))
            else:
                columns.append(pa.nulls(count, field.type))
        keep = np.ones(count, dtype=bool)
        for key in spec.key:
            keep &= columns[spec.parsed_names.index(key)].is_valid().to_numpy(zero_copy_only=False)
        full = np.zeros(count, dtype=bool)
        for name in spec.full_only:
            full |= columns[spec.parsed_names.index(name)].is_valid().to_numpy(zero_copy_only=False)
        richness = np.where(full, FULL * 2, SIMPLIFIED * 2).astype(np.int8)  # even: not this run's (spill.py)
        filled = np.zeros(count, dtype=np.int8)
        for array in columns:
            filled += array.is_valid().to_numpy(zero_copy_only=False)
        parts = self._index.parts(batch.column("source_blob"), batch.column("source_run_id"))
        names_out = [*spec.parsed_names, "_richness", "_filled", "_part"]
        converted = pa.RecordBatch.from_arrays(
            [*columns, pa.array(richness), pa.array(filled), parts], names=names_out)
        if not keep.all():
            self.dropped += int(count - keep.sum())
            converted = converted.filter(pa.array(keep))
        return converted


__all__ = ["CarriedRows", "LineageIndex", "previous_snapshot"]
