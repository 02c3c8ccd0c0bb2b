"""The transform's configuration, read once from the activity's extended properties."""

from __future__ import annotations

from dataclasses import dataclass

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError

DEFAULT_MANIFEST_FILE_NAME = "_manifest.json"


@dataclass(frozen=True)
class TransformConfig:
    """Where the run manifest is and where curated tables go.

    Attributes:
        manifest_container: container of the manifest (first segment of ``manifestFolderPath``).
        manifest_dir: folder of the manifest inside that container.
        manifest_file_name: ``manifestFileName`` (``_manifest.json``).
        curated_container: container the curated tables are written to.
        storage_linked_service: name of the AzureBlobStorage linked service for both containers.
    """

    manifest_container: str
    manifest_dir: str
    manifest_file_name: str
    curated_container: str
    storage_linked_service: str

    @property
    def manifest_path(self) -> str:
        """Manifest blob path inside ``manifest_container``."""
        return f"{self.manifest_dir}/{self.manifest_file_name}"

    @property
    def manifest_blob(self) -> str:
        """``<container>/<path>`` of the manifest, as messages and customOutput name it."""
        return f"{self.manifest_container}/{self.manifest_path}"

    @classmethod
    def from_context(cls, context: ActivityContext) -> TransformConfig:
        """Read ``manifestFolderPath``, ``manifestFileName``, ``curatedContainer``, ``storageLinkedService``.

        Raises:
            ActivityConfigError: a property is missing, or ``manifestFolderPath`` is not ``<container>/<dir>``.
        """
        folder = context.get_str("manifestFolderPath").strip().strip("/")
        # ADF's storage event trigger gives @triggerBody().folderPath as "<container>/<dir>".
        container, _, directory = folder.partition("/")
        if not container or not directory:
            raise ActivityConfigError(
                f"extended property `manifestFolderPath` is {folder!r}; it must be <container>/<folder> "
                "(ADF: @triggerBody().folderPath), e.g. raw/spotify/manifests/ingest_date=2026-11-24/run_id=<id>"
            )
        file_name = context.get_str("manifestFileName", DEFAULT_MANIFEST_FILE_NAME).strip().strip("/")
        if not file_name:
            raise ActivityConfigError("extended property `manifestFileName` is empty; set it to _manifest.json")
        curated = context.get_str("curatedContainer").strip()
        if not curated:
            raise ActivityConfigError(
                "extended property `curatedContainer` is empty; set it to the curated container name"
            )
        return cls(
            manifest_container=container,
            manifest_dir=directory,
            manifest_file_name=file_name,
            curated_container=curated,
            storage_linked_service=context.get_str("storageLinkedService"),
        )


__all__ = ["DEFAULT_MANIFEST_FILE_NAME", "TransformConfig"]
