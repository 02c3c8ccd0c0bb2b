-- Question: Which artists rose most in popularity between the two latest snapshots, and how many followers did they gain?
-- Chart: bar label=artist_name value=popularity_change top=20
WITH snapshots AS (
    SELECT snapshot_date, ROW_NUMBER() OVER (ORDER BY snapshot_date DESC) AS recency
    FROM (SELECT DISTINCT snapshot_date FROM spotify.artists) AS d
),
current_artists AS (
    SELECT a.artist_id, a.name, a.snapshot_date, a.popularity, a.followers
    FROM spotify.artists AS a
    JOIN snapshots AS s ON s.snapshot_date = a.snapshot_date AND s.recency = 1
),
previous_artists AS (
    SELECT a.artist_id, a.snapshot_date, a.popularity, a.followers
    FROM spotify.artists AS a
    JOIN snapshots AS s ON s.snapshot_date = a.snapshot_date AND s.recency = 2
)
SELECT TOP 20
    c.artist_id,
    c.name AS artist_name,
    p.snapshot_date AS previous_snapshot,
    c.snapshot_date AS current_snapshot,
    p.popularity AS popularity_before,
    c.popularity AS popularity_now,
    c.popularity - p.popularity AS popularity_change,
    c.followers - p.followers AS follower_change
FROM current_artists AS c
JOIN previous_artists AS p ON p.artist_id = c.artist_id
WHERE c.popularity > p.popularity
ORDER BY popularity_change DESC, follower_change DESC, c.artist_id;
