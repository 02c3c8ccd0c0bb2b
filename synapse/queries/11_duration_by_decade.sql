-- Question: How has track length changed across release decades?
-- Chart: line x=decade value=avg_minutes
-- Access mode: development
SELECT
    al.release_decade AS decade,
    COUNT(*) AS tracks,
    CAST(AVG(CAST(t.duration_ms AS FLOAT)) / 60000.0 AS DECIMAL(6, 2)) AS avg_minutes,
    CAST(MIN(t.duration_ms) / 60000.0 AS DECIMAL(6, 2)) AS shortest_minutes,
    CAST(MAX(t.duration_ms) / 60000.0 AS DECIMAL(6, 2)) AS longest_minutes,
    CAST(SUM(CASE WHEN t.duration_ms >= 300000 THEN 1 ELSE 0 END) AS FLOAT) / COUNT(*) AS share_over_5_minutes
FROM spotify.tracks_latest AS t
JOIN spotify.albums_latest AS al
    ON al.album_id = t.album_id
WHERE al.release_decade IS NOT NULL
  AND t.duration_ms IS NOT NULL
GROUP BY al.release_decade
ORDER BY decade;
