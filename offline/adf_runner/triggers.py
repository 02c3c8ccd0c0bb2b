"""Triggers: when a ScheduleTrigger fires on a date, whether a BlobEventsTrigger matches a created blob,
and the pipeline parameters each firing evaluates (`@trigger().scheduledTime`, `@triggerBody().folderPath`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from offline.adf_runner.errors import TriggerError
from offline.adf_runner.expressions import EvaluationState, evaluate_value, validate_value
from offline.adf_runner.expressions.datetimes import (
    format_datetime,
    from_zone,
    parse_timestamp,
    to_zone,
)
from offline.adf_runner.factory import Trigger
from offline.adf_runner.storage_events import BLOB_CREATED, BlobEvent

__all__ = [
    "TriggerFiring",
    "blob_trigger_containers",
    "fire_blob_event",
    "fire_schedule",
    "matches_blob_event",
    "scheduled_times",
]

SCHEDULE_TRIGGER = "ScheduleTrigger"
BLOB_EVENTS_TRIGGER = "BlobEventsTrigger"
_HAS_OFFSET = re.compile(r"(Z|z|[+-]\d{2}:?\d{2})$")
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@dataclass(frozen=True)
class TriggerFiring:
    """One firing of a trigger: what `trigger()` returns, and each pipeline to run with its parameters."""

    trigger: str
    trigger_type: str
    trigger_run_id: str
    trigger_object: Mapping[str, Any]
    pipelines: tuple[tuple[str, Mapping[str, Any]], ...]
    event: BlobEvent | None = None
    invoked_by: Mapping[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC))


# --- ScheduleTrigger -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recurrence:
    """A ScheduleTrigger's `recurrence`, read: start and end as wall-clock times of `zone`."""

    zone: str
    frequency: str
    interval: int
    start: datetime | None
    end: datetime | None
    schedule: Mapping[str, Any]

    @classmethod
    def of(cls, trigger: Trigger) -> _Recurrence:
        if trigger.type != SCHEDULE_TRIGGER:
            raise TriggerError(trigger.name, f"is a {trigger.type}, not a ScheduleTrigger")
        recurrence = trigger.type_properties.get("recurrence") or {}
        zone = str(recurrence.get("timeZone") or "UTC")
        try:
            start = _local(recurrence.get("startTime"), zone) if recurrence.get("startTime") else None
            end = _local(recurrence.get("endTime"), zone) if recurrence.get("endTime") else None
        except ValueError as exc:
            raise TriggerError(trigger.name, f"recurrence startTime/endTime: {exc}") from exc
        return cls(zone, str(recurrence.get("frequency") or "Day").lower(), int(recurrence.get("interval") or 1),
                   start, end, recurrence.get("schedule") or {})

    def within(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment <= self.end)


def scheduled_times(trigger: Trigger, day: date) -> list[datetime]:
    """The UTC times `trigger` fires on `day` (a calendar day in the trigger's time zone)."""
    recurrence = _Recurrence.of(trigger)
    if not _day_matches(recurrence.schedule, day, recurrence.frequency, recurrence.interval, recurrence.start):
        return []
    local_times = [t for t in _wall_clock_times(recurrence, day) if recurrence.within(t)]
    try:
        return [from_zone(t, recurrence.zone) for t in local_times]
    except ValueError as exc:
        raise TriggerError(trigger.name, f"recurrence timeZone: {exc}") from exc


def _wall_clock_times(recurrence: _Recurrence, day: date) -> list[datetime]:
    """The firings on `day` in the trigger's wall-clock time: the schedule's hours x minutes, every interval of an
    hourly or minutely recurrence, or once at the start time's time of day."""
    start, schedule = recurrence.start, recurrence.schedule
    if schedule.get("hours") is not None or schedule.get("minutes") is not None:
        hours = schedule.get("hours") or [start.hour if start else 0]
        minutes = schedule.get("minutes") or [start.minute if start else 0]
        return sorted(datetime.combine(day, time(int(h), int(m))) for h in hours for m in minutes)
    if recurrence.frequency in ("hour", "minute"):
        hourly = recurrence.frequency == "hour"
        return _every(timedelta(hours=recurrence.interval) if hourly else timedelta(minutes=recurrence.interval), start, day)
    return [datetime.combine(day, start.time() if start else time())]


