"""The load activities' configuration, read once from the activity's extended properties."""

from __future__ import annotations

from dataclasses import dataclass

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError
from activities.load.ddl import DATA_SOURCE, VIEW_SCHEMA
from activities.load.layout import is_date


@dataclass(frozen=True)
class LoadConfig:
    """What both load activities (schema check, lineage) need.

    Attributes:
        snapshot_date: ``snapshotDate`` (YYYY-MM-DD), the curated snapshot being loaded.
        run_id: ``runId``, the load pipeline's run id (names the staging folder and the lineage record).
        marker_container / marker_path: ``snapshotMarker`` (``<container>/<path>`` of the curated
            snapshot's ``_SUCCESS``, as the trigger saw it).
        staging_folder: ``stagingFolder``, where the data flow wrote, inside ``serving_container``.
        serving_container: ``servingContainer``.
        storage_linked_service: ``storageLinkedService`` (curated and serving share the account).
        view_schema / view_data_source: ``viewSchema`` (spotify) and ``viewDataSource`` (spotify_serving).
    """

    snapshot_date: str
    run_id: str
    marker_container: str
    marker_path: str
    staging_folder: str
    serving_container: str
    storage_linked_service: str
    view_schema: str = VIEW_SCHEMA
    view_data_source: str = DATA_SOURCE

    @property
    def marker_blob(self) -> str:
        return f"{self.marker_container}/{self.marker_path}"

    @property
    def staging_blob(self) -> str:
        return f"{self.serving_container}/{self.staging_folder}"

    @classmethod
    def from_context(cls, context: ActivityContext) -> LoadConfig:
        snapshot_date = context.get_str("snapshotDate").strip()
        if not is_date(snapshot_date):
            raise ActivityConfigError(
                f"extended property `snapshotDate` is {snapshot_date!r}; it must be YYYY-MM-DD (the pipeline takes "
                "it from the marker folder snapshot_date=YYYY-MM-DD)"
            )
        marker = context.get_str("snapshotMarker").strip().strip("/")
        container, _, path = marker.partition("/")
        if not container or not path:
            raise ActivityConfigError(
                f"extended property `snapshotMarker` is {marker!r}; it must be <container>/<path>, e.g. "
                f"curated/_snapshots/snapshot_date={snapshot_date}/_SUCCESS"
            )
        staging = context.get_str("stagingFolder").strip().strip("/")
        if not staging:
            raise ActivityConfigError("extended property `stagingFolder` is empty; set it to the data flow's staging folder")
        return cls(
            snapshot_date=snapshot_date,
            run_id=context.get_str("runId").strip(),
            marker_container=container,
            marker_path=path,
            staging_folder=staging,
            serving_container=context.get_str("servingContainer").strip(),
            storage_linked_service=context.get_str("storageLinkedService"),
            view_schema=context.get_str("viewSchema", VIEW_SCHEMA),
            view_data_source=context.get_str("viewDataSource", DATA_SOURCE),
        )


__all__ = ["LoadConfig"]
