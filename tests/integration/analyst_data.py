"""A small, deterministic catalogue written as the curated zone stores it, for the analyst query tests.

Two snapshots (a week apart) of every table in `activities.transform.schemas.TABLES`, each file with
exactly its table's schema, laid out as `<container>/<table>/snapshot_date=YYYY-MM-DD/part-00000.parquet`.
The rows are chosen so that every analyst query has something to find: several markets and weeks of
new releases, artists whose popularity moves between snapshots, tracks shared by playlists, top items
and plays in different genre families, and nulls where the curated model allows them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from activities.common.storage import LocalFolderStorage
from activities.load.published import write_published
from activities.transform.countries import country_name
from activities.transform.schemas import TABLES

PREVIOUS, LATEST = date(2026, 11, 17), date(2026, 11, 24)
MARKETS = ("US", "GB", "DE", "SE")
LISTED_MARKETS = ("US", "GB", "DE", "FR", "JP")  # what GET /markets "listed": SE is only known from facts
FAMILIES = ("pop", "rock", "hip hop", "electronic", "jazz", None)
Rows = dict[str, list[dict[str, Any]]]


def _tier(popularity: int | None) -> str | None:
    if popularity is None:
        return None
    return "high" if popularity >= 70 else "medium" if popularity >= 40 else "low"


def _bucket(duration_ms: int | None) -> str | None:
    if duration_ms is None:
        return None
    return "short" if duration_ms < 150_000 else "medium" if duration_ms < 300_000 else "long"


def catalogue(seed: int = 7) -> Rows:
    """The latest snapshot's rows per table (table name -> rows as dicts, lineage excluded)."""
    rng = random.Random(seed)
    rows: Rows = {name: [] for name in TABLES}
    artists = []
    for n in range(40):
        family = FAMILIES[n % len(FAMILIES)]
        popularity = None if n == 7 else rng.randint(5, 100)
        artist = {"artist_id": f"ar{n:02d}", "name": f"Artist {n:02d}", "followers": None if n == 11 else rng.randint(0, 5_000_000),
                  "popularity": popularity, "genres": [f"{family} {k}" for k in range(n % 3)] if family else [],
                  "image_url": None, "popularity_tier": _tier(popularity),
                  "primary_genre": f"{family} 0" if family and n % 4 else None, "genre_family": family if n % 4 else None}
        artists.append(artist)
        for position, genre in enumerate(artist["genres"]):
            rows["artist_genres"].append({"artist_id": artist["artist_id"], "genre_position": position, "genre": genre,
                                          "genre_family": family})
    rows["artists"] = artists
    albums, tracks = [], []
    for n in range(60):
        artist = artists[rng.randrange(len(artists))]
        if n < 24:  # new releases of the last six weeks
            release = LATEST - timedelta(days=rng.randint(0, 41))
            precision = "day"
        else:
            release = date(rng.randint(1962, 2025), rng.randint(1, 12), rng.randint(1, 28))
            precision = rng.choice(("day", "day", "year"))
            if precision == "year":
                release = date(release.year, 1, 1)
        if n == 59:
            release = None  # Spotify's `0000`
        album_type = rng.choice(("album", "album", "single", "compilation"))
        total = rng.randint(1, 12)
        popularity = rng.randint(0, 100)
        album = {"album_id": f"al{n:02d}", "name": f"Album {n:02d}", "album_type": album_type, "release_date": release,
                 "release_date_raw": release.isoformat() if release else "0000", "release_date_precision": precision,
                 "release_year": release.year if release else None,
                 "release_decade": release.year // 10 * 10 if release else None, "total_tracks": total,
                 "label": "Label", "popularity": popularity, "popularity_tier": _tier(popularity),
                 "primary_artist_id": artist["artist_id"], "primary_artist_name": artist["name"]}
        albums.append(album)
        rows["album_artists"].append({"album_id": album["album_id"], "artist_id": artist["artist_id"], "artist_position": 0})
        if n % 5 == 0:
            guest = artists[(int(artist["artist_id"][2:]) + 1) % len(artists)]
            rows["album_artists"].append({"album_id": album["album_id"], "artist_id": guest["artist_id"], "artist_position": 1})
        for number in range(1, total + 1):
            performer = artist if number % 4 else artists[rng.randrange(len(artists))]
            duration = None if (n, number) == (3, 1) else rng.randint(90_000, 420_000) + (release.year if release else 0) * 20
            track_popularity = rng.randint(0, 100)
            track = {"track_id": f"tr{n:02d}{number:02d}", "name": f"Track {n:02d}-{number:02d}", "album_id": album["album_id"],
                     "duration_ms": duration, "explicit": rng.random() < 0.3, "popularity": track_popularity,
                     "isrc": f"USXX{n:04d}{number:04d}", "track_number": number, "disc_number": 1, "is_local": False,
                     "primary_artist_id": performer["artist_id"],
                     "duration_minutes": duration / 60000 if duration else None, "duration_bucket": _bucket(duration),
                     "popularity_tier": _tier(track_popularity), "primary_artist_name": performer["name"]}
            tracks.append(track)
            rows["track_artists"].append({"track_id": track["track_id"], "artist_id": performer["artist_id"], "artist_position": 0})
            if number % 3 == 0:  # a featured artist
                guest = artists[(int(performer["artist_id"][2:]) + 7) % len(artists)]
                rows["track_artists"].append({"track_id": track["track_id"], "artist_id": guest["artist_id"], "artist_position": 1})
    rows["albums"], rows["tracks"] = albums, tracks
    rows["new_releases"] = [{"album_id": a["album_id"], "market": MARKETS[i % len(MARKETS)] if i != 5 else None,
                             "list_position": i} for i, a in enumerate(albums[:24])]
    for n, artist in enumerate(artists[:24]):
        own = [t for t in tracks if t["primary_artist_id"] == artist["artist_id"]][:3]
        for market in (MARKETS[n % 4], MARKETS[(n + 1) % 4]):
            rows["artist_top_tracks"] += [{"artist_id": artist["artist_id"], "market": market, "rank": rank, "track_id": t["track_id"]}
                                          for rank, t in enumerate(own, start=1)]
    for rank, artist in enumerate(rng.sample(artists, 6), start=1):
        rows["search_results"].append({"query": "summer", "item_type": "artist", "rank": rank, "item_id": artist["artist_id"],
                                       "market": "US" if rank % 3 else None, "total_results": 6})
    rows["search_results"] += [{"query": "summer", "item_type": "track", "rank": rank, "item_id": t["track_id"], "market": "GB",
                                "total_results": 3} for rank, t in enumerate(tracks[:3], start=1)]
    moment = datetime(2026, 11, 23, 12, tzinfo=UTC)
    for n in range(6):
        rows["playlists"].append({"playlist_id": f"pl{n}", "name": f"Playlist {n}", "owner_id": "owner", "public": True,
                                  "collaborative": False, "snapshot_id": "s", "followers": rng.randint(0, 90_000),
                                  "total_items": 0})
        chosen = rng.sample(tracks[:40], rng.randint(4, 8)) + rng.sample(tracks[40:], rng.randint(4, 8))
        chosen.append({"track_id": f"unknown{n}", "name": "Not in catalogue"})
        for position, track in enumerate(chosen):
            rows["playlist_items"].append({
                "playlist_id": f"pl{n}", "position": position, "item_type": "track", "track_id": track["track_id"],
                "item_name": track["name"], "added_at": moment - timedelta(days=rng.randint(n, 400), hours=rng.randint(0, 23)),
                "is_local": False, "item_duration_ms": track.get("duration_ms")})
        rows["playlist_items"].append({"playlist_id": f"pl{n}", "position": len(chosen), "item_type": "episode",
                                       "episode_id": f"ep{n}", "track_id": None, "item_name": "An episode",
                                       "added_at": moment, "is_local": False})
    # Two listeners, so the per-user queries cannot mix them; the second plays and saves less.
    rows["saved_tracks"] = []
    for user, plays, saves in (("listener", 30, 12), ("second-listener", 9, 4)):
        for time_range in ("short_term", "medium_term", "long_term"):
            top = [("artist", a["artist_id"]) for a in rng.sample(artists, 8)] + \
                [("track", t["track_id"]) for t in rng.sample(tracks, 10)]
            for rank, (item_type, item_id) in enumerate(top, start=1):
                rows["user_top_items"].append({"user_id": user, "item_type": item_type, "time_range": time_range,
                                               "rank": rank, "item_id": item_id})
        for n in range(plays):
            played = moment - timedelta(minutes=7 * n)
            track_id = rng.choice(tracks)["track_id"] if n != 4 else "unknown-track"
            rows["recently_played"].append({"user_id": user, "played_at": played, "track_id": track_id,
                                            "context_type": "playlist", "context_uri": "spotify:playlist:pl0",
                                            "played_date": played.date()})
        rows["saved_tracks"] += [{"user_id": user, "track_id": t["track_id"], "added_at": moment - timedelta(days=i)}
                                 for i, t in enumerate(rng.sample(tracks, saves))]
    rows["markets"] = markets_of(rows)
    return rows


