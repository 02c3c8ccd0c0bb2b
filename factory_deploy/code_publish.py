"""Publish the activity code: one immutable, content-addressed version folder per package.

The package (``factory_deploy.code_package``) is uploaded to ``<code container>/activities/<version>/`` before the
factory's global parameter ``activitiesFolderPath`` is switched to it, so a task never sees half-old, half-new
code. A version already present is not uploaded again. Old versions stay for runs in flight; ``--prune`` removes
those superseded longer than the grace period ago (a version is superseded when the next newer one was uploaded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from factory_deploy.code_package import CodePackage
from factory_deploy.errors import DeployError, azure_reason
from factory_deploy.plan import CREATE, DELETE, UNCHANGED, Change

PART = "code"
Log = Callable[[str], None]


@dataclass(frozen=True)
class StoredVersion:
    version: str
    files: dict[str, int]  # file name -> size
    uploaded: dt.datetime  # the latest Last-Modified of its files


@dataclass(frozen=True)
class CodePlan:
    changes: list[Change]
    upload: bool
    prune: list[StoredVersion]


def read_versions(container: Any, prefix: str) -> list[StoredVersion]:
    """The version folders under `prefix` (e.g. `activities`), oldest first; reads only."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    found: dict[str, dict[str, tuple[int, dt.datetime]]] = {}
    try:
        for blob in container.list_blobs(name_starts_with=f"{prefix}/"):
            version, _, name = blob.name[len(prefix) + 1:].partition("/")
            if version and name and "/" not in name:
                found.setdefault(version, {})[name] = (blob.size, blob.last_modified)
    except ResourceNotFoundError:
        return []
    except AzureError as exc:
        raise DeployError(f"listing code container `{container.container_name}` failed: {azure_reason(exc)}") from exc
    versions = [StoredVersion(v, {n: s for n, (s, _) in files.items()}, max(m for _, m in files.values())) for v, files in found.items()]
    return sorted(versions, key=lambda v: (v.uploaded, v.version))


def plan_code(package: CodePackage, stored: Sequence[StoredVersion], folder: str, now: dt.datetime,
              grace: dt.timedelta, prune: bool) -> CodePlan:
    wanted = {name: len(data) for name, data in package.files}
    current = next((v for v in stored if v.version == package.version), None)
    upload = current is None or current.files != wanted
    changes = [Change(PART, CREATE if upload else UNCHANGED, f"{folder}/{package.version}",
                      f"{len(wanted)} files, {sum(wanted.values())} bytes" if upload else "")]
    doomed = prunable(stored, package.version, now, grace) if prune else []
    changes += [Change(PART, DELETE, f"{folder}/{v.version}", f"superseded more than {grace} ago") for v in doomed]
    return CodePlan(changes, upload, doomed)


def prunable(stored: Sequence[StoredVersion], keep: str, now: dt.datetime, grace: dt.timedelta) -> list[StoredVersion]:
    """Versions other than `keep` whose successor (the next newer upload) is older than `grace`."""
    ordered = sorted(stored, key=lambda v: (v.uploaded, v.version))
    return [
        version for version, successor in zip(ordered, ordered[1:])
        if version.version != keep and now - successor.uploaded > grace
    ]


def apply_code(container: Any, package: CodePackage, plan: CodePlan, folder: str, prefix: str, log: Log) -> None:
    from azure.core.exceptions import AzureError, ResourceExistsError

    name = ""
    try:
        if plan.upload:
            try:
                container.create_container()
            except ResourceExistsError:
                pass
            for name, data in package.files:
                container.upload_blob(f"{prefix}/{package.version}/{name}", data, overwrite=True)
            log(f"code: uploaded {folder}/{package.version} ({len(package.files)} files)")
        for version in plan.prune:
            for name in version.files:
                container.delete_blob(f"{prefix}/{version.version}/{name}")
            log(f"code: deleted {folder}/{version.version}")
    except AzureError as exc:
        raise DeployError(f"code: writing `{folder}` ({name}) failed: {azure_reason(exc)}") from exc
