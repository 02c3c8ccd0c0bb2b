-- Serving table `user_playlists`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.user_playlists AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.user_id,
    r.playlist_id,
    r.list_position,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'user_playlists/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    user_id VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    playlist_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    list_position INT,
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
