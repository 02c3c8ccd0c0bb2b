"""Triggers and storage events: schedule firings, blob event matching, triggerBody, the storage watcher."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from activities.common.storage import LocalFolderStorage
from offline.adf_runner.errors import TriggerError
from offline.adf_runner.factory import Trigger, TriggerPipeline, load_factory
from offline.adf_runner.storage_events import BlobEvent, StorageWatcher
from offline.adf_runner.triggers import (
    fire_blob_event,
    fire_schedule,
    matches_blob_event,
    scheduled_times,
)

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "tests" / "fixtures" / "adf_runner_flow"
MODIFIED = datetime(2026, 11, 24, 5, 1, tzinfo=UTC)


def _schedule(recurrence: dict[str, Any], parameters: dict[str, Any] | None = None) -> Trigger:
    return Trigger(
        name="TR_Test", type="ScheduleTrigger", type_properties={"recurrence": recurrence},
        pipelines=(TriggerPipeline("PL_X", parameters or {}),),
    )


def _blob_trigger(**props: Any) -> Trigger:
    return Trigger(name="TR_Blob", type="BlobEventsTrigger", type_properties=props, pipelines=())


def _event(container: str, path: str, size: int = 10) -> BlobEvent:
    return BlobEvent(container, path, size, MODIFIED)


# --- ScheduleTrigger --------------------------------------------------------------------------------------


def test_when_committed_daily_trigger_fires_then_ingest_date_is_the_scheduled_day() -> None:
    trigger = load_factory(REPO / "adf").trigger("TR_Daily_Extract")

    firings = fire_schedule(trigger, date(2026, 11, 24))

    assert len(firings) == 1
    assert firings[0].trigger_object["scheduledTime"] == "2026-11-24T05:00:00.0000000Z"
    assert firings[0].pipelines == (("PL_Extract_Spotify", {"ingestDate": "2026-11-24"}),)
    assert firings[0].invoked_by["invokedByType"] == "ScheduleTrigger"


def test_when_schedule_has_several_hours_then_each_fires_in_time_order() -> None:
    trigger = load_factory(FLOW).trigger("TR_Twice_Daily")

    times = scheduled_times(trigger, date(2026, 11, 24))

    assert times == [datetime(2026, 11, 24, 5, 30, tzinfo=UTC), datetime(2026, 11, 24, 17, 30, tzinfo=UTC)]


def test_when_trigger_parameters_use_trigger_times_then_they_are_evaluated() -> None:
    trigger = _schedule(
        {
            "frequency": "Day",
            "interval": 1,
            "startTime": "2026-01-01T00:00:00Z",
            "timeZone": "UTC",
            "schedule": {"hours": [5], "minutes": [0]},
        },
        {
            "day": "@formatDateTime(trigger().scheduledTime, 'yyyy-MM-dd')",
            "start": "@trigger().startTime",
            "yesterday": "@addDays(trigger().scheduledTime, -1, 'yyyyMMdd')",
        },
    )

    (firing,) = fire_schedule(trigger, date(2026, 3, 1))

    assert firing.pipelines[0][1] == {"day": "2026-03-01", "start": "2026-03-01T05:00:00.0000000Z", "yesterday": "20260228"}


def test_when_schedule_is_in_another_time_zone_then_times_convert_to_utc() -> None:
    trigger = _schedule(
        {
            "frequency": "Day",
            "timeZone": "W. Europe Standard Time",
            "startTime": "2026-01-01T00:00:00",
            "schedule": {"hours": [5], "minutes": [0]},
        }
    )

    assert scheduled_times(trigger, date(2026, 11, 24)) == [datetime(2026, 11, 24, 4, 0, tzinfo=UTC)]
    assert scheduled_times(trigger, date(2026, 7, 1)) == [datetime(2026, 7, 1, 3, 0, tzinfo=UTC)]


def test_when_day_is_before_start_or_not_a_scheduled_weekday_then_no_firing() -> None:
    later = _schedule({"frequency": "Day", "startTime": "2027-01-01T05:00:00Z", "schedule": {"hours": [5], "minutes": [0]}})
    mondays = _schedule(
        {"frequency": "Week", "startTime": "2026-01-01T00:00:00Z", "schedule": {"weekDays": ["Monday"], "hours": [5], "minutes": [0]}}
    )

    assert scheduled_times(later, date(2026, 11, 24)) == []
    assert scheduled_times(mondays, date(2026, 11, 24)) == []  # a Tuesday
    assert len(scheduled_times(mondays, date(2026, 11, 23))) == 1


def test_when_schedule_is_hourly_without_schedule_then_it_fires_every_interval_from_start() -> None:
    trigger = _schedule({"frequency": "Hour", "interval": 6, "startTime": "2026-01-01T01:15:00Z"})

    assert [t.hour for t in scheduled_times(trigger, date(2026, 11, 24))] == [1, 7, 13, 19]


def test_when_blob_trigger_is_fired_as_schedule_then_error() -> None:
    with pytest.raises(TriggerError, match="trigger `TR_Blob`: is a BlobEventsTrigger, not a ScheduleTrigger"):
        fire_schedule(_blob_trigger(), date(2026, 11, 24))


# --- BlobEventsTrigger ------------------------------------------------------------------------------------

MANIFEST = "spotify/manifests/ingest_date=2026-11-24/run_id=r1/_manifest.json"


@pytest.mark.parametrize(
    "event,expected",
    [
        (_event("raw", MANIFEST), True),
        (_event("raw", MANIFEST, size=0), False),  # ignoreEmptyBlobs
        (_event("curated", MANIFEST), False),  # other container
        (_event("raw", "spotify/albums/ingest_date=2026-11-24/run_id=r1/part-00000.json.gz"), False),  # prefix
        (_event("raw", "spotify/manifests/ingest_date=2026-11-24/run_id=r1/_manifest.json.tmp"), False),  # suffix
        (BlobEvent("raw", MANIFEST, 10, MODIFIED, "Microsoft.Storage.BlobDeleted"), False),  # event type
    ],
)
def test_when_blob_event_arrives_then_trigger_matches_as_adf(event: BlobEvent, expected: bool) -> None:
    trigger = load_factory(FLOW).trigger("TR_Landed")

    assert matches_blob_event(trigger, event) is expected


def test_when_empty_blobs_are_not_ignored_then_empty_blob_matches() -> None:
    trigger = _blob_trigger(blobPathEndsWith=".csv", ignoreEmptyBlobs=False, events=["Microsoft.Storage.BlobCreated"])

    assert matches_blob_event(trigger, _event("any", "x/y.csv", size=0))


def test_when_trigger_is_stopped_then_it_does_not_match() -> None:
    trigger = Trigger("TR_S", "BlobEventsTrigger", {"blobPathEndsWith": ".csv"}, (), runtime_state="Stopped")

    assert not matches_blob_event(trigger, _event("any", "y.csv"))


def test_when_blob_trigger_fires_then_trigger_body_has_folder_path_and_file_name() -> None:
    trigger = load_factory(FLOW).trigger("TR_Landed")

    firing = fire_blob_event(trigger, _event("raw", MANIFEST))

    body = firing.trigger_object["outputs"]["body"]
    assert body == {"folderPath": "raw/spotify/manifests/ingest_date=2026-11-24/run_id=r1", "fileName": "_manifest.json"}
    assert firing.pipelines == (
        ("PL_Child", {"greeting": "raw/spotify/manifests/ingest_date=2026-11-24/run_id=r1|_manifest.json|_manifest.json"}),
    )
    assert firing.invoked_by["invokedByType"] == "BlobEventsTrigger" and firing.event is not None


def test_when_blob_is_at_container_root_then_folder_path_is_the_container() -> None:
    firing = fire_blob_event(_blob_trigger(blobPathEndsWith=".json"), _event("landing", "x.json"))

    assert firing.trigger_object["outputs"]["body"] == {"folderPath": "landing", "fileName": "x.json"}


# --- storage watcher ------------------------------------------------------------------------------------


def test_when_blobs_appear_after_snapshot_then_each_is_one_event_in_path_order(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    storage.write_bytes("raw", "old.json", b"{}")
    storage.write_bytes("other", "ignored.json", b"{}")
    watcher = StorageWatcher(storage, ["raw", "curated"])
    watcher.snapshot()

    storage.write_bytes("raw", "b/2.json", b"22")
    storage.write_bytes("raw", "a/1.json", b"1")
    storage.write_bytes("curated", "t/_SUCCESS", b"")
    storage.write_bytes("other", "new.json", b"{}")
    events = watcher.changes()

    assert [(e.container, e.path, e.size) for e in events] == [("curated", "t/_SUCCESS", 0), ("raw", "a/1.json", 1), ("raw", "b/2.json", 2)]
    assert watcher.changes() == []


def test_when_blob_is_overwritten_then_it_is_a_new_event_but_never_twice(tmp_path: Path) -> None:
    storage = LocalFolderStorage(tmp_path)
    watcher = StorageWatcher(storage, ["raw"])
    watcher.snapshot()
    storage.write_bytes("raw", "m.json", b"1")
    (first,) = watcher.changes()

    storage.write_bytes("raw", "m.json", b"12")
    (second,) = watcher.changes()
    watcher.snapshot()  # forget the listing, keep what was reported
    stamp = second.last_modified.timestamp()
    os.utime(tmp_path / "raw" / "m.json", (stamp, stamp))

    assert first.size == 1 and second.size == 2
    assert watcher.changes() == []


def test_when_runner_gets_events_then_matching_trigger_pipelines_run(tmp_path: Path) -> None:
    from offline.adf_runner import LocalFactoryRunner

    runner = LocalFactoryRunner(load_factory(FLOW), LocalFolderStorage(tmp_path / "s"), tmp_path / "w")

    runs = runner.fire_blob_events([_event("raw", MANIFEST), _event("raw", "spotify/albums/x.json")])

    assert [(r.pipelineName, r.status) for r in runs] == [("PL_Child", "Succeeded")]
    assert runs[0].invokedBy["name"] == "TR_Landed"
    assert json.dumps(runs[0].parameters).count("_manifest.json") == 2
