"""One line for an operating-system error: what failed, on which path, and what the user does about it.

Used where file-system errors enter: the storage boundary (LocalFolderStorage), the local runner's Batch task
folders, run_local's workdir and the twin's start-up. Pure: it only reads the exception.
"""

from __future__ import annotations

import errno
from pathlib import Path

# errno -> what to do. The cause names come from strerror; the fix is ours.
_FIXES = {
    errno.ENOSPC: "free space on that disk or use {other}",
    errno.EDQUOT: "free space within your disk quota or use {other}",
    errno.EROFS: "the file system is read-only: remount it read-write or use {other}",
    errno.EACCES: "give this user write access to it or use {other}",
    errno.EPERM: "give this user write access to it or use {other}",
    errno.ENOTDIR: "a file stands where a folder is needed: move that file away or use {other}",
    errno.EEXIST: "a file stands where a folder is needed: move that file away or use {other}",
    errno.EISDIR: "a folder stands where a file is needed: move that folder away or use {other}",
}


def is_environment_error(exc: BaseException) -> bool:
    """A full disk, a read-only file system, a permission or a file where a folder belongs: not a bug."""
    return isinstance(exc, OSError) and exc.errno in _FIXES


def describe_os_error(exc: OSError, path: str | Path | None = None, *, other: str = "another location") -> str:
    """``<cause>: <path>; <fix>`` for ``exc``; ``path`` defaults to the file the error names."""
    where = path if path is not None else exc.filename
    cause = exc.strerror or str(exc)
    fix = _FIXES.get(exc.errno or 0)
    text = f"{cause}: {where}" if where is not None else cause
    return f"{text}; {fix.format(other=other)}" if fix else text
