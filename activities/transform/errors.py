"""Errors of the transform stage.

Every error derives from ``ActivityError`` so the entrypoint ends the activity with one
``ERROR transform: <message>`` line. Messages name the blob (``<container>/<path>``) and,
where there is one, the fix.
"""

from __future__ import annotations

from activities.common.errors import ActivityError


class TransformError(ActivityError):
    """Base of the transform's expected failures."""


class ManifestNotFoundError(TransformError):
    """The run manifest named by ``manifestFolderPath``/``manifestFileName`` does not exist."""

    def __init__(self, blob: str) -> None:
        super().__init__(
            f"manifest {blob} not found: the extract run has not finished (it writes the manifest last) "
            "or manifestFolderPath/manifestFileName point elsewhere"
        )
        self.blob = blob


class ManifestInvalidError(TransformError):
    """The manifest is not JSON or does not follow the contract in docs/architecture.md."""

    def __init__(self, blob: str, detail: str) -> None:
        super().__init__(f"manifest {blob} is invalid: {detail}")
        self.blob = blob
        self.detail = detail


class PartNotFoundError(TransformError):
    """A part listed in the manifest is missing from the raw zone."""

    def __init__(self, blob: str, manifest_blob: str) -> None:
        super().__init__(f"part {blob} listed in manifest {manifest_blob} not found in storage")
        self.blob = blob
        self.manifest_blob = manifest_blob


class PartIntegrityError(TransformError):
    """A part's stored bytes differ from the size or sha256 the manifest recorded."""

    def __init__(self, blob: str, detail: str) -> None:
        super().__init__(f"part {blob} failed its integrity check: {detail}")
        self.blob = blob
        self.detail = detail


class PartDecodeError(TransformError):
    """A part is not gzip-compressed UTF-8 JSON."""

    def __init__(self, blob: str, detail: str) -> None:
        super().__init__(f"part {blob} could not be decoded: {detail}")
        self.blob = blob
        self.detail = detail


class PayloadShapeError(TransformError):
    """A response body does not have the shape of the Spotify response it claims to be.

    Raised by the pure parse modules, which do not know which blob they read; ``run`` quarantines
    the whole part under its entity's table, naming the blob (the run goes on).
    """

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.where = where
        self.detail = detail


class PreviousSnapshotError(TransformError):
    """A file of the earlier snapshot a run builds on cannot be read as that table's rows.

    Raised before anything is written, so the earlier snapshot and this date's stay as they were.
    """

    def __init__(self, blob: str, detail: str) -> None:
        super().__init__(
            f"earlier snapshot {blob} cannot be carried into this snapshot: {detail}; "
            "rerun the transform of that snapshot's date (force true) to rewrite it"
        )
        self.blob = blob
        self.detail = detail


__all__ = [
    "ManifestInvalidError",
    "ManifestNotFoundError",
    "PartDecodeError",
    "PartIntegrityError",
    "PartNotFoundError",
    "PayloadShapeError",
    "PreviousSnapshotError",
    "TransformError",
]
