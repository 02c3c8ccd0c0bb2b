"""Operating-system errors (full disk, read-only file system, permission denied, a file where a folder belongs) end
in ONE line naming the path and the fix, from the storage boundary, the activities' entrypoint, the local Batch
runner and run_local; nothing already stored is damaged.

Tests run as root here, where chmod does not stop writes, so the read-only and full-disk cases are injected as the
OSError the kernel raises (errno EROFS / ENOSPC) at the file layer; "a file where the workdir goes" is real, and
where the machine lets the tests mount a small tmpfs the full disk is real too (skipped elsewhere).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pytest

from activities.common import ActivityContext, run_activity
from activities.common.errors import StorageError
from activities.common.oserrors import describe_os_error, is_environment_error
from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory
from offline.adf_runner.monitor import Monitor, MonitorWriteError
from offline.run_local.main import main as run_local_main

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "tests" / "fixtures" / "adf_runner_flow"

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
EROFS = OSError(errno.EROFS, os.strerror(errno.EROFS))


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (errno.ENOSPC, "free space on that disk or use another place"),
        (errno.EROFS, "the file system is read-only: remount it read-write or use another place"),
        (errno.EACCES, "give this user write access to it or use another place"),
        (errno.ENOTDIR, "a file stands where a folder is needed: move that file away or use another place"),
    ],
)
def test_when_an_os_error_is_described_then_it_names_cause_path_and_fix(code: int, fix: str) -> None:
    exc = OSError(code, os.strerror(code), "/data/x")

    assert describe_os_error(exc, other="another place") == f"{os.strerror(code)}: /data/x; {fix}"
    assert is_environment_error(exc)
    assert not is_environment_error(ConnectionResetError(errno.ECONNRESET, "reset"))


# -- the storage boundary ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("failure", "cause"), [(ENOSPC, "No space left on device"), (EROFS, "Read-only file system")])
def test_when_the_disk_refuses_a_write_then_one_storage_error_names_blob_file_and_fix_and_the_old_blob_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: OSError, cause: str
) -> None:
    # Arrange
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("raw", "spotify/part-00000.json", b"old")
    real_fdopen = os.fdopen

    def full_disk_fdopen(fd: int, *args: Any, **kwargs: Any) -> IO[Any]:
        handle = real_fdopen(fd, *args, **kwargs)

        def refuse(data: bytes) -> int:
            raise OSError(failure.errno, failure.strerror, handle.name)

        handle.write = refuse  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(os, "fdopen", full_disk_fdopen)

    # Act
    with pytest.raises(StorageError) as raised:
        storage.write_bytes("raw", "spotify/part-00000.json", b"new")
    monkeypatch.undo()

    # Assert
    message = str(raised.value)
    assert message.startswith(f"cannot write raw/spotify/part-00000.json: {cause}: ")
    assert "\n" not in message and " or use another storage folder" in message
    assert storage.read_bytes("raw", "spotify/part-00000.json") == b"old"
    assert os.listdir(tmp_path / "raw" / "spotify") == ["part-00000.json"]  # no temp file left behind


def test_when_the_storage_root_is_a_file_then_a_write_names_it_and_the_file_is_untouched(tmp_path: Path) -> None:
    root = tmp_path / "storage"
    root.write_text("not a folder")

    with pytest.raises(StorageError) as raised:
        LocalFolderStorage(root).write_bytes("raw", "a/b.json", b"{}")

    assert str(raised.value).startswith("cannot write raw/a/b.json: Not a directory: ")
    assert "a file stands where a folder is needed" in str(raised.value)
    assert root.read_text() == "not a folder"


# -- the activities' entrypoint ------------------------------------------------------------------------------------


def test_when_an_activity_hits_a_full_disk_outside_storage_then_one_error_line_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: a context like Batch writes it; the activity's own spill file hits ENOSPC (pyarrow raises OSError too)
    (tmp_path / "activity.json").write_text(json.dumps({"name": "Demo", "typeProperties": {"command": "x"}}))
    (tmp_path / "linkedServices.json").write_text("[]")
    (tmp_path / "datasets.json").write_text("[]")
    monkeypatch.setenv("AZ_BATCH_TASK_WORKING_DIR", str(tmp_path))

    def main(context: ActivityContext) -> Mapping[str, Any]:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "spill-0.arrow"))

    # Act
    with pytest.raises(SystemExit) as exited:
        run_activity("transform", main)

    # Assert
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err == (f"ERROR transform: No space left on device: {tmp_path / 'spill-0.arrow'}; free space on that disk "
                   "or use a node with a writable disk\n")


# -- the local Batch runner ----------------------------------------------------------------------------------------


def test_when_the_disk_fills_during_a_batch_task_then_the_task_error_is_reported_not_an_empty_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the task's stdout.txt/stderr.txt cannot be written (ENOSPC), as on a full workdir disk
    root = tmp_path / "storage"
    root.mkdir()
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    runner = LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions())
    real_open = Path.open

    def full_disk_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        if self.name in ("stdout.txt", "stderr.txt") and "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", full_disk_open)
    command = "/bin/sh -c \"echo 'ERROR extract: cannot write raw/x.json: No space left on device' >&2; exit 1\""

    # Act
    (run,) = runner.run_pipeline("PL_Task_Command", {"command": command}).runs

    # Assert
    (task,) = runner.monitor.activity_runs(run.runId)
    assert task.error.errorCode == "2500"
    assert task.error.message.startswith(
        "Hit unexpected exception and execution failed. ERROR extract: cannot write raw/x.json: No space left on device "
        "(its stdout.txt/stderr.txt could not be "
        "kept: No space left on device: "
    )
    assert "wrote nothing to stderr" not in task.error.message
    assert task.error.message.endswith("free space on that disk or use another --workdir)")


def test_when_the_batch_task_folder_cannot_be_made_then_the_activity_fails_in_one_line_naming_it(
    tmp_path: Path
) -> None:
    root = tmp_path / "storage"
    root.mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "batch").write_text("a file where the task folders go")
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    runner = LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions())

    (run,) = runner.run_pipeline("PL_Task_Command", {"command": "true"}).runs

    (task,) = runner.monitor.activity_runs(run.runId)
    assert task.error.message.startswith("activity `Task`: cannot prepare its Batch task folder: Not a directory: ")
    assert task.error.message.endswith("a file stands where a folder is needed: move that file away or use another "
                                       "--workdir")


# -- run_local -----------------------------------------------------------------------------------------------------


def test_when_the_workdir_is_a_file_then_run_local_says_so_in_one_line_and_leaves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "run"
    workdir.write_text("keep me")

    code = run_local_main(["--workdir", str(workdir), "--date", "2026-11-24"])

    assert code == 1
    assert capsys.readouterr().err == (
        f"run_local: error: --workdir {workdir} is a file, not a folder: move it away or pass another --workdir\n")
    assert workdir.read_text() == "keep me"


@pytest.mark.parametrize(("failure", "fix"), [
    (EROFS, "the file system is read-only: remount it read-write or use another Key Vault folder"),
    (ENOSPC, "free space on that disk or use another Key Vault folder"),
])
def test_when_the_workdir_refuses_writes_then_run_local_says_so_in_one_line_and_keeps_what_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], failure: OSError, fix: str
) -> None:
    # Arrange: a workdir of an earlier run; its Key Vault secrets stay readable, new writes are refused
    workdir = tmp_path / "run"
    (workdir / "storage" / "curated").mkdir(parents=True)
    (workdir / "storage" / "curated" / "kept.parquet").write_bytes(b"earlier snapshot")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(failure.errno, failure.strerror, str(workdir / "keyvault"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)

    # Act
    code = run_local_main(["--workdir", str(workdir), "--date", "2026-11-24"])

    # Assert
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("run_local: error: cannot store secret ")
    assert err.rstrip().endswith(f"{failure.strerror}: {workdir / 'keyvault'}; {fix}")
    assert (workdir / "storage" / "curated" / "kept.parquet").read_bytes() == b"earlier snapshot"


# -- a real full disk, where this machine lets the tests mount one -------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs: a real ENOSPC. Needs root (CAP_SYS_ADMIN); skipped elsewhere, the injected cases above remain."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
                                 capture_output=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_when_a_real_disk_is_full_then_the_write_fails_in_one_line_and_the_old_blob_stays(small_disk: Path) -> None:
    storage = LocalFolderStorage(small_disk)
    storage.write_bytes("raw", "spotify/part-00000.json", b"old")

    with pytest.raises(StorageError) as raised:
        storage.write_bytes("raw", "spotify/part-00000.json", b"x" * (1024 * 1024))

    assert str(raised.value) == (f"cannot write raw/spotify/part-00000.json: No space left on device: "
                                 f"{small_disk / 'raw' / 'spotify' / 'part-00000.json'}; free space on that "
                                 "disk or use another storage folder")
    assert storage.read_bytes("raw", "spotify/part-00000.json") == b"old"
    assert os.listdir(small_disk / "raw" / "spotify") == ["part-00000.json"]


def test_when_a_batch_task_fills_the_real_disk_then_its_own_error_is_reported(tmp_path: Path, small_disk: Path) -> None:
    # Arrange: the Batch task folders (task logs) on the small disk; storage and the runs record elsewhere
    root = tmp_path / "storage"
    root.mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "batch").symlink_to(small_disk)
    factory = load_factory(FLOW, overrides={"Ls_Storage": {"typeProperties.serviceEndpoint": root.as_uri()}})
    runner = LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions())
    command = "/bin/sh -c \"head -c 2000000 /dev/zero; echo 'ERROR extract: the real cause' >&2; exit 1\""

    # Act
    (run,) = runner.run_pipeline("PL_Task_Command", {"command": command}).runs

    # Assert
    (task,) = runner.monitor.activity_runs(run.runId)
    assert task.error.message.startswith("Hit unexpected exception and execution failed. ERROR extract: the real "
                                         "cause (its stdout.txt/stderr.txt could not be kept: No space left on device: ")
    assert task.error.message.endswith("/stdout.txt; free space on that disk or use another --workdir)")


# -- the runner's monitoring record (<workdir>/runs/) ---------------------------------------------------------------


def _record_of(size: int) -> Monitor:
    monitor = Monitor()
    monitor.to_json = lambda since=0: {"pipelineRuns": [], "padding": "x" * size}  # type: ignore[method-assign]
    return monitor


def test_when_the_disk_fills_while_the_monitoring_record_is_written_then_one_line_and_the_earlier_record_stays(
    small_disk: Path,
) -> None:
    # Arrange: an earlier run's record of the same label on the small disk
    earlier = _record_of(10).write_json(small_disk, "2026-11-24")
    kept = earlier.read_bytes()

    # Act
    with pytest.raises(MonitorWriteError) as raised:
        _record_of(1024 * 1024).write_json(small_disk, "2026-11-24")

    # Assert: the record is named, the earlier one is whole, no half-written file is left beside it
    assert str(raised.value) == (f"cannot write the monitoring record: No space left on device: {earlier}; "
                                 "free space on that disk or use another --workdir")
    assert earlier.read_bytes() == kept
    assert os.listdir(earlier.parent) == [earlier.name]


def test_when_a_file_stands_where_the_runs_folder_goes_then_the_monitoring_record_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("not a folder", encoding="utf-8")

    with pytest.raises(MonitorWriteError) as raised:
        _record_of(10).write_json(tmp_path, "2026-11-24")

    assert str(raised.value).startswith("cannot write the monitoring record: ")
    assert str(raised.value).endswith(f"{tmp_path / 'runs' / '2026-11-24-runs.json'}; a file stands where a folder is "
                                      "needed: move that file away or use another --workdir")
    assert (tmp_path / "runs").read_text(encoding="utf-8") == "not a folder"
