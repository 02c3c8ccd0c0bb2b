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
- `as_of`: the day the catalog and the users' activity stand at (`daily`)
- `users`: per allow-listed user, in refresh-token order: `id`, `top_artists` / `top_tracks` {time range:
  [ids]}, `recently_played` [[track id, played_at as the API prints it]] newest first (every play; a Development
  Mode app only reaches the newest 50), `saved_tracks` [[id, added_at]] newest first, `followed_artists` [ids]
  in cursor order, `playlists` [ids] of GET /me/playlists, `owned_playlists` and `collaborative_playlists`
  (owned by someone else, joined as a collaborator): the playlists whose items it may read in development mode
- `user`: `users[0]` with `saved_tracks` as bare ids (the single-listener form older callers read)

What one run served is another file: `write_run_record` (the twin's `run_record()`), read back with
`run_records` and `served_so_far`. Layout under a workdir's `truth/`: `<as-of date>/<run label>-served.json`,
one per run, never overwritten (`run_record_path` picks a free name).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from offline.spotify_twin.catalog import ALBUM_GROUP_ORDER, Catalog, build_catalog
from offline.spotify_twin.rows import ITEM_EPISODE, ITEM_LOCAL, ITEM_TRACK, TIME_RANGES, ListenerRow, iso_millis, iso_seconds
from offline.spotify_twin.search import reachable, search_ids
from offline.spotify_twin.vocabulary import MARKETS

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
        "as_of": catalog.as_of.isoformat(),
        "users": [_user_truth(catalog, u) for u in catalog.listeners],
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


def _user_truth(catalog: Catalog, listener: ListenerRow) -> dict[str, Any]:
    me = listener.user.id
    playlists = [catalog.playlist_by_id[p] for p in listener.playlist_ids]
    return {
        "id": me,
        "top_artists": {r: list(listener.top_artists(r)) for r in TIME_RANGES},
        "top_tracks": {r: list(listener.top_tracks(r)) for r in TIME_RANGES},
        "recently_played": [[p.track_id, iso_millis(p.played_at)] for p in listener.plays],
        "saved_tracks": [[s.track_id, iso_seconds(s.added_at)] for s in listener.saved_tracks],
        "followed_artists": list(listener.followed_artist_ids),
        "playlists": list(listener.playlist_ids),
        "owned_playlists": [p.id for p in playlists if p.owner_id == me],
        "collaborative_playlists": [p.id for p in playlists if p.owner_id != me and me in p.collaborator_ids],
    }


def write_truth(truth: Truth, path: Path) -> None:
    _write_whole(path, json.dumps(truth, separators=(",", ":")))


def _write_whole(path: Path, text: str) -> None:
    """Write beside, then rename, so a reader never sees half a file; a failed write (a full disk) leaves nothing.

    Raises:
        OSError: the folder cannot be made or written (the caller names the path and the fix).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


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
    as_of = truth.get("as_of")
    return build_catalog(int(truth["seed"]), float(truth["scale"]), date.fromisoformat(as_of) if as_of else None)


def expected_search(
    truth: Mapping[str, Any], q: str, kind: str, market: str | None = None, limit: int = SEARCH_PAGE_LIMIT
) -> list[str]:
    """Ids of type `kind` a client reaches by walking GET /search?q=..&type=kind `next` links with page size
    `limit`, in order: every match, cut where offset + limit would pass 1000 (see `offline.spotify_twin.search`).

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


# ---- what each run served ---------------------------------------------------------------------------------------

SERVED_SUFFIX = "-served.json"


def run_record_path(truth_dir: Path, as_of: date, label: str) -> Path:
    """`<truth_dir>/<as_of>/<label>-served.json`, or `<label>-2-served.json`... when a run already holds that name:
    a later run of the same date never overwrites an earlier run's truth."""
    folder = truth_dir / as_of.isoformat()
    candidate, number = folder / f"{label}{SERVED_SUFFIX}", 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{label}-{number}{SERVED_SUFFIX}"
    return candidate


def write_run_record(record: Mapping[str, Any], path: Path) -> None:
    """Write one run's record (`TwinServer.run_record()`) beside, then rename: never half a file."""
    _write_whole(path, json.dumps(record, indent=1))


def run_records(truth_dir: Path, up_to: date | None = None) -> list[dict[str, Any]]:
    """Every run's record under `truth_dir` whose as-of date is at most `up_to`, oldest date first (runs of a
    date in name order, which is start order for run_local's labels)."""
    records = []
    folders = sorted(p for p in truth_dir.iterdir() if p.is_dir()) if truth_dir.is_dir() else []
    for folder in folders:
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue  # not a date folder
        if up_to is not None and day > up_to:
            continue
        for path in sorted(folder.glob(f"*{SERVED_SUFFIX}")):
            records.append(json.loads(path.read_text(encoding="utf-8")))
    return records


def served_so_far(truth_dir: Path, up_to: date | None = None) -> dict[str, set[str]]:
    """The ids of every object any run up to `up_to` served, per kind (tracks, albums, artists, playlists,
    episodes): what curated tables must hold after incremental runs."""
    union: dict[str, set[str]] = {}
    for record in run_records(truth_dir, up_to):
        for kind, ids in record["served"].items():
            union.setdefault(kind, set()).update(ids)
    return union
