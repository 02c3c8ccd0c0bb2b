"""The four groups of the tree and what each may import (issue 13; README, "Folders").

- ships (`activities/`): runs on Azure Batch, so it imports nothing that exists only to publish or to run
  offline, nor DuckDB (the pool installs activities/requirements.txt only);
- publishes (`factory_deploy/`, `scripts/deploy.py`): talks to Azure, never to a stand-in;
- offline (`offline/`, `scripts/run_local.py`): stands in for Azure and Spotify and reaches the product only
  where Azure does: it runs the activities as Batch does (`python3 activities.pyz activities.<stage>`), reads the
  factory JSON and the SQL files, and shares the factory model with deploy (issue 11); from `activities` it
  imports only the platform clients an activity is given (storage, Key Vault, the activity context's secure
  string, error classes) and the stored-data contracts the local run's report reads;
- proves (`tests/`, `bench/`): may import anything.

Imports are read with `ast` (nothing is imported), deferred ones inside functions included.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OFFLINE = "offline"
DEPLOY = "factory_deploy"
PROVES = ("tests", "bench")

# What the offline stand-ins may import from the product, and why; any other activities/factory_deploy module
# is product logic they must reach through its entry point (the activity command line, the factory JSON).
OFFLINE_MAY_IMPORT = {
    # The clients Azure gives an activity, used as the stand-ins for Blob Storage and Key Vault, so that a
    # blob written by the runner is read by an activity exactly as Azure's would be.
    "activities.common.storage": "Blob Storage stand-in (local folder, Azurite)",
    "activities.common.secrets": "Key Vault stand-in (a folder of secrets)",
    "activities.common.context": "SecureString, the type secrets travel in",
    "activities.common.errors": "the error classes the storage and secret clients raise",
    "activities.common.oserrors": "one wording for OS errors (full disk, permissions)",
    # Stored-data contracts the local run's report and analyst queries read: where serving data lives, which
    # snapshot is published, the schema documents the load writes, the view names, the declared tables.
    "activities.load.layout": "serving folder layout",
    "activities.load.published": "the published-snapshot pointer",
    "activities.load.schema": "the load's schema documents",
    "activities.load.arrow_types": "the curated tables in the schema documents' form",
    "activities.load.ddl": "the views' names",
    "activities.transform.schemas": "the curated tables' declared schemas",
    "activities.transform.publish": "where the curated snapshot marker is (what fires the load)",
    "activities.sources": "which sources each access mode may call",
    # The factory model deploy and the runner share (issue 11: one model, one meaning of every override/limit).
    "factory_deploy.env_config": "config/<env>.json -> global parameters and overrides",
    "factory_deploy.json_keys": "ADF's case-insensitive property names",
    "factory_deploy.limits": "Data Factory's service limits",
    "factory_deploy.references": "the factory's resource kinds and references",
    "factory_deploy.render": "the one meaning of an environment override",
    "factory_deploy.graph": "the factory's dependency graph",
    "factory_deploy.code_package": "the code package as Batch receives it",
    "factory_deploy.resource_files": "one reader of the factory's JSON files",
}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `path`; `from a import b` is `a.b` when `a` is a package
    holding module `b` (`from activities.load import layout`), else `a`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            folder = REPO / node.module.replace(".", "/")
            for alias in node.names:
                is_module = (folder / f"{alias.name}.py").is_file() or (folder / alias.name).is_dir()
                yield node.lineno, f"{node.module}.{alias.name}" if is_module else node.module


def _sources(*folders: str) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        path = REPO / folder
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if ".venv" not in f.parts]


def _offenders(files: list[Path], refused: tuple[str, ...], allowed: Collection[str] = ()) -> list[str]:
    """`file:line module` for each import of a module under one of `refused` and not under one of `allowed`."""
    def under(module: str, roots: Collection[str]) -> bool:
        return any(module == root or module.startswith(root + ".") for root in roots)

    return sorted({f"{path.relative_to(REPO)}:{line} {module}" for path in files for line, module in _imports(path)
                   if under(module, refused) and not under(module, allowed)})


def test_when_the_shipped_activities_are_read_then_they_import_no_deploy_offline_test_or_duckdb_code() -> None:
    offenders = _offenders(_sources("activities"), (OFFLINE, DEPLOY, *PROVES, "scripts", "duckdb"))

    assert offenders == [], "activities/ ships to Azure Batch; move what it needs into activities/"


def test_when_the_deploy_package_is_read_then_it_imports_no_offline_test_or_duckdb_code() -> None:
    offenders = _offenders(_sources(DEPLOY, "scripts/deploy.py"), (OFFLINE, *PROVES, "duckdb"))

    assert offenders == [], "factory_deploy/ publishes to Azure; a stand-in must not decide what is published"


def test_when_the_offline_stand_ins_are_read_then_they_reach_the_product_only_through_its_entry_points() -> None:
    offenders = _offenders(_sources(OFFLINE, "scripts/run_local.py"), ("activities", DEPLOY, *PROVES),
                           allowed=OFFLINE_MAY_IMPORT)

    assert offenders == [], (
        "offline/ runs the activities as Batch does (their command line), not by importing their logic; "
        "a module it must share is listed in OFFLINE_MAY_IMPORT with the reason"
    )


@pytest.mark.parametrize("stand_in", ["spotify_twin", "synapse_duckdb"])
def test_when_a_service_twin_is_read_then_it_imports_nothing_of_the_product(stand_in: str) -> None:
    # A twin built from the client's own code would agree with the client's mistakes.
    offenders = _offenders(_sources(f"{OFFLINE}/{stand_in}"), ("activities", DEPLOY, f"{OFFLINE}.adf_runner",
                                                                 f"{OFFLINE}.run_local", *PROVES))

    assert offenders == []


def test_when_top_level_folders_are_listed_then_each_python_one_belongs_to_a_group() -> None:
    groups = {"activities", DEPLOY, "scripts", OFFLINE, *PROVES}
    python_folders = {folder.name for folder in REPO.iterdir()
                      if folder.is_dir() and not folder.name.startswith(".") and any(folder.rglob("*.py"))}

    assert sorted(python_folders - groups) == [], "a new top-level folder of code needs a group here and a row in the README"


def test_when_the_allow_list_is_read_then_every_entry_names_a_module_that_exists() -> None:
    missing = [name for name in OFFLINE_MAY_IMPORT
               if not (REPO / (name.replace(".", "/") + ".py")).is_file() and not (REPO / name.replace(".", "/")).is_dir()]

    assert missing == []
