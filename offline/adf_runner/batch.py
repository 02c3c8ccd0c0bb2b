"""A Custom activity as Azure Batch runs it, on this machine.

Per attempt, holding one of the pool's task slots (`offline.adf_runner.batch_pool`): a task directory
`<workdir>/batch/<pipeline run id>/<activity slug>/attempt-<n>/` (`<activity slug>-<i>` inside the i-th ForEach
item) whose `wd/` is the task working directory; the files under the activity's
`folderPath` copied into `wd/` FLAT, as ADF does ("the folder structure is currently flattened when the files are
copied to Azure Batch. That is, all files are copied into a single folder with no subfolders": Microsoft Learn,
"Use custom activities", folderPath), so two files with one name in different subfolders is an error here, where
Batch would silently keep one; `activity.json` / `linkedServices.json` / `datasets.json` written as ADF writes them;
then `command` run as written, without a shell ("command lines executed by tasks on compute nodes don't run under
a shell": Microsoft Learn, "Azure Batch runtime environment variables"), split into arguments like a POSIX command
line, `argv[0]` looked up on the task's PATH. The task's environment is only what Batch sets: PATH (the pool's
Python first, see batch_pool) and the `AZ_BATCH_*` variables of that page; nothing of the runner's own environment.

stdout/stderr go to `stdout.txt`/`stderr.txt` in the task directory (and to the console, prefixed, when verbose)
and are then uploaded to `adfjobs/<task id>/output/` in the storage of the Batch linked service's
`linkedServiceName`, the context files to `adfjobs/<task id>/runtime/`; the activity output's `outputs` are those
two blob URLs, as ADF reports them (Microsoft Learn, "Use custom activities", Retrieve execution outputs).
`outputs.json` becomes customOutput (at most 2 MB: same page, "Pass outputs to another activity").
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from activities.common.oserrors import describe_os_error
from factory_deploy.limits import CUSTOM_OUTPUT_MAX_BYTES
from offline.adf_runner.errors import ActivityFailed

if TYPE_CHECKING:
    from activities.common.storage import Storage
    from offline.adf_runner.activity_types.base import ActivityCall
    from offline.adf_runner.services import RunnerServices

__all__ = ["CUSTOM_TASK_FAILED", "EFFECTIVE_RUNTIME", "BatchTask", "run_custom_activity", "slug"]

EFFECTIVE_RUNTIME = "local (Azure Batch emulation)"
# What ADF reports for a Custom activity (Microsoft Learn, "Troubleshoot Azure Data Factory", Custom): 2500
# "Hit unexpected exception and execution failed." when the command cannot launch or the program returns an error
# code, whatever it wrote to stderr (the reason stays in stderr.txt under adfjobs; the pipelines surface it with a
# Fail activity, docs/operations.md); 2507 "The folder path does not exist or is empty: ..." for folderPath; 2508
# "There are duplicate files in the resource folder." when two files under folderPath share a name (the copy to the
# node is flat); 2509 "Batch url ... is invalid; it must be in Uri format." for the linked service's batchUri.
# Not raised here: 2501/2502 (wrong Batch or storage keys: no keys locally), 2504 (resourceFiles over 32,768
# characters of SAS URLs: the package is two files), 2505 (a SAS needs an account key: the local stand-in for the
# Batch storage has none), 2510 (the Batch endpoint unreachable).
CUSTOM_TASK_FAILED = "2500"
CUSTOM_TASK_FAILED_MESSAGE = "Hit unexpected exception and execution failed."
FOLDER_PATH_EMPTY = "2507"
DUPLICATE_RESOURCE_FILES = "2508"
DUPLICATE_RESOURCE_FILES_MESSAGE = "There are duplicate files in the resource folder."
BATCH_URL_INVALID = "2509"
# errorCode when the task's resource files cannot be downloaded from the resourceLinkedService.
RESOURCE_FILES_FAILED = "2102"
ACTIVITY_TIMEOUT = "ActivityTimeout"
# The container of the Batch linked service's storage where ADF keeps each task's files.
JOBS_CONTAINER = "adfjobs"
CONTEXT_FILES = ("activity.json", "linkedServices.json", "datasets.json")
# Lines of a task's stderr kept in memory: the error message is the last non-empty one, even when the disk is full.
STDERR_TAIL_LINES = 20


@dataclass(frozen=True)
class BatchTask:
    task_dir: Path
    working_dir: Path
    node_root: Path
    task_id: str
    account_name: str
    account_url: str
    pool_id: str
    node_id: str

    @property
    def job_id(self) -> str:
        return f"adfv2-{self.pool_id}"

    def environment(self, path: str) -> dict[str, str]:
        """What Batch sets for a task (Microsoft Learn, "Azure Batch runtime environment variables"), and PATH."""
        return {
            "PATH": path,
            "AZ_BATCH_ACCOUNT_NAME": self.account_name,
            "AZ_BATCH_ACCOUNT_URL": self.account_url,
            "AZ_BATCH_POOL_ID": self.pool_id,
            "AZ_BATCH_JOB_ID": self.job_id,
            "AZ_BATCH_TASK_ID": self.task_id,
            "AZ_BATCH_NODE_ID": self.node_id,
            "AZ_BATCH_NODE_IS_DEDICATED": "true",
            "AZ_BATCH_NODE_ROOT_DIR": str(self.node_root),
            "AZ_BATCH_NODE_SHARED_DIR": str(self.node_root / "shared"),
            "AZ_BATCH_NODE_STARTUP_DIR": str(self.node_root / "startup"),
            "AZ_BATCH_TASK_DIR": str(self.task_dir),
            "AZ_BATCH_TASK_WORKING_DIR": str(self.working_dir),
        }


def slug(name: str) -> str:
    """A folder name for an activity name ("Extract Spotify" -> "extract-spotify")."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-").lower()
    return text or "activity"


