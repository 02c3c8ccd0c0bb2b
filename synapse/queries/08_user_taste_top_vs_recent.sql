-- Question: How does the genre-family mix of what the user played recently compare with that of their top artists and tracks?
-- Chart: bar label=genre_family value=shift
-- Access mode: extended
-- A top artist counts under its own genre family, a top track or a play under its primary artist's.
-- `shift` > 0: the user plays that family more now than their top items suggest.
WITH top_items AS (
    SELECT COALESCE(ar.genre_family, 'unclassified') AS genre_family
    FROM spotify.user_top_items_latest AS ti
    LEFT JOIN spotify.tracks_latest AS t
        ON t.track_id = ti.item_id
    LEFT JOIN spotify.artists_latest AS ar
        ON ar.artist_id = COALESCE(t.primary_artist_id, ti.item_id)
),
plays AS (
    SELECT COALESCE(ar.genre_family, 'unclassified') AS genre_family
    FROM spotify.recently_played_latest AS rp
    LEFT JOIN spotify.tracks_latest AS t
        ON t.track_id = rp.track_id
    LEFT JOIN spotify.artists_latest AS ar
        ON ar.artist_id = t.primary_artist_id
),
top_share AS (
    SELECT genre_family, COUNT(*) AS items, CAST(COUNT(*) AS FLOAT) / SUM(COUNT(*)) OVER () AS share
    FROM top_items
    GROUP BY genre_family
),
play_share AS (
    SELECT genre_family, COUNT(*) AS plays, CAST(COUNT(*) AS FLOAT) / SUM(COUNT(*)) OVER () AS share
    FROM plays
    GROUP BY genre_family
)
SELECT
    COALESCE(ts.genre_family, ps.genre_family) AS genre_family,
    COALESCE(ts.items, 0) AS top_items,
    COALESCE(ts.share, 0) AS top_share,
    COALESCE(ps.plays, 0) AS recent_plays,
    COALESCE(ps.share, 0) AS recent_share,
    COALESCE(ps.share, 0) - COALESCE(ts.share, 0) AS shift
FROM top_share AS ts
FULL OUTER JOIN play_share AS ps ON ps.genre_family = ts.genre_family
ORDER BY shift DESC, genre_family;
