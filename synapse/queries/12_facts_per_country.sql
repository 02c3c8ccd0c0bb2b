-- Question: Which countries do the snapshot's market facts cover, and how many new releases, top tracks and search results does each get?
-- Chart: bar label=country value=facts top=20
-- Access mode: extended
-- Every fact that was requested for a market (new releases fetched with a country, artists' top tracks,
-- searches with a market) joins spotify.markets for the country's name; a code without an ISO name keeps
-- its code. `listed_by_spotify` is true when the snapshot's GET /markets listed the code, null when unknown.
WITH facts AS (
    SELECT nr.snapshot_date, nr.market, 1 AS new_releases, 0 AS top_tracks, 0 AS search_results
    FROM spotify.new_releases_latest AS nr
    WHERE nr.market IS NOT NULL
    UNION ALL
    SELECT tt.snapshot_date, tt.market, 0, 1, 0
    FROM spotify.artist_top_tracks_latest AS tt
    UNION ALL
    SELECT sr.snapshot_date, sr.market, 0, 0, 1
    FROM spotify.search_results_latest AS sr
    WHERE sr.market IS NOT NULL
)
SELECT
    f.market,
    COALESCE(m.country_name, f.market) AS country,
    m.is_spotify_market AS listed_by_spotify,
    SUM(f.new_releases) AS new_releases,
    SUM(f.top_tracks) AS top_tracks,
    SUM(f.search_results) AS search_results,
    COUNT(*) AS facts
FROM facts AS f
LEFT JOIN spotify.markets_latest AS m
    ON m.market = f.market
GROUP BY f.market, m.country_name, m.is_spotify_market
ORDER BY facts DESC, f.market;
