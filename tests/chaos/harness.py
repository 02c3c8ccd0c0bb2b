"""The chaos suite's moving parts: a workdir with a published day, the Spotify twin, a run killed at a chosen
moment, and the checks made after the kill and after the rerun.

The twin is started by the test, not by run_local (``--twin-url``): it stands for Spotify, which does not die
when our run is killed, and its record of what it served (the ground truth) must survive the kill. A fresh twin
per run gives each run's own request count. Refresh tokens are not rotated, so every twin accepts the workdir's
Key Vault tokens.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from activities.common.context import SecureString
from activities.common.secrets import FolderSecretStore
from factory_deploy.env_config import load_config, sql_variables
from offline.run_local.twin_process import start_twin
from offline.spotify_twin.truth import run_record_path, served_so_far
from offline.synapse_duckdb import LocalServerlessPool
from offline.synapse_duckdb.engine import data_sources_from_setup
from tests.chaos.processes import kill_tree

ROOT = Path(__file__).resolve().parents[2]
SCALE = "0.05"
SEED = 42
RUN_TIMEOUT = 240.0
POLL_SECONDS = 0.002
PAUSED_MARKER = "chaos-paused"  # written by run_paused.py when it holds the run for the kill
# The tables the whole-snapshot checks compare with the twin's truth (id column each).
TRUTH_TABLES = {"albums": "album_id", "tracks": "track_id", "artists": "artist_id"}


def _secrets(workdir: Path) -> tuple[str, list[str]]:
    """The workdir's Key Vault stand-in, filled as run_local fills it, so the test's twin knows the secrets."""
    config = load_config("local")
    vault = FolderSecretStore(workdir / "keyvault")
    names = [config.spotify.client_secret_name] + (
        [user.refresh_token_secret_name for user in config.spotify.users] or [config.spotify.refresh_token_secret_name])
    values = []
    for name in names:
        if not (vault.folder / name).exists():
            vault.set(name, SecureString(secrets.token_urlsafe(24)))
        values.append(vault.get(name).reveal())
    return values[0], values[1:]


@dataclass
class Twin:
    """One twin for one run: stopping it writes what it served under ``<workdir>/truth/<day>/``."""

    workdir: Path
    day: date
    label: str

    def __enter__(self) -> Twin:
        config = load_config("local")
        client_secret, tokens = _secrets(self.workdir)
        self.record = run_record_path(self.workdir / "truth", self.day, self.label)
        self.process = start_twin(
            seed=SEED, scale=float(SCALE), faults="", client_id=config.spotify.client_id, client_secret=client_secret,
            refresh_tokens=tokens, truth_out=self.workdir / "twin" / f"catalog-{self.day}.json",
            served_out=self.record, log_file=self.workdir / "twin" / f"{self.label}.log",
            access_mode=config.spotify.access_mode, as_of=self.day, rotate_refresh_tokens=False,
        )
        return self

    @property
    def url(self) -> str:
        return self.process.api_base_url

    def __exit__(self, *exc: object) -> None:
        self.process.stop()

    def requests(self) -> int:
        return int(json.loads(self.record.read_text(encoding="utf-8"))["run"]["api_requests"])


def _command(workdir: Path, day: date, twin: Twin, pause_after_latest_view: int | None) -> list[str]:
    args = ["--date", day.isoformat(), "--workdir", str(workdir), "--scale", SCALE, "--twin-url", twin.url]
    if pause_after_latest_view is None:
        return [sys.executable, str(ROOT / "scripts" / "run_local.py"), *args]
    launcher = Path(__file__).with_name("run_paused.py")
    return [sys.executable, str(launcher), str(pause_after_latest_view), *args]


def run(workdir: Path, day: date, label: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """A whole run of ``day`` to its end, and the number of requests the twin answered."""
    (workdir / "twin").mkdir(parents=True, exist_ok=True)
    with Twin(workdir, day, label) as twin:
        result = subprocess.run(_command(workdir, day, twin, None), capture_output=True, text=True, timeout=RUN_TIMEOUT,
                                cwd=ROOT)
    return result, twin.requests()


@dataclass(frozen=True)
class KillPoint:
    """A moment of the run: the first time ``reached(workdir)`` holds, the whole process tree is killed."""

    name: str
    reached: Callable[[Path, str], bool]  # (workdir, the run's date YYYY-MM-DD)
    pause_after_latest_view: int | None = None  # hold the run after that many `_latest` view DDLs (run_paused.py)


def files(pattern: str, at_least: int = 1) -> Callable[[Path, str], bool]:
    """Reached once ``at_least`` files match ``pattern`` (a glob under the workdir; ``{day}`` is the run's date)."""
    return lambda workdir, day: len(list(workdir.glob(pattern.format(day=day)))) >= at_least


def published(workdir: Path, day: str) -> bool:
    """Reached once the published-snapshots pointer lists ``day`` (the switch to the new snapshot)."""
    try:
        return day in published_dates(workdir)
    except (OSError, pa.ArrowException):  # not written yet
        return False


def run_and_kill(workdir: Path, day: date, point: KillPoint, label: str) -> tuple[bool, int, str]:
    """Run ``day`` and SIGKILL the whole tree at ``point``. Returns (killed there, requests answered, stderr)."""
    (workdir / "twin").mkdir(parents=True, exist_ok=True)
    with Twin(workdir, day, label) as twin:
        log = workdir / "twin" / f"{label}-run.log"
        with log.open("w", encoding="utf-8") as out:
            process = subprocess.Popen(_command(workdir, day, twin, point.pause_after_latest_view), stdout=out,
                                       stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
            killed = False
            deadline = time.monotonic() + RUN_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                if point.reached(workdir, day.isoformat()):
                    kill_tree(process.pid)
                    killed = True
                    break
                time.sleep(POLL_SECONDS)
            if process.poll() is None and not killed:
                kill_tree(process.pid)
            process.wait(timeout=30)
    return killed, twin.requests(), log.read_text(encoding="utf-8")


# -- what analysts see ------------------------------------------------------------------------------------------------


def pool(workdir: Path) -> LocalServerlessPool:
    """The workdir's local Synapse database, opened as run_local opens it (the views the loads created)."""
    config = load_config("local")
    setup = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "synapse" / "setup").glob("*.sql")))
    opened = LocalServerlessPool(workdir / "storage", data_sources_from_setup(setup, sql_variables(config)),
                                 database=workdir / "synapse" / f"{config.synapse.database}.duckdb")
    opened.apply_setup(setup)
    return opened


