"""What a file holds once read (`Rows`), the interface every format implements (`FileFormat`), and values as ADF
puts them in JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

__all__ = ["FileFormat", "Rows", "json_value"]


@dataclass(frozen=True)
class Rows:
    """What one file holds: column names in order and rows as dicts. Parquet keeps its typed table in `arrow`
    (written back as it is when no mapping changes it)."""

    columns: tuple[str, ...]
    records: tuple[dict[str, Any], ...]
    arrow: Any = None

    def __len__(self) -> int:
        return len(self.records)


class FileFormat:
    """One dataset's format: `read(bytes)` -> Rows, `write(Rows)` -> bytes. `tabular` is False for Binary."""

    tabular = True
    extension = ""

    def read(self, data: bytes, where: str) -> Rows:
        raise NotImplementedError

    def write(self, rows: Rows, where: str) -> bytes:
        raise NotImplementedError


def json_value(value: Any) -> Any:
    """A value as ADF puts it in JSON (activity outputs, JSON files): ISO 8601 dates and times, numbers for decimals."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [json_value(v) for v in value]
    return value
