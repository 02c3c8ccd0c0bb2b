-- Question: In the latest snapshot, which albums have the most tracks, and what share of each album is explicit?
-- Chart: bar label=album_id value=tracks
-- Access mode: development
-- Used by: the run summary (make run) and the report.
SELECT TOP 10
    t.album_id,
    COUNT(*) AS tracks,
    CAST(SUM(CASE WHEN t.explicit = 1 THEN 1 ELSE 0 END) AS FLOAT) / COUNT(*) AS explicit_share,
    CAST(AVG(CAST(t.duration_ms AS FLOAT)) / 60000.0 AS DECIMAL(6, 2)) AS avg_minutes
FROM spotify.tracks_latest AS t
GROUP BY t.album_id
ORDER BY tracks DESC, t.album_id;
