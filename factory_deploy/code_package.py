"""The activity code as Azure Batch receives it: one archive and its requirements, in a versioned folder.

ADF copies the files under a Custom activity's `folderPath` into the task working directory *flat*: "the folder
structure is currently flattened when the files are copied to Azure Batch. That is, all files are copied into a
single folder with no subfolders" (Microsoft Learn, "Use custom activities in an Azure Data Factory pipeline",
property `folderPath`; MicrosoftDocs/azure-docs articles/data-factory/transform-data-using-custom-activity.md).
A package tree does not survive that (every `__init__.py` lands on the same name), so the `activities` package
ships as one zipapp, `activities.pyz` (Python imports packages from a zip on `sys.path`, and `python3 <archive>`
puts the archive there and runs its `__main__.py`), next to `requirements.txt`, which the pool's start task
installs. Commands are `python3 activities.pyz activities.<stage>` (see `command`).

The package is pure and deterministic: the same source files give the same bytes (sorted entries, fixed
timestamps and modes, no compression), and `version` is a hash of those bytes, so a folder
`<base>/<version>/` is immutable: deploy uploads it before switching pipelines to it, runs in flight keep theirs.
Only what the activities need is shipped: `*.py` files of the package and `requirements.txt`; never dotfiles,
virtual environments, caches, tests or anything else found in the folder.

Used by deploy (upload) and the local runner (publish to local storage) alike.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ARCHIVE_NAME",
    "REQUIREMENTS_NAME",
    "CodePackage",
    "CodePackageError",
    "build_code_package",
    "command",
    "shipped_files",
]

ARCHIVE_NAME = "activities.pyz"
REQUIREMENTS_NAME = "requirements.txt"
# Zip entries carry a DOS timestamp; a fixed one (the earliest a zip can hold) keeps the bytes reproducible.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_VERSION_LENGTH = 16  # hex digits of the SHA-256: 64 bits, ample for a handful of versions per day
_SKIPPED_DIRS = {"__pycache__", "tests", "test", "venv", "site-packages", "node_modules"}

# The archive's entry point: `python3 activities.pyz activities.extract --x` runs module `activities.extract`
# as `python -m activities.extract --x` would, importing it from the archive.
_MAIN = '''\
"""Run one stage of the activities package: python3 activities.pyz activities.<stage> [args]."""
import runpy
import sys

if len(sys.argv) < 2 or not sys.argv[1].startswith("activities."):
    sys.stderr.write("ERROR activities.pyz: name the stage to run, e.g. python3 activities.pyz activities.extract\\n")
    raise SystemExit(2)
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
'''


class CodePackageError(Exception):
    """The activity package folder cannot be packaged (missing, or without requirements.txt)."""


@dataclass(frozen=True)
class CodePackage:
    """What deploy uploads to `<base folder>/<version>/`: `files` are (flat file name, bytes)."""

    version: str
    files: tuple[tuple[str, bytes], ...]
    modules: tuple[str, ...]  # archive entries taken from the package, e.g. `activities/extract/run.py`

    def folder_path(self, base: str) -> str:
        """The Custom activities' `folderPath` for this version (`base` = `<container>/<prefix>`)."""
        return f"{base.strip('/')}/{self.version}"


def command(module: str) -> str:
    """The Custom activity `command` that runs `module` (e.g. `activities.extract`) from the package.

    No shell and no `python`: Batch runs the command line directly, not under a shell, as a non-admin
    auto-user (Batch REST API, TaskAddParameter.commandLine; Microsoft Learn, "Use custom activities",
    Custom activity permissions), and Linux pool images ship `python3`."""
    return f"python3 {ARCHIVE_NAME} {module}"


def build_code_package(package_dir: Path) -> CodePackage:
    """Package the `activities` folder `package_dir` (its name becomes the top-level package in the archive)."""
    package_dir = Path(package_dir)
    requirements = package_dir / REQUIREMENTS_NAME
    if not package_dir.is_dir():
        raise CodePackageError(f"activity package folder {package_dir} does not exist")
    if not requirements.is_file():
        raise CodePackageError(
            f"{requirements} is missing: the Batch pool's start task installs the activities' requirements from it"
        )
    modules = tuple(sorted(_sources(package_dir)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        _add(archive, "__main__.py", _MAIN.encode("utf-8"))
        for name in modules:
            _add(archive, name, (package_dir.parent / name).read_bytes())
    files = ((ARCHIVE_NAME, buffer.getvalue()), (REQUIREMENTS_NAME, requirements.read_bytes()))
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return CodePackage(version=digest.hexdigest()[:_VERSION_LENGTH], files=files, modules=modules)


def shipped_files(folder: Path) -> list[Path]:
    """The files under `folder` that ship to Batch, sorted: never dotfiles, caches, compiled bytecode, virtual
    environments or tests. Deploy's code package and the local runner's uploads both take this list."""
    folder = Path(folder)
    venvs = {cfg.parent for cfg in folder.rglob("pyvenv.cfg")}  # a virtual environment, whatever its name
    shipped = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") or part in _SKIPPED_DIRS for part in relative.parts[:-1]):
            continue
        if relative.name.startswith(("test_", ".")) or relative.name.endswith(("_test.py", ".pyc")) or relative.name == "conftest.py":
            continue
        if not venvs.intersection(path.parents):
            shipped.append(path)
    return shipped


def _sources(package_dir: Path) -> Iterator[str]:
    """Archive names (`<package>/<relative path>`) of the package's Python files."""
    for path in shipped_files(package_dir):
        if path.suffix == ".py":
            yield f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}"


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = 0o644 << 16  # a regular file, rw-r--r--, whatever the source file's mode
    info.create_system = 3  # Unix, so the mode above is read as one on every platform
    archive.writestr(info, data)
