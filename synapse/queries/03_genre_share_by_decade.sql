-- Question: How has the genre mix changed over time: what share of each release decade's albums belongs to each genre family?
-- Chart: line x=release_decade value=share series=genre_family top=8
-- Access mode: extended
-- An album's genre family is its primary artist's; albums whose artist has no genre count as `unclassified`.
WITH album_genres AS (
    SELECT
        al.album_id,
        al.release_decade,
        COALESCE(ar.genre_family, 'unclassified') AS genre_family
    FROM spotify.albums_latest AS al
    LEFT JOIN spotify.artists_latest AS ar
        ON ar.artist_id = al.primary_artist_id
    WHERE al.release_decade IS NOT NULL
)
SELECT
    release_decade,
    genre_family,
    COUNT(*) AS albums,
    CAST(COUNT(*) AS FLOAT) / SUM(COUNT(*)) OVER (PARTITION BY release_decade) AS share
FROM album_genres
GROUP BY release_decade, genre_family
ORDER BY release_decade, albums DESC, genre_family;