def markets_of(rows: Rows) -> list[dict[str, Any]]:
    """The markets dimension as the transform builds it: the listed codes, and every code a fact used."""
    used = {r["market"] for table in ("new_releases", "artist_top_tracks", "search_results") for r in rows[table]
            if r["market"] is not None}
    return [{"market": code, "country_name": country_name(code), "is_spotify_market": True if code in LISTED_MARKETS else None}
            for code in sorted(used | set(LISTED_MARKETS))]


def previous_snapshot(latest: Rows, seed: int = 8) -> Rows:
    """The week before: fewer artists, other popularity and followers, fewer playlist items."""
    rng = random.Random(seed)
    rows = {name: [dict(r) for r in table] for name, table in latest.items()}
    artists = []
    for artist in rows["artists"][:-4]:  # the last four artists are new this week
        if artist["popularity"] is not None:
            artist["popularity"] = max(0, min(100, artist["popularity"] - rng.randint(-6, 12)))
        if artist["followers"] is not None:
            artist["followers"] = max(0, artist["followers"] - rng.randint(-1000, 90_000))
        artists.append(artist)
    rows["artists"] = artists
    rows["playlist_items"] = [r for r in rows["playlist_items"] if r["position"] % 3 != 1]
    rows["tracks"] = [dict(t, explicit=not t["explicit"]) for t in rows["tracks"]]
    rows["new_releases"] = [dict(r, market="FR") for r in rows["new_releases"]]
    rows["markets"] = markets_of(rows)
    return rows


def write_snapshot(root: Path, containers: tuple[str, ...], day: date, rows: Rows) -> None:
    for name, schema in TABLES.items():
        lineage = {"snapshot_date": day, "source_run_id": f"run-{day}", "source_blob": f"raw/spotify/{name}/part-00000.json.gz"}
        table = pa.Table.from_pylist([r | lineage for r in rows.get(name, [])], schema=schema)
        for container in containers:
            folder = root / container / name / f"snapshot_date={day.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / "part-00000.parquet", compression="zstd")


def write_catalogue(root: Path, containers: tuple[str, ...] = ("curated", "serving")) -> Rows:
    """Both snapshots under `root`, published as the load publishes them; returns the latest snapshot's rows."""
    latest = catalogue()
    write_snapshot(root, containers, PREVIOUS, previous_snapshot(latest))
    write_snapshot(root, containers, LATEST, latest)
    if "serving" in containers:
        published = {PREVIOUS.isoformat(): "load-previous", LATEST.isoformat(): "load-latest"}
        write_published(LocalFolderStorage(root), "serving", published, datetime(2026, 12, 5, tzinfo=UTC))
    return latest
