-- Question: Which tracks appear in the most playlists, and who performs them?
-- Chart: bar label=track_name,artist_name value=playlists top=20
-- Access mode: development
WITH track_counts AS (
    SELECT
        pi.track_id,
        COUNT(DISTINCT pi.playlist_id) AS playlists,
        MAX(pi.item_name) AS item_name
    FROM spotify.playlist_items_latest AS pi
    WHERE pi.track_id IS NOT NULL
    GROUP BY pi.track_id
),
latest_tracks AS (
    SELECT t.track_id, t.name, t.primary_artist_name
    FROM spotify.tracks_latest AS t
)
SELECT TOP 20
    c.track_id,
    COALESCE(t.name, c.item_name) AS track_name,
    t.primary_artist_name AS artist_name,
    c.playlists
FROM track_counts AS c
LEFT JOIN latest_tracks AS t ON t.track_id = c.track_id
ORDER BY c.playlists DESC, c.track_id;
