-- Question: How has track length changed across release decades?
-- Chart: line x=decade value=avg_minutes
SELECT
    al.release_decade AS decade,
    COUNT(*) AS tracks,
    CAST(AVG(CAST(t.duration_ms AS FLOAT)) / 60000.0 AS DECIMAL(6, 2)) AS avg_minutes,
    CAST(MIN(t.duration_ms) / 60000.0 AS DECIMAL(6, 2)) AS shortest_minutes,
    CAST(MAX(t.duration_ms) / 60000.0 AS DECIMAL(6, 2)) AS longest_minutes,
    CAST(SUM(CASE WHEN t.duration_ms >= 300000 THEN 1 ELSE 0 END) AS FLOAT) / COUNT(*) AS share_over_5_minutes
FROM spotify.tracks AS t
JOIN spotify.albums AS al
    ON al.album_id = t.album_id AND al.snapshot_date = t.snapshot_date
WHERE t.snapshot_date = (SELECT MAX(snapshot_date) FROM spotify.tracks)
  AND al.release_decade IS NOT NULL
  AND t.duration_ms IS NOT NULL
GROUP BY al.release_decade
ORDER BY decade;
