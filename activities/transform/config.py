"""The transform's configuration, read once from the activity's extended properties."""

from __future__ import annotations

from dataclasses import dataclass

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError

DEFAULT_MANIFEST_FILE_NAME = "_manifest.json"
DEFAULT_QUARANTINE_CONTAINER = "quarantine"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _flag(context: ActivityContext, name: str) -> bool:
    """A boolean extended property: JSON true/false, or a string ADF evaluated ("true", "False", …)."""
    value = context.extended_properties.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ActivityConfigError(f"extended property `{name}` must be true or false, got {value!r}")


@dataclass(frozen=True)
class TransformConfig:
    """Where the run manifest is and where curated tables go.

    Attributes:
        manifest_container: container of the manifest (first segment of ``manifestFolderPath``).
        manifest_dir: folder of the manifest inside that container.
        manifest_file_name: ``manifestFileName`` (``_manifest.json``).
        curated_container: container the curated tables are written to.
        storage_linked_service: name of the AzureBlobStorage linked service for every container.
        quarantine_container: container bad records go to (``quarantineContainer``, default ``quarantine``).
        force: ``force`` true reprocesses a manifest already processed (a duplicate event is skipped otherwise).
    """

    manifest_container: str
    manifest_dir: str
    manifest_file_name: str
    curated_container: str
    storage_linked_service: str
    quarantine_container: str = DEFAULT_QUARANTINE_CONTAINER
    force: bool = False

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
        """Read ``manifestFolderPath``, ``manifestFileName``, ``curatedContainer``, ``storageLinkedService``,
        ``quarantineContainer`` (optional) and ``force`` (optional).

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
        quarantine = context.get_str("quarantineContainer", DEFAULT_QUARANTINE_CONTAINER).strip()
        if not quarantine or quarantine == curated:
            raise ActivityConfigError(
                f"extended property `quarantineContainer` is {quarantine!r}; it must name a container other than "
                "the curated one (default: quarantine)"
            )
        return cls(
            manifest_container=container,
            manifest_dir=directory,
            manifest_file_name=file_name,
            curated_container=curated,
            storage_linked_service=context.get_str("storageLinkedService"),
            quarantine_container=quarantine,
            force=_flag(context, "force"),
        )


__all__ = ["DEFAULT_MANIFEST_FILE_NAME", "DEFAULT_QUARANTINE_CONTAINER", "TransformConfig"]
