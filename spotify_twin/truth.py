"""Ground truth: every id the twin serves per source, and what an extraction must reach.

`export_truth` turns a catalog into a JSON-able dict. The `expected_*` functions are pure functions of that
dict (those needing names or markets rebuild the catalog from its `seed` and `scale`, which is pure too), so
tests of the extractor can compare their output with them without starting the twin.

Keys (lists are in the order the endpoint serves them):

- first slice: `artists`, `albums`, `tracks`, `new_releases`, `album_tracks`, `album_artists`, `track_artists`
- `markets`: GET /markets
- `artist_albums` {artist id: [album ids]}: GET /artists/{id}/albums, every group, no market.
  Other groups or a market: `expected_artist_albums`.
- `artist_top_tracks` {market: {artist id: [track ids]}}: GET /artists/{id}/top-tracks for every market
- search: no key; `expected_search(truth, q, kind, market, limit)`
- `playlists` [ids]: every playlist GET /playlists/{id} serves
- `playlist_items` {playlist id: [{"position", "is_local", "track_id", "episode_id"}]}: every position of
  GET /playlists/{id}/items; a removed track has both ids null and `is_local` false, a local file has both
  ids null and `is_local` true
- `episodes` [ids]: every podcast episode a playlist can hold
- `categories` [ids]: GET /browse/categories
- `user`: the listener behind the refresh token: `id`, `top_artists` / `top_tracks` {time range: [ids]},
  `recently_played` [[track id, played_at as the API prints it]] newest first, `saved_tracks` [ids] newest
  first, `followed_artists` [ids] in cursor order, `playlists` [ids] of GET /me/playlists
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spotify_twin.catalog import ALBUM_GROUP_ORDER, Catalog, build_catalog
from spotify_twin.rows import ITEM_EPISODE, ITEM_LOCAL, ITEM_TRACK, TIME_RANGES, iso_millis
from spotify_twin.search import reachable, search_ids
from spotify_twin.vocabulary import MARKETS

Truth = dict[str, Any]
SEARCH_PAGE_LIMIT = 10  # the largest page GET /search serves


def export_truth(catalog: Catalog) -> Truth:
    listener = catalog.listener
    return {
        "seed": catalog.seed,
        "scale": catalog.scale,
        "artists": [a.id for a in catalog.artists],
        "albums": [a.id for a in catalog.albums],
        "tracks": [t.id for t in catalog.tracks],
        "new_releases": list(catalog.new_release_ids),
        "album_tracks": {a.id: list(a.track_ids) for a in catalog.albums},
        "album_artists": {a.id: list(a.artist_ids) for a in catalog.albums},
        "track_artists": {t.id: list(t.artist_ids) for t in catalog.tracks},
        "markets": list(MARKETS),
        "artist_albums": {a.id: [album for album, _ in catalog.artist_albums(a.id)] for a in catalog.artists},
        "artist_top_tracks": {m: {a.id: catalog.top_tracks(a.id, m) for a in catalog.artists} for m in MARKETS},
        "playlists": [p.id for p in catalog.playlists],
        "playlist_items": {
            p.id: [
                {
                    "position": position,
                    "is_local": item.kind == ITEM_LOCAL,
                    "track_id": item.ref_id if item.kind == ITEM_TRACK else None,
                    "episode_id": item.ref_id if item.kind == ITEM_EPISODE else None,
                }
                for position, item in enumerate(p.items)
            ]
            for p in catalog.playlists
        },
        "episodes": [e.id for e in catalog.episodes],
        "categories": [c.id for c in catalog.categories],
        "user": {
            "id": listener.user.id,
            "top_artists": {r: list(listener.top_artists(r)) for r in TIME_RANGES},
            "top_tracks": {r: list(listener.top_tracks(r)) for r in TIME_RANGES},
            "recently_played": [[p.track_id, iso_millis(p.played_at)] for p in listener.plays],
            "saved_tracks": [s.track_id for s in listener.saved_tracks],
            "followed_artists": list(listener.followed_artist_ids),
            "playlists": list(listener.playlist_ids),
        },
    }


def write_truth(truth: Truth, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename so a reader polling for the file never sees half of it.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(truth, separators=(",", ":")), encoding="utf-8")
    partial.replace(path)


def expected_first_slice(truth: Mapping[str, Any], new_releases_limit: int) -> dict[str, list[Any]]:
    """What an extraction of the first `new_releases_limit` new releases must end up holding.

    Returns sorted `albums`, `tracks` (all tracks of those albums, every page), `artists` (album artists and
    track artists), and `track_artists` as sorted `[track_id, artist_id, position]` with position 0-based
    in the track's `artists` array.

    Raises:
        ValueError: `new_releases_limit` is negative.
    """
    if new_releases_limit < 0:
        raise ValueError(f"new_releases_limit must be >= 0, got {new_releases_limit}")
    albums = list(truth["new_releases"][:new_releases_limit])
    tracks = [t for a in albums for t in truth["album_tracks"][a]]
    artists = {artist for a in albums for artist in truth["album_artists"][a]}
    track_artists = []
    for track in tracks:
        for position, artist in enumerate(truth["track_artists"][track]):
            artists.add(artist)
            track_artists.append([track, artist, position])
    return {
        "albums": sorted(set(albums)),
        "tracks": sorted(set(tracks)),
        "artists": sorted(artists),
        "track_artists": sorted(track_artists),
    }


def _catalog_of(truth: Mapping[str, Any]) -> Catalog:
    return build_catalog(int(truth["seed"]), float(truth["scale"]))


def expected_search(
    truth: Mapping[str, Any], q: str, kind: str, market: str | None = None, limit: int = SEARCH_PAGE_LIMIT
) -> list[str]:
    """Ids of type `kind` a client reaches by walking GET /search?q=..&type=kind `next` links with page size
    `limit`, in order: every match, cut where offset + limit would pass 1000 (see `spotify_twin.search`).

    Raises:
        ValueError: unknown `kind`, or `limit` outside 1..10.
    """
    if not 1 <= limit <= SEARCH_PAGE_LIMIT:
        raise ValueError(f"limit must be between 1 and {SEARCH_PAGE_LIMIT}, got {limit}")
    found = search_ids(_catalog_of(truth), q, kind, market.upper() if market else None)
    return found[: reachable(len(found), limit)]


def expected_artist_albums(
    truth: Mapping[str, Any],
    artist_id: str,
    include_groups: Sequence[str] = ALBUM_GROUP_ORDER,
    market: str | None = None,
) -> list[str]:
    """Album ids of GET /artists/{id}/albums?include_groups=..&market=.. over every page, in order.

    Raises:
        ValueError: an unknown group.
    """
    unknown = set(include_groups) - set(ALBUM_GROUP_ORDER)
    if unknown:
        raise ValueError(f"unknown album groups {sorted(unknown)}; known: {', '.join(ALBUM_GROUP_ORDER)}")
    catalog = _catalog_of(truth)
    return [album for album, _ in catalog.artist_albums(artist_id, include_groups, market.upper() if market else None)]