def run_custom_activity(call: ActivityCall, services: RunnerServices, verbose: bool, log: TextIO) -> dict[str, Any]:
    activity = call.activity
    command = call.require("command", str, "the command line to run")
    batch_storage = _batch_storage(call, services)
    with services.batch_pool.slot():
        try:
            task = _prepare_task(call, services)
            _download_resources(call, services, task.working_dir, log)
            _write_context(call, services, task.working_dir)
        except OSError as exc:  # the node's disk: full, read-only, or a file where the task folder goes
            raise ActivityFailed(
                CUSTOM_TASK_FAILED,
                f"activity `{activity.name}`: cannot prepare its Batch task folder: "
                f"{describe_os_error(exc, other='another --workdir')}",
            ) from exc
        environment = task.environment(services.batch_pool.task_path())
        argv = _argv(command, activity.name, environment["PATH"])
        stdout_path, stderr_path = task.task_dir / "stdout.txt", task.task_dir / "stderr.txt"
        iterations = ",".join(str(i) for i in call.scope.iterations)
        prefix = activity.name + (f" [{iterations}]" if iterations else "")
        started = time.monotonic()
        exit_code, stderr_tail, log_failures = _run(argv, task, environment, stdout_path, stderr_path,
                                                    call.timeout.total_seconds(), prefix if verbose else None, log)
        duration = round(time.monotonic() - started, 3)
    try:
        outputs = _upload_task_files(batch_storage, task, activity.name)
    except ActivityFailed as failure:
        if exit_code in (0, None):
            raise
        # The task's own error is the cause; a log that could not be uploaded (full disk) must not hide it.
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"{_error_message(stderr_tail, exit_code, log_failures)}; "
                             f"also {failure.message}") from failure
    output: dict[str, Any] = {
        "exitcode": exit_code,
        "outputs": outputs,
        "customOutput": _custom_output(task.working_dir, activity.name),
        "effectiveIntegrationRuntime": EFFECTIVE_RUNTIME,
        "executionDuration": duration,
    }
    if exit_code is None:
        raise ActivityFailed(
            ACTIVITY_TIMEOUT,
            f"activity `{activity.name}` timed out after {call.timeout} (policy.timeout); the task was killed",
            output=output,
        )
    if exit_code != 0:
        message = CUSTOM_TASK_FAILED_MESSAGE
        if log_failures:  # the logs that hold the reason are lost (local disk): keep the reason with ADF's text
            message += " " + _error_message(stderr_tail, exit_code, log_failures)
        raise ActivityFailed(CUSTOM_TASK_FAILED, message, output=output)
    return output


