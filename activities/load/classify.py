"""Classify a serving table's new schema against the previous one (pure: schemas in, verdict out).

Rules, column by column (names compared exactly; column order is ignored, views bind by name):

| change | kind | breaking? |
| --- | --- | --- |
| new column, nullable | ``added`` | no: older snapshots read it as NULL |
| new column, NOT NULL | ``added`` | yes: older snapshots have no value for it |
| column gone | ``dropped`` | yes: views and queries name it |
| type widened (see below) | ``widened`` | no |
| type narrowed (the reverse of a widening) | ``narrowed`` | yes: older values may not fit |
| any other type change (int16 → string, date → timestamp, ...) | ``retyped`` | yes |
| NOT NULL → nullable, nullable → NOT NULL | ``nullable`` / ``required`` | no |
| a column serverless SQL cannot read (see below), new or changed | ``unreadable`` | yes |

Widenings: int16 → int32, float32 → float64, int32 → float64, decimal(p,s) → wider, timestamp unit finer
(s → ms → us only), null → any, list<T> → list<wider T>.

Unreadable on Synapse serverless SQL (Microsoft Learn, "OPENROWSET function in serverless SQL pool", type
mapping for Parquet): nanosecond TIMESTAMP and TIME are not supported, and a TIMESTAMP not adjusted to UTC
(Arrow ``timestamp[..]`` without a time zone) is read as ``bigint``, not ``datetime2``. Such a column is
breaking even in a new table: normalise it in the transform (UTC, microseconds).

The table's verdict: ``new`` (no previous schema), ``unchanged`` (no change), ``additive`` (only
non-breaking changes: the pipeline publishes and regenerates the view) or ``breaking`` (at least one
breaking change: the pipeline fails, naming the table and columns, and publishes nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from activities.load.schema import TableSchema

NEW, UNCHANGED, ADDITIVE, BREAKING = "new", "unchanged", "additive", "breaking"

_SIGNED = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
_UNSIGNED = {"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}
_FLOATS = {"float16": 16, "float32": 32, "float64": 64}
# Mantissa bits of each float: an integer of at most this many bits converts exactly.
_MANTISSA = {"float16": 11, "float32": 24, "float64": 53}
_TIME_UNITS = ("s", "ms", "us", "ns")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$")
_TIME = re.compile(r"^time\[(s|ms|us|ns)\]$")


@dataclass(frozen=True)
class ColumnChange:
    column: str
    change: str  # added, dropped, widened, narrowed, retyped, nullable, required
    before: str | None
    after: str | None
    breaking: bool

    def describe(self) -> str:
        if self.change == "added":
            if self.breaking:
                return f"column `{self.column}` added as NOT NULL ({self.after}): earlier snapshots have no value for it"
            return f"column `{self.column}` added ({self.after}, nullable)"
        if self.change == "dropped":
            return f"column `{self.column}` dropped (was {self.before})"
        if self.change == "widened":
            return f"column `{self.column}` widened {self.before} -> {self.after}"
        if self.change == "narrowed":
            return f"column `{self.column}` narrowed {self.before} -> {self.after}"
        if self.change == "retyped":
            return f"column `{self.column}` changed type {self.before} -> {self.after}"
        if self.change == "unreadable":
            return f"column `{self.column}` has type {self.after}, which {unreadable_reason(self.after or '')}"
        if self.change == "nullable":
            return f"column `{self.column}` became nullable"
        return f"column `{self.column}` became NOT NULL"

    def to_json(self) -> dict[str, object]:
        return {"column": self.column, "change": self.change, "before": self.before, "after": self.after,
                "breaking": self.breaking}


@dataclass(frozen=True)
class Classification:
    table: str
    kind: str  # new, unchanged, additive, breaking
    changes: tuple[ColumnChange, ...] = ()

    @property
    def breaking_changes(self) -> tuple[ColumnChange, ...]:
        return tuple(change for change in self.changes if change.breaking)

    @property
    def regenerates_view(self) -> bool:
        """Whether the view must be (re)created: a new table, or a compatible change of its columns."""
        return self.kind in (NEW, ADDITIVE)

    def describe(self) -> str:
        """One line: ``table `tracks`: column `x` dropped (was int16); ...`` (breaking changes first)."""
        if not self.changes:
            return f"table `{self.table}`: {self.kind}"
        ordered = sorted(self.changes, key=lambda change: not change.breaking)
        return f"table `{self.table}`: " + "; ".join(change.describe() for change in ordered)


def unreadable_reason(type_name: str) -> str | None:
    """Why serverless SQL cannot read a column of this type (None: it can), naming the fix."""
    for inner in re.findall(r"(?:timestamp|time)\[[^\]]*\]", type_name):
        timestamp, time = _TIMESTAMP.match(inner), _TIME.match(inner)
        if (timestamp and timestamp[1] == "ns") or (time and time[1] == "ns"):
            return "serverless SQL pool cannot read (nanosecond precision): write microseconds"
        if timestamp and not timestamp[2]:
            return "serverless SQL pool reads as bigint (not adjusted to UTC): write it with tz=UTC"
    return None


def _unreadable(schema: TableSchema) -> list[ColumnChange]:
    return [
        ColumnChange(column.name, "unreadable", None, column.type, breaking=True)
        for column in schema.columns if unreadable_reason(column.type)
    ]


def classify(previous: TableSchema | None, current: TableSchema) -> Classification:
    """The verdict for ``current`` given the last published schema of the same table (None: first load)."""
    unreadable = _unreadable(current)
    if previous is None:
        return Classification(current.table, BREAKING if unreadable else NEW, tuple(unreadable))
    before = previous.by_name()
    after = current.by_name()
    changes: list[ColumnChange] = []
    for column in previous.columns:
        if column.name not in after:
            changes.append(ColumnChange(column.name, "dropped", column.type, None, breaking=True))
    for column in current.columns:
        old = before.get(column.name)
        if old is None:
            changes.append(ColumnChange(column.name, "added", None, column.type, breaking=not column.nullable))
            continue
        if old.type != column.type:
            if widens(old.type, column.type):
                changes.append(ColumnChange(column.name, "widened", old.type, column.type, breaking=False))
            elif widens(column.type, old.type):
                changes.append(ColumnChange(column.name, "narrowed", old.type, column.type, breaking=True))
            else:
                changes.append(ColumnChange(column.name, "retyped", old.type, column.type, breaking=True))
        if old.nullable != column.nullable:
            change = "nullable" if column.nullable else "required"
            changes.append(ColumnChange(column.name, change, old.type, column.type, breaking=False))
    changes += unreadable
    if not changes:
        return Classification(current.table, UNCHANGED)
    kind = BREAKING if any(change.breaking for change in changes) else ADDITIVE
    return Classification(current.table, kind, tuple(changes))


def widens(before: str, after: str) -> bool:
    """Whether every value of type ``before`` is a value of type ``after`` (same meaning, no loss)."""
    if before == after or before == "null":
        return True
    if before.startswith("list<") and after.startswith("list<"):
        return widens(before[5:-1], after[5:-1])
    bits = _integer_bits(before)
    if bits is not None:
        signed_before = before in _SIGNED
        if after in _SIGNED:
            return _SIGNED[after] > bits or (signed_before and _SIGNED[after] == bits)
        if after in _UNSIGNED:
            return not signed_before and _UNSIGNED[after] > bits
        if after in _FLOATS:
            return bits + (0 if signed_before else 1) <= _MANTISSA[after]
        return False
    if before in _FLOATS:
        return after in _FLOATS and _FLOATS[after] > _FLOATS[before]
    decimal_before, decimal_after = _DECIMAL.match(before), _DECIMAL.match(after)
    if decimal_before and decimal_after:
        precision, scale = int(decimal_before[1]), int(decimal_before[2])
        precision2, scale2 = int(decimal_after[1]), int(decimal_after[2])
        return scale2 >= scale and precision2 - scale2 >= precision - scale
    time_before, time_after = _TIMESTAMP.match(before), _TIMESTAMP.match(after)
    if time_before and time_after:
        return time_before[2] == time_after[2] and _TIME_UNITS.index(time_after[1]) >= _TIME_UNITS.index(time_before[1])
    return False


def _integer_bits(type_name: str) -> int | None:
    return _SIGNED.get(type_name, _UNSIGNED.get(type_name))


__all__ = [
    "ADDITIVE", "BREAKING", "NEW", "UNCHANGED", "Classification", "ColumnChange", "classify", "unreadable_reason",
    "widens",
]
