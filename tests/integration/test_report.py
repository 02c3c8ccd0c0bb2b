"""`run_local` ends with one self-contained HTML report and prints two analyst query results."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-11-24"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
SECTIONS = ("monitoring", "tables", "quarantine", "schema-changes", "queries")


class _Page(HTMLParser):
    """Collects what a browser would fetch (tags with src/href/srcset, stylesheets) and the section ids."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.ids: set[str] = set()
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        self.svgs += tag == "svg"
        for name in ("src", "srcset", "data", "poster"):
            if values.get(name):
                self.fetches.append(f"<{tag} {name}={values[name]}>")
        if tag in ("link", "script", "iframe", "object", "embed", "img", "image", "use"):
            self.fetches.append(f"<{tag}>")
        href = values.get("href") or values.get("xlink:href") or ""
        if href and not href.startswith("#"):
            self.fetches.append(f"<{tag} href={href}>")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    workdir = tmp_path_factory.mktemp("report-run")
    command = [sys.executable, str(ROOT / "scripts" / "run_local.py"), "--date", DAY, "--workdir", str(workdir),
               "--scale", "0.2"]
    return workdir, subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_when_a_run_ends_then_it_prints_the_report_path_and_two_query_results(run) -> None:  # type: ignore[no-untyped-def]
    workdir, result = run

    assert result.returncode == 0, result.stderr
    assert f"report: {workdir / 'report.html'}" in result.stdout
    assert len(re.findall(r"^-- \d\d_\w+: .+\?$", result.stdout, re.MULTILINE)) == 2


def test_when_the_report_is_opened_then_it_fetches_nothing_and_has_every_section(run) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = run
    page = (workdir / "report.html").read_text(encoding="utf-8")
    parser = _Page()

    parser.feed(page)

    assert parser.fetches == []
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {SVG_NAMESPACE}
    assert "@import" not in page and "url(" not in page
    assert set(SECTIONS) <= parser.ids
    assert parser.svgs >= 3  # the Gantt, rows per table, and at least one query chart


def test_when_the_report_is_opened_then_the_gantt_has_a_bar_per_pipeline_and_activity_run(run) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = run
    page = (workdir / "report.html").read_text(encoding="utf-8")
    record = [json.loads(p.read_text()) for p in (workdir / "runs").glob("*-runs.json")]
    # Skipped activity runs (e.g. a Fail activity on a Failed path) never started: they have no bar.
    expected = sum(len(r["pipelineRuns"]) + sum(1 for a in r["activityRuns"] if a["activityRunStart"]) for r in record)

    gantt = re.search(r'<section id="monitoring">.*?(<svg.*?</svg>)', page, re.DOTALL)
    assert gantt is not None
    bars = [n for n in ET.fromstring(gantt.group(1)).iter() if n.get("class") == "gantt-bar"]
    assert len(bars) == expected
    assert {b.get("data-status") for b in bars} == {"Succeeded"}


def test_when_triggers_started_the_run_then_the_report_lists_every_trigger_run(run) -> None:  # type: ignore[no-untyped-def]
    workdir, _ = run
    page = (workdir / "report.html").read_text(encoding="utf-8")
    fired = [t for p in (workdir / "runs").glob("*-runs.json") for t in json.loads(p.read_text())["triggerRuns"]]

    table = re.search(r"<h3>Trigger runs</h3>(.*?)</table>", page, re.DOTALL)

    assert fired and table is not None
    assert {t["triggerName"] for t in fired} >= {"TR_Daily_Extract", "TR_Raw_Landed", "TR_Curated_Landed"}
    assert table.group(1).count("<tr><td") == len(fired)


def test_when_the_report_lists_the_analyst_queries_then_every_query_ran(run) -> None:  # type: ignore[no-untyped-def]
    workdir, result = run
    page = (workdir / "report.html").read_text(encoding="utf-8")
    queries = sorted(p.stem for p in (ROOT / "synapse" / "queries").glob("*.sql"))

    assert [q for q in queries if f'id="q-{q}"' not in page] == []
    assert "Could not run locally" not in page, result.stderr
