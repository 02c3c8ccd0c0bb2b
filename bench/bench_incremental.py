"""One-command benchmark of incremental extraction: day 1, then day 2, into one workdir, against the twin.

Runs ``scripts/run_local.py`` (the whole factory, the twin at default scale in development mode, its
activity moving with the calendar) for two consecutive ingest dates into the same workdir, so day 2
starts from the incremental state day 1 published. Reads each day's request count from the extraction's
monitoring record (``Write manifest`` customOutput ``requests``: every GET the run sent, retries included)
and prints them; the last line is ``requests_day2_vs_day1: <x>`` (the baseline, day 1, is measured in the
same run). Target: <= 0.25.

Run: ``make bench-incremental`` or ``python bench/bench_incremental.py [--date 2026-11-24] [--scale 1.0]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def extraction_output(workdir: Path, day: date) -> dict[str, Any]:
    """The customOutput of the day's ``Write manifest`` activity (the whole extraction's summary)."""
    record = json.loads((workdir / "runs" / f"{day.isoformat()}-runs.json").read_text(encoding="utf-8"))
    outputs = [run["output"]["customOutput"] for run in record["activityRuns"]
               if run["activityName"] == "Write manifest" and run["status"] == "Succeeded"]
    if not outputs:
        raise SystemExit(f"bench_incremental: no successful extraction on {day} (see {workdir}/report.html)")
    return outputs[-1]  # type: ignore[no-any-return]


def run_day(workdir: Path, day: date, scale: float) -> dict[str, Any]:
    command = [sys.executable, str(ROOT / "scripts" / "run_local.py"), "--date", day.isoformat(), "--workdir",
               str(workdir), "--scale", str(scale), "--access-mode", "development"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise SystemExit(f"bench_incremental: run_local --date {day} failed:\n{tail}")
    return extraction_output(workdir, day)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 24), help="day 1 (YYYY-MM-DD)")
    parser.add_argument("--scale", type=float, default=1.0, help="twin catalog size (default 1.0, the default scale)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as folder:
        workdir = Path(folder)
        counts = []
        for offset in (0, 1):
            day = args.date + timedelta(days=offset)
            output = run_day(workdir, day, args.scale)
            counts.append(int(output["requests"]))
            print(f"day {offset + 1} ({day}): {output['requests']} requests, {output['parts']} parts, "
                  f"{output.get('deferredTotal', 0)} lookups deferred")
    print(f"requests_day2_vs_day1: {counts[1] / counts[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
