"""Incremental extraction in development mode across days, through `scripts/run_local.py` (issue 9).

With the twin's daily quota at 150 requests, day 1 stops at the quota: it succeeds, publishes what it fetched and
records the rest as deferred (customOutput). The next days' runs into the same workdir do the deferred lookups first
until none is left. After every run the curated ids equal everything the twin served so far, with no duplicates
within a snapshot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from offline.spotify_twin.truth import served_so_far

ROOT = Path(__file__).resolve().parents[2]
FIRST_DAY = date(2026, 11, 24)
QUOTA = 150
MAX_DAYS = 6
KEYS = {"albums": "album_id", "tracks": "track_id", "artists": "artist_id"}


def run_local(workdir: Path, day: date, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "scripts" / "run_local.py"), "--date", day.isoformat(), "--workdir",
               str(workdir), "--scale", "0.3", "--access-mode", "development", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=400)


def extraction(workdir: Path, day: date) -> dict[str, Any]:
    """The day's `Write manifest` customOutput in the monitoring record."""
    record = json.loads((workdir / "runs" / f"{day.isoformat()}-runs.json").read_text())
    (output,) = [run["output"]["customOutput"] for run in record["activityRuns"]
                 if run["activityName"] == "Write manifest" and run["status"] == "Succeeded"]
    return output  # type: ignore[no-any-return]


def curated_ids(workdir: Path, day: date, table: str) -> list[str]:
    partition = workdir / "storage" / "curated" / table / f"snapshot_date={day.isoformat()}"
    assert (partition / "_SUCCESS").exists(), partition
    return [value for part in sorted(partition.glob("*.parquet"))
            for value in pq.read_table(part, columns=[KEYS[table]])[KEYS[table]].to_pylist()]


def test_when_the_daily_quota_stops_a_run_then_later_days_do_the_deferred_work_first_and_lose_nothing(
        tmp_path: Path) -> None:
    deferred_by_day: list[int] = []
    for offset in range(MAX_DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        # Act
        result = run_local(tmp_path, day, "--daily-quota", str(QUOTA))

        # Assert: the run succeeds whatever the quota did, and the curated snapshot holds all served so far
        assert result.returncode == 0, result.stderr[-3000:]
        output = extraction(tmp_path, day)
        served = served_so_far(tmp_path / "truth", day)
        for table in KEYS:
            ids = curated_ids(tmp_path, day, table)
            assert len(ids) == len(set(ids)), f"duplicates in {table} on {day}"
            assert set(ids) == served[table], f"{table} on {day}"
        deferred_by_day.append(int(output["deferredTotal"]))
        if offset == 0:
            assert output["quotaExceeded"] is True and output["stoppedBy"] == "quota"
            assert output["deferredTotal"] > 0 and output["state"]
            report = (tmp_path / "report.html").read_text()
            assert "yes: the rest is deferred" in report and f"{output['deferredTotal']} (" in report
        if output["deferredTotal"] == 0:
            break
    # Deferred work shrinks day by day until none is left (the deferred lookups go first every day).
    assert deferred_by_day[-1] == 0, deferred_by_day
    assert all(later < earlier for earlier, later in zip(deferred_by_day, deferred_by_day[1:])), deferred_by_day
