"""The committed synapse/ views and queries run on DuckDB over Parquet laid out as the load publishes it
(serving/<table>/snapshot_date=YYYY-MM-DD/part-NNNNN.parquet), in memory or in a persistent database."""

import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activities.common.storage import LocalFolderStorage
from activities.load.arrow_types import schema_from_arrow
from activities.load.ddl import latest_view_ddl, view_ddl
from activities.load.published import read_published, write_published
from activities.load.schema import Column, TableSchema
from activities.transform.schemas import TABLES
from factory_deploy.env_config import load_config, sql_variables
from offline.synapse_duckdb import LocalServerlessPool, SqlExecutionError
from offline.synapse_duckdb.engine import data_sources_from_setup

SYNAPSE = Path(__file__).resolve().parents[2] / "synapse"
SETUP = "\n".join(p.read_text() for p in sorted((SYNAPSE / "setup").glob("*.sql")))
# The container the committed views read (data source spotify_serving).
COMMITTED_VIEWS_CONTAINER = "serving"


def _serving_schema(table: str) -> pa.Schema:
    """The curated schema as the load serves it: no snapshot_date column (it is the folder), all nullable."""
    return pa.schema([f.with_nullable(True) for f in TABLES[table] if f.name != "snapshot_date"])


def _write_tracks(root: Path, day: str, rows: list[tuple[str, str, bool, int]], container: str = "serving") -> None:
    folder = root / container / "tracks" / f"snapshot_date={day}"
    folder.mkdir(parents=True)
    records = [{"track_id": r[0], "album_id": r[1], "explicit": r[2], "duration_ms": r[3], "source_run_id": "run-1",
                "source_blob": "raw/x"} for r in rows]
    pq.write_table(pa.Table.from_pylist(records, schema=_serving_schema("tracks")), folder / "part-00000.parquet")
    _publish(root, container, day)


def _publish(root: Path, container: str, day: str) -> None:
    """List ``day`` in the published-snapshots pointer, as the load does last (the views show listed dates only)."""
    storage = LocalFolderStorage(root)
    published = read_published(storage, container) | {day: "load-1"}
    write_published(storage, container, published, datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC))


def _tracks_view() -> str:
    return view_ddl(schema_from_arrow("tracks", _serving_schema("tracks")))


def _pool(root: Path, database: Path | None = None) -> LocalServerlessPool:
    pool = LocalServerlessPool(root, data_sources_from_setup(SETUP, sql_variables(load_config("local"))), database=database)
    pool.apply_setup(SETUP)
    return pool


@pytest.fixture()
def pool(tmp_path: Path) -> LocalServerlessPool:
    _write_tracks(tmp_path, "2026-11-23", [("old", "A", True, 60000)], COMMITTED_VIEWS_CONTAINER)
    rows = [("t1", "A", True, 60000), ("t2", "A", False, 120000), ("t3", "B", False, 30000)]
    _write_tracks(tmp_path, "2026-11-24", rows, COMMITTED_VIEWS_CONTAINER)
    pool = _pool(tmp_path)
    pool.create_view((SYNAPSE / "views" / "spotify.tracks.sql").read_text())
    pool.create_view(latest_view_ddl(schema_from_arrow("tracks", _serving_schema("tracks")), "2026-11-24"))
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


def test_when_setup_is_applied_then_the_serving_data_source_and_the_spotify_schema_exist(tmp_path: Path) -> None:
    sources = data_sources_from_setup(SETUP, sql_variables(load_config("local")))

    schemas = _pool(tmp_path).apply_setup(SETUP)

    assert sources["spotify_serving"] == "serving"
    assert schemas == ["spotify"]


def test_when_a_view_is_created_in_a_persistent_database_then_a_later_pool_queries_it(tmp_path: Path) -> None:
    _write_tracks(tmp_path, "2026-11-24", [("t1", "A", True, 60000)])
    database = tmp_path / "synapse" / "spotify.duckdb"
    first = _pool(tmp_path, database)
    first.execute_script(_tracks_view())
    first.close()

    result = _pool(tmp_path, database).execute_script("SELECT track_id, snapshot_date FROM spotify.tracks;")

    assert result.result_sets == [[{"track_id": "t1", "snapshot_date": datetime.date(2026, 11, 24)}]]


def test_when_a_list_column_is_read_as_text_then_it_is_json_as_serverless_sql_returns_it(tmp_path: Path) -> None:
    folder = tmp_path / "serving" / "things" / "snapshot_date=2026-11-24"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a"], "genres": pa.array([["pop", "rock"]], pa.list_(pa.string()))}),
                   folder / "part-00000.parquet")
    _publish(tmp_path, "serving", "2026-11-24")
    pool = _pool(tmp_path)
    pool.create_view(view_ddl(TableSchema("things", (Column("id", "string"), Column("genres", "list<string>")))))

    rows = pool.execute_script("SELECT genres FROM spotify.things").result_sets

    assert rows == [[{"genres": '["pop","rock"]'}]]


def test_when_a_view_has_no_files_yet_then_the_error_names_the_view(tmp_path: Path) -> None:
    with pytest.raises(SqlExecutionError, match="view spotify.tracks: .*No files found"):
        _pool(tmp_path).create_view(_tracks_view())
