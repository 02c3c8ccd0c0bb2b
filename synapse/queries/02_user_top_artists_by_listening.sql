-- Question: Which artists does each user listen to most, by recent plays, saved tracks and top-artist rank?
-- Chart: bar label=user_id,artist_name value=plays top=20
-- Access mode: development
-- Development Mode sends no artist popularity or followers, so this ranks by each user's own listening: a
-- recent play or a saved track counts for the track's primary artist; `best_top_rank` is the artist's best
-- rank among the user's top artists over any time range (NULL when it is not a top artist). Ten per user.
WITH plays AS (
    SELECT rp.user_id, t.primary_artist_id AS artist_id, COUNT(*) AS plays
    FROM spotify.recently_played_latest AS rp
    JOIN spotify.tracks_latest AS t ON t.track_id = rp.track_id
    GROUP BY rp.user_id, t.primary_artist_id
),
saves AS (
    SELECT st.user_id, t.primary_artist_id AS artist_id, COUNT(*) AS saves
    FROM spotify.saved_tracks_latest AS st
    JOIN spotify.tracks_latest AS t ON t.track_id = st.track_id
    GROUP BY st.user_id, t.primary_artist_id
),
top_ranks AS (
    SELECT ti.user_id, ti.item_id AS artist_id, MIN(ti.rank) AS best_top_rank
    FROM spotify.user_top_items_latest AS ti
    WHERE ti.item_type = 'artist'
    GROUP BY ti.user_id, ti.item_id
),
listened AS (
    SELECT user_id, artist_id FROM plays
    UNION
    SELECT user_id, artist_id FROM saves
    UNION
    SELECT user_id, artist_id FROM top_ranks
),
ranked AS (
    SELECT
        l.user_id,
        l.artist_id,
        COALESCE(ar.name, l.artist_id) AS artist_name,
        COALESCE(p.plays, 0) AS plays,
        COALESCE(s.saves, 0) AS saves,
        r.best_top_rank,
        ROW_NUMBER() OVER (
            PARTITION BY l.user_id
            ORDER BY COALESCE(p.plays, 0) DESC, COALESCE(s.saves, 0) DESC, COALESCE(r.best_top_rank, 1000), l.artist_id
        ) AS user_rank
    FROM listened AS l
    LEFT JOIN plays AS p ON p.user_id = l.user_id AND p.artist_id = l.artist_id
    LEFT JOIN saves AS s ON s.user_id = l.user_id AND s.artist_id = l.artist_id
    LEFT JOIN top_ranks AS r ON r.user_id = l.user_id AND r.artist_id = l.artist_id
    LEFT JOIN spotify.artists_latest AS ar ON ar.artist_id = l.artist_id
    WHERE l.artist_id IS NOT NULL
)
SELECT user_id, user_rank, artist_id, artist_name, plays, saves, best_top_rank
FROM ranked
WHERE user_rank <= 10
ORDER BY user_id, user_rank;
