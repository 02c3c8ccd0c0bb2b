-- Serving table `playlist_items`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.playlist_items AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.playlist_id,
    r.position,
    r.added_at,
    r.added_by_id,
    r.is_local,
    r.item_type,
    r.track_id,
    r.episode_id,
    r.item_uri,
    r.item_name,
    r.item_duration_ms,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'playlist_items/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    playlist_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    position INT,
    added_at DATETIME2(7),
    added_by_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    is_local BIT,
    item_type VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    track_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    episode_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    item_uri VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    item_name VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    item_duration_ms INT,
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
