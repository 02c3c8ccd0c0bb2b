"""Read the factory folder's resource files: the one reader deploy, the SDK model check and the local runner share.

Each file is one `{"name": ..., "properties": {...}}` object whose name equals the file name; ADF resource names
are case-insensitive (https://learn.microsoft.com/azure/data-factory/naming-rules), so two files naming one resource
in different case are a duplicate. Every problem is returned, with a message naming the file and the fix, so each
caller decides whether to report them all (deploy) or stop at the first (the runner).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from factory_deploy.references import KINDS, name_key, resource_files


@dataclass(frozen=True)
class ResourceFile:
    folder: str  # the plural kind folder (`pipelines`), also for files read from ADF git's `pipeline/`
    name: str
    path: Path
    body: dict[str, Any]


class ProblemKind(Enum):
    MALFORMED_JSON = "malformed JSON"
    SHAPE = "not a resource object"
    NAME_MISMATCH = "name differs from the file name"
    DUPLICATE = "defined twice"


@dataclass(frozen=True)
class FileProblem:
    kind: ProblemKind
    path: Path
    detail: str  # what is wrong and the fix
    folder: str
    name: str = ""
    line: int = 0
    column: int = 0
    other_path: Path | None = None  # DUPLICATE: the file that defined the resource first

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.column}" if self.line else str(self.path)

    @property
    def message(self) -> str:
        """One line: the file (and position), what is wrong, the fix."""
        return f"{self.where}: {self.detail}"


def read_resource_files(factory_dir: Path) -> tuple[dict[tuple[str, str], ResourceFile], list[FileProblem]]:
    """Every resource file under `factory_dir`, keyed by (folder, name), and every file that is not one."""
    found: dict[tuple[str, str], ResourceFile] = {}
    problems: list[FileProblem] = []
    first_path: dict[tuple[str, str], Path] = {}
    for folder in KINDS:
        for path in resource_files(factory_dir, folder):
            body, problem = _read_one(folder, path)
            if problem is None:
                name = body["name"]
                earlier = first_path.setdefault(name_key(folder, name), path)
                if earlier == path:
                    found[(folder, name)] = ResourceFile(folder, name, path, body)
                    continue
                problem = FileProblem(
                    ProblemKind.DUPLICATE, path,
                    f"{KINDS[folder].label} `{name}` is defined more than once ({earlier}, {path}); "
                    "ADF names are case-insensitive: keep one",
                    folder, name, other_path=earlier,
                )
            problems.append(problem)
    return found, problems


def _read_one(folder: str, path: Path) -> tuple[dict[str, Any], FileProblem | None]:
    text = path.read_text(encoding="utf-8-sig")  # ADF Studio exports sometimes carry a BOM
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, FileProblem(
            ProblemKind.MALFORMED_JSON, path,
            f"malformed JSON ({exc.msg}); fix the syntax at that position",
            folder, line=exc.lineno, column=exc.colno,
        )
    shape = _shape_problem(folder, path, body)
    if shape:
        return {}, FileProblem(ProblemKind.SHAPE, path, shape, folder)
    if body["name"] != path.stem:
        return {}, FileProblem(
            ProblemKind.NAME_MISMATCH, path,
            f"the file holds resource `{body['name']}`, and ADF requires file name = resource name: "
            f"rename the file to {body['name']}.json or the resource to `{path.stem}`",
            folder, body["name"],
        )
    return body, None


def _shape_problem(folder: str, path: Path, body: Any) -> str:
    if not isinstance(body, dict):
        return 'a resource file must hold one JSON object {"name": ..., "properties": ...}'
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return f'missing `name`: add "name": "{path.stem}"'
    if not isinstance(body.get("properties"), dict):
        return f"{KINDS[folder].label.lower()} `{name}` has no `properties` object: add it"
    return ""
