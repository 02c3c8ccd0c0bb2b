"""A local run of a date whose earlier run stopped after its extract published re-fires the unfinished step's event."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from activities.common.storage import LocalFolderStorage
from activities.load.ddl import PUBLISHED_POINTER
from activities.load.published import pointer_bytes
from factory_deploy.env_config import load_config
from offline.run_local.resume import unfinished_step

DAY = date(2026, 11, 24)
CONFIG = load_config("local")
MANIFEST = "spotify/manifests/ingest_date=2026-11-24/run_id={run}/_manifest.json"
MARKER = "_snapshots/snapshot_date=2026-11-24/_SUCCESS"


def _write(storage: LocalFolderStorage, container: str, path: str, data: bytes) -> None:
    storage.write_bytes(container, path, data)
    time.sleep(0.01)  # distinct modification times, as a later step writes later


def _manifest(storage: LocalFolderStorage, run: str, *, state: bool = True) -> None:
    _write(storage, CONFIG.storage.raw_container, MANIFEST.format(run=run), b"{}")
    if state:  # the extract's last write, after the manifest
        _write(storage, CONFIG.storage.raw_container, "spotify/_state/ingest_date=2026-11-24/state.json", b"{}")


def _marker(storage: LocalFolderStorage, run: str) -> None:
    _write(storage, CONFIG.storage.curated_container, MARKER, json.dumps({"run_id": run}).encode())


def _pointer(storage: LocalFolderStorage, load_run: str) -> None:
    _write(storage, CONFIG.storage.serving_container, PUBLISHED_POINTER,
           pointer_bytes({DAY.isoformat(): load_run}, datetime.now(UTC)))


def test_when_no_manifest_of_the_date_exists_then_nothing_is_rerun(tmp_path: Path) -> None:
    assert unfinished_step(LocalFolderStorage(tmp_path), CONFIG, DAY) is None


def test_when_the_extract_stopped_between_manifest_and_state_then_the_date_extracts_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _marker(storage, "run-1")
    _manifest(storage, "run-2", state=False)

    assert unfinished_step(storage, CONFIG, DAY) is None


def test_when_the_newest_manifest_has_no_snapshot_of_its_own_then_its_event_is_fired_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _marker(storage, "run-1")
    _manifest(storage, "run-2")  # a later extract of the same date whose transform never finished

    step, event = unfinished_step(storage, CONFIG, DAY) or ("", None)

    assert step == "the transform of its newest manifest"
    assert event is not None and (event.container, event.path) == ("raw", MANIFEST.format(run="run-2"))


def test_when_the_transform_stopped_before_removing_its_staging_then_the_manifest_event_is_fired_again(
    tmp_path: Path,
) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _write(storage, CONFIG.storage.curated_container, "_staging/run-1/albums/snapshot_date=2026-11-24/part.parquet", b"x")
    _marker(storage, "run-1")

    assert (unfinished_step(storage, CONFIG, DAY) or ("",))[0] == "the transform of its newest manifest"


def test_when_the_snapshot_is_not_in_the_pointer_then_the_marker_event_is_fired_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _marker(storage, "run-1")

    step, event = unfinished_step(storage, CONFIG, DAY) or ("", None)

    assert step == "the load of its curated snapshot"
    assert event is not None and (event.container, event.path) == ("curated", MARKER)


def test_when_the_pointer_predates_the_snapshot_marker_then_the_load_is_fired_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _pointer(storage, "load-1")  # published an earlier snapshot of the date
    _write(storage, CONFIG.storage.serving_container, "lineage/load-1.json", b"{}")
    _marker(storage, "run-1")

    assert (unfinished_step(storage, CONFIG, DAY) or ("",))[0] == "the load of its curated snapshot"


def test_when_the_load_stopped_before_its_lineage_record_then_the_load_is_fired_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _marker(storage, "run-1")
    _pointer(storage, "load-1")

    assert (unfinished_step(storage, CONFIG, DAY) or ("",))[0] == "the load of its curated snapshot"


def test_when_the_load_finished_then_nothing_is_rerun_and_the_date_extracts_again(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    _manifest(storage, "run-1")
    _marker(storage, "run-1")
    _pointer(storage, "load-1")
    _write(storage, CONFIG.storage.serving_container, "lineage/load-1.json", b"{}")

    assert unfinished_step(storage, CONFIG, DAY) is None
