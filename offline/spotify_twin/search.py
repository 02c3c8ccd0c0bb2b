"""Deterministic search over the catalog: what GET /search matches, in which order. Pure.

Rules (the twin's, documented because the real ranking is not):

- `q` is split into free words and field filters. A filter is ``field:value`` or ``field:"several words"``;
  fields: `artist`, `album`, `track`, `genre`, `year` (``1999`` or ``1990-1999``), `isrc`, `upc`, `tag`
  (``tag:new``: albums released in the 14 days up to the catalog's as-of day, ``tag:hipster``: albums with popularity <= 10).
  An unknown ``field:`` prefix is kept as a free word; ``"quoted words"`` make one free word.
- Everything matches case-insensitively as a substring (`isrc`/`upc` exactly), and every word and filter
  must match.
- Free words look at: tracks: name, artist names, album name; albums: name, artist names; artists: name and
  genres; playlists: name and description; shows: name and publisher; episodes: name.
- Filters only apply where Spotify says they do (artist: albums, artists, tracks; album: albums, tracks;
  track/isrc: tracks; genre: artists, tracks (a track's artists' genres); year: albums, tracks and artists
  (an artist with an album in the range); upc/tag: albums). A type that a filter does not apply to finds nothing.
- Order: most popular first (playlists: most followers; shows/episodes: catalog order), ties by id.
- With a market, albums and tracks (and episodes of shows) not available there are left out.
- Audiobooks are never found.

Paging follows Spotify: `offset + limit` may not pass 1000, so at most the first 1000 matches are reachable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from offline.spotify_twin.catalog import Catalog
from offline.spotify_twin.rows import AlbumRow, TrackRow

SEARCH_TYPES: tuple[str, ...] = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
# Response keys, in the order Spotify writes them.
RESULT_ORDER: tuple[str, ...] = ("track", "artist", "album", "playlist", "show", "episode", "audiobook")
MAX_REACH = 1000  # offset + limit may not pass this
FIELDS = ("artist", "album", "track", "genre", "year", "isrc", "upc", "tag")
APPLIES_TO: dict[str, frozenset[str]] = {
    "artist": frozenset({"album", "artist", "track"}),
    "album": frozenset({"album", "track"}),
    "track": frozenset({"track"}),
    "genre": frozenset({"artist", "track"}),
    "year": frozenset({"album", "artist", "track"}),
    "isrc": frozenset({"track"}),
    "upc": frozenset({"album"}),
    "tag": frozenset({"album"}),
}
NEW_ALBUM_DAYS = 14
HIPSTER_POPULARITY = 10

_TOKEN_RE = re.compile(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]  # (field, lower-cased value)


def parse_query(text: str) -> SearchQuery:
    words: list[str] = []
    filters: list[tuple[str, str]] = []
    for match in _TOKEN_RE.finditer(text):
        quoted_field, quoted_value, field, value, phrase, word = match.groups()
        if quoted_field is not None and quoted_field.lower() in FIELDS:
            filters.append((quoted_field.lower(), quoted_value.lower()))
        elif field is not None and field.lower() in FIELDS:
            filters.append((field.lower(), value.lower()))
        elif phrase is not None:
            words.append(phrase.lower())
        else:
            words.append((word or match.group(0)).lower())
    return SearchQuery(tuple(w for w in words if w), tuple(filters))


def _year_range(value: str) -> tuple[int, int] | None:
    low, _, high = value.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        return None


def _contains_all(words: Sequence[str], haystack: str) -> bool:
    return all(word in haystack for word in words)


class _Matcher:
    def __init__(self, catalog: Catalog, query: SearchQuery, market: str | None) -> None:
        self.catalog = catalog
        self.query = query
        self.market = market

    def _filters_apply_to(self, kind: str) -> bool:
        return all(kind in APPLIES_TO[field] for field, _ in self.query.filters)

    def _artist_names(self, artist_ids: Sequence[str]) -> str:
        return " ".join(self.catalog.artist_by_id[a].name.lower() for a in artist_ids)

    def _in_years(self, value: str, year: int) -> bool:
        bounds = _year_range(value)
        return bounds is not None and bounds[0] <= year <= bounds[1]

    def tracks(self) -> list[str]:
        if not self._filters_apply_to("track"):
            return []
        catalog = self.catalog
        found = []
        for track in catalog.tracks:
            if self.market is not None and not catalog.album_available(track.album_id, self.market):
                continue
            album = catalog.album_by_id[track.album_id]
            artists = self._artist_names(track.artist_ids)
            if not _contains_all(self.query.words, f"{track.name.lower()} {artists} {album.name.lower()}"):
                continue
            if all(self._track_filter(field, value, track, album, artists) for field, value in self.query.filters):
                found.append(track)
        found.sort(key=lambda t: (-t.popularity, t.id))
        return [t.id for t in found]

    def _track_filter(self, field: str, value: str, track: TrackRow, album: AlbumRow, artists: str) -> bool:
        if field == "artist":
            return value in artists
        if field == "album":
            return value in album.name.lower()
        if field == "track":
            return value in track.name.lower()
        if field == "genre":
            return any(value in g for a in track.artist_ids for g in self.catalog.artist_by_id[a].genres)
        if field == "year":
            return self._in_years(value, album.release_date.year)
        if field == "isrc":
            return value == track.isrc.lower()
        return False

    def albums(self) -> list[str]:
        if not self._filters_apply_to("album"):
            return []
        catalog = self.catalog
        found = []
        for album in catalog.albums:
            if self.market is not None and not catalog.album_available(album.id, self.market):
                continue
            artists = self._artist_names(album.artist_ids)
            if not _contains_all(self.query.words, f"{album.name.lower()} {artists}"):
                continue
            if all(self._album_filter(field, value, album, artists) for field, value in self.query.filters):
                found.append(album)
        found.sort(key=lambda a: (-a.popularity, a.id))
        return [a.id for a in found]

    def _album_filter(self, field: str, value: str, album: AlbumRow, artists: str) -> bool:
        if field == "artist":
            return value in artists
        if field == "album":
            return value in album.name.lower()
        if field == "year":
            return self._in_years(value, album.release_date.year)
        if field == "upc":
            return value == album.upc
        if field == "tag":
            if value == "new":
                return album.release_date >= self.catalog.as_of - timedelta(days=NEW_ALBUM_DAYS)
            if value == "hipster":
                return album.popularity <= HIPSTER_POPULARITY
        return False

    def artists(self) -> list[str]:
        if not self._filters_apply_to("artist"):
            return []
        catalog = self.catalog
        found = []
        for artist in catalog.artists:
            text = " ".join((artist.name.lower(), *artist.genres))
            if not _contains_all(self.query.words, text):
                continue
            ok = True
            for field, value in self.query.filters:
                if field == "artist":
                    ok = value in artist.name.lower()
                elif field == "genre":
                    ok = any(value in g for g in artist.genres)
                elif field == "year":
                    ok = any(
                        self._in_years(value, catalog.album_by_id[a].release_date.year)
                        for a, group in catalog.discography.get(artist.id, ())
                        if group != "appears_on"
                    )
                if not ok:
                    break
            if ok:
                found.append(artist)
        found.sort(key=lambda a: (-a.popularity, a.id))
        return [a.id for a in found]

    def playlists(self) -> list[str]:
        if self.query.filters:
            return []
        found = [
            p for p in self.catalog.playlists
            if _contains_all(self.query.words, f"{p.name.lower()} {p.description.lower()}")
        ]
        found.sort(key=lambda p: (-p.followers, p.id))
        return [p.id for p in found]

    def shows(self) -> list[str]:
        if self.query.filters:
            return []
        return [
            s.id for s in self.catalog.shows
            if (self.market is None or self.market in s.available_markets)
            and _contains_all(self.query.words, f"{s.name.lower()} {s.publisher.lower()}")
        ]

    def episodes(self) -> list[str]:
        if self.query.filters:
            return []
        shows = self.catalog.show_by_id
        return [
            e.id for e in self.catalog.episodes
            if (self.market is None or self.market in shows[e.show_id].available_markets)
            and _contains_all(self.query.words, e.name.lower())
        ]


def search_ids(catalog: Catalog, q: str, kind: str, market: str | None = None) -> list[str]:
    """Every id of type `kind` that `q` matches, best first (before the 1000-result reach is applied).

    Raises:
        ValueError: `kind` is not one of SEARCH_TYPES.
    """
    if kind not in SEARCH_TYPES:
        raise ValueError(f"unknown search type {kind!r}; known: {', '.join(SEARCH_TYPES)}")
    if kind == "audiobook":
        return []
    matcher = _Matcher(catalog, parse_query(q), market)
    return list(getattr(matcher, kind + "s")())


def reachable(total: int, limit: int) -> int:
    """How many results a client walking `next` links with page size `limit` can reach (offset+limit <= 1000)."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    last_offset = (MAX_REACH - limit) // limit * limit
    return min(total, last_offset + limit)
