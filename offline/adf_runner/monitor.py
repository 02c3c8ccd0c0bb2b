"""Run history as ADF Studio's Monitor shows it: trigger runs, pipeline runs and their activity runs.

Records are frozen; the monitor replaces a record when a run ends (thread-safe: activities run in
parallel). `render()` prints the tables, `write_json()` saves everything to `<workdir>/runs/<label>-runs.json`:
`pipelineRuns`, `activityRuns` and `triggerRuns`, each item with exactly the keys the 2018-06-01 REST API returns
from pipelineRuns/queryByFactory, activityRuns/queryByPipelineRun and triggerRuns/queryByFactory (the spec's
PipelineRun/ActivityRun/TriggerRun and Microsoft's examples of those responses, tests/arm_specs/examples/).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from activities.common.oserrors import describe_os_error
from offline.adf_runner.errors import RunnerError

__all__ = ["SECURE", "ActivityRun", "ActivityRunError", "Monitor", "MonitorWriteError", "PipelineRun", "TriggerRun"]

# What Monitor shows instead of the inputs/outputs of an activity with secureInput/secureOutput.
SECURE = "(secure)"


class MonitorWriteError(RunnerError):
    """The monitoring record cannot be written (a full disk, a read-only or misplaced workdir)."""


@dataclass(frozen=True)
class ActivityRunError:
    errorCode: str
    message: str
    failureType: str = "UserError"
    target: str = ""


@dataclass(frozen=True)
class PipelineRun:
    runId: str
    pipelineName: str
    parameters: Mapping[str, Any]
    invokedBy: Mapping[str, Any]  # {"name", "invokedByType"} (+ pipelineRunId of a parent pipeline)
    runStart: datetime
    runEnd: datetime | None = None
    durationInMs: int | None = None
    status: str = "InProgress"
    message: str = ""
    groupId: str = ""
    parentRunId: str | None = None
    annotations: tuple[Any, ...] = ()  # the pipeline's annotations, which Monitor filters by

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"


@dataclass(frozen=True)
class ActivityRun:
    activityRunId: str
    activityName: str
    activityType: str
    pipelineRunId: str
    pipelineName: str
    status: str
    activityRunStart: datetime | None
    activityRunEnd: datetime | None = None
    durationInMs: int | None = None
    input: Any = None
    output: Any = None
    error: ActivityRunError | None = None
    attempt: int = 1
    iteration: int | None = None  # index of the ForEach item, for activities inside a ForEach
    # The activity's userProperties evaluated at its start, {name: value} as activityRuns/queryByPipelineRun returns
    # them (2018-06-01 example ActivityRuns_QueryByPipelineRun.json).
    userProperties: Mapping[str, str] = field(default_factory=dict)
    linkedServiceName: str = ""


@dataclass(frozen=True)
class TriggerRun:
    triggerName: str
    triggerRunId: str
    triggerType: str
    triggerRunTimestamp: datetime
    triggeredPipelines: Mapping[str, str]  # pipeline name -> the run id it started
    properties: Mapping[str, str] = field(default_factory=dict)
    status: str = "Succeeded"  # the trigger started its pipelines (their outcome is theirs)
    message: str = ""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _duration(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


class Monitor:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipeline_runs: dict[str, PipelineRun] = {}
        self._activity_runs: dict[str, ActivityRun] = {}
        self._trigger_runs: list[TriggerRun] = []

    # --- recording -----------------------------------------------------------------------------------------

    def pipeline_started(self, run: PipelineRun) -> None:
        with self._lock:
            self._pipeline_runs[run.runId] = run

    def pipeline_finished(self, run_id: str, status: str, message: str, end: datetime) -> PipelineRun:
        with self._lock:
            run = self._pipeline_runs[run_id]
            run = replace(run, status=status, message=message, runEnd=end, durationInMs=_duration(run.runStart, end))
            self._pipeline_runs[run_id] = run
            return run

    def activity_started(self, run: ActivityRun) -> None:
        with self._lock:
            self._activity_runs[run.activityRunId] = run

    def activity_input(self, activity_run_id: str, value: Any) -> None:
        with self._lock:
            self._activity_runs[activity_run_id] = replace(self._activity_runs[activity_run_id], input=value)

    def activity_user_properties(self, activity_run_id: str, values: Mapping[str, str]) -> None:
        with self._lock:
            self._activity_runs[activity_run_id] = replace(self._activity_runs[activity_run_id], userProperties=dict(values))

    def activity_finished(
        self, activity_run_id: str, status: str, end: datetime | None, output: Any, error: ActivityRunError | None
    ) -> ActivityRun:
        with self._lock:
            run = self._activity_runs[activity_run_id]
            run = replace(
                run, status=status, activityRunEnd=end, durationInMs=_duration(run.activityRunStart, end),
                output=output, error=error,
            )
            self._activity_runs[activity_run_id] = run
            return run

    def trigger_fired(self, run: TriggerRun) -> None:
        with self._lock:
            self._trigger_runs.append(run)

    # --- reading -------------------------------------------------------------------------------------------

    def pipeline_runs(self) -> list[PipelineRun]:
        with self._lock:
            return list(self._pipeline_runs.values())

    def pipeline_run(self, run_id: str) -> PipelineRun:
        with self._lock:
            return self._pipeline_runs[run_id]

    def activity_runs(self, pipeline_run_id: str | None = None) -> list[ActivityRun]:
        with self._lock:
            runs = list(self._activity_runs.values())
        if pipeline_run_id is not None:
            runs = [r for r in runs if r.pipelineRunId == pipeline_run_id]
        return runs

    def trigger_runs(self) -> list[TriggerRun]:
        with self._lock:
            return list(self._trigger_runs)

    def to_json(self, since: int = 0) -> dict[str, Any]:
        """Pipeline runs (from the `since`-th one recorded on), their activity runs and the trigger runs that
        started them, as the REST API returns them."""
        runs = self.pipeline_runs()[since:]
        run_ids = {r.runId for r in runs}
        return {
            "pipelineRuns": [_pipeline_run_json(r) for r in runs],
            "activityRuns": [_activity_run_json(a) for a in self.activity_runs() if a.pipelineRunId in run_ids],
            "triggerRuns": [asdict(t) for t in self.trigger_runs() if run_ids.intersection(t.triggeredPipelines.values())],
        }

    def write_json(self, workdir: Path, label: str, since: int = 0) -> Path:
        """Write `<workdir>/runs/<label>-runs.json` (runs recorded from the `since`-th on); return its path.

        Written beside and renamed into place, so the record of an earlier run with that label stays whole when
        this write fails (a full disk, a read-only workdir); the half-written file is removed.

        Raises:
            MonitorWriteError: the file cannot be written; the message names it and the fix.
        """
        target = Path(workdir) / "runs" / f"{label}-runs.json"
        text = json.dumps(self.to_json(since), indent=2, default=_json_default)
        temp: Path | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=target.parent)
            temp = Path(name)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            temp.replace(target)
        except OSError as exc:
            if temp is not None:
                temp.unlink(missing_ok=True)
            # A failed write() names no file: name the record itself.
            raise MonitorWriteError(
                f"cannot write the monitoring record: {describe_os_error(exc, target, other='another --workdir')}"
            ) from exc
        return target

    # --- the monitoring view ----------------------------------------------------------------------------------

    def render(self, stream: TextIO) -> None:
        """Print Monitor's two views: pipeline runs, then each run's activity runs."""
        runs = sorted(self.pipeline_runs(), key=lambda r: r.runStart)
        stream.write("Pipeline runs\n")
        rows = [
            [r.pipelineName, _time(r.runStart), _ms(r.durationInMs), _invoked(r.invokedBy), r.status, r.runId, r.message]
            for r in runs
        ]
        _table(stream, ["Pipeline name", "Run start", "Duration", "Triggered by", "Status", "Run ID", "Error"], rows)
        for run in runs:
            stream.write(f"\nActivity runs of {run.pipelineName} ({run.runId}): {run.status}\n")
            activity_rows = [
                [
                    a.activityName + (f" [{a.iteration}]" if a.iteration is not None else ""),
                    a.activityType,
                    _time(a.activityRunStart),
                    _ms(a.durationInMs),
                    a.status,
                    str(a.attempt),
                    _summary(a),
                ]
                for a in sorted(
                    self.activity_runs(run.runId), key=lambda a: (a.activityRunStart is None, a.activityRunStart or run.runStart)
                )
            ]
            _table(stream, ["Activity name", "Type", "Run start", "Duration", "Status", "Attempt", "Output / error"], activity_rows)


def _pipeline_run_json(run: PipelineRun) -> dict[str, Any]:
    """A PipelineRun as pipelineRuns/queryByFactory returns it: parameters as strings (the spec's map of string),
    invokedBy with its id (a manual run's id is the run's), runGroupId, isLatest (no recovery reruns here: every run
    is the latest of its group), lastUpdated (the last status change)."""
    invoked = dict(run.invokedBy)
    invoked.setdefault("id", run.runId)
    return {
        "runId": run.runId,
        "runGroupId": run.groupId or run.runId,
        "isLatest": True,
        "pipelineName": run.pipelineName,
        "parameters": {k: v if isinstance(v, str) else json.dumps(v, default=_json_default) for k, v in run.parameters.items()},
        "invokedBy": invoked,
        "runStart": run.runStart,
        "runEnd": run.runEnd,
        "durationInMs": run.durationInMs,
        "status": run.status,
        "message": run.message,
        "lastUpdated": run.runEnd or run.runStart,
        "annotations": list(run.annotations),
    }


# What activityRuns/queryByPipelineRun returns as `error` for an activity run that did not fail.
def _no_error(target: str) -> dict[str, str]:
    return {"errorCode": "", "message": "", "failureType": "", "target": target}


def _activity_run_json(run: ActivityRun) -> dict[str, Any]:
    """An ActivityRun as activityRuns/queryByPipelineRun returns it: retryAttempt null on the first attempt, then
    the retry's number; error with empty fields when there is none; userProperties evaluated."""
    return {
        "activityRunId": run.activityRunId,
        "activityName": run.activityName,
        "activityType": run.activityType,
        "pipelineRunId": run.pipelineRunId,
        "pipelineName": run.pipelineName,
        "linkedServiceName": run.linkedServiceName,
        "status": run.status,
        "activityRunStart": run.activityRunStart,
        "activityRunEnd": run.activityRunEnd,
        "durationInMs": run.durationInMs,
        "retryAttempt": run.attempt - 1 if run.attempt > 1 else None,
        "input": run.input if run.input is not None else {},
        "output": run.output if run.output is not None else {},
        "error": asdict(run.error) if run.error is not None else _no_error(run.activityName),
        "userProperties": dict(run.userProperties),
    }


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _ms(value: int | None) -> str:
    if value is None:
        return "-"
    seconds = value / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s"


def _invoked(invoked_by: Mapping[str, Any]) -> str:
    return f"{invoked_by.get('name', '')} ({invoked_by.get('invokedByType', '')})"


def _clip(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(run: ActivityRun) -> str:
    if run.error is not None:
        return _clip(f"{run.error.errorCode}: {run.error.message}")
    output = run.output
    if output == SECURE:
        return SECURE
    if isinstance(output, dict) and "customOutput" in output:
        return _clip("customOutput " + json.dumps(output["customOutput"], default=_json_default))
    if output:
        return _clip(json.dumps(output, default=_json_default))
    return ""


def _table(stream: TextIO, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    stream.write("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip() + "\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    stream.writelines("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n" for row in rows)
    if not rows:
        stream.write("(none)\n")
