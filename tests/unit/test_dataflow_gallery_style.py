"""Gallery-style data flows (tests/fixtures/adf_gallery_style/dataflow, written for these tests in the style of
Microsoft's template gallery, not copied from it): every one is valid data flow script, so none may be refused as
malformed; what the local engine does not run is refused at load, naming the transformation (with the name Learn
gives it) or the construct, before any activity of the pipeline runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from activities.common.storage import LocalFolderStorage
from offline.adf_runner import LocalFactoryRunner, RunnerOptions, load_factory

GALLERY = Path(__file__).resolve().parents[1] / "fixtures" / "adf_gallery_style"

def _runner(tmp_path: Path, factory_dir: Path = GALLERY) -> LocalFactoryRunner:
    root = tmp_path / "storage"
    (root / "input" / "rows").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a", None], "n": [1, 2], "extra": [True, False]}), root / "input" / "rows" / "part-0.parquet")
    factory = load_factory(factory_dir, overrides={"Ls_Lake": {"typeProperties.serviceEndpoint": root.as_uri()}})
    return LocalFactoryRunner(factory, LocalFolderStorage(root), tmp_path / "work", options=RunnerOptions(), watched_containers=())


def test_when_a_source_goes_straight_to_a_sink_then_the_rows_land_unchanged(tmp_path: Path) -> None:
    # The source's row count used to leave a half-read DuckDB result behind, which the sink's reader then refused
    # ("connection has an unfinished result"); a transformation in between hid it.
    runner = _runner(tmp_path)

    (run,) = runner.run_pipeline("PL_Rows_As_Is").runs

    assert run.status == "Succeeded", run.message
    landed = pq.read_table(tmp_path / "storage" / "output" / "as-is")
    assert landed.to_pylist() == [{"id": "a", "n": 1, "extra": "true"}, {"id": None, "n": 2, "extra": "false"}]
    (activity,) = runner.monitor.activity_runs(run.runId)
    metrics = activity.output["runStatus"]["metrics"]["Landed"]
    assert (metrics["rowsWritten"], metrics["sources"]) == (2, {"Rows": {"rowsRead": 2}})
