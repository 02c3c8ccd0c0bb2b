"""The Batch code package: deterministic, content-addressed, only the activities' code, and it survives ADF's
flat staging of folderPath (Microsoft Learn, "Use custom activities", folderPath: files are copied "into a single
folder with no subfolders")."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from activities.common.storage import LocalFolderStorage
from factory_deploy.code_package import (
    ARCHIVE_NAME,
    REQUIREMENTS_NAME,
    CodePackageError,
    build_code_package,
    command,
    shipped_files,
)
from offline.adf_runner import publish_package

REPO = Path(__file__).resolve().parents[2]


def _package(root: Path) -> Path:
    package = root / "activities"
    (package / "stage").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "stage" / "__init__.py").write_text("")
    (package / "stage" / "__main__.py").write_text(
        "import json, sys\nfrom activities.stage.work import answer\n"
        "json.dump({'answer': answer(), 'argv': sys.argv[1:]}, open('outputs.json', 'w'))\n"
    )
    (package / "stage" / "work.py").write_text("def answer():\n    return 42\n")
    (package / REQUIREMENTS_NAME).write_text("requests>=2\n")
    return package


def test_when_built_twice_then_bytes_and_version_are_identical(tmp_path: Path) -> None:
    package = _package(tmp_path)

    first, second = build_code_package(package), build_code_package(package)

    assert first == second
    assert [name for name, _ in first.files] == [ARCHIVE_NAME, REQUIREMENTS_NAME]
    assert first.folder_path("batch-code/activities/") == f"batch-code/activities/{first.version}"


def test_when_a_file_changes_then_the_version_changes(tmp_path: Path) -> None:
    package = _package(tmp_path)
    before = build_code_package(package).version

    (package / "stage" / "work.py").write_text("def answer():\n    return 43\n")

    assert build_code_package(package).version != before


def test_when_folder_holds_caches_dotfiles_venvs_and_tests_then_only_code_ships(tmp_path: Path) -> None:
    package = _package(tmp_path)
    before = build_code_package(package)
    for junk in ("__pycache__/work.cpython-311.py", ".hidden/x.py", "tests/test_stage.py", "stage/test_work.py",
                 "venv/lib/site.py", "myenv/lib/mod.py", "conftest.py"):
        (package / junk).parent.mkdir(parents=True, exist_ok=True)
        (package / junk).write_text("raise SystemExit('must not ship')\n")
    (package / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (package / ".env").write_text("SECRET=1\n")
    (package / "stage" / "notes.txt").write_text("not code\n")

    after = build_code_package(package)

    assert after == before
    names = zipfile.ZipFile(BytesIO(after.files[0][1])).namelist()
    assert names == ["__main__.py", "activities/__init__.py", "activities/stage/__init__.py",
                     "activities/stage/__main__.py", "activities/stage/work.py"]


def test_when_the_runner_uploads_a_tree_then_it_skips_what_the_code_package_skips(tmp_path: Path) -> None:
    # Arrange: one list of what ships to Batch (factory_deploy.code_package.shipped_files) for deploy and the runner
    package = _package(tmp_path)
    for junk in ("__pycache__/work.cpython-311.pyc", ".pytest_cache/v/x", "tests/test_stage.py", "myenv/lib/mod.py"):
        (package / junk).parent.mkdir(parents=True, exist_ok=True)
        (package / junk).write_text("must not ship\n")
    (package / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (package / "stage" / "notes.txt").write_text("data the scripts read\n")

    # Act
    blobs = publish_package(LocalFolderStorage(tmp_path / "storage"), package, "code/batch")

    # Assert
    assert blobs == [f"batch/activities/{name}" for name in ("__init__.py", REQUIREMENTS_NAME, "stage/__init__.py",
                                                             "stage/__main__.py", "stage/notes.txt", "stage/work.py")]
    shipped_code = tuple(f"activities/{p.relative_to(package).as_posix()}" for p in shipped_files(package) if p.suffix == ".py")
    assert shipped_code == build_code_package(package).modules


def test_when_staged_flat_then_the_command_runs_the_stage(tmp_path: Path) -> None:
    package = build_code_package(_package(tmp_path / "src"))
    task = tmp_path / "task"
    task.mkdir()
    for name, data in package.files:  # flat, as ADF stages folderPath
        (task / name).write_bytes(data)

    argv = command("activities.stage").split() + ["--flag"]
    argv[0] = sys.executable  # the test's interpreter stands in for the pool's python3
    done = subprocess.run(argv, cwd=task, capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert (task / "outputs.json").read_text() == '{"answer": 42, "argv": ["--flag"]}'


def test_when_no_stage_is_named_then_the_archive_exits_2_with_one_line(tmp_path: Path) -> None:
    package = build_code_package(_package(tmp_path))
    (tmp_path / ARCHIVE_NAME).write_bytes(package.files[0][1])

    done = subprocess.run([sys.executable, ARCHIVE_NAME], cwd=tmp_path, capture_output=True, text=True, check=False)

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "ERROR activities.pyz: name the stage to run, e.g. python3 activities.pyz activities.extract"
    ]


def test_when_requirements_are_missing_then_error_names_the_file(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / REQUIREMENTS_NAME).unlink()

    with pytest.raises(CodePackageError, match=r"requirements.txt is missing"):
        build_code_package(package)


def test_the_repository_package_holds_every_stage_the_factory_runs() -> None:
    package = build_code_package(REPO / "activities")

    for module in ("activities/extract/__main__.py", "activities/extract/finalize.py",
                   "activities/transform/__main__.py", "activities/load/check.py", "activities/load/lineage.py"):
        assert module in package.modules
    assert not any("__pycache__" in name or "/tests/" in name for name in package.modules)
