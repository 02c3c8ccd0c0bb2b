"""Errors of the load stage. Each derives from ``ActivityError``, so the activity ends with one line
``ERROR <activity>: <message>`` that ADF shows as the pipeline's failure message."""

from __future__ import annotations

from collections.abc import Sequence

from activities.common.errors import ActivityError
from activities.load.classify import Classification


class LoadError(ActivityError):
    """Base of the load's expected failures."""


class BreakingSchemaChangeError(LoadError):
    """At least one serving table changed its schema incompatibly; nothing was published."""

    def __init__(self, snapshot_date: str, classifications: Sequence[Classification], staging: str) -> None:
        self.snapshot_date = snapshot_date
        self.classifications = tuple(classifications)
        self.tables = tuple(c.table for c in classifications)
        self.columns = {c.table: tuple(change.column for change in c.breaking_changes) for c in classifications}
        details = " | ".join(c.describe() for c in classifications)
        super().__init__(
            f"breaking schema change in snapshot {snapshot_date}: {details}. Nothing was published: serving keeps "
            f"its previous snapshots and views; the staged files are in {staging}. Make the change additive "
            "(a new nullable column, a wider type) or migrate the serving table and its view deliberately"
        )


class SnapshotMarkerError(LoadError):
    """The curated snapshot marker is missing or not JSON."""

    def __init__(self, blob: str, detail: str) -> None:
        super().__init__(f"curated snapshot marker {blob} {detail}")
        self.blob = blob


class StagingError(LoadError):
    """The data flow's staged output does not match the snapshot (a table missing, files disagreeing)."""


class PublishError(LoadError):
    """The snapshot cannot be added to the published pointer: a table of it was not stored by this load run."""


class SchemaHistoryError(LoadError):
    """A stored schema under serving/_schemas cannot be read."""


class PurviewRegistrationError(LoadError):
    """The lineage document is written, but mirroring it in Purview failed (the message says why and what to do)."""


__all__ = [
    "BreakingSchemaChangeError", "LoadError", "PublishError", "PurviewRegistrationError", "SchemaHistoryError",
    "SnapshotMarkerError",
    "StagingError",
]