def _batch_storage(call: ActivityCall, services: RunnerServices) -> tuple[str, Storage]:
    """The storage linked service of the activity's AzureBatch linked service (where `adfjobs` lives)."""
    reference = call.activity.linked_service_name
    if reference is None:
        raise ActivityFailed(
            "InvalidActivityDefinition",
            f"activity `{call.activity.name}`: a Custom activity needs linkedServiceName, an AzureBatch linked service "
            "(Microsoft Learn, \"Use custom activities\": linkedServiceName is required)",
        )
    batch = services.factory.linked_service(reference.name)
    storage_ref = batch.type_properties.get("linkedServiceName")
    name = storage_ref.get("referenceName") if isinstance(storage_ref, Mapping) else None
    if batch.type != "AzureBatch" or not isinstance(name, str):
        raise ActivityFailed(
            "InvalidActivityDefinition",
            f"activity `{call.activity.name}`: linked service `{reference.name}` must be an AzureBatch linked service "
            "with typeProperties.linkedServiceName (the storage for task files and logs)",
        )
    return name, services.open_storage(name)


def _prepare_task(call: ActivityCall, services: RunnerServices) -> BatchTask:
    run = call.scope.run
    folder = slug(call.activity.name)
    # One folder per ForEach item (nested loops: one index per level), so parallel items never share one.
    folder += "".join(f"-{index}" for index in call.scope.iterations)
    batch_root = Path(services.workdir).resolve() / "batch"
    task_dir = batch_root / run.run_id / folder / f"attempt-{call.attempt}"
    if task_dir.exists():
        shutil.rmtree(task_dir)
    working_dir = task_dir / "wd"
    working_dir.mkdir(parents=True)
    node_root = batch_root / "node"
    for sub in ("shared", "startup"):
        (node_root / sub).mkdir(parents=True, exist_ok=True)
    assert call.activity.linked_service_name is not None  # checked by _batch_storage
    batch = services.factory.linked_service(call.activity.linked_service_name.name).type_properties
    batch_uri = batch.get("batchUri")
    if batch_uri is not None and not _is_absolute_uri(batch_uri):
        raise ActivityFailed(BATCH_URL_INVALID, f"Batch url {batch_uri} is invalid; it must be in Uri format.")
    return BatchTask(
        task_dir=task_dir,
        working_dir=working_dir,
        node_root=node_root,
        task_id=call.activity_run_id,
        account_name=str(batch.get("accountName") or "local"),
        account_url=str(batch.get("batchUri") or "https://local.batch.azure.com"),
        pool_id=str(batch.get("poolName") or "local"),
        node_id=f"local-{socket.gethostname()}",
    )


def _is_absolute_uri(value: object) -> bool:
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme and parts.netloc)


def _download_resources(call: ActivityCall, services: RunnerServices, working_dir: Path, log: TextIO) -> None:
    folder_path = call.inputs.get("folderPath")
    reference = call.inputs.get("resourceLinkedService") or {}
    linked_service = reference.get("referenceName") if isinstance(reference, Mapping) else None
    if not folder_path and linked_service is None:
        return
    if not folder_path:
        raise ActivityFailed(FOLDER_PATH_EMPTY, "The folder path does not exist or is empty: ")
    if not isinstance(linked_service, str):
        # "The properties resourceLinkedService and folderPath must either both be specified or both be omitted."
        raise ActivityFailed(
            RESOURCE_FILES_FAILED,
            f"activity `{call.activity.name}`: resourceLinkedService and folderPath must both be set or both be "
            "omitted",
        )
    container, _, prefix = str(folder_path).strip("/").partition("/")
    prefix = prefix.strip("/")
    list_prefix = f"{prefix}/" if prefix else ""
    from activities.common.errors import ActivityError

    try:
        storage = services.open_storage(linked_service)
        blobs = [blob.path for blob in storage.list_blobs(container, list_prefix)]
        _check_flat_names(blobs, str(folder_path), call.activity.name, log)
        for path in blobs:
            (working_dir / path.rsplit("/", 1)[-1]).write_bytes(storage.read_bytes(container, path))
    except ActivityError as exc:
        raise ActivityFailed(
            RESOURCE_FILES_FAILED,
            f"cannot download folderPath `{folder_path}` of activity `{call.activity.name}` from linked service "
            f"`{linked_service}`: {exc}",
        ) from exc
    if not blobs:
        raise ActivityFailed(FOLDER_PATH_EMPTY, f"The folder path does not exist or is empty: {folder_path}")


