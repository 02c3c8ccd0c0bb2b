-- Question: In each market, which artists lead by followers, and how popular are they there?
-- Chart: bar label=market,artist_name value=followers top=20
-- An artist is "in" a market when Spotify lists it there: it is credited on a top track for that market,
-- an artist search in that market finds it, or it is credited on one of that market's new releases.
-- Latest snapshot of every table; five artists per market.
WITH latest_artists AS (
    SELECT a.artist_id, a.name, a.followers, a.popularity, a.popularity_tier
    FROM spotify.artists AS a
    WHERE a.snapshot_date = (SELECT MAX(snapshot_date) FROM spotify.artists)
),
artist_markets AS (
    SELECT tt.market, ta.artist_id
    FROM spotify.artist_top_tracks AS tt
    JOIN spotify.track_artists AS ta
        ON ta.track_id = tt.track_id AND ta.snapshot_date = tt.snapshot_date
    WHERE tt.snapshot_date = (SELECT MAX(snapshot_date) FROM spotify.artist_top_tracks)
    UNION
    SELECT sr.market, sr.item_id
    FROM spotify.search_results AS sr
    WHERE sr.snapshot_date = (SELECT MAX(snapshot_date) FROM spotify.search_results)
      AND sr.item_type = 'artist'
      AND sr.market IS NOT NULL
    UNION
    SELECT nr.market, aa.artist_id
    FROM spotify.new_releases AS nr
    JOIN spotify.album_artists AS aa
        ON aa.album_id = nr.album_id AND aa.snapshot_date = nr.snapshot_date
    WHERE nr.snapshot_date = (SELECT MAX(snapshot_date) FROM spotify.new_releases)
      AND nr.market IS NOT NULL
),
ranked AS (
    SELECT
        m.market,
        a.artist_id,
        a.name AS artist_name,
        a.followers,
        a.popularity,
        a.popularity_tier,
        ROW_NUMBER() OVER (
            PARTITION BY m.market
            ORDER BY COALESCE(a.followers, -1) DESC, COALESCE(a.popularity, -1) DESC, a.artist_id
        ) AS market_rank
    FROM artist_markets AS m
    JOIN latest_artists AS a ON a.artist_id = m.artist_id
)
SELECT market, market_rank, artist_id, artist_name, followers, popularity, popularity_tier
FROM ranked
WHERE market_rank <= 5
ORDER BY market, market_rank;
