"""Errors of file and SQL datasets: refused before a run (`UnsupportedDatasetError`, a RunnerError) or failed
while an activity reads or writes (`DatasetAccessError`, which the activity turns into its ADF error code)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from activities.common.errors import ActivityError
from offline.adf_runner.errors import RunnerError

__all__ = ["DatasetAccessError", "UnsupportedDatasetError", "storage_errors"]


class UnsupportedDatasetError(RunnerError):
    """A dataset, location, format, linked service or setting the local runner has no stand-in for."""

    def __init__(self, dataset: str, problem: str, activity: str | None = None, pipeline: str | None = None) -> None:
        self.dataset, self.problem, self.activity, self.pipeline = dataset, problem, activity, pipeline
        used = f" (activity `{activity}` in pipeline `{pipeline}`)" if activity and pipeline else ""
        super().__init__(f"dataset `{dataset}`{used}: {problem}")


class DatasetAccessError(Exception):
    """Reading or writing a dataset's files failed (a missing blob, a malformed file, a storage error).
    `side` is ADF's word for where it happened: "Source" or "Sink"."""

    def __init__(self, side: str, message: str) -> None:
        self.side, self.message = side, message
        super().__init__(message)


@contextmanager
def storage_errors(side: str) -> Iterator[None]:
    """The one place a storage client's error (a missing blob, an invalid container name, Azurite down, a linked
    service it cannot open) becomes a DatasetAccessError on `side`, so the activity fails with one line."""
    try:
        yield
    except ActivityError as exc:
        raise DatasetAccessError(side, str(exc)) from exc
