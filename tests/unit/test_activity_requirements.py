"""activities/requirements.txt, what the Batch pool's start task installs, against pyproject.toml and the code.

It lists exactly the distributions whose modules activities/ imports (read with ast), each with the
requirement pyproject.toml declares for it: a module the pool lacks fails the first task that imports it, a
listed one nothing imports only slows every node's start, and two bounds that differ test one thing locally
and install another on the pool.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "activities" / "requirements.txt"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(lines: list[str]) -> dict[str, str]:
    """Distribution name (canonical) -> the requirement as written, comments and blank lines skipped."""
    found = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            match = _NAME.match(text)
            assert match, f"cannot read requirement {text!r}"
            found[_canonical(match.group())] = text.replace(" ", "")
    return found


def _imported_modules() -> set[str]:
    """Dotted names of the third-party modules activities/ imports."""
    modules = set()
    for path in (REPO / "activities").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
    return {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "activities"}


@functools.cache
def _owners() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


@functools.cache
def _files(distribution: str) -> tuple[str, ...]:
    return tuple(str(f) for f in importlib.metadata.files(distribution) or ())


def _distribution(module: str) -> str:
    """The installed distribution that provides `module`; for a namespace package (`azure`) the one whose files
    hold the longest leading part of the dotted name."""
    parts = module.split(".")
    owners = _owners().get(parts[0], [])
    for depth in range(len(parts), 0, -1):
        path = "/".join(parts[:depth])
        found = {name for name in owners if any(f == f"{path}.py" or f.startswith(f"{path}/") for f in _files(name))}
        if len(found) == 1:
            return _canonical(found.pop())
    raise AssertionError(f"module {module} (imported by activities/) comes from no single installed distribution: {owners}")


def test_when_activities_are_read_then_requirements_list_exactly_the_distributions_they_import() -> None:
    # Arrange
    listed = _requirements(REQUIREMENTS.read_text(encoding="utf-8").splitlines())

    # Act
    imported = {_distribution(module) for module in _imported_modules()}

    # Assert
    assert sorted(listed) == sorted(imported), "activities/requirements.txt: list what activities/ imports, nothing else"


def test_when_requirements_are_compared_with_pyproject_then_each_is_declared_with_the_same_bound() -> None:
    # Arrange
    declared = _requirements(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])

    # Act
    listed = _requirements(REQUIREMENTS.read_text(encoding="utf-8").splitlines())

    # Assert
    assert {name: declared.get(name) for name in listed} == listed, "keep activities/requirements.txt in step with pyproject.toml"
