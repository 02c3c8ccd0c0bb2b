-- Question: Which artists are rising in the user's listening, ranked higher over the last four weeks than over the long term?
-- Chart: bar label=artist_name value=rank_gain top=20
-- Access mode: development
-- Development Mode sends no popularity or followers, so "rising" is the user's own: an artist's rank among
-- the user's top artists over about four weeks (time_range short_term) against over several years
-- (long_term). An artist missing from the long-term list counts as ranked just below its end.
WITH short_term AS (
    SELECT ti.item_id AS artist_id, ti.rank
    FROM spotify.user_top_items_latest AS ti
    WHERE ti.item_type = 'artist' AND ti.time_range = 'short_term'
),
long_term AS (
    SELECT ti.item_id AS artist_id, ti.rank
    FROM spotify.user_top_items_latest AS ti
    WHERE ti.item_type = 'artist' AND ti.time_range = 'long_term'
),
long_term_size AS (
    SELECT COUNT(*) AS entries
    FROM long_term
)
SELECT TOP 20
    s.artist_id,
    COALESCE(ar.name, s.artist_id) AS artist_name,
    s.rank AS short_term_rank,
    lt.rank AS long_term_rank,
    COALESCE(lt.rank, n.entries + 1) - s.rank AS rank_gain
FROM short_term AS s
CROSS JOIN long_term_size AS n
LEFT JOIN long_term AS lt ON lt.artist_id = s.artist_id
LEFT JOIN spotify.artists_latest AS ar ON ar.artist_id = s.artist_id
WHERE COALESCE(lt.rank, n.entries + 1) > s.rank
ORDER BY rank_gain DESC, s.rank, s.artist_id;
