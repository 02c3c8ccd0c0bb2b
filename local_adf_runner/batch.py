"""A Custom activity as Azure Batch runs it, on this machine.

For each attempt: a fresh task working directory `<workdir>/batch/<pipeline run id>/<activity slug>/attempt-<n>/`
(`<activity slug>-<i>` inside the i-th ForEach item, `-<i>-<j>` in nested loops), the files under the activity's `folderPath`
downloaded into it from the `resourceLinkedService` storage (relative paths kept: with folderPath
`batch-code/activities` and blobs `activities/activities/...`, the folder gets the `activities/` package),
`activity.json` / `linkedServices.json` / `datasets.json` written as ADF writes them, then `command` run as a
subprocess with the working directory as cwd and the AZ_BATCH_* variables Batch sets. stdout/stderr go to
`stdout.txt`/`stderr.txt` (and to the console, prefixed, when verbose); `outputs.json` becomes customOutput.
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
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from local_adf_runner.errors import ActivityFailed

if TYPE_CHECKING:
    from local_adf_runner.activity_types.base import ActivityCall
    from local_adf_runner.services import RunnerServices

__all__ = ["CUSTOM_TASK_FAILED", "EFFECTIVE_RUNTIME", "BatchTask", "run_custom_activity", "slug"]

EFFECTIVE_RUNTIME = "local (Azure Batch emulation)"
# errorCode of a Batch task that exited non-zero, or could not start (the local runner's code; ADF reports
# Custom activity failures under 2xxx codes).
CUSTOM_TASK_FAILED = "2100"
# errorCode when the task's resource files cannot be downloaded from the resourceLinkedService.
RESOURCE_FILES_FAILED = "2102"
ACTIVITY_TIMEOUT = "ActivityTimeout"


@dataclass(frozen=True)
class BatchTask:
    working_dir: Path
    task_id: str
    job_id: str
    node_id: str

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "AZ_BATCH_TASK_WORKING_DIR": str(self.working_dir),
            "AZ_BATCH_TASK_ID": self.task_id,
            "AZ_BATCH_JOB_ID": self.job_id,
            "AZ_BATCH_NODE_ID": self.node_id,
        }


def slug(name: str) -> str:
    """A folder name for an activity name ("Extract Spotify" -> "extract-spotify")."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-").lower()
    return text or "activity"


def run_custom_activity(call: ActivityCall, services: RunnerServices, verbose: bool, log: TextIO) -> dict[str, Any]:
    activity = call.activity
    command = call.require("command", str, "the command line to run")
    task = _prepare_task(call, services)
    _download_resources(call, services, task.working_dir)
    _write_context(call, services, task.working_dir)

    argv = _argv(command, activity.name)
    stdout_path, stderr_path = task.working_dir / "stdout.txt", task.working_dir / "stderr.txt"
    iterations = ",".join(str(i) for i in call.scope.iterations)
    prefix = activity.name + (f" [{iterations}]" if iterations else "")
    started = time.monotonic()
    exit_code = _run(argv, task, stdout_path, stderr_path, call.timeout.total_seconds(), prefix if verbose else None, log)
    duration = round(time.monotonic() - started, 3)

    output: dict[str, Any] = {
        "exitcode": exit_code,
        "outputs": [str(stdout_path), str(stderr_path)],
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
        raise ActivityFailed(CUSTOM_TASK_FAILED, _error_message(stderr_path, exit_code), output=output)
    return output


def _prepare_task(call: ActivityCall, services: RunnerServices) -> BatchTask:
    run = call.scope.run
    folder = slug(call.activity.name)
    # One folder per ForEach item (nested loops: one index per level), so parallel items never share one.
    folder += "".join(f"-{index}" for index in call.scope.iterations)
    working_dir = Path(services.workdir).resolve() / "batch" / run.run_id / folder / f"attempt-{call.attempt}"
    if working_dir.exists():
        shutil.rmtree(working_dir)
    working_dir.mkdir(parents=True)
    pool = "local"
    if call.activity.linked_service_name is not None:
        batch = services.factory.linked_service(call.activity.linked_service_name.name)
        pool = str(batch.type_properties.get("poolName") or pool)
    return BatchTask(
        working_dir=working_dir,
        task_id=call.activity_run_id,
        job_id=f"adfv2-{pool}",
        node_id=f"local-{socket.gethostname()}",
    )


def _download_resources(call: ActivityCall, services: RunnerServices, working_dir: Path) -> None:
    folder_path = call.inputs.get("folderPath")
    if not folder_path:
        return
    reference = call.inputs.get("resourceLinkedService") or {}
    linked_service = reference.get("referenceName") if isinstance(reference, Mapping) else None
    if not isinstance(linked_service, str):
        raise ActivityFailed(
            RESOURCE_FILES_FAILED,
            f"activity `{call.activity.name}` has folderPath `{folder_path}` but no resourceLinkedService to read it from",
        )
    container, _, prefix = str(folder_path).strip("/").partition("/")
    prefix = prefix.strip("/")
    list_prefix = f"{prefix}/" if prefix else ""
    from activities.common.errors import ActivityError

    try:
        storage = services.open_storage(linked_service)
        blobs = list(storage.list_blobs(container, list_prefix))
        for blob in blobs:
            target = working_dir / blob.path[len(list_prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(storage.read_bytes(container, blob.path))
    except ActivityError as exc:
        raise ActivityFailed(
            RESOURCE_FILES_FAILED,
            f"cannot download folderPath `{folder_path}` of activity `{call.activity.name}` from linked service "
            f"`{linked_service}`: {exc}",
        ) from exc
    if not blobs:
        raise ActivityFailed(
            RESOURCE_FILES_FAILED,
            f"no files under folderPath `{folder_path}` in linked service `{linked_service}` for activity "
            f"`{call.activity.name}`: publish the code first (local_adf_runner.publish_package)",
        )


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


def _argv(command: str, activity: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"activity `{activity}`: command `{command}` cannot be split: {exc}") from exc
    if not argv:
        raise ActivityFailed(CUSTOM_TASK_FAILED, f"activity `{activity}`: command is empty")
    # `python` on the Batch node = the interpreter running the runner here (the project's venv).
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def _run(
    argv: list[str], task: BatchTask, stdout_path: Path, stderr_path: Path, timeout: float, prefix: str | None, log: TextIO
) -> int | None:
    """Run the task; return its exit code, or None if it was killed at the timeout."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=task.working_dir,
            env=task.environment(),
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
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, stdout_path, prefix, log, lock), daemon=True),
        threading.Thread(
            target=_pump, args=(process.stderr, stderr_path, f"{prefix} stderr" if prefix else None, log, lock), daemon=True
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
    return exit_code


def _pump(stream: IO[bytes], target: Path, prefix: str | None, log: TextIO, lock: threading.Lock) -> None:
    with target.open("wb") as out:
        for line in iter(stream.readline, b""):
            out.write(line)
            out.flush()
            if prefix is not None:
                with lock:
                    log.write(f"[{prefix}] {line.decode('utf-8', 'replace').rstrip()}\n")
                    log.flush()
    stream.close()


def _custom_output(working_dir: Path, activity: str) -> Any:
    path = working_dir / "outputs.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ActivityFailed(
            CUSTOM_TASK_FAILED, f"activity `{activity}` wrote an outputs.json that is not valid JSON: {exc}"
        ) from exc


def _error_message(stderr_path: Path, exit_code: int) -> str:
    lines = [line.strip() for line in stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()]
    last = next((line for line in reversed(lines) if line), None)
    return last or f"the task exited with code {exit_code} and wrote nothing to stderr"