def _check_flat_names(blobs: list[str], folder_path: str, activity: str, log: TextIO) -> None:
    """Refuse files that would overwrite each other once staged flat, with ADF's 2508 and its exact text; which
    files clash goes to the run's log (ADF names none of them)."""
    by_name: dict[str, list[str]] = {}
    for path in blobs:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    clashes = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    if clashes:
        name, paths = sorted(clashes.items())[0]
        log.write(
            f"activity `{activity}`: folderPath `{folder_path}` holds {len(paths)} files named `{name}` "
            f"({', '.join(sorted(paths)[:3])}{', ...' if len(paths) > 3 else ''})"
            f"{f' and {len(clashes) - 1} more clashing names' if len(clashes) > 1 else ''}: ADF copies folderPath into "
            "the task working directory flat, without subfolders; ship one archive instead (factory_deploy.code_package)\n"
        )
        raise ActivityFailed(DUPLICATE_RESOURCE_FILES, DUPLICATE_RESOURCE_FILES_MESSAGE)


def _write_context(call: ActivityCall, services: RunnerServices, working_dir: Path) -> None:
    inputs = dict(call.inputs)
    activity_json = {"name": call.activity.name, "type": "Custom", "typeProperties": inputs}
    references = inputs.get("referenceObjects") or {}
    factory = services.factory
    linked_services = [
        factory.linked_service(ref["referenceName"]).raw for ref in references.get("linkedServices") or []
    ]
    datasets = [factory.dataset(ref["referenceName"]).raw for ref in references.get("datasets") or []]
    for name, body in (("activity.json", activity_json), ("linkedServices.json", linked_services), ("datasets.json", datasets)):
        (working_dir / name).write_text(json.dumps(body, indent=2), encoding="utf-8")


def _argv(command: str, activity: str, path: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"activity `{activity}`: command `{command}` cannot be split: {exc}") from exc
    if not argv:
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"activity `{activity}`: command is empty")
    if "/" not in argv[0]:
        found = shutil.which(argv[0], path=path)
        if found is None:
            hint = "; Linux pool images ship `python3`, not `python`" if argv[0] == "python" else ""
            raise ActivityFailed(
                CUSTOM_TASK_FAILED,
                f"activity `{activity}`: `{argv[0]}` is not on the Batch node's PATH{hint} (the command runs without "
                "a shell; for shell features use /bin/sh -c \"...\")",
            )
        argv[0] = found
    return argv


def _run(
    argv: list[str], task: BatchTask, environment: dict[str, str], stdout_path: Path, stderr_path: Path, timeout: float,
    prefix: str | None, log: TextIO,
) -> tuple[int | None, str, list[OSError]]:
    """Run the task; its exit code (None if killed at the timeout), its stderr's last lines, and the errors that
    kept its stdout.txt/stderr.txt from being written (a full disk must not lose the task's own error message)."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=task.working_dir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills its children too
        )
    except OSError as exc:
        stderr_path.write_text(f"cannot start {argv[0]}: {exc}\n", encoding="utf-8")
        stdout_path.write_text("", encoding="utf-8")
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"command `{shlex.join(argv)}` could not start: {exc.strerror or exc}") from exc
    assert process.stdout is not None and process.stderr is not None
    lock = threading.Lock()
    stderr_tail: deque[bytes] = deque(maxlen=STDERR_TAIL_LINES)
    failures: list[OSError] = []
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, stdout_path, prefix, log, lock, deque(maxlen=0), failures),
                         daemon=True),
        threading.Thread(
            target=_pump, args=(process.stderr, stderr_path, f"{prefix} stderr" if prefix else None, log, lock,
                                stderr_tail, failures), daemon=True
        ),
    ]
    for pump in pumps:
        pump.start()
    try:
        exit_code: int | None = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        exit_code = None
    for pump in pumps:
        pump.join()
    return exit_code, b"".join(stderr_tail).decode("utf-8", "replace"), failures


def _upload_task_files(batch_storage: tuple[str, Storage], task: BatchTask, activity: str) -> list[str]:
    """Copy the task's logs and context files to `adfjobs/<task id>/` of the Batch storage; the log URLs."""
    from activities.common.errors import ActivityError

    name, storage = batch_storage
    folder = task.task_id
    files = [(f"{folder}/output/{log.name}", log) for log in (task.task_dir / "stdout.txt", task.task_dir / "stderr.txt")]
    files += [(f"{folder}/runtime/{context}", task.working_dir / context) for context in CONTEXT_FILES]
    try:
        for blob, local in files:
            storage.write_bytes(JOBS_CONTAINER, blob, local.read_bytes() if local.is_file() else b"")
    except ActivityError as exc:
        raise ActivityFailed(
            CUSTOM_TASK_FAILED,
            f"activity `{activity}`: cannot upload the task's stdout/stderr to `{JOBS_CONTAINER}` of linked service "
            f"`{name}`: {exc}",
        ) from exc
    return [_blob_url(storage, JOBS_CONTAINER, blob) for blob, _ in files[:2]]


