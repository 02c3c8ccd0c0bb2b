"""`python scripts/run_local.py`: the factory's pipelines end to end on this machine.

Starts the Spotify twin, lays out storage (a folder, or Azurite), publishes the activity code where
Batch would download it, fires TR_Daily_Extract for --date through the local factory runner (which then
follows the storage events: transform, then the load into serving and its Synapse views), and finally runs the
analyst queries on the local Synapse pool (a DuckDB database in the workdir, holding the views the load created).
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from activities.common.context import SecureString
from activities.common.errors import ActivityError, SecretNotFoundError
from activities.common.oserrors import describe_os_error, is_environment_error
from activities.common.secrets import FolderSecretStore
from activities.common.storage import LocalFolderStorage, Storage
from factory_deploy.env_config import ConfigError, EnvironmentConfig, factory_overrides, global_parameters, load_config, sql_variables
from factory_deploy.env_config.model import SpotifyConfig
from offline.adf_runner import LocalFactoryRunner, RunnerError, RunnerOptions, load_factory, publish_code_package
from offline.adf_runner.batch_pool import DEFAULT_BATCH_SLOTS
from offline.adf_runner.storage_events import BlobEvent
from offline.run_local.analyst import AnalystQuery, run_analyst_queries
from offline.run_local.azurite import Azurite
from offline.run_local.report import quarantine_counts, schema_changes, write_report
from offline.run_local.resume import unfinished_step
from offline.run_local.twin_process import TwinProcess, start_twin
from offline.spotify_twin.truth import run_record_path, served_so_far
from offline.synapse_duckdb import LocalServerlessPool, SqlTranslationError
from offline.synapse_duckdb.engine import data_sources_from_setup

ROOT = Path(__file__).resolve().parents[2]
# The analyst queries whose results the terminal summary prints (the report shows them all).
SUMMARY_QUERIES = ("01_album_size_and_explicit_share", "02_user_top_artists_by_listening")
QUARANTINE_CONTAINER = "quarantine"
# Secrets the local Key Vault stand-in (<workdir>/keyvault/, one file per secret) holds for Azurite runs.
STORAGE_SECRET = "storage-connection-string"
BATCH_STORAGE_SECRET = "batch-storage-connection-string"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="run_local.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", type=_date, default=date.today(), help="ingest date YYYY-MM-DD (default today)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".local" / "run", help="where everything is written")
    parser.add_argument("--seed", type=int, default=42, help="Spotify twin catalog seed (default 42)")
    parser.add_argument("--scale", type=float, default=1.0, help="twin catalog size, 1.0 ~ 9000 tracks (default 1.0)")
    parser.add_argument("--faults", default="", help='twin fault profile, e.g. "429=0.05,500=0.02,latency_ms=30"')
    parser.add_argument("--access-mode", choices=("development", "extended"), default=None,
                        help="what the twin lets the app call (default: spotify.accessMode of config/local.json)")
    parser.add_argument("--daily-quota", type=_quota, default=None,
                        help="the twin's daily request quota: past it, 429 QUOTA_EXCEEDED (default: none)")
    parser.add_argument("--storage", choices=("local", "azurite"), default="local", help="storage stand-in")
    parser.add_argument("--twin-url", help="use a Spotify API twin already running at this /v1 base URL instead of starting one")
    parser.add_argument("--retry-interval-cap", type=float, default=2.0,
                        help="cap on policy.retryIntervalInSeconds for local speed (default 2 s; ADF waits the full interval)")
    parser.add_argument("--batch-slots", type=_positive, default=DEFAULT_BATCH_SLOTS,
                        help="task slots of the Batch pool: Custom activities running at once across the factory "
                             f"(default {DEFAULT_BATCH_SLOTS}; ForEach batchCount is only an upper bound)")
    parser.add_argument("--verbose", action="store_true", help="stream the activities' stdout/stderr")
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--batch-slots must be a whole number of at least 1, got {text!r}")
    return int(text)


def _quota(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--daily-quota must be a whole number >= 0, got {text!r}")
    return int(text)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--date must be YYYY-MM-DD, got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return _run(args)
    except (ConfigError, RunnerError, ActivityError, SqlTranslationError) as exc:
        print(f"run_local: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if not is_environment_error(exc):
            raise
        # The workdir's disk (full, read-only, not ours): one line naming the file and the fix, not a traceback.
        print(f"run_local: error: {describe_os_error(exc, other='another --workdir')}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    config = load_config("local")
    workdir = args.workdir.resolve()
    if workdir.exists() and not workdir.is_dir():
        raise RunnerError(f"--workdir {workdir} is a file, not a folder: move it away or pass another --workdir")
    for folder in ("storage", "truth", "runs", "logs"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    # The Key Vault stand-in: a folder of the workdir (never the repo), read and written by the activities as
    # Key Vault would be (a rotated refresh token is written back there, and the next run of this workdir
    # presents it). Secrets are made once per workdir and handed to the twin through its environment only.
    vault = FolderSecretStore(workdir / "keyvault")
    client_secret = _secret(vault, config.spotify.client_secret_name, 24)
    # One refresh token per allow-listed user, in spotify.users order (the twin's user i holds token i).
    user_secrets = [user.refresh_token_secret_name for user in config.spotify.users] or [
        config.spotify.refresh_token_secret_name]
    refresh_tokens = tuple(_secret(vault, name, 32) for name in user_secrets)

    cleanups: list[Any] = []
    try:
        # What this run's twin served, kept per run: a later run of the same date never overwrites it.
        served_out = run_record_path(workdir / "truth", args.date, datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
        api_base_url, token_url, stop_twin = _spotify_endpoint(
            args, config.spotify, (client_secret, refresh_tokens), workdir, served_out
        )
        cleanups.append(stop_twin)
        storage, blob_overrides = _storage(args, workdir, cleanups, vault)
        params = global_parameters(config) | {"spotifyApiBaseUrl": api_base_url, "spotifyTokenUrl": token_url,
                                              "spotifyAccessMode": args.access_mode or config.spotify.access_mode}
        # The code package goes where deploy puts it: a versioned folder the activities' folderPath names.
        params["activitiesFolderPath"] = publish_code_package(storage, ROOT / "activities", params["activitiesFolderPath"])
        overrides = factory_overrides(config)
        overrides["Ls_Blob_Storage"] = blob_overrides
        overrides["Ls_KeyVault"] = {"typeProperties.baseUrl": vault.folder.as_uri() + "/"}
        if args.storage == "local":  # one folder stands in for both accounts; with Azurite, Key Vault has the key
            # An override replaces what the committed JSON has: Ls_Batch_Storage's typeProperties hold a connection string.
            overrides["Ls_Batch_Storage"] = {"typeProperties": {"serviceEndpoint": blob_overrides["typeProperties.serviceEndpoint"]}}
        factory = load_factory(ROOT / "adf", overrides=overrides, global_parameters=params)

        pool = _synapse_pool(config, workdir, storage, args.storage)
        cleanups.append(pool.close)
        runner = LocalFactoryRunner(
            factory, storage, workdir, sql_opener=lambda linked_service, factory: pool,
            options=RunnerOptions(retry_interval_cap_seconds=args.retry_interval_cap, verbose=args.verbose,
                                  data_factory_name=config.factory.name, batch_slots=args.batch_slots),
        )
        if unfinished_step(storage, config, args.date) is None:
            result = runner.run_schedule_trigger("TR_Daily_Extract", args.date)
        else:
            result = runner.rerun_blob_events(lambda: _next_rerun(storage, config, args.date), args.date)
        stop_twin()  # the twin writes what it served, the run's ground truth, as it stops
        runner.render_monitoring()
        print(f"\nmonitoring record: {result.monitoring_json}")
        if not result.succeeded:
            failed = [r for r in result.runs if not r.succeeded]
            for run in failed:
                print(f"run_local: error: pipeline {run.pipelineName} {run.status}: {run.message}", file=sys.stderr)
            report = write_report(workdir / "report.html", title=f"Spotify pipeline, local run {args.date} (failed)",
                                  runs=runner.monitor.to_json(), table_rows={}, truth_check={}, queries=[])
            print(f"report: {report}")
            return 1

        local_root = _local_copy(storage, workdir, args.storage, config.storage.curated_container)
        tables = _curated_counts(local_root / config.storage.curated_container, args.date)
        truth_check = _truth_check(workdir, args, local_root / config.storage.curated_container)
        queries = run_analyst_queries(pool, ROOT / "synapse" / "queries",
                                      _pool_root(workdir, args.storage) / config.storage.serving_container)
        _print_summary(tables, truth_check, queries)
        report = write_report(
            workdir / "report.html", title=f"Spotify pipeline, local run {args.date}", runs=runner.monitor.to_json(),
            table_rows=tables, truth_check=truth_check, queries=queries,
            quarantine=quarantine_counts(storage, QUARANTINE_CONTAINER, args.date, runner.monitor.to_json()),
            schemas=schema_changes(storage, config.storage.serving_container, args.date),
        )
        print(f"\nreport: {report}")
        return 0
    finally:
        for cleanup in reversed(cleanups):
            cleanup()


def _next_rerun(storage: Storage, config: EnvironmentConfig, day: date) -> BlobEvent | None:
    unfinished = unfinished_step(storage, config, day)
    if unfinished is None:
        return None
    step, event = unfinished
    print(f"run_local: the last run of {day} stopped before {step} finished: firing the event on "
          f"{event.container}/{event.path} again (as Rerun in ADF Monitor) instead of extracting again")
    return event


def _secret(vault: FolderSecretStore, name: str, size: int) -> str:
    """The secret ``name`` of this workdir's Key Vault stand-in, made (random) on first use."""
    try:
        return vault.get(name).reveal()
    except SecretNotFoundError:
        vault.set(name, SecureString(secrets.token_urlsafe(size)))
        return vault.get(name).reveal()