def _every(step: timedelta, start: datetime | None, day: date) -> list[datetime]:
    """Every `step` from `start` (midnight if none) that falls on `day`."""
    midnight = datetime.combine(day, time())
    moment = start or midnight
    if moment < midnight:
        moment += -(-(midnight - moment) // step) * step  # the first step on or after midnight
    times = []
    while moment.date() == day:
        times.append(moment)
        moment += step
    return times


def _local(value: Any, zone: str) -> datetime:
    """startTime as wall-clock time of the trigger's zone (ADF: a time without offset is in timeZone)."""
    text = str(value).strip()
    moment = parse_timestamp(text)
    if _HAS_OFFSET.search(text):
        # An explicit UTC/offset time: convert to the zone's wall clock.
        return to_zone(moment, zone).replace(tzinfo=None)
    return moment.replace(tzinfo=None)


def _day_matches(schedule: Mapping[str, Any], day: date, frequency: str, interval: int, start: datetime | None) -> bool:
    week_days = schedule.get("weekDays")
    if week_days and _WEEKDAYS[day.weekday()] not in {str(d).lower() for d in week_days}:
        return False
    month_days = schedule.get("monthDays")
    if month_days:
        last = (date(day.year + (day.month == 12), day.month % 12 + 1, 1) - timedelta(days=1)).day
        wanted = {int(d) if int(d) > 0 else last + int(d) + 1 for d in month_days}
        if day.day not in wanted:
            return False
    if start is not None and frequency == "day" and interval > 1:
        return (day - start.date()).days % interval == 0
    if start is not None and frequency == "week" and interval > 1:
        return ((day - start.date()).days // 7) % interval == 0
    return True


def fire_schedule(
    trigger: Trigger, day: date, now: Callable[[], datetime] = _now
) -> list[TriggerFiring]:
    """Every firing of a ScheduleTrigger on `day`, with its pipelines' parameters evaluated."""
    firings = []
    for scheduled in scheduled_times(trigger, day):
        trigger_object = {
            "name": trigger.name,
            "type": SCHEDULE_TRIGGER,
            "scheduledTime": _iso(scheduled),
            # ADF starts the run a moment after the scheduled time; locally they are the same instant.
            "startTime": _iso(scheduled),
            "outputs": {},
        }
        firings.append(_firing(trigger, trigger_object, now, None))
    return firings


# --- BlobEventsTrigger -------------------------------------------------------------------------------------


def _blob_url_path(event: BlobEvent) -> str:
    return f"/{event.container}/blobs/{event.path}"


def matches_blob_event(trigger: Trigger, event: BlobEvent) -> bool:
    """ADF's matching: the event type is in `events`, `/<container>/blobs/<path>` starts with
    blobPathBeginsWith and ends with blobPathEndsWith, and the blob is not empty if ignoreEmptyBlobs."""
    if trigger.type != BLOB_EVENTS_TRIGGER or trigger.runtime_state.lower() == "stopped":
        return False
    props = trigger.type_properties
    events = props.get("events") or [BLOB_CREATED]
    if event.event_type not in events:
        return False
    path = _blob_url_path(event)
    begins, ends = props.get("blobPathBeginsWith"), props.get("blobPathEndsWith")
    if begins and not path.startswith(str(begins)):
        return False
    if ends and not path.endswith(str(ends)):
        return False
    # ignoreEmptyBlobs (true unless set): a zero-byte blob does not fire.
    return not (props.get("ignoreEmptyBlobs", True) and event.size == 0)


def blob_trigger_containers(trigger: Trigger) -> str | None:
    """The container named by blobPathBeginsWith (`/<container>/blobs/...`), or None if it names none."""
    begins = str(trigger.type_properties.get("blobPathBeginsWith") or "")
    parts = begins.split("/")
    if len(parts) >= 3 and parts[0] == "" and parts[1] and parts[2] == "blobs":
        return parts[1]
    return None


def fire_blob_event(trigger: Trigger, event: BlobEvent, now: Callable[[], datetime] = _now) -> TriggerFiring:
    """The firing of `trigger` for `event`: triggerBody().folderPath = `<container>/<dir of blob>`,
    triggerBody().fileName = the blob's file name (ADF's values)."""
    directory, _, file_name = event.path.rpartition("/")
    folder_path = f"{event.container}/{directory}" if directory else event.container
    body = {
        "folderPath": folder_path,
        "fileName": file_name,
    }
    trigger_object = {
        "name": trigger.name,
        "type": BLOB_EVENTS_TRIGGER,
        "startTime": _iso(now()),
        "outputs": {"body": body},
    }
    return _firing(trigger, trigger_object, now, event)


# --- shared ------------------------------------------------------------------------------------------------


def _firing(
    trigger: Trigger, trigger_object: Mapping[str, Any], now: Callable[[], datetime], event: BlobEvent | None
) -> TriggerFiring:
    state = EvaluationState(trigger=trigger_object, now=now)
    pipelines = []
    for entry in trigger.pipelines:
        where = f"trigger `{trigger.name}` pipeline `{entry.pipeline}`"
        validate_value(entry.parameters, where, "parameters")
        parameters = evaluate_value(entry.parameters, state, "parameters", where=where)
        pipelines.append((entry.pipeline, parameters))
    run_id = str(uuid.uuid4())
    return TriggerFiring(
        trigger=trigger.name,
        trigger_type=trigger.type,
        trigger_run_id=run_id,
        trigger_object=trigger_object,
        pipelines=tuple(pipelines),
        event=event,
        invoked_by={"name": trigger.name, "invokedByType": trigger.type, "id": run_id},
    )
