"""Microsoft's ADF expression engine, as a test oracle.

The engine ships inside the PyPI package `data-factory-testing-framework` as a .NET assembly
(`Microsoft.Azure.DataFactoryTestingFramework.Expressions`, on top of the Logic Apps/ADF workflow
language of `Microsoft.Azure.Workflows.Common`) loaded through pythonnet. It needs .NET Core 3.1 (the
PyPI package `dotnetcore2`), ICU (Debian's `libicu72`) and OpenSSL 1.1, which Debian 12 no longer ships:
the manylinux wheel of `psycopg2-binary==2.9.5` bundles a copy of it.

The runtime reads `LD_LIBRARY_PATH` and `CLR_ICU_VERSION_OVERRIDE` when the process starts, so the
engine runs in a child process started once per test session (`ReferenceEngine`), which also keeps a
crash of the runtime from taking pytest down. One JSON request per line in, one JSON answer per line out.

Run as a script, this module is that child process.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["ReferenceEngine", "ReferenceResult", "reference_engine"]


@dataclass(frozen=True)
class ReferenceResult:
    """`ok` with the JSON value the engine returned, or not `ok` with the engine's error message."""

    ok: bool
    value: Any = None
    error: str = ""


class ReferenceEngineUnavailable(RuntimeError):
    pass


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceEngineUnavailable(f"Python package `{name}` is not installed: run `make install` (it is in the dev extra)")
    return Path(next(iter(spec.submodule_search_locations)))


def _icu_major() -> str:
    found = ctypes.util.find_library("icuuc")  # e.g. libicuuc.so.72
    match = re.search(r"\.so\.(\d+)", found or "")
    if not match:
        raise ReferenceEngineUnavailable("ICU is not installed (.NET needs it for culture-aware strings): apt-get install libicu72")
    return match.group(1)


def _openssl_11_dir(into: Path) -> Path:
    """A folder where `libssl.so.1.1`/`libcrypto.so.1.1` resolve to psycopg2-binary's bundled copies (the
    bundled files carry hashed names, which the .NET crypto shim does not look for)."""
    libs = _package_dir("psycopg2").parent / "psycopg2_binary.libs"
    for stem in ("libssl", "libcrypto"):
        bundled = sorted(libs.glob(f"{stem}-*.so.1.1"))
        if not bundled:
            raise ReferenceEngineUnavailable(f"{libs} has no {stem} 1.1: install psycopg2-binary==2.9.5 (the dev extra pins it)")
        (into / f"{stem}.so.1.1").symlink_to(bundled[0])
        (into / bundled[0].name).symlink_to(bundled[0])  # libssl's DT_NEEDED names the hashed libcrypto
    return into


class ReferenceEngine:
    """A child process hosting Microsoft's engine. `evaluate` sends one expression with its context."""

    def __init__(self, workdir: Path) -> None:
        env = dict(os.environ)
        env["DOTNET_ROOT"] = str(_package_dir("dotnetcore2") / "bin")
        env["CLR_ICU_VERSION_OVERRIDE"] = _icu_major()
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [str(_openssl_11_dir(workdir)), env.get("LD_LIBRARY_PATH")]))
        env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
        # .NET converts a timestamp with an offset to the host's local time; Data Factory's hosts run on UTC.
        env["TZ"] = "UTC"
        self._env, self._stderr_path = env, workdir / "stderr.txt"
        self._start()

    def _start(self) -> None:
        self._stderr = self._stderr_path.open("w+")
        self._process = subprocess.Popen(
            [sys.executable, __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=self._env,
            text=True,
            encoding="utf-8",
        )
        ready = self._read()
        if not ready.get("ready"):
            raise ReferenceEngineUnavailable(f"Microsoft's expression engine did not start: {ready.get('error')}")

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=10)
            self._stderr.seek(0)
            raise ReferenceEngineUnavailable(
                f"Microsoft's expression engine exited with {self._process.returncode}: {self._stderr.read().strip()[-2000:]}"
            )
        answer: dict[str, Any] = json.loads(line)
        return answer

    def evaluate(
        self,
        expression: str,
        *,
        parameters: dict[str, Any] | None = None,
        variables: dict[str, Any] | None = None,
        item: Any = None,
        activities: dict[str, Any] | None = None,
    ) -> ReferenceResult:
        """`parameters` is what `pipeline()` returns (system variables, `parameters`, `globalParameters`);
        `activities` maps an activity name to `{"output": ..., "status": ..., "error": ...}`."""
        request = {
            "expression": expression,
            "parameters": parameters or {},
            "variables": variables or {},
            "item": item,
            "activities": activities or {},
        }
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        try:
            answer = self._read()
        except ReferenceEngineUnavailable as exc:
            # pythonnet aborts the process when a .NET message holds half a surrogate pair: that expression
            # failed, the next one gets a fresh engine.
            self._stderr.close()
            self._start()
            return ReferenceResult(False, error=str(exc).splitlines()[0])
        if "result" in answer:
            return ReferenceResult(True, json.loads(answer["result"])["result"])
        return ReferenceResult(False, error=answer["error"])

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._stderr.close()


@pytest.fixture(scope="session")
def reference_engine() -> Iterator[ReferenceEngine]:
    """One engine per test session (per xdist worker): starting .NET costs about a second."""
    with tempfile.TemporaryDirectory(prefix="adf-reference-") as folder:
        engine = ReferenceEngine(Path(folder))
        try:
            yield engine
        finally:
            engine.close()


# --- the child process --------------------------------------------------------------------------------------


def _serve() -> None:  # pragma: no cover - runs in the child process
    out = sys.stdout
    try:
        from data_factory_testing_framework._pythonnet.data_factory_testing_framework_expressions_evaluator import (
            Evaluator,
        )

        evaluator = Evaluator()
    except Exception as exc:  # noqa: BLE001 - any start-up failure is reported to the parent as text
        out.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
        return
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        activities = {
            name: {"outputs": {"body": result}} for name, result in request["activities"].items()
        }
        item = request["item"]
        try:
            result = evaluator.EvaluateExpression(
                request["expression"],
                json.dumps(request["parameters"]),
                json.dumps(request["variables"]),
                None if item is None else json.dumps(item),
                json.dumps(activities),
            )
            answer = {"result": str(result)}
        except Exception as exc:  # noqa: BLE001 - .NET exceptions arrive as System.Exception subclasses
            answer = {"error": _first_line(str(exc))}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


if __name__ == "__main__":
    _serve()
