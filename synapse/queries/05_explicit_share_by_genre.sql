-- Question: What share of tracks is explicit in each genre family (by the track's primary artist)?
-- Chart: bar label=genre_family value=explicit_share
-- Access mode: extended
SELECT
    COALESCE(ar.genre_family, 'unclassified') AS genre_family,
    COUNT(*) AS tracks,
    SUM(CASE WHEN t.explicit = 1 THEN 1 ELSE 0 END) AS explicit_tracks,
    CAST(SUM(CASE WHEN t.explicit = 1 THEN 1 ELSE 0 END) AS FLOAT) / COUNT(*) AS explicit_share
FROM spotify.tracks_latest AS t
LEFT JOIN spotify.artists_latest AS ar
    ON ar.artist_id = t.primary_artist_id
GROUP BY COALESCE(ar.genre_family, 'unclassified')
ORDER BY explicit_share DESC, genre_family;
