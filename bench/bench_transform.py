"""Benchmark of the transform activity on generated Spotify-shaped raw pages.

One command (``make bench-transform``): generates a raw zone per size (written once to a temp
dir), then measures, in the same run and each in its own subprocess (peak RSS from
``os.wait4``'s rusage of that child):

- ``transform``: ``python -m activities.transform`` run as Azure Batch runs it (task dir,
  activity.json, local folder storage), the whole activity: manifest, checksums, parse,
  dedupe, enrichment, Parquet, staging, publishing, markers;
- ``floor``: read every part, gunzip it, ``orjson.loads`` it, nothing else. (The transform
  does not call orjson: it validates each part with simdjson and reads only the fields the
  model keeps, see activities/transform/parse/document.py, so building every value of a page
  as a Python object, most of the floor's time, is work it skips rather than a bound on it);
- ``pandas``: a naive baseline: ``orjson.loads`` + ``pandas.json_normalize`` per page, concat
  per entity, ``drop_duplicates`` by id, ``to_parquet``.

Rows = every record in the raw pages (full and simplified tracks, albums, artists, playlist
entries), the same count for all three, so the ratios are ratios of wall time. Each measurement
runs twice (``--repeat``) and the faster run counts; CPU seconds are printed beside wall time
because a shared machine's other load shows in wall time only. The pandas baseline holds every
page in memory (2.4 GB at 100k tracks), so it runs at 100k only (``--pandas-max``).

The raw zone of N tracks looks like one extract run: N/10 albums of 10 tracks, N/25 artists;
``albums`` parts (GET /albums?ids=&market=US: 20 full albums with their simplified tracks),
``tracks`` parts (GET /tracks?ids=: 50 full tracks, each with its simplified album and,
as the API does without ``market``, ``available_markets``), ``artists`` parts (50 full artists),
``new_releases`` pages and ``playlist_items`` pages (N/10 entries, full tracks). Objects are
built per id from fixed templates (deterministic, no randomness) and gzip'd at level 1 (to generate fast; decoding cost is the
same at any level).

Ends with three lines: ``ratio_vs_floor``, ``speedup_vs_pandas`` and ``rss_growth_1m_vs_100k``.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
API = "https://api.spotify.com/v1"
INGEST_DATE = "2026-11-24"
RUN_ID = "bench-0000-0000-0000-000000000001"
MANIFEST_DIR = f"spotify/manifests/ingest_date={INGEST_DATE}/run_id={RUN_ID}"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MARKETS = [
    "AD", "AE", "AR", "AT", "AU", "BE", "BG", "BO", "BR", "CA", "CH", "CL", "CO", "CR", "CY", "CZ", "DE",
    "DK", "DO", "EC", "EE", "ES", "FI", "FR", "GB", "GR", "GT", "HK", "HN", "HU", "ID", "IE", "IL", "IN",
    "IS", "IT", "JP", "KR", "LT", "LU", "LV", "MX", "MY", "NI", "NL", "NO", "NZ", "PA", "PE", "PH", "PL",
    "PT", "PY", "RO", "SA", "SE", "SG", "SK", "SV", "TH", "TR", "TW", "US", "UY", "VN", "ZA",
]
GENRES = ["pop", "dance pop", "indie rock", "hip hop", "trap", "house", "jazz", "folk", "latin", "k-pop"]


# -- generated catalogue ---------------------------------------------------------------------------


_ID_SPACE = 62**22
_GOLDEN = 0x9E3779B97F4A7C15F39CC0605CEDC835  # odd, so multiplying by it permutes the id space


def spotify_id(kind: int, index: int) -> str:
    """A 22-character base62 id, spread like real ids (a bijective scramble of (kind, index))."""
    value = (index * 8 + kind) * _GOLDEN % _ID_SPACE
    chars = []
    for _ in range(22):
        value, digit = divmod(value, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


@dataclass(frozen=True)
class Catalogue:
    tracks: int

    @property
    def albums(self) -> int:
        return max(1, self.tracks // 10)

    @property
    def artists(self) -> int:
        return max(1, self.tracks // 25)


def _artist_ref(artist_id: str, index: int) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"{API}/artists/{artist_id}",
        "id": artist_id,
        "name": f"Artist {index}",
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


class Generator:
    """Spotify-shaped objects of a deterministic catalogue, ids precomputed."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.c = catalogue
        self.track_ids = [spotify_id(1, i) for i in range(catalogue.tracks)]
        self.album_ids = [spotify_id(2, i) for i in range(catalogue.albums)]
        self.artist_ids = [spotify_id(3, i) for i in range(catalogue.artists)]

    def album_artist(self, album: int) -> int:
        return album * 2 // 5 % self.c.artists

    def track_artists(self, track: int) -> list[int]:
        primary = self.album_artist(track // 10)
        return [primary, (primary + 7) % self.c.artists] if track % 4 == 0 else [primary]

    def simplified_album(self, album: int, *, markets: bool) -> dict[str, Any]:
        album_id = self.album_ids[album]
        artist = self.album_artist(album)
        obj: dict[str, Any] = {
            "album_type": "album" if album % 3 else "single",
            "total_tracks": 10,
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
            "href": f"{API}/albums/{album_id}",
            "id": album_id,
            "images": [
                {"url": f"https://i.scdn.co/image/ab67616d0000b273{album_id}", "height": 640, "width": 640},
                {"url": f"https://i.scdn.co/image/ab67616d00001e02{album_id}", "height": 300, "width": 300},
                {"url": f"https://i.scdn.co/image/ab67616d00004851{album_id}", "height": 64, "width": 64},
            ],
            "name": f"Album number {album}",
            "release_date": f"{1960 + album % 65}-{1 + album % 12:02d}-{1 + album % 28:02d}",
            "release_date_precision": "day",
            "type": "album",
            "uri": f"spotify:album:{album_id}",
            "artists": [_artist_ref(self.artist_ids[artist], artist)],
        }
        if markets:
            obj["available_markets"] = MARKETS
        else:
            obj["is_playable"] = True
        return obj

    def simplified_track(self, track: int, *, markets: bool) -> dict[str, Any]:
        track_id = self.track_ids[track]
        obj: dict[str, Any] = {
            "artists": [_artist_ref(self.artist_ids[a], a) for a in self.track_artists(track)],
            "disc_number": 1,
            "duration_ms": 90_000 + track * 7919 % 300_000,
            "explicit": track % 5 == 0,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
            "href": f"{API}/tracks/{track_id}",
            "id": track_id,
            "name": f"Track number {track}",
            "preview_url": None,
            "track_number": track % 10 + 1,
            "type": "track",
            "uri": f"spotify:track:{track_id}",
            "is_local": False,
        }
        if markets:
            obj["available_markets"] = MARKETS
        else:
            obj["is_playable"] = True
        return obj

    def full_track(self, track: int) -> dict[str, Any]:
        obj = self.simplified_track(track, markets=True)
        obj["album"] = self.simplified_album(track // 10, markets=True)
        obj["external_ids"] = {"isrc": f"US{self.track_ids[track][:10].upper()}"}
        obj["popularity"] = track * 31 % 101
        return obj

    def full_album(self, album: int) -> dict[str, Any]:
        obj = self.simplified_album(album, markets=False)
        items = [self.simplified_track(t, markets=False) for t in range(album * 10, min(album * 10 + 10, self.c.tracks))]
        obj["tracks"] = {
            "href": f"{API}/albums/{self.album_ids[album]}/tracks?offset=0&limit=50",
            "limit": 50, "next": None, "offset": 0, "previous": None, "total": len(items), "items": items,
        }
        obj["copyrights"] = [{"text": f"(P) {1960 + album % 65} Label", "type": "P"}]
        obj["external_ids"] = {"upc": f"{album:012d}"}
        obj["genres"] = []
        obj["label"] = f"Label {album % 97}"
        obj["popularity"] = album * 17 % 101
        return obj

    def full_artist(self, artist: int) -> dict[str, Any]:
        obj = _artist_ref(self.artist_ids[artist], artist)
        obj["followers"] = {"href": None, "total": artist * 1013 % 5_000_000}
        obj["genres"] = [GENRES[artist % len(GENRES)], GENRES[(artist * 3 + 1) % len(GENRES)]]
        obj["images"] = [{"url": f"https://i.scdn.co/image/{self.artist_ids[artist]}", "height": 640, "width": 640}]
        obj["popularity"] = artist * 13 % 101
        return obj


def _chunks(count: int, size: int) -> Iterator[range]:
    for start in range(0, count, size):
        yield range(start, min(start + size, count))


def pages(gen: Generator) -> Iterator[tuple[str, str, dict[str, Any], int]]:
    """(entity, request_url, body, items) of every part of one extract run."""
    c = gen.c
    for chunk in _chunks(min(100, c.albums), 50):
        items = [gen.simplified_album(a, markets=False) for a in chunk]
        yield "new_releases", f"{API}/browse/new-releases?limit=50&offset={chunk.start}", {"albums": {
            "href": f"{API}/browse/new-releases?offset={chunk.start}&limit=50", "limit": 50, "next": None,
            "offset": chunk.start, "previous": None, "total": min(100, c.albums), "items": items}}, len(items)
    for chunk in _chunks(c.albums, 20):
        ids = ",".join(gen.album_ids[a] for a in chunk)
        albums = [gen.full_album(a) for a in chunk]
        yield "albums", f"{API}/albums?ids={ids}&market=US", {"albums": albums}, sum(
            1 + len(a["tracks"]["items"]) for a in albums)
    for chunk in _chunks(c.tracks, 50):
        ids = ",".join(gen.track_ids[t] for t in chunk)
        yield "tracks", f"{API}/tracks?ids={ids}", {"tracks": [gen.full_track(t) for t in chunk]}, len(chunk)
    for chunk in _chunks(c.artists, 50):
        ids = ",".join(gen.artist_ids[a] for a in chunk)
        yield "artists", f"{API}/artists?ids={ids}", {"artists": [gen.full_artist(a) for a in chunk]}, len(chunk)
    entries = max(1, c.tracks // 10)
    playlists = max(1, entries // 1000)
    for playlist in range(playlists):
        playlist_id = spotify_id(4, playlist)
        for chunk in _chunks(1000, 100):
            items = [{
                "added_at": f"2026-{1 + p % 12:02d}-{1 + p % 28:02d}T10:00:00Z",
                "added_by": {"external_urls": {"spotify": "https://open.spotify.com/user/bench"},
                             "href": f"{API}/users/bench", "id": "bench", "type": "user", "uri": "spotify:user:bench"},
                "is_local": False,
                "track": gen.full_track((playlist * 7919 + p * 104_729) % c.tracks),
            } for p in chunk]
            url = f"{API}/playlists/{playlist_id}/items?offset={chunk.start}&limit=100"
            yield "playlist_items", url, {"href": url, "limit": 100, "next": None, "offset": chunk.start,
                                          "previous": None, "total": 1000, "items": items}, len(items)


def generate(root: Path, tracks: int) -> dict[str, Any]:
    """Write the raw zone of ``tracks`` tracks under ``root`` (local folder storage); returns its stats."""
    raw = root / "storage" / "raw"
    gen = Generator(Catalogue(tracks))
    parts: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    records = 0
    json_bytes = 0
    for entity, url, body, items in pages(gen):
        index = counters[entity] = counters.get(entity, -1) + 1
        path = f"spotify/{entity}/ingest_date={INGEST_DATE}/run_id={RUN_ID}/part-{index:05d}.json.gz"
        text = orjson.dumps(body, option=orjson.OPT_INDENT_2)  # Spotify answers with indented JSON
        stored = gzip.compress(text, compresslevel=1, mtime=0)
        target = raw / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(stored)
        parts.append({"entity": entity, "path": path, "size": len(stored),
                      "sha256": hashlib.sha256(stored).hexdigest(), "request_url": url,
                      "fetched_at": f"2026-11-24T05:00:00.{len(parts):06d}Z", "items": items})
        records += items
        json_bytes += len(text)
    manifest = {"manifest_version": 1, "source": "spotify", "ingest_date": INGEST_DATE, "run_id": RUN_ID,
                "created_at": "2026-11-24T06:00:00Z", "container": "raw", "parts": parts,
                "counts": {e: n + 1 for e, n in counters.items()}}
    (raw / MANIFEST_DIR).mkdir(parents=True, exist_ok=True)
    (raw / MANIFEST_DIR / "_manifest.json").write_bytes(json.dumps(manifest).encode())
    return {"records": records, "parts": len(parts), "json_bytes": json_bytes}


# -- the three workloads (each run as `python bench_transform.py --workload NAME --root DIR`) ------

def _manifest_parts(root: Path) -> list[dict[str, Any]]:
    return json.loads((root / "storage" / "raw" / MANIFEST_DIR / "_manifest.json").read_bytes())["parts"]  # type: ignore[no-any-return]


def workload_floor(root: Path) -> None:
    """Read, gunzip and orjson-parse every part; nothing else.

    The cyclic garbage collector is off, as it is while the transform parses, so that the floor is
    never slowed by something the transform avoids.
    """
    gc.disable()  # measured: with it on, the floor is no slower here (so the off switch flatters nobody)
    for part in _manifest_parts(root):
        orjson.loads(zlib.decompress((root / "storage" / "raw" / part["path"]).read_bytes(), wbits=31))


_ITEMS_KEY = {"albums": "albums", "tracks": "tracks", "artists": "artists"}


def workload_pandas(root: Path) -> None:
    import pandas as pd

    frames: dict[str, list[Any]] = {}
    for part in _manifest_parts(root):
        body = orjson.loads(gzip.decompress((root / "storage" / "raw" / part["path"]).read_bytes()))
        entity = part["entity"]
        if entity == "new_releases":
            items = body["albums"]["items"]
        elif entity == "playlist_items":
            items = body["items"]
        else:
            items = [i for i in body[_ITEMS_KEY[entity]] if i is not None]
        frames.setdefault(entity, []).append(pd.json_normalize(items))
        if entity == "albums":
            frames.setdefault("album_tracks", []).append(
                pd.json_normalize(items, record_path=["tracks", "items"], meta=["id"], meta_prefix="album."))
    out = root / "pandas-out"
    out.mkdir(exist_ok=True)
    for entity, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        key = "track.id" if entity == "playlist_items" else "id"
        frame = frame.drop_duplicates(subset=[key], keep="last")
        # Nested lists (artists, images, markets) as JSON text: Parquet needs one type per column.
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
        frame.to_parquet(out / f"{entity}.parquet", index=False)


def workload_transform(root: Path) -> None:
    storage_root = root / "storage"
    task = root / "task"
    if task.exists():
        shutil.rmtree(task)
    task.mkdir()
    shutil.copytree(REPO / "activities", task / "activities", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.rmtree(storage_root / "curated", ignore_errors=True)
    shutil.rmtree(storage_root / "quarantine", ignore_errors=True)
    activity = {"name": "Transform raw run", "type": "Custom", "typeProperties": {
        "command": "python -m activities.transform", "folderPath": "batch-code/activities",
        "extendedProperties": {"manifestFolderPath": f"raw/{MANIFEST_DIR}", "manifestFileName": "_manifest.json",
                               "curatedContainer": "curated", "storageLinkedService": "Ls_Blob_Storage",
                               "force": True},
        "referenceObjects": {"linkedServices": [], "datasets": []}}}
    linked = [{"name": "Ls_Blob_Storage", "properties": {"type": "AzureBlobStorage",
                                                         "typeProperties": {"serviceEndpoint": storage_root.as_uri()}}}]
    (task / "activity.json").write_text(json.dumps(activity))
    (task / "linkedServices.json").write_text(json.dumps(linked))
    (task / "datasets.json").write_text("[]")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"AZ_BATCH_TASK_WORKING_DIR": str(task), "AZ_BATCH_TASK_ID": "bench"})
    os.chdir(task)
    os.execve(sys.executable, [sys.executable, "-m", "activities.transform"], env)


WORKLOADS = {
    "floor": workload_floor,
    "pandas": workload_pandas,
    "transform": workload_transform,
}


# -- measuring -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measurement:
    workload: str
    tracks: int
    records: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.records / self.seconds


def measure(workload: str, root: Path, tracks: int, records: int) -> Measurement:
    """Run one workload in a child process; wall time and that child's peak RSS (os.wait4)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--workload", workload, "--root", str(root)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{workload} failed with exit code {child.returncode}:\n{stderr[-3000:]}")
    return Measurement(workload, tracks, records, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated track counts")
    parser.add_argument("--pandas-max", type=int, default=100_000,
                        help="largest size the pandas baseline runs at (it is slow and holds everything)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per measurement; the fastest counts (the machine may be shared)")
    parser.add_argument("--workdir", type=Path, default=None, help="where raw zones go (default: a temp dir)")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workload:
        WORKLOADS[args.workload](args.root)
        return 0

    sizes = [int(s) for s in args.sizes.split(",")]
    base = Path(tempfile.mkdtemp(prefix="bench-transform-", dir=args.workdir))
    results: dict[tuple[str, int], Measurement] = {}
    try:
        for tracks in sizes:
            root = base / f"n{tracks}"
            started = time.perf_counter()
            stats = generate(root, tracks)
            print(f"generated {tracks:,} tracks: {stats['records']:,} records in {stats['parts']:,} parts, "
                  f"{stats['json_bytes'] / 1e6:,.0f} MB of JSON, in {time.perf_counter() - started:.1f}s", flush=True)
            workloads = ["floor", "transform"] + (["pandas"] if tracks <= args.pandas_max else [])
            for workload in workloads:
                runs = [measure(workload, root, tracks, stats["records"]) for _ in range(args.repeat)]
                best = min(runs, key=lambda m: m.seconds)
                results[(workload, tracks)] = best
                print(f"  {workload:<9} {tracks:>9,} tracks: {best.seconds:7.2f}s  {best.rows_per_second:>11,.0f} rows/s"
                      f"  peak RSS {best.peak_rss_mb:7.1f} MB  (CPU {best.cpu_seconds:.2f}s)", flush=True)
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    largest = max(sizes)
    smallest = min(sizes)
    pandas_size = max((n for n in sizes if ("pandas", n) in results), default=None)
    floor_ratio = results[("transform", largest)].rows_per_second / results[("floor", largest)].rows_per_second
    cpu_ratio = results[("floor", largest)].cpu_seconds / results[("transform", largest)].cpu_seconds
    print()
    print(f"transform vs floor at {largest:,} tracks: {floor_ratio:.2f} of the floor's rows/s (target >= 0.50); "
          f"by CPU time {cpu_ratio:.2f} (wall time also counts other load on the machine)")
    speedup = None
    if pandas_size is not None:
        speedup = results[("transform", pandas_size)].rows_per_second / results[("pandas", pandas_size)].rows_per_second
        note = "" if pandas_size == largest else f" (pandas measured at {pandas_size:,} tracks only: --pandas-max)"
        print(f"transform vs pandas at {pandas_size:,} tracks: {speedup:.1f}x (target >= 5){note}")
    growth = results[("transform", largest)].peak_rss_mb / results[("transform", smallest)].peak_rss_mb
    print(f"transform peak RSS {largest:,} vs {smallest:,} tracks: {growth:.2f}x (target <= 1.5)")
    print(textwrap.dedent(f"""
        ratio_vs_floor: {floor_ratio:.2f}
        speedup_vs_pandas: {f'{speedup:.1f}' if speedup is not None else 'n/a'}
        rss_growth_1m_vs_100k: {growth:.2f}""").strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
