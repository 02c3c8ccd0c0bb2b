-- Question: Over which release years is the catalogue spread, by albums, singles and tracks?
-- Chart: line x=release_year value=albums
-- Access mode: development
SELECT
    al.release_year,
    COUNT(*) AS albums,
    SUM(CASE WHEN al.album_type = 'album' THEN 1 ELSE 0 END) AS full_albums,
    SUM(CASE WHEN al.album_type = 'single' THEN 1 ELSE 0 END) AS singles,
    SUM(CASE WHEN al.album_type = 'compilation' THEN 1 ELSE 0 END) AS compilations,
    SUM(al.total_tracks) AS tracks,
    CAST(COUNT(*) AS FLOAT) / SUM(COUNT(*)) OVER () AS share_of_albums
FROM spotify.albums_latest AS al
WHERE al.release_year IS NOT NULL
GROUP BY al.release_year
ORDER BY al.release_year;
