-- Serving table `user_top_items`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.user_top_items AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.user_id,
    r.item_type,
    r.time_range,
    r.rank,
    r.item_id,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'user_top_items/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    user_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    item_type VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    time_range VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    rank INT,
    item_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
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
