"""The one ``main`` wrapper every activity's ``__main__`` calls: context in, outputs.json out, exit code."""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from activities.common.context import ActivityContext, load_context
from activities.common.errors import ActivityError
from activities.common.logs import one_line, redact
from activities.common.oserrors import describe_os_error, is_environment_error
from activities.common.outputs import write_outputs


def run_activity(name: str, main: Callable[[ActivityContext], Mapping[str, Any]]) -> NoReturn:
    """Run ``main`` as a Custom activity and exit the process.

    Loads the context, calls ``main``, writes ``outputs.json`` with what it returns plus
    ``durationSeconds`` and exits 0. An :class:`ActivityError` (an expected failure) or an OSError of the node's
    disk (full, read-only, no permission, a file where a folder belongs) prints one line
    ``ERROR <name>: <message>`` to stderr and exits 1; any other exception is a bug and prints its
    traceback (redacted) to stderr, exit 1. Batch marks the task failed on any non-zero exit.
    """
    started = time.monotonic()
    code = 1
    context: ActivityContext | None = None
    try:
        context = load_context()
        outputs = dict(main(context))
        # The entrypoint measures, so every activity reports duration the same way.
        outputs["durationSeconds"] = round(time.monotonic() - started, 3)
        write_outputs(context.working_dir, outputs)
        code = 0
    except ActivityError as exc:
        _flush()
        message = redact(f"{name}: {one_line(str(exc)) or type(exc).__name__}")
        sys.stderr.write(f"ERROR {message}\n")
        _write_error(context, message, type(exc).__name__)
    except OSError as exc:
        _flush()
        # A full disk or a read-only working directory is the node's state, not a bug: one line, no traceback.
        message = f"ERROR {name}: {describe_os_error(exc, other='a node with a writable disk')}"
        sys.stderr.write(redact(message if is_environment_error(exc) else traceback.format_exc()) + "\n")
        _write_error(context, redact(f"{name}: {describe_os_error(exc, other='a node with a writable disk')}"), type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit 1 with its traceback
        _flush()
        sys.stderr.write(redact(traceback.format_exc()))
        _write_error(context, redact(f"{name}: unexpected {type(exc).__name__}: {one_line(str(exc))}"), type(exc).__name__)
    _flush()
    sys.exit(code)


def _write_error(context: ActivityContext | None, message: str, kind: str) -> None:
    """On Azure a failed Custom activity shows only ADF's code 2500; the one-line reason also goes to outputs.json
    (customOutput.error) in the task's working directory, where the pipelines' Fail activities read it. Without a
    context (activity.json unreadable) there is no working directory to trust: the Fail activity falls back to
    ADF's error."""
    if context is None:
        return
    with contextlib.suppress(Exception):  # the exit code and stderr already say it failed
        write_outputs(context.working_dir, {"error": {"message": message, "type": kind}})


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe must not mask the exit code
            stream.flush()


__all__ = ["run_activity"]
