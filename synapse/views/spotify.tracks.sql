-- Serving table `tracks`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.tracks AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.track_id,
    r.name,
    r.album_id,
    r.duration_ms,
    r.explicit,
    r.popularity,
    r.isrc,
    r.track_number,
    r.disc_number,
    r.is_local,
    r.primary_artist_id,
    r.duration_minutes,
    r.duration_bucket,
    r.popularity_tier,
    r.primary_artist_name,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'tracks/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    track_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    name VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    album_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    duration_ms INT,
    explicit BIT,
    popularity SMALLINT,
    isrc VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    track_number INT,
    disc_number INT,
    is_local BIT,
    primary_artist_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    duration_minutes FLOAT,
    duration_bucket VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    popularity_tier VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    primary_artist_name VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
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