def _blob_url(storage: Storage, container: str, path: str) -> str:
    from activities.common.storage import LocalFolderStorage

    if isinstance(storage, LocalFolderStorage):
        return (storage.root / container / path).resolve().as_uri()
    service = getattr(storage, "_service", None)  # AzureBlobStorage's BlobServiceClient (Azure or Azurite)
    base = str(getattr(service, "url", "")).rstrip("/")
    return f"{base}/{container}/{path}"


def _pump(
    stream: IO[bytes], target: Path, prefix: str | None, log: TextIO, lock: threading.Lock, tail: deque[bytes],
    failures: list[OSError],
) -> None:
    """Copy ``stream`` to ``target`` line by line, keeping its last lines in ``tail``. A write that fails (full disk)
    is recorded in ``failures`` and the stream is still drained to its end, so the task never blocks on a full pipe
    and its last lines still reach the error message."""
    out: IO[bytes] | None = None
    try:
        out = target.open("wb")
    except OSError as exc:
        failures.append(_named(exc, target))
    for line in iter(stream.readline, b""):
        tail.append(line)
        if out is not None:
            try:
                out.write(line)
                out.flush()
            except OSError as exc:
                failures.append(_named(exc, target))
                _close_quietly(out)
                out = None
        if prefix is not None:
            with lock:
                log.write(f"[{prefix}] {line.decode('utf-8', 'replace').rstrip()}\n")
                log.flush()
    stream.close()
    if out is not None:
        try:
            out.close()
        except OSError as exc:
            failures.append(_named(exc, target))


def _named(exc: OSError, target: Path) -> OSError:
    """``exc`` naming ``target`` (a failed write() names no file: on a full disk the log file is the one to name)."""
    if exc.filename is None:
        exc.filename = str(target)
    return exc


def _close_quietly(out: IO[bytes]) -> None:
    with suppress(OSError):  # the write already failed and was recorded; closing flushes nothing useful
        out.close()


def _custom_output(working_dir: Path, activity: str) -> Any:
    path = working_dir / "outputs.json"
    if not path.is_file():
        return {}
    size = path.stat().st_size
    if size > CUSTOM_OUTPUT_MAX_BYTES:
        raise ActivityFailed(
            CUSTOM_TASK_FAILED,
            f"activity `{activity}` wrote an outputs.json of {size} bytes; ADF's customOutput limit is "
            f"{CUSTOM_OUTPUT_MAX_BYTES} bytes (2 MB): write large results to storage and return their path",
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ActivityFailed(
            CUSTOM_TASK_FAILED, f"activity `{activity}` wrote an outputs.json that is not valid JSON: {exc}"
        ) from exc


def _error_message(stderr_tail: str, exit_code: int, log_failures: list[OSError]) -> str:
    last = next((line.strip() for line in reversed(stderr_tail.splitlines()) if line.strip()), None)
    message = last or f"the task exited with code {exit_code} and wrote nothing to stderr"
    if log_failures:
        message += (f" (its stdout.txt/stderr.txt could not be kept: "
                    f"{describe_os_error(log_failures[0], other='another --workdir')})")
    return message
