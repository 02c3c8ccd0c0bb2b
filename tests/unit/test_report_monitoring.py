"""The report's Monitoring section shows what ADF Studio's Monitor shows: trigger runs and each activity run's user
properties, read from the runs record in the REST API's shape (the vendored triggerRuns/queryByFactory example)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from offline.run_local.report import write_report

EXAMPLES = Path(__file__).resolve().parents[1] / "arm_specs" / "examples"


def _monitoring(page: str) -> str:
    match = re.search(r'<section id="monitoring">(.*?)</section>', page, re.S)
    assert match is not None
    return match.group(1)


def _report(tmp_path: Path, runs: dict[str, object]) -> str:
    return write_report(tmp_path / "r.html", title="Run", runs=runs, table_rows={}, truth_check={}, queries=[]).read_text()


def test_when_triggers_fired_then_the_report_lists_each_trigger_run_with_the_runs_it_started(tmp_path: Path) -> None:
    example = json.loads((EXAMPLES / "TriggerRuns_QueryByFactory.json").read_text())
    trigger_runs = example["responses"]["200"]["body"]["value"]
    shard = {"pipelineName": "PL_Extract_Spotify", "pipelineRunId": "9f3ce8b3-37d7-43eb-96ac-a656c0476283",
             "activityName": "Extract Spotify shard", "activityType": "Custom", "activityRunStart": "2018-06-16T00:43:20Z",
             "status": "Succeeded", "durationInMs": 1000, "retryAttempt": None,
             "userProperties": {"ingestDate": "2018-06-16", "level": "1", "shard": "3"}}

    section = _monitoring(_report(tmp_path, {"pipelineRuns": [], "activityRuns": [shard], "triggerRuns": trigger_runs}))

    assert "<h3>Trigger runs</h3>" in section
    row = re.search(r"<tr><td>myTrigger</td>.*?</tr>", section, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert cells == ["myTrigger", "ScheduleTrigger", "2018-06-16T00:43:15", "Succeeded",
                     "myPipeline (9f3ce8b3-37d7-43eb-96ac-a656c0476283)",
                     "TriggerTime=6/16/2018 12:43:15 AM, ScheduleTime=6/16/2018 12:43:14 AM", ""]
    assert "ingestDate=2018-06-16, level=1, shard=3" in section  # the shard run tells itself apart


def test_when_no_trigger_fired_then_the_report_says_the_pipelines_were_started_directly(tmp_path: Path) -> None:
    section = _monitoring(_report(tmp_path, {"pipelineRuns": [], "activityRuns": []}))

    assert "No trigger fired in this run: its pipelines were started directly." in section
    assert "<h3>Trigger runs</h3>" not in section
