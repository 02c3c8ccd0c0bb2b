"""Put activity code where a Custom activity's folderPath reads it, as deploy uploads it for Batch."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from factory_deploy.code_package import build_code_package, shipped_files

if TYPE_CHECKING:
    from activities.common.storage import Storage

__all__ = ["publish_code_package", "publish_package"]

def publish_code_package(storage: Storage, package_dir: Path, base_folder: str) -> str:
    """Upload the code package of `package_dir` (factory_deploy.code_package) flat into
    `<base_folder>/<version>/` and return that folder: the value of the activities' folderPath."""
    package = build_code_package(package_dir)
    folder_path = package.folder_path(base_folder)
    container, _, prefix = folder_path.partition("/")
    for name, data in package.files:
        storage.write_bytes(container, f"{prefix}/{name}", data)
    return folder_path


def publish_package(storage: Storage, package_dir: Path, folder_path: str) -> list[str]:
    """Upload the tree `package_dir` as is to `<folder_path>/<package name>/...` (folder_path =
    `<container>/<prefix>`). Batch stages folderPath flat, so only a tree whose file names are unique survives
    (fixture scripts); a Python package tree does not (see publish_code_package). Returns the blob paths."""
    package_dir = Path(package_dir)
    container, _, prefix = folder_path.strip("/").partition("/")
    base = f"{prefix.strip('/')}/{package_dir.name}" if prefix.strip("/") else package_dir.name
    written = []
    for path in shipped_files(package_dir):
        blob = f"{base}/{path.relative_to(package_dir).as_posix()}"
        storage.write_bytes(container, blob, path.read_bytes())
        written.append(blob)
    return written
