"""``outputs.json``: what ADF shows as the activity output's ``customOutput``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from activities.common.context import SecureString
from activities.common.errors import OutputsError
from activities.common.logs import contains_secret
from activities.common.oserrors import describe_os_error

OUTPUTS_FILE = "outputs.json"


def write_outputs(working_dir: Path, outputs: Mapping[str, Any]) -> Path:
    """Write ``outputs`` as ``<working_dir>/outputs.json`` atomically and return its path.

    Raises:
        OutputsError: a value is a :class:`SecureString` or a registered secret, or is not JSON-serialisable.
    """
    _refuse_secrets(outputs, "outputs")
    try:
        text = json.dumps(outputs, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutputsError(f"{OUTPUTS_FILE} would not be valid JSON: {exc}") from exc
    if contains_secret(text):
        # A secret that arrived as a plain str (e.g. inside an error text) must not reach ADF monitoring.
        raise OutputsError(f"{OUTPUTS_FILE} would contain a secret value; remove it from the outputs")
    working_dir = Path(working_dir)
    target = working_dir / OUTPUTS_FILE
    try:
        fd, temp_name = tempfile.mkstemp(prefix=".outputs-", suffix=".tmp", dir=working_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o644)  # mkstemp makes 0600; the Batch agent reads this file
                handle.write(text + "\n")
            os.replace(temp_name, target)  # readers see the old file or the new one, never half
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputsError(f"cannot write {target}: {describe_os_error(exc, target)}") from exc
    return target


def _refuse_secrets(value: Any, where: str) -> None:
    if isinstance(value, SecureString):
        raise OutputsError(f"{OUTPUTS_FILE}: `{where}` is a SecureString; secrets never go into outputs")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_secrets(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_secrets(item, f"{where}[{index}]")


__all__ = ["OUTPUTS_FILE", "write_outputs"]
