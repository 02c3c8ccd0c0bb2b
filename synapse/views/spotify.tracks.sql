-- One row per track and snapshot. `snapshot_date` comes from the folder name (filepath(1)), so a
-- filter on it reads only that snapshot's files.
CREATE OR ALTER VIEW spotify.tracks AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.track_id,
    r.name,
    r.album_id,
    r.primary_artist_id,
    r.duration_ms,
    r.explicit,
    r.popularity,
    r.isrc,
    r.track_number,
    r.disc_number,
    r.is_local,
    r.source_run_id
FROM OPENROWSET(
    BULK 'tracks/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_curated',
    FORMAT = 'PARQUET'
) WITH (
    track_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    name NVARCHAR(1000),
    album_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    primary_artist_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    duration_ms INT,
    explicit BIT,
    popularity SMALLINT,
    isrc VARCHAR(12),
    track_number INT,
    disc_number INT,
    is_local BIT,
    source_run_id VARCHAR(64)
) AS r;
