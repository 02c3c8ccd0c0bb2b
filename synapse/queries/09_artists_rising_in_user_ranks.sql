-- Question: Which artists are rising in each user's listening, ranked higher over the last four weeks than over the long term?
-- Chart: bar label=user_id,artist_name value=rank_gain top=20
-- Access mode: development
-- Development Mode sends no popularity or followers, so "rising" is the user's own: an artist's rank among
-- the user's top artists over about four weeks (time_range short_term) against over several years
-- (long_term). An artist missing from the user's long-term list counts as ranked just below its end.
WITH short_term AS (
    SELECT ti.user_id, ti.item_id AS artist_id, ti.rank
    FROM spotify.user_top_items_latest AS ti
    WHERE ti.item_type = 'artist' AND ti.time_range = 'short_term'
),
long_term AS (
    SELECT ti.user_id, ti.item_id AS artist_id, ti.rank
    FROM spotify.user_top_items_latest AS ti
    WHERE ti.item_type = 'artist' AND ti.time_range = 'long_term'
),
long_term_size AS (
    SELECT user_id, COUNT(*) AS entries
    FROM long_term
    GROUP BY user_id
),
gains AS (
    SELECT
        s.user_id,
        s.artist_id,
        s.rank AS short_term_rank,
        lt.rank AS long_term_rank,
        COALESCE(lt.rank, COALESCE(n.entries, 0) + 1) - s.rank AS rank_gain
    FROM short_term AS s
    LEFT JOIN long_term_size AS n ON n.user_id = s.user_id
    LEFT JOIN long_term AS lt ON lt.user_id = s.user_id AND lt.artist_id = s.artist_id
)
SELECT TOP 20
    g.user_id,
    g.artist_id,
    COALESCE(ar.name, g.artist_id) AS artist_name,
    g.short_term_rank,
    g.long_term_rank,
    g.rank_gain
FROM gains AS g
LEFT JOIN spotify.artists_latest AS ar ON ar.artist_id = g.artist_id
WHERE g.rank_gain > 0
ORDER BY g.rank_gain DESC, g.short_term_rank, g.user_id, g.artist_id;
