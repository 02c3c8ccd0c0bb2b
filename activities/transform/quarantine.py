"""Bad records, kept out of curated and written to ``quarantine/<table>/snapshot_date=…/``.

A record is bad when a required id is missing, a value has the wrong type (schema drift that
changed a type), a date or timestamp does not parse, or a whole part's envelope is not the
documented response. Each becomes one row: the table it was meant for, the reason, the field,
its natural key if known, the record as JSON (truncated) and the blob it came from. Rows are
written to local Parquet in batches as they come, so a run that quarantines everything still
runs in bounded memory.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from activities.transform.parse.document import is_proxy, plain
from activities.transform.schemas import QUARANTINE
from activities.transform.writer import LocalFile, TableWriter

MAX_RECORD_CHARS = 20_000
_FLUSH_ROWS = 10_000


def _json(record: Any) -> str:
    def fallback(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if is_proxy(value):
            return plain(value)
        return repr(value)

    try:
        text = orjson.dumps(record, default=fallback, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:
        text = repr(record)
    return text if len(text) <= MAX_RECORD_CHARS else text[: MAX_RECORD_CHARS - 3] + "..."


class QuarantineSink:
    """Collects bad records per table and writes them as the ``QUARANTINE`` schema."""

    def __init__(self, directory: Path, snapshot_date: date, run_id: str, blobs: list[str]) -> None:
        self._directory = directory
        self._snapshot_date = snapshot_date
        self._run_id = run_id
        self._blobs = blobs
        self._rows: dict[str, list[tuple[Any, ...]]] = {}
        self._writers: dict[str, TableWriter] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: str, reason: str, field: str | None, key: str | None, record: Any, part_rank: int) -> None:
        """One bad record from the part of rank ``part_rank``."""
        rows = self._rows.setdefault(table, [])
        rows.append((table, reason, field, key or None, _json(record), self._blobs[part_rank]))
        self.counts[table] = self.counts.get(table, 0) + 1
        if len(rows) >= _FLUSH_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self._rows.pop(table, [])
        if not rows:
            return
        columns = [list(c) for c in zip(*rows, strict=True)]
        count = len(rows)
        batch = pa.Table.from_arrays(
            [
                *(pa.array(c, pa.string()) for c in columns),
                pa.repeat(pa.scalar(self._snapshot_date, pa.date32()), count),
                pa.repeat(pa.scalar(self._run_id, pa.string()), count),
            ],
            names=["table", "reason", "field", "natural_key", "record", "source_blob", "snapshot_date",
                   "source_run_id"],
        ).select(QUARANTINE.names)
        writer = self._writers.get(table)
        if writer is None:
            writer = self._writers[table] = TableWriter(QUARANTINE, self._directory / table)
        writer.write(batch.cast(QUARANTINE))

    def close(self) -> dict[str, list[LocalFile]]:
        """Flush everything; the files of every table that has bad records."""
        for table in list(self._rows):
            self._flush(table)
        return {table: writer.close() for table, writer in sorted(self._writers.items())}


__all__ = ["MAX_RECORD_CHARS", "QuarantineSink"]
