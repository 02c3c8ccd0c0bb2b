"""Ground truth: every id the twin serves, and what the first extraction slice must reach.

`export_truth` turns a catalog into a JSON-able dict; `expected_first_slice` is a pure function over that
dict, so tests of the extractor can compare their output with it without starting the twin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spotify_twin.catalog import Catalog

Truth = dict[str, Any]


def export_truth(catalog: Catalog) -> Truth:
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
