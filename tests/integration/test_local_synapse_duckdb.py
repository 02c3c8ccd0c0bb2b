"""The committed synapse/ views and queries run on DuckDB over Parquet laid out as the transform writes it."""

import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from env_config import load_config, sql_variables
from local_synapse import LocalServerlessPool
from local_synapse.engine import data_sources_from_setup

SYNAPSE = Path(__file__).resolve().parents[2] / "synapse"


def _write_tracks(root: Path, day: str, rows: list[tuple[str, str, bool, int]]) -> None:
    folder = root / "curated" / "tracks" / f"snapshot_date={day}"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "track_id": [r[0] for r in rows],
            "name": [f"track {r[0]}" for r in rows],
            "album_id": [r[1] for r in rows],
            "primary_artist_id": ["artist"] * len(rows),
            "duration_ms": pa.array([r[3] for r in rows], pa.int32()),
            "explicit": [r[2] for r in rows],
            "popularity": pa.array([50] * len(rows), pa.int16()),
            "isrc": ["USRC17607839"] * len(rows),
            "track_number": pa.array(range(1, len(rows) + 1), pa.int32()),
            "disc_number": pa.array([1] * len(rows), pa.int32()),
            "is_local": [False] * len(rows),
            "source_run_id": ["run-1"] * len(rows),
            "snapshot_date": pa.array([datetime.date.fromisoformat(day)] * len(rows)),
        }
    )
    pq.write_table(table, folder / "part-00000.parquet")


@pytest.fixture()
def pool(tmp_path: Path) -> LocalServerlessPool:
    _write_tracks(tmp_path, "2026-11-23", [("old", "A", True, 60000)])
    _write_tracks(tmp_path, "2026-11-24", [("t1", "A", True, 60000), ("t2", "A", False, 120000), ("t3", "B", False, 30000)])
    setup = (SYNAPSE / "setup" / "02_data_sources.sql").read_text()
    pool = LocalServerlessPool(tmp_path, data_sources_from_setup(setup, sql_variables(load_config("local"))))
    pool.create_views(SYNAPSE / "views")
    return pool


def test_when_filtering_on_snapshot_date_then_only_that_partition_is_scanned(pool: LocalServerlessPool) -> None:
    plan = pool.connection.execute("EXPLAIN SELECT COUNT(*) FROM spotify.tracks WHERE snapshot_date = '2026-11-24'").fetchall()

    assert "Scanning Files: 1/2" in plan[0][1]


def test_when_running_the_album_query_then_it_answers_for_the_latest_snapshot(pool: LocalServerlessPool) -> None:
    result = pool.run_file(SYNAPSE / "queries" / "01_album_size_and_explicit_share.sql")

    assert result.columns == ["album_id", "tracks", "explicit_share", "avg_minutes"]
    assert [(row[0], row[1], row[2]) for row in result.rows] == [("A", 2, 0.5), ("B", 1, 0.0)]
    assert float(result.rows[0][3]) == 1.5
    assert result.question.startswith("In the latest snapshot")
