-- Question: What are the playlists made of (tracks, artists, albums, explicit share), and how fresh are they (days since the last addition, share of tracks released in the past year)?
-- Chart: bar label=playlist_name value=days_since_last_added top=25
-- Access mode: development
-- Shares are over the playlist's tracks that the catalogue knows (tracks and albums of the same snapshot);
-- episodes and local files are left out.
WITH items AS (
    SELECT
        pi.playlist_id,
        pi.snapshot_date,
        pi.track_id,
        pi.added_at,
        t.primary_artist_id,
        t.album_id,
        t.explicit,
        al.release_date
    FROM spotify.playlist_items_latest AS pi
    LEFT JOIN spotify.tracks_latest AS t
        ON t.track_id = pi.track_id
    LEFT JOIN spotify.albums_latest AS al
        ON al.album_id = t.album_id
    WHERE pi.track_id IS NOT NULL
)
SELECT
    p.playlist_id,
    p.name AS playlist_name,
    p.followers,
    COUNT(*) AS tracks,
    COUNT(DISTINCT i.primary_artist_id) AS artists,
    COUNT(DISTINCT i.album_id) AS albums,
    CAST(SUM(CASE WHEN i.explicit = 1 THEN 1 ELSE 0 END) AS FLOAT) / NULLIF(COUNT(i.explicit), 0) AS explicit_share,
    DATEDIFF(day, MAX(i.added_at), MAX(i.snapshot_date)) AS days_since_last_added,
    CAST(SUM(CASE WHEN DATEDIFF(day, i.release_date, i.snapshot_date) <= 365 THEN 1 ELSE 0 END) AS FLOAT)
        / NULLIF(COUNT(i.release_date), 0) AS released_past_year_share
FROM items AS i
JOIN spotify.playlists_latest AS p
    ON p.playlist_id = i.playlist_id
GROUP BY p.playlist_id, p.name, p.followers
ORDER BY days_since_last_added, p.playlist_id;
