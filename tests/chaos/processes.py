"""Kill a whole process tree as `kill -9` of a crashed machine would: nothing in it gets to clean up.

The local run's Batch tasks run in process groups of their own (offline.adf_runner.batch starts them with a new
session, as Batch runs each task apart), so killing run_local's process group would leave them running. The
tree is walked through /proc instead: every process is stopped first (SIGSTOP, so none forks or writes while
the tree is collected), then all are killed (SIGKILL). Linux only, as the chaos suite is.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found.setdefault(parent, []).append(int(entry.name))
    return found


def descendants(root: int) -> list[int]:
    children = _children()
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(root: int) -> list[int]:
    """SIGSTOP ``root`` and every descendant until no new one appears, then SIGKILL them all; returns the pids."""
    stopped: list[int] = []
    pending = [root]
    while pending:
        for pid in pending:
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            except ProcessLookupError:
                pass
        pending = [pid for pid in descendants(root) if pid not in stopped]
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return stopped
