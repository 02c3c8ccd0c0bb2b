-- Serving table `search_results`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.search_results AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.query,
    r.item_type,
    r.rank,
    r.item_id,
    r.market,
    r.total_results,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'search_results/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    query VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    item_type VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    rank INT,
    item_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    market VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    total_results INT,
    source_run_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    source_blob VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8
) AS r
WHERE CAST(r.filepath(1) AS DATE) IN (
    SELECT p.snapshot_date
    FROM OPENROWSET(
        BULK '_published/snapshots.parquet',
        DATA_SOURCE = 'spotify_serving',
        FORMAT = 'PARQUET'
    ) WITH (
        snapshot_date DATE
    ) AS p
);
