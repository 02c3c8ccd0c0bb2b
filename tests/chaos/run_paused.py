"""run_local with one test-only fault: hold the run right after its N-th ``<table>_latest`` view DDL.

``python tests/chaos/run_paused.py N <run_local arguments>``. The views are created by the load's Script
activities inside the runner's own process, where no file shows the moment between two of them; so this
launcher wraps the local Synapse pool's ``execute_script``: after the N-th ``CREATE OR ALTER VIEW ..._latest``
it writes ``<workdir>/chaos-paused`` and blocks, and the chaos test, seeing that file, kills the whole tree.
Only the chaos tests use it; nothing shipped or run by ``run_local`` changes.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from offline.run_local.main import main  # noqa: E402
from offline.synapse_duckdb import LocalServerlessPool  # noqa: E402

LATEST_VIEW = re.compile(r"CREATE\s+OR\s+ALTER\s+VIEW\s+\S+_latest\b", re.IGNORECASE)


def hold_after(count: int, marker: Path) -> None:
    original = LocalServerlessPool.execute_script
    seen = 0

    def execute_script(self: LocalServerlessPool, tsql: str):  # type: ignore[no-untyped-def]
        nonlocal seen
        result = original(self, tsql)
        if LATEST_VIEW.search(tsql):
            seen += 1
            if seen == count:
                marker.write_text(f"held after latest view {count}\n", encoding="utf-8")
                threading.Event().wait()  # until killed
        return result

    LocalServerlessPool.execute_script = execute_script  # type: ignore[method-assign]


if __name__ == "__main__":
    arguments = sys.argv[2:]
    workdir = Path(arguments[arguments.index("--workdir") + 1])
    hold_after(int(sys.argv[1]), workdir / "chaos-paused")
    sys.exit(main(arguments))
