"""The extract activity as Azure Batch runs it, for the extract's integration tests: a task working directory
holding the activities tree and the context files (activity.json, linkedServices.json, datasets.json), and the
stage run there with the environment Batch gives a task."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from offline.spotify_twin import TwinServer

REPO_ROOT = Path(__file__).resolve().parents[1]
CLIENT_ID = "cid"
# Distinctive, so finding it anywhere means it leaked (a short word could occur by chance in gzip bytes).
CLIENT_SECRET = "tw1n-s3cret-8f2a61"
REFRESH_TOKEN = "r3fresh-t0ken-5c9e27"
INGEST_DATE = "2026-11-24"
RUN_ID = "5f1c9a1e-0000-4000-8000-000000000001"
NEW_RELEASES_LIMIT = 55


def make_workdir(base: Path, twin: TwinServer, storage_service: dict[str, Any], container: str,
                 **extra: Any) -> Path:
    """A Batch task working directory: the downloaded ``folderPath`` (the activities tree) and the context files."""
    workdir = base / "wd"
    shutil.copytree(REPO_ROOT / "activities", workdir / "activities", ignore=shutil.ignore_patterns("__pycache__"))
    extended = {
        "ingestDate": INGEST_DATE, "runId": RUN_ID, "apiBaseUrl": twin.api_base_url, "tokenUrl": twin.token_url,
        "clientId": CLIENT_ID, "clientSecretName": "spotify-client-secret", "markets": ["US", "GB"],
        "newReleasesLimit": NEW_RELEASES_LIMIT, "storageLinkedService": "Ls_Storage",
        "keyVaultLinkedService": "Ls_KeyVault", "rawContainer": container, "accessMode": "extended", **extra,
    }
    activity = {"name": "Extract Spotify", "type": "Custom", "typeProperties": {
        "command": "python -m activities.extract", "folderPath": "batch-code/activities",
        "extendedProperties": extended,
        "referenceObjects": {"linkedServices": [{"referenceName": "Ls_Storage", "type": "LinkedServiceReference"},
                                                {"referenceName": "Ls_KeyVault", "type": "LinkedServiceReference"}],
                             "datasets": []}}}
    linked_services = [
        {"name": "Ls_Storage", "properties": {"type": "AzureBlobStorage", "typeProperties": storage_service}},
        {"name": "Ls_KeyVault", "properties": {"type": "AzureKeyVault", "typeProperties": {"baseUrl": "env:"}}},
    ]
    (workdir / "activity.json").write_text(json.dumps(activity, indent=2))
    (workdir / "linkedServices.json").write_text(json.dumps(linked_services, indent=2))
    (workdir / "datasets.json").write_text("[]")
    return workdir


def run_extract(workdir: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    # The environment Batch gives a task; no PYTHONPATH, so the copied tree is what runs.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update({
        "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "AZ_BATCH_TASK_WORKING_DIR": str(workdir),
        "AZ_BATCH_TASK_ID": "task-1", "AZ_BATCH_JOB_ID": "job-1", "AZ_BATCH_NODE_ID": "node-1",
        **env_extra,
    })
    return subprocess.run([sys.executable, "-m", "activities.extract"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120)
