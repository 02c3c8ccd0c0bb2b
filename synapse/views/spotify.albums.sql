-- Serving table `albums`, one row per row of each published snapshot. Generated from its schema
-- by activities.load.ddl (python -m activities.load.generate); do not edit by hand. `snapshot_date` comes
-- from the folder name (filepath(1)), so a literal filter on it reads only that snapshot's files; only
-- snapshots listed in _published/snapshots.parquet (written last by each load) are visible.
CREATE OR ALTER VIEW spotify.albums AS
SELECT
    CAST(r.filepath(1) AS DATE) AS snapshot_date,
    r.album_id,
    r.name,
    r.album_type,
    r.release_date,
    r.release_date_raw,
    r.release_date_precision,
    r.release_year,
    r.total_tracks,
    r.label,
    r.popularity,
    r.release_decade,
    r.popularity_tier,
    r.image_url,
    r.primary_artist_id,
    r.primary_artist_name,
    r.source_run_id,
    r.source_blob
FROM OPENROWSET(
    BULK 'albums/snapshot_date=*/*.parquet',
    DATA_SOURCE = 'spotify_serving',
    FORMAT = 'PARQUET'
) WITH (
    album_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
    name VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    album_type VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    release_date DATE,
    release_date_raw VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    release_date_precision VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    release_year SMALLINT,
    total_tracks INT,
    label VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    popularity SMALLINT,
    release_decade SMALLINT,
    popularity_tier VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    image_url VARCHAR(8000) COLLATE Latin1_General_100_BIN2_UTF8,
    primary_artist_id VARCHAR(22) COLLATE Latin1_General_100_BIN2_UTF8,
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