def _spotify_endpoint(
    args: argparse.Namespace, spotify: SpotifyConfig, credentials: tuple[str, tuple[str, ...]], workdir: Path,
    served_out: Path
) -> tuple[str, str, Callable[[], None]]:
    """API base URL, token URL, and how to stop the twin (idempotent; a no-op for --twin-url)."""
    if args.twin_url:
        base = args.twin_url.rstrip("/")
        _check_reachable(base)
        return base, base.removesuffix("/v1") + "/api/token", lambda: None
    twin: TwinProcess = start_twin(
        seed=args.seed, scale=args.scale, faults=args.faults, client_id=spotify.client_id,
        client_secret=credentials[0], refresh_tokens=list(credentials[1]),
        access_mode=args.access_mode or spotify.access_mode, daily_quota=args.daily_quota, as_of=args.date,
        truth_out=_truth_path(workdir, args), served_out=served_out,
        log_file=workdir / "logs" / "spotify_twin.log",
    )
    return twin.api_base_url, twin.token_url, twin.stop


def _check_reachable(base_url: str) -> None:
    """Fail in one line before any pipeline runs, rather than after every retry of the extract activity."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=5):
            return
    except OSError as exc:
        raise RunnerError(
            f"the Spotify API at {base_url} is not reachable ({exc.strerror or exc}): start the twin "
            "(python -m offline.spotify_twin) or leave out --twin-url to let run_local start one"
        ) from exc


def _truth_path(workdir: Path, args: argparse.Namespace) -> Path:
    """The catalog's truth as of the run's date: the same for every run of that date, seed and scale."""
    return workdir / "truth" / args.date.isoformat() / f"catalog-seed{args.seed}-scale{args.scale:g}.json"


def _storage(
    args: argparse.Namespace, workdir: Path, cleanups: list[Any], vault: FolderSecretStore
) -> tuple[Storage, dict[str, Any]]:
    """The storage the pipelines write to, and how Ls_Blob_Storage must point at it."""
    if args.storage == "local":
        root = workdir / "storage"
        return LocalFolderStorage(root), {"typeProperties.serviceEndpoint": root.as_uri()}
    from activities.common.storage import AzureBlobStorage

    azurite = Azurite(workdir / "azurite").start()
    cleanups.append(azurite.stop)
    for name in (STORAGE_SECRET, BATCH_STORAGE_SECRET):
        vault.set(name, SecureString(azurite.connection_string))
    reference = {"type": "AzureKeyVaultSecret", "secretName": STORAGE_SECRET,
                 "store": {"referenceName": "Ls_KeyVault", "type": "LinkedServiceReference"}}
    return AzureBlobStorage.from_connection_string(azurite.connection_string), {"typeProperties": {"connectionString": reference}}


def _local_copy(storage: Storage, workdir: Path, kind: str, container: str) -> Path:
    """DuckDB reads files: with Azurite, mirror the curated container into the workdir first."""
    if kind == "local":
        return workdir / "storage"
    mirror = workdir / "azurite-mirror"
    target = LocalFolderStorage(mirror)
    for blob in storage.list_blobs(container):
        target.write_bytes(container, blob.path, storage.read_bytes(container, blob.path))
    return mirror


def _curated_counts(curated: Path, day: date) -> dict[str, int]:
    import pyarrow.parquet as pq

    counts = {}
    # Folders starting with `_` hold markers and staging, not tables.
    for table_dir in sorted(p for p in curated.iterdir() if p.is_dir() and not p.name.startswith("_")):
        partition = table_dir / f"snapshot_date={day.isoformat()}"
        if (partition / "_SUCCESS").exists():
            counts[table_dir.name] = sum(pq.ParquetFile(f).metadata.num_rows for f in partition.glob("*.parquet"))
    return counts


def _truth_check(workdir: Path, args: argparse.Namespace, curated: Path) -> dict[str, Any]:
    """Curated ids of this date's snapshot against everything the twins of this workdir served up to this date
    (each snapshot is the full state so far). Only when this run started the twin."""
    served = served_so_far(workdir / "truth", args.date)
    if args.twin_url or not served:
        return {}
    import pyarrow.parquet as pq

    check = {}
    for table, key in (("albums", "album_id"), ("tracks", "track_id"), ("artists", "artist_id")):
        partition = curated / table / f"snapshot_date={args.date.isoformat()}"
        ids = [i for f in sorted(partition.glob("*.parquet")) for i in pq.read_table(f, columns=[key])[key].to_pylist()]
        want = served.get(table, set())
        check[table] = {"expected": len(want), "curated": len(ids), "missing": len(want - set(ids)),
                        "unexpected": len(set(ids) - want), "duplicates": len(ids) - len(set(ids))}
    return check


def _pool_root(workdir: Path, kind: str) -> Path:
    """Where the local pool reads the containers: the storage folder, or Azurite's mirror in the workdir."""
    return workdir / "storage" if kind == "local" else workdir / "azurite-mirror"


