"""Which files a file dataset and a source's `storeSettings` select, as the Blob and ADLS Gen2 connectors select them.

Rules (Learn, connector-azure-blob-storage and connector-azure-data-lake-storage, "Copy activity properties" and
"Folder and file filter examples"):
- a dataset `fileName` names one file; without it the dataset names every file under `folderPath`;
- `recursive` (default true) reads the subfolders too, otherwise only the folder's own files;
- `wildcardFolderPath` (relative to the container, it replaces the dataset's folderPath) and `wildcardFileName`
  filter with `*` (zero or more characters) and `?` (zero or one character); `^` escapes a wildcard or itself;
- `prefix` (Blob only) selects the blobs whose name starts with it, under the container;
- `modifiedDatetimeStart` <= last modified < `modifiedDatetimeEnd`;
- a folder that holds no blob at all is "the required Blob is missing" (flat namespace: a folder exists only through
  its blobs); a wildcard that matches none of the blobs there selects nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from factory_deploy.json_keys import get_property
from offline.adf_runner.datasets.errors import DatasetAccessError
from offline.adf_runner.datasets.model import FileLocation

if TYPE_CHECKING:
    from activities.common.storage import BlobInfo, Storage

__all__ = ["ChildItem", "ReadSettings", "SourceFile", "child_items", "read_settings", "select_files", "wildcard_regex"]


@dataclass(frozen=True)
class SourceFile:
    """A selected file: its blob `path` in the container and its path `relative` to the folder the selection
    started from (what preserveHierarchy keeps)."""

    path: str
    relative: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class ReadSettings:
    recursive: bool = True
    wildcard_folder: str | None = None
    wildcard_file: str | None = None
    prefix: str | None = None
    modified_start: datetime | None = None
    modified_end: datetime | None = None
    delete_after: bool = False


@dataclass(frozen=True)
class ChildItem:
    """One entry of a folder listing (GetMetadata childItems: name and type File or Folder)."""

    name: str
    type: str


def read_settings(store_settings: Mapping[str, Any] | None, where: str) -> ReadSettings:
    """The evaluated `storeSettings` of a source (type checked by the activity's validate)."""
    settings = store_settings or {}

    def value(key: str, kind: type, what: str) -> Any:
        found = get_property(settings, key)
        if found is None:
            return None
        if not isinstance(found, kind) or (kind is not bool and isinstance(found, bool)):
            raise DatasetAccessError("Source", f"{where}: storeSettings.{key} must be {what}, got {found!r}")
        return found

    recursive = value("recursive", bool, "true or false")
    return ReadSettings(
        recursive=True if recursive is None else recursive,
        wildcard_folder=value("wildcardFolderPath", str, "a string") or None,
        wildcard_file=value("wildcardFileName", str, "a string") or None,
        prefix=value("prefix", str, "a string") or None,
        modified_start=_instant(value("modifiedDatetimeStart", str, "an ISO 8601 date-time"), where, "modifiedDatetimeStart"),
        modified_end=_instant(value("modifiedDatetimeEnd", str, "an ISO 8601 date-time"), where, "modifiedDatetimeEnd"),
        delete_after=bool(value("deleteFilesAfterCompletion", bool, "true or false")),
    )


def _instant(text: str | None, where: str, key: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DatasetAccessError("Source", f"{where}: storeSettings.{key} {text!r} is not an ISO 8601 date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # ADF reads them as UTC


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """ADF's wildcard: `*` zero or more characters, `?` zero or one, `^` escapes the next character; never across '/'."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "^" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append("[^/]*" if char == "*" else "[^/]?" if char == "?" else re.escape(char))
        index += 1
    return re.compile("".join(parts))


def _has_wildcard(segment: str) -> bool:
    return bool(re.search(r"(?<!\^)[*?]", segment))


def select_files(storage: Storage, location: FileLocation, settings: ReadSettings) -> list[SourceFile]:
    """The files a source reads, in name order."""
    container = location.container
    if settings.prefix is not None:
        prefix = settings.prefix.lstrip("/")
        base = prefix.rpartition("/")[0]
        blobs = _listed(storage, location, prefix, prefix)
        chosen = [(b, _relative(b.path, base)) for b in blobs]
    elif settings.wildcard_folder is not None or settings.wildcard_file is not None:
        chosen = _wildcard(storage, location, settings)
    elif location.file_name:
        path = location.path
        if not storage.exists(container, path):
            raise DatasetAccessError("Source", f"the required Blob is missing: {container}/{path} does not exist")
        blob = next(b for b in storage.list_blobs(container, path) if b.path == path)
        chosen = [(blob, location.file_name)]
    else:
        folder = location.folder_path
        prefix = f"{folder}/" if folder else ""
        blobs = _listed(storage, location, prefix, folder)
        chosen = [(b, b.path[len(prefix):]) for b in blobs if settings.recursive or "/" not in b.path[len(prefix):]]
    return [SourceFile(b.path, relative, b.size, b.last_modified) for b, relative in chosen if _modified(b, settings)]


def _listed(storage: Storage, location: FileLocation, prefix: str, shown: str) -> list[BlobInfo]:
    blobs = [b for b in storage.list_blobs(location.container, prefix) if not b.path.endswith("/")]
    if not blobs:
        raise DatasetAccessError("Source", f"the required Blob is missing: no blob under {location.container}/{shown}")
    return blobs


def _relative(path: str, base: str) -> str:
    return path[len(base) + 1:] if base else path


def _wildcard(storage: Storage, location: FileLocation, settings: ReadSettings) -> list[tuple[BlobInfo, str]]:
    folder = (settings.wildcard_folder if settings.wildcard_folder is not None else location.folder_path).strip("/")
    segments = [s for s in folder.split("/") if s]
    static = []
    for segment in segments:
        if _has_wildcard(segment):
            break
        static.append(segment.replace("^", "") if "^" in segment else segment)
    base = "/".join(static)
    patterns = [wildcard_regex(s) if _has_wildcard(s) else re.compile(re.escape(s.replace("^", ""))) for s in segments]
    file_pattern = wildcard_regex(settings.wildcard_file or location.file_name or "*")
    chosen = []
    for blob in _listed(storage, location, f"{base}/" if base else "", base):
        *folders, name = blob.path.split("/")
        if len(folders) < len(patterns) or (not settings.recursive and len(folders) != len(patterns)):
            continue
        if all(p.fullmatch(f) for p, f in zip(patterns, folders)) and file_pattern.fullmatch(name):
            chosen.append((blob, _relative(blob.path, base)))
    return chosen


def _modified(blob: BlobInfo, settings: ReadSettings) -> bool:
    if settings.modified_start and blob.last_modified < settings.modified_start:
        return False
    return not (settings.modified_end and blob.last_modified >= settings.modified_end)


def child_items(blobs: Iterable[BlobInfo], folder: str) -> list[ChildItem]:
    """The files and folders directly under `folder` (blob paths), each once, in name order: a blob's first
    path segment below the folder is a Folder when more segments follow (flat namespace: folders are virtual)."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    found: dict[str, str] = {}
    for blob in blobs:
        if not blob.path.startswith(prefix):
            continue
        head, slash, _ = blob.path[len(prefix):].partition("/")
        if head:
            found[head] = "Folder" if slash else found.get(head, "File")
    return [ChildItem(name, kind) for name, kind in sorted(found.items())]