def query(opened: LocalServerlessPool, sql: str) -> list[dict[str, Any]]:
    return opened.execute_script(sql).result_sets[0]


@dataclass(frozen=True)
class Snapshot:
    """What the ``_latest`` views show: one date per view, row and id counts, and tracks without their album."""

    dates: dict[str, set[str]]
    rows: dict[str, int]
    ids: dict[str, set[str]]
    tracks_without_album: int


def latest_snapshot(workdir: Path) -> Snapshot:
    opened = pool(workdir)
    try:
        dates, rows, ids = {}, {}, {}
        for table, key in TRUTH_TABLES.items():
            found = query(opened, f"SELECT CAST(snapshot_date AS VARCHAR(10)) AS d, {key} AS k FROM spotify.{table}_latest")
            dates[table] = {row["d"] for row in found}
            rows[table] = len(found)
            ids[table] = {row["k"] for row in found}
        orphans = query(opened, "SELECT COUNT(*) AS n FROM spotify.tracks_latest AS t LEFT JOIN spotify.albums_latest AS a "
                                "ON a.album_id = t.album_id WHERE a.album_id IS NULL")[0]["n"]
        return Snapshot(dates, rows, ids, int(orphans))
    finally:
        opened.close()


def published_dates(workdir: Path) -> list[str]:
    pointer = workdir / "storage" / "serving" / "_published" / "snapshots.parquet"
    return sorted(d.isoformat() for d in pq.read_table(pointer).column("snapshot_date").to_pylist())


def truth(workdir: Path, day: date) -> dict[str, set[str]]:
    return served_so_far(workdir / "truth", day)


def curated_ids(workdir: Path, table: str, day: date) -> list[str]:
    partition = workdir / "storage" / "curated" / table / f"snapshot_date={day.isoformat()}"
    key = TRUTH_TABLES[table]
    return [i for f in sorted(partition.glob("*.parquet")) for i in pq.read_table(f, columns=[key])[key].to_pylist()]


# -- leftovers --------------------------------------------------------------------------------------------------------


def orphans(workdir: Path, day: date) -> list[str]:
    """Everything a killed run may leave that a successful run must have removed (docs/operations.md)."""
    storage = workdir / "storage"
    found = [str(p) for p in storage.rglob(".tmp-*")]
    found += [str(p) for p in (storage / "curated" / "_staging").rglob("*") if p.is_file()]
    found += [str(p) for p in (storage / "serving" / "_staging").rglob("*") if p.is_file()]
    found += [str(p) for p in (workdir / "runs").glob("*.tmp")]
    raw = storage / "raw" / "spotify"
    published = {p.name for p in (raw / "manifests" / f"ingest_date={day}").glob("run_id=*")
                 if (p / "_manifest.json").exists()}
    for folder in raw.glob(f"*/ingest_date={day}/run_id=*"):
        # Blob storage has no empty folders: locally, a folder whose blobs were all deleted stays, empty.
        if folder.name not in published and any(p.is_file() for p in folder.rglob("*")):
            found.append(f"{folder} (no manifest)")
    listed = set(published_dates(workdir))
    for partition in (storage / "serving").glob("*/snapshot_date=*"):
        if partition.name.removeprefix("snapshot_date=") not in listed and any(partition.iterdir()):
            found.append(f"{partition} (not in the published pointer)")
    return sorted(found)


def stored_parts(workdir: Path, day: date) -> int:
    """Answers the unpublished runs of ``day`` stored and listed in their progress blobs (the fullest run's, per
    worker): what a new run of the date must take over instead of asking again (activities/extract/checkpoint.py)."""
    raw = workdir / "storage" / "raw" / "spotify"
    fullest: dict[str, int] = {}
    for blob in (raw / "_progress" / f"ingest_date={day}").glob("run_id=*/*.json"):
        if (raw / "manifests" / f"ingest_date={day}" / blob.parent.name / "_manifest.json").exists():
            continue
        parts = len(json.loads(blob.read_text(encoding="utf-8"))["parts"])
        fullest[blob.stem] = max(fullest.get(blob.stem, 0), parts)
    return sum(fullest.values())


def monitoring(workdir: Path, day: date) -> dict[str, Any]:
    return dict(json.loads((workdir / "runs" / f"{day.isoformat()}-runs.json").read_text(encoding="utf-8")))


def extract_outputs(record: dict[str, Any]) -> list[dict[str, Any]]:
    """customOutput of each extract worker (discovery and shards) of a monitoring record."""
    return [run["output"]["customOutput"] for run in record["activityRuns"]
            if run["activityName"].startswith("Extract Spotify") and run["status"] == "Succeeded"
            and "worker" in run["output"].get("customOutput", {})]