def _synapse_pool(config: EnvironmentConfig, workdir: Path, storage: Storage, kind: str) -> LocalServerlessPool:
    """The local Synapse serverless pool, as deploy sets it up: a persistent DuckDB database in the workdir where
    PL_Load_Spotify's Script activities create the views the summary then queries. DuckDB reads files: with
    Azurite, the serving container is mirrored into the workdir before every statement."""
    setup = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "synapse" / "setup").glob("*.sql")))
    root = _pool_root(workdir, kind)
    serving = config.storage.serving_container
    pool = LocalServerlessPool(
        root, data_sources_from_setup(setup, sql_variables(config)),
        database=workdir / "synapse" / f"{config.synapse.database}.duckdb",
        before_query=None if kind == "local" else lambda: _mirror(storage, root, serving),
    )
    pool.apply_setup(setup)
    return pool


def _mirror(storage: Storage, root: Path, container: str) -> None:
    """Make `<root>/<container>` hold exactly the container's blobs (changed ones copied, gone ones deleted)."""
    target = LocalFolderStorage(root)
    folder = root / container
    present = set()
    for blob in storage.list_blobs(container):
        present.add(blob.path)
        local = folder / blob.path
        if not local.is_file() or local.stat().st_size != blob.size:
            target.write_bytes(container, blob.path, storage.read_bytes(container, blob.path))
    for local in folder.rglob("*") if folder.is_dir() else ():
        if local.is_file() and local.relative_to(folder).as_posix() not in present:
            local.unlink()


def _print_summary(tables: dict[str, int], truth_check: dict[str, Any], queries: list[AnalystQuery]) -> None:
    print("\nCurated tables (this snapshot)")
    for name, count in tables.items():
        print(f"  {name:<16}{count:>10,} rows")
    if truth_check:
        print("\nTwin ground truth vs curated")
        for name, c in truth_check.items():
            verdict = "ok" if c["missing"] == c["unexpected"] == c["duplicates"] == 0 else "MISMATCH"
            print(f"  {name:<16}expected {c['expected']:>6}  curated {c['curated']:>6}  "
                  f"missing {c['missing']}  unexpected {c['unexpected']}  duplicates {c['duplicates']}  {verdict}")
    for query in queries:
        if query.result is None:
            print(f"run_local: warning: analyst query {query.name} failed: {query.error}", file=sys.stderr)
        elif query.name in SUMMARY_QUERIES:
            print("\n" + query.result.to_text())
