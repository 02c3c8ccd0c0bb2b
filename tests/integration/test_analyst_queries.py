"""Every analyst query in synapse/queries runs on the local pool, and its answer equals pandas' on the same files.

The data is a small deterministic catalogue in the curated schemas (two snapshots, see analyst_data.py).
The pandas side reads the Parquet files directly; the SQL side goes through the committed views and the
T-SQL -> DuckDB translation, as `make run` does.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from activities.load.arrow_types import curated_tables
from activities.load.ddl import latest_view_ddl
from activities.transform.schemas import TABLES
from factory_deploy.env_config import load_config, sql_variables
from offline.run_local.analyst import access_mode, chart_spec, query_chart
from offline.run_local.query_reads import (
    SNAPSHOTS_PER_YEAR,
    QueryReadsError,
    billed,
    query_reads,
    required_mode,
    touched_columns,
)
from offline.synapse_duckdb import LocalServerlessPool, QueryResult
from offline.synapse_duckdb.engine import data_sources_from_setup
from tests.integration.analyst_data import LATEST, PREVIOUS, write_catalogue

SYNAPSE = Path(__file__).resolve().parents[2] / "synapse"
QUERIES = sorted((SYNAPSE / "queries").glob("*.sql"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("storage")
    write_catalogue(root)
    return root


@pytest.fixture(scope="module")
def pool(root: Path) -> LocalServerlessPool:
    setup = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SYNAPSE / "setup").glob("*.sql")))
    pool = LocalServerlessPool(root, data_sources_from_setup(setup, sql_variables(load_config("local"))))
    pool.create_views(SYNAPSE / "views")
    _bind_missing_views(pool, root)
    for schema in curated_tables().values():  # as the load switches them after publishing LATEST
        pool.create_view(latest_view_ddl(schema, LATEST.isoformat()))
    return pool


def _bind_missing_views(pool: LocalServerlessPool, root: Path) -> None:
    """Tables whose committed view is missing or lacks curated columns get a plain view over the curated files.

    The load stage generates one view per table; until it has, the queries still run over the same columns.
    """
    connection = pool.connection
    connection.execute("CREATE SCHEMA IF NOT EXISTS spotify")
    stand_ins = []
    for table, schema in TABLES.items():
        try:
            columns = {row[0] for row in connection.execute(f"DESCRIBE spotify.{table}").fetchall()}
        except Exception:  # noqa: BLE001 - duckdb raises CatalogException for a missing view
            columns = set()
        if not set(schema.names) - {"source_run_id", "source_blob"} <= columns:
            stand_ins.append(table)
            files = str(root / "serving" / table / "snapshot_date=*" / "*.parquet")
            connection.execute(f"CREATE OR REPLACE VIEW spotify.{table} AS "
                               f"SELECT * FROM read_parquet('{files}', hive_partitioning = false)")
    if stand_ins:
        warnings.warn(f"no generated view with every curated column yet for: {', '.join(stand_ins)}", stacklevel=2)


def _read(root: Path, table: str) -> pd.DataFrame:
    files = sorted((root / "serving" / table).glob("snapshot_date=*/*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _latest(root: Path, table: str) -> pd.DataFrame:
    frame = _read(root, table)
    return frame[frame["snapshot_date"] == frame["snapshot_date"].max()].reset_index(drop=True)


def _run(pool: LocalServerlessPool, name: str) -> pd.DataFrame:
    (path,) = [p for p in QUERIES if p.stem.startswith(name)]
    result = pool.run_file(path)
    return pd.DataFrame(result.rows, columns=result.columns)


def _family(frame: pd.DataFrame, column: str = "genre_family") -> pd.Series:
    return frame[column].fillna("unclassified")


# --- every query ------------------------------------------------------------------------------------------


def test_when_listing_the_analyst_queries_then_there_are_at_least_ten_each_with_its_question() -> None:
    assert len(QUERIES) >= 10
    for path in QUERIES:
        assert re.search(r"^-- Question: .+\?$", path.read_text(encoding="utf-8"), re.MULTILINE), path.name


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_when_running_each_query_then_it_returns_rows_and_its_chart_draws(pool: LocalServerlessPool, path: Path) -> None:
    result: QueryResult = pool.run_file(path)

    assert result.rows, f"{path.name} returned no rows on the test catalogue"
    spec = chart_spec(path.read_text(encoding="utf-8"))
    assert spec is not None, f"{path.name} declares no `-- Chart:`"
    assert "<svg" in query_chart(result, spec)


# --- answers checked against pandas -----------------------------------------------------------------------


def test_when_ranking_each_users_artists_by_listening_then_the_top_ten_match_pandas(
    pool: LocalServerlessPool, root: Path
) -> None:
    tracks = _latest(root, "tracks")[["track_id", "primary_artist_id"]].rename(columns={"primary_artist_id": "artist_id"})
    keys = ["user_id", "artist_id"]
    plays = _latest(root, "recently_played").merge(tracks, on="track_id").groupby(keys).size().rename("plays")
    saves = _latest(root, "saved_tracks").merge(tracks, on="track_id").groupby(keys).size().rename("saves")
    top = _latest(root, "user_top_items")
    top = top[top["item_type"] == "artist"].rename(columns={"item_id": "artist_id"})
    ranks = top.groupby(keys)["rank"].min().rename("best_top_rank")
    frame = pd.concat([plays, saves, ranks], axis=1).reset_index()
    frame = frame.assign(plays=frame["plays"].fillna(0), saves=frame["saves"].fillna(0), r=frame["best_top_rank"].fillna(1000))
    frame = frame.sort_values(["user_id", "plays", "saves", "r", "artist_id"], ascending=[True, False, False, True, True])
    expected = frame.groupby("user_id").head(10)

    actual = _run(pool, "02_")

    assert actual[["user_id", "artist_id"]].values.tolist() == expected[["user_id", "artist_id"]].values.tolist()
    assert actual[["plays", "saves"]].values.tolist() == expected[["plays", "saves"]].astype(int).values.tolist()
    assert set(actual["user_id"]) == set(_latest(root, "recently_played")["user_id"])


def test_when_counting_facts_per_country_then_names_and_counts_match_pandas(pool: LocalServerlessPool, root: Path) -> None:
    frames = {"new_releases": _latest(root, "new_releases"), "top_tracks": _latest(root, "artist_top_tracks"),
              "search_results": _latest(root, "search_results")}
    counts = pd.DataFrame({name: frame.dropna(subset=["market"]).groupby("market").size()
                           for name, frame in frames.items()}).fillna(0).astype(int)
    counts["facts"] = counts.sum(axis=1)
    markets = _latest(root, "markets").set_index("market")
    expected = counts.join(markets).reset_index().rename(columns={"index": "market"})
    expected = expected.sort_values(["facts", "market"], ascending=[False, True])

    actual = _run(pool, "12_")

    assert actual["market"].tolist() == expected["market"].tolist()
    assert actual["country"].tolist() == expected["country_name"].tolist()
    for column in ("new_releases", "top_tracks", "search_results", "facts"):
        assert actual[column].astype(int).tolist() == expected[column].tolist(), column
    listed = dict(zip(actual["market"], actual["listed_by_spotify"]))
    assert listed["US"] is True
    assert pd.isna(listed["SE"])  # only the facts name SE: whether Spotify lists it is not known
    assert "FR" not in listed  # the previous snapshot's market is not mixed in


def test_when_computing_genre_shares_per_decade_then_they_match_pandas(pool: LocalServerlessPool, root: Path) -> None:
    albums = _latest(root, "albums").dropna(subset=["release_decade"])
    albums = albums.merge(_latest(root, "artists")[["artist_id", "genre_family"]], left_on="primary_artist_id",
                          right_on="artist_id", how="left")
    albums["family"] = _family(albums)
    expected = albums.groupby("release_decade")["family"].value_counts(normalize=True)

    actual = _run(pool, "03_")

    assert {(d, f): v for d, f, v in actual[["release_decade", "genre_family", "share"]].itertuples(index=False)} == \
        pytest.approx({(d, f): v for (d, f), v in expected.items()})
    assert actual.groupby("release_decade")["share"].sum().tolist() == pytest.approx([1.0] * actual["release_decade"].nunique())


def test_when_computing_explicit_share_per_genre_family_then_it_matches_pandas(pool: LocalServerlessPool, root: Path) -> None:
    tracks = _latest(root, "tracks").merge(_latest(root, "artists")[["artist_id", "genre_family"]],
                                           left_on="primary_artist_id", right_on="artist_id", how="left")
    expected = tracks.groupby(_family(tracks))["explicit"].agg(["count", "sum", "mean"])

    actual = _run(pool, "05_").set_index("genre_family")

    assert sorted(actual.index) == sorted(expected.index)
    assert actual["tracks"].to_dict() == expected["count"].to_dict()
    assert actual["explicit_tracks"].to_dict() == expected["sum"].to_dict()
    assert actual["explicit_share"].to_dict() == pytest.approx(expected["mean"].to_dict())
    assert list(actual["explicit_share"]) == sorted(actual["explicit_share"], reverse=True)


def test_when_counting_new_releases_per_market_and_week_then_it_matches_pandas(pool: LocalServerlessPool, root: Path) -> None:
    albums = _latest(root, "albums").dropna(subset=["release_date"])
    releases = _latest(root, "new_releases").fillna({"market": "global"}).merge(albums, on=["album_id", "snapshot_date"])
    dates = pd.to_datetime(releases["release_date"])
    releases["week_start"] = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    expected = releases.groupby(["market", "week_start"]).size()

    actual = _run(pool, "07_")

    assert {(m, w): n for m, w, n in actual[["market", "week_start", "releases"]].itertuples(index=False)} == expected.to_dict()
    assert all(pd.Timestamp(w).weekday() == 0 for w in actual["week_start"])
    assert "FR" not in set(actual["market"])  # the previous snapshot's markets are not mixed in
    assert "global" in set(actual["market"])  # fetched without a country


def test_when_comparing_top_items_with_recent_plays_then_genre_shares_match_pandas(pool: LocalServerlessPool, root: Path) -> None:
    tracks = _latest(root, "tracks")[["track_id", "primary_artist_id"]]
    families = _latest(root, "artists")[["artist_id", "genre_family"]]
    top = _latest(root, "user_top_items").merge(tracks, left_on="item_id", right_on="track_id", how="left")
    top["artist_id"] = top["primary_artist_id"].fillna(top["item_id"])
    top = top.merge(families, on="artist_id", how="left")
    plays = _latest(root, "recently_played").merge(tracks, on="track_id", how="left")
    plays = plays.merge(families, left_on="primary_artist_id", right_on="artist_id", how="left")
    top_share = _family(top).value_counts(normalize=True)
    play_share = _family(plays).value_counts(normalize=True)
    shift = play_share.reindex(top_share.index.union(play_share.index), fill_value=0) - top_share.reindex(
        top_share.index.union(play_share.index), fill_value=0)

    actual = _run(pool, "08_").set_index("genre_family")

    assert actual["shift"].to_dict() == pytest.approx(shift.to_dict())
    assert actual["recent_plays"].sum() == len(plays)
    assert actual["top_items"].sum() == len(top)


def test_when_comparing_short_and_long_term_ranks_then_the_risers_match_pandas(
    pool: LocalServerlessPool, root: Path
) -> None:
    top = _latest(root, "user_top_items")
    artists = top[top["item_type"] == "artist"]
    short = artists[artists["time_range"] == "short_term"][["user_id", "item_id", "rank"]]
    long = artists[artists["time_range"] == "long_term"][["user_id", "item_id", "rank"]]
    both = short.merge(long, on=["user_id", "item_id"], how="left", suffixes=("", "_long"))
    sizes = long.groupby("user_id").size()
    both["gain"] = both["rank_long"].fillna(both["user_id"].map(sizes).fillna(0) + 1) - both["rank"]
    expected = both[both["gain"] > 0].sort_values(["gain", "rank", "user_id", "item_id"],
                                                  ascending=[False, True, True, True]).head(20)

    actual = _run(pool, "09_")

    assert actual["artist_id"].tolist() == expected["item_id"].tolist()
    assert actual["rank_gain"].tolist() == expected["gain"].astype(int).tolist()


def test_when_counting_playlists_per_track_then_the_top_tracks_match_pandas(pool: LocalServerlessPool, root: Path) -> None:
    items = _latest(root, "playlist_items").dropna(subset=["track_id"])
    counts = items.groupby("track_id")["playlist_id"].nunique().rename("playlists").reset_index()
    expected = counts.sort_values(["playlists", "track_id"], ascending=[False, True]).head(20)

    actual = _run(pool, "10_")

    assert actual[["track_id", "playlists"]].values.tolist() == expected.values.tolist()


def test_when_averaging_duration_by_decade_then_it_matches_pandas(pool: LocalServerlessPool, root: Path) -> None:
    tracks = _latest(root, "tracks").merge(_latest(root, "albums")[["album_id", "release_decade"]], on="album_id")
    tracks = tracks.dropna(subset=["release_decade", "duration_ms"])
    expected = tracks.groupby("release_decade")["duration_ms"].agg(["count", "mean"])

    actual = _run(pool, "11_").set_index("decade")

    assert actual.index.tolist() == expected.index.tolist()
    assert actual["tracks"].tolist() == expected["count"].tolist()
    assert [float(v) for v in actual["avg_minutes"]] == pytest.approx((expected["mean"] / 60000).tolist(), abs=0.0051)


def test_when_checking_playlist_freshness_then_days_since_the_last_addition_match_pandas(
    pool: LocalServerlessPool, root: Path,
) -> None:
    items = _latest(root, "playlist_items").dropna(subset=["track_id"])
    last = items.groupby("playlist_id")["added_at"].max().dt.date
    expected = {playlist: (LATEST - day).days for playlist, day in last.items()}

    actual = _run(pool, "06_")

    assert dict(zip(actual["playlist_id"], actual["days_since_last_added"])) == expected
    assert dict(zip(actual["playlist_id"], actual["tracks"])) == items.groupby("playlist_id").size().to_dict()
    assert list(actual["days_since_last_added"]) == sorted(actual["days_since_last_added"])


# --- what each query reads on serverless, and the access mode it needs -----------------------------------


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_when_a_query_asks_for_the_latest_snapshot_then_it_reads_only_that_snapshots_files(path: Path, root: Path) -> None:
    reads = query_reads(path.stem, path.read_text(encoding="utf-8"), root / "serving")

    assert reads.views and reads.latest_only, [v.view for v in reads.views if not v.latest_only]
    for view in reads.views:
        assert (view.snapshots, view.files) == (1, 1), view
        assert view.bytes_after_a_year == view.bytes == view.bytes_per_snapshot > 0, view
    assert reads.without_latest_views == SNAPSHOTS_PER_YEAR * reads.bytes_today


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_when_a_query_states_its_access_mode_then_it_is_the_one_its_columns_need(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    needed = required_mode(touched_columns(path.stem, sql))

    # The schemas declare per column which access mode fills it: the header must name what the columns need.
    assert access_mode(sql) == needed, f"{path.name}: its `-- Access mode:` header must be {needed}"


def test_when_counting_bytes_then_they_are_the_touched_columns_chunks_of_the_selected_files(root: Path) -> None:
    latest = root / "serving" / "tracks" / f"snapshot_date={LATEST}" / "part-00000.parquet"
    previous = root / "serving" / "tracks" / f"snapshot_date={PREVIOUS}" / "part-00000.parquet"

    def chunk_bytes(path: Path, column: str) -> int:
        metadata = pq.ParquetFile(path).metadata
        return sum(metadata.row_group(g).column(i).total_compressed_size
                   for g in range(metadata.num_row_groups) for i in range(metadata.num_columns)
                   if metadata.row_group(g).column(i).path_in_schema == column)

    latest_only = query_reads("q", "SELECT t.album_id FROM spotify.tracks_latest AS t", root / "serving")
    history = query_reads("q", "SELECT COUNT(*) AS n, MAX(t.name) AS m FROM spotify.tracks AS t "
                               "WHERE t.snapshot_date = t.snapshot_date", root / "serving")

    assert latest_only.bytes_today == chunk_bytes(latest, "album_id")
    assert (history.files_today, history.views[0].snapshots) == (2, 2)
    assert history.bytes_today == chunk_bytes(latest, "name") + chunk_bytes(previous, "name")
    assert history.bytes_after_a_year == SNAPSHOTS_PER_YEAR * chunk_bytes(latest, "name")
    assert billed(1) == 10 * 1024 * 1024 and billed(10 * 1024 * 1024 + 1) == 11 * 1024 * 1024


def test_when_a_query_reads_something_that_is_no_serving_view_then_the_error_names_it(root: Path) -> None:
    with pytest.raises(QueryReadsError, match=r"analyst query q reads `dbo.tracks`, which is no serving view"):
        query_reads("q", "SELECT t.album_id FROM dbo.tracks AS t", root / "serving")
