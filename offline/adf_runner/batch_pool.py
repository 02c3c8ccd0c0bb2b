"""The Azure Batch pool Custom activities run on, on this machine: its task slots and its Python.

Task slots: a pool runs at most `nodes x taskSlotsPerNode` tasks at once, whatever the ForEach `batchCount` asks
(Microsoft Learn, "Run tasks concurrently to maximize usage of Batch compute nodes"; ForEach: batchCount is an upper
bound on parallelism). Here one pool of `slots` serves every Custom activity of the factory.

Python: the pool's start task installs Python and `activities/requirements.txt` system-wide, so a task finds
`python3` (and no `python`: Linux images ship `python3` only) on its PATH with exactly those packages. Locally that
is a virtual environment built once per requirements file (keyed by its hash and the Python version) under the
repo's gitignored `.local/batch-python/`, reusing pip's cache; its `bin`, without the `python` alias, goes first
on the task's PATH. Several processes (pytest workers) share one build through a file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from offline.adf_runner.errors import RunnerError

__all__ = ["DEFAULT_BATCH_SLOTS", "BatchPool", "prepare_pool_python"]

DEFAULT_BATCH_SLOTS = 2
_REPO = Path(__file__).resolve().parents[2]
DEFAULT_REQUIREMENTS = _REPO / "activities" / "requirements.txt"
DEFAULT_CACHE = _REPO / ".local" / "batch-python"
# What a Linux node's PATH holds besides the pool's Python (Ubuntu's default).
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_READY = ".ready"


class BatchPool:
    """`slots` concurrent tasks; `python_bin` a folder holding `python3` (None: prepared from `requirements`)."""

    def __init__(
        self,
        slots: int = DEFAULT_BATCH_SLOTS,
        python_bin: Path | None = None,
        requirements: Path = DEFAULT_REQUIREMENTS,
        cache: Path = DEFAULT_CACHE,
    ) -> None:
        if slots < 1:
            raise RunnerError(f"the Batch pool needs at least 1 task slot, got {slots}")
        self.slots = slots
        self._python_bin = python_bin
        self._requirements = requirements
        self._cache = cache
        self._slots = threading.BoundedSemaphore(slots)
        self._prepare_lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one task slot for the duration of a task (waits while all are busy, as a queued Batch task)."""
        with self._slots:
            yield

    def task_path(self) -> str:
        """The PATH a task runs with: the pool's Python first, then the system folders."""
        with self._prepare_lock:
            if self._python_bin is None:
                self._python_bin = prepare_pool_python(self._requirements, self._cache)
        return ":".join((str(self._python_bin), *SYSTEM_PATH))


def prepare_pool_python(requirements: Path, cache: Path) -> Path:
    """The `bin` folder of a virtual environment with `requirements` installed, built once and reused."""
    if not requirements.is_file():
        raise RunnerError(f"the Batch pool's requirements file {requirements} does not exist")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = hashlib.sha256(requirements.read_bytes() + version.encode()).hexdigest()[:16]
    venv = cache / f"py{version}-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same one: wait for it
        if not (venv / _READY).is_file():
            _build(venv, requirements)
    return venv / "bin"


def _build(venv: Path, requirements: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)  # a build that stopped half-way
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python3"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", str(requirements)],
    )
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
            raise RunnerError(
                f"preparing the Batch pool's Python from {requirements} failed ({argv[2]} exit {done.returncode}): "
                f"{lines[-1] if lines else 'no output'}"
            )
    # Linux pool images have python3 but no `python`: a command that says `python` must fail here too.
    (venv / "bin" / "python").unlink(missing_ok=True)
    (venv / _READY).write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
