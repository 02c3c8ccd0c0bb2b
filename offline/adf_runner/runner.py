"""The local factory runner: fire a schedule trigger, run its pipelines, then follow storage events.

    from offline.adf_runner import LocalFactoryRunner, load_factory, publish_code_package
    from activities.common.storage import LocalFolderStorage

    storage = LocalFolderStorage(root)
    folder = publish_code_package(storage, Path("activities"), "batch-code/activities")  # -> .../<version>
    factory = load_factory("adf", overrides=..., global_parameters={..., "activitiesFolderPath": folder})
    runner = LocalFactoryRunner(factory, storage, workdir)
    result = runner.run_schedule_trigger("TR_Daily_Extract", date(2026, 11, 24))
    runner.render_monitoring()
    sys.exit(result.exit_code)

`run_schedule_trigger` snapshots the watched containers, runs the trigger's pipelines, then loops: diff
storage, fire every BlobEventsTrigger matching each new blob (each event once), run those pipelines, until a
round brings no new events. Pipelines fired by events run one after another, in event order (ADF would start
them concurrently; sequential keeps local runs reproducible).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from offline.adf_runner.batch_pool import BatchPool
from offline.adf_runner.clock import Clock, SystemClock
from offline.adf_runner.engine import PipelineEngine, RunnerOptions
from offline.adf_runner.errors import EventLoopError, TriggerError
from offline.adf_runner.factory import Factory, Trigger
from offline.adf_runner.monitor import Monitor, PipelineRun, TriggerRun
from offline.adf_runner.services import (
    RunnerServices,
    SqlOpener,
    StorageOpener,
    default_storage_opener,
)
from offline.adf_runner.storage_events import BlobEvent, StorageWatcher
from offline.adf_runner.triggers import (
    BLOB_EVENTS_TRIGGER,
    TriggerFiring,
    blob_trigger_containers,
    fire_blob_event,
    fire_schedule,
    matches_blob_event,
)

if TYPE_CHECKING:
    from activities.common.storage import Storage

__all__ = ["LocalFactoryRunner", "RunResult"]

DEFAULT_MAX_EVENT_ROUNDS = 20


@dataclass(frozen=True)
class RunResult:
    runs: tuple[PipelineRun, ...]
    monitoring_json: Path | None = None

    @property
    def succeeded(self) -> bool:
        return bool(self.runs) and all(run.succeeded for run in self.runs)

    @property
    def exit_code(self) -> int:
        return 0 if self.succeeded else 1


class LocalFactoryRunner:
    def __init__(
        self,
        factory: Factory,
        storage: Storage,
        workdir: Path | str,
        global_parameters: Mapping[str, Any] | None = None,
        *,
        storage_opener: StorageOpener = default_storage_opener,
        sql_opener: SqlOpener | None = None,
        clock: Clock | None = None,
        options: RunnerOptions | None = None,
        watched_containers: Iterable[str] | None = None,
        max_event_rounds: int = DEFAULT_MAX_EVENT_ROUNDS,
    ) -> None:
        """`storage` is the account BlobEventsTriggers watch (the one the pipelines write to);
        `storage_opener` opens a linked service's storage for Custom activities' resource files and data flows;
        `sql_opener` opens the SQL engine of a Synapse linked service for Script activities;
        `global_parameters`, when given, replace the factory's."""
        if global_parameters is not None:
            factory = dataclasses.replace(factory, global_parameters=dict(global_parameters))
        self.factory = factory
        self.storage = storage
        self.workdir = Path(workdir)
        self.clock = clock or SystemClock()
        self.options = options or RunnerOptions()
        self.monitor = Monitor()
        self.services = RunnerServices(
            factory=factory, workdir=self.workdir, storage_opener=storage_opener, sql_opener=sql_opener,
            batch_pool=BatchPool(self.options.batch_slots, self.options.batch_python),
        )
        self.engine = PipelineEngine(factory, self.monitor, self.services, self.clock, self.options)
        self.max_event_rounds = max_event_rounds
        self._blob_triggers = [t for t in factory.triggers.values() if t.type == BLOB_EVENTS_TRIGGER]
        self._watched = tuple(watched_containers) if watched_containers is not None else self._trigger_containers()

    def _trigger_containers(self) -> tuple[str, ...]:
        containers = []
        for trigger in self._blob_triggers:
            container = blob_trigger_containers(trigger)
            if container is None:
                raise TriggerError(
                    trigger.name,
                    "blobPathBeginsWith does not name a container (/<container>/blobs/...): pass "
                    "watched_containers to LocalFactoryRunner",
                )
            containers.append(container)
        return tuple(sorted(set(containers)))

    # --- running ---------------------------------------------------------------------------------------

    def run_pipeline(
        self, name: str, parameters: Mapping[str, Any] | None = None, *, follow_events: bool = False
    ) -> RunResult:
        """Run one pipeline manually (invokedBy Manual); with follow_events, then its storage events."""
        mark = len(self.monitor.pipeline_runs())
        watcher = self._watcher()
        runs = [self.engine.run_pipeline(name, parameters)]
        if follow_events:
            runs += self._follow_events(watcher)
        self.engine.join_background()
        label = self.clock.now().strftime("%Y%m%dT%H%M%S%fZ")
        return RunResult(tuple(runs), self.monitor.write_json(self.workdir, label, since=mark))

    def run_schedule_trigger(self, name: str, day: date) -> RunResult:
        """Fire ScheduleTrigger `name` on `day`, run its pipelines, then every pipeline that storage events
        fire, until no new events. Writes `<workdir>/runs/<day>-runs.json`."""
        trigger = self.factory.trigger(name)
        firings = fire_schedule(trigger, day, self.clock.now)
        if not firings:
            raise TriggerError(name, f"does not fire on {day.isoformat()} (check its recurrence schedule)")
        return self._run_and_follow(lambda: [run for firing in firings for run in self.run_firing(firing)], day)

    def rerun_blob_events(self, next_event: Callable[[], BlobEvent | None], day: date) -> RunResult:
        """Fire storage events that already happened once more (an operator's Rerun of trigger runs whose
        pipelines did not finish): `next_event` names the next one from what storage holds, each is followed by
        the pipelines its new storage events fire, until it names none or one fired already. Writes the day's record."""

        def rerun() -> list[PipelineRun]:
            runs: list[PipelineRun] = []
            fired: set[tuple[str, str]] = set()
            while (event := next_event()) is not None and (event.container, event.path) not in fired:
                fired.add((event.container, event.path))
                watcher = self._watcher()
                runs += self.fire_blob_events([event])
                runs += self._follow_events(watcher)
            return runs

        return self._run_and_follow(rerun, day)

    def _run_and_follow(self, start: Callable[[], list[PipelineRun]], day: date) -> RunResult:
        mark = len(self.monitor.pipeline_runs())
        watcher = self._watcher()
        runs = start()
        runs += self._follow_events(watcher)
        self.engine.join_background()
        # The file holds this call's runs (child pipelines included), not the runner's whole history.
        return RunResult(tuple(runs), self.monitor.write_json(self.workdir, day.isoformat(), since=mark))

    def fire_blob_events(self, events: Iterable[BlobEvent]) -> list[PipelineRun]:
        """Run the pipelines of every BlobEventsTrigger matching each event (in order)."""
        runs: list[PipelineRun] = []
        for event in events:
            for trigger in self.matching_triggers(event):
                runs += self.run_firing(fire_blob_event(trigger, event, self.clock.now))
        return runs

    def matching_triggers(self, event: BlobEvent) -> list[Trigger]:
        return [t for t in self._blob_triggers if matches_blob_event(t, event)]

    def run_firing(self, firing: TriggerFiring) -> list[PipelineRun]:
        fired = self.clock.now()
        runs = [
            self.engine.run_pipeline(pipeline, parameters, firing.invoked_by, firing.trigger_object)
            for pipeline, parameters in firing.pipelines
        ]
        self.monitor.trigger_fired(_trigger_run(firing, fired, runs))
        return runs

    def _watcher(self) -> StorageWatcher:
        watcher = StorageWatcher(self.storage, self._watched)
        watcher.snapshot()
        return watcher

    def _follow_events(self, watcher: StorageWatcher) -> list[PipelineRun]:
        runs: list[PipelineRun] = []
        for _ in range(self.max_event_rounds):
            self.engine.join_background()  # children started without waitOnCompletion may still write
            events = watcher.changes()
            fired = self.fire_blob_events(events)
            if not fired:
                return runs
            runs += fired
        raise EventLoopError(self.max_event_rounds)

    # --- monitoring ------------------------------------------------------------------------------------

    def render_monitoring(self, stream: TextIO | None = None) -> None:
        self.monitor.render(stream or sys.stdout)


def _trigger_run(firing: TriggerFiring, fired: datetime, runs: list[PipelineRun]) -> TriggerRun:
    """The trigger run as triggerRuns/queryByFactory returns it (2018-06-01 example TriggerRuns_QueryByFactory.json):
    properties TriggerTime (and ScheduleTime for a schedule) in ADF's "6/16/2018 12:43:15 AM" form."""
    properties = {"TriggerTime": _us_time(fired)}
    scheduled = firing.trigger_object.get("scheduledTime")
    if scheduled:
        properties["ScheduleTime"] = _us_time(datetime.fromisoformat(str(scheduled).replace("Z", "+00:00")))
    return TriggerRun(
        triggerName=firing.trigger, triggerRunId=firing.trigger_run_id, triggerType=firing.trigger_type,
        triggerRunTimestamp=fired, properties=properties, triggeredPipelines={r.pipelineName: r.runId for r in runs},
    )


def _us_time(value: datetime) -> str:
    hour = value.hour % 12 or 12
    return f"{value.month}/{value.day}/{value.year} {hour}:{value:%M:%S} {'AM' if value.hour < 12 else 'PM'}"
