"""Publish a Python package tree to storage the way deploy uploads the activity code for Batch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from activities.common.storage import Storage

__all__ = ["publish_package"]

_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def publish_package(storage: Storage, package_dir: Path, folder_path: str) -> list[str]:
    """Upload `package_dir` to `<folder_path>/<package name>/...` (folder_path = `<container>/<prefix>`), so
    a Custom activity with that folderPath gets `<package name>/` in its working directory. Returns the blob
    paths written (relative to the container)."""
    package_dir = Path(package_dir)
    container, _, prefix = folder_path.strip("/").partition("/")
    base = f"{prefix.strip('/')}/{package_dir.name}" if prefix.strip("/") else package_dir.name
    written = []
    for path in sorted(package_dir.rglob("*")):
        if not path.is_file() or _SKIPPED_DIRS.intersection(path.relative_to(package_dir).parts) or path.suffix == ".pyc":
            continue
        blob = f"{base}/{path.relative_to(package_dir).as_posix()}"
        storage.write_bytes(container, blob, path.read_bytes())
        written.append(blob)
    return written
