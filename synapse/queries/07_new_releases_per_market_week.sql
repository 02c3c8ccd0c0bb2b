-- Question: How many new releases does each market get per release week (weeks start on Monday)?
-- Chart: line x=week_start value=releases series=market
-- Access mode: extended
-- 1900-01-01 was a Monday: subtracting the days since then modulo 7 gives each date's Monday,
-- independent of the server's DATEFIRST setting. New releases fetched without a country are Spotify's
-- global list: they count under `global`.
WITH releases AS (
    SELECT
        COALESCE(nr.market, 'global') AS market,
        al.album_type,
        CAST(DATEADD(day, -(DATEDIFF(day, CAST('1900-01-01' AS DATE), al.release_date) % 7), al.release_date) AS DATE)
            AS week_start
    FROM spotify.new_releases_latest AS nr
    JOIN spotify.albums_latest AS al
        ON al.album_id = nr.album_id
    WHERE al.release_date IS NOT NULL
)
SELECT
    market,
    week_start,
    COUNT(*) AS releases,
    SUM(CASE WHEN album_type = 'album' THEN 1 ELSE 0 END) AS albums,
    SUM(CASE WHEN album_type = 'single' THEN 1 ELSE 0 END) AS singles
FROM releases
GROUP BY market, week_start
ORDER BY week_start, market;
