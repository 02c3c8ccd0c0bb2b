"""One-command benchmark of the extraction client against the Spotify twin at 30 ms latency.

Measured in the same run, at the same number of requests:

The twin runs in its own process (``python -m offline.spotify_twin``), as the API is remote to a real client: in
the same process its JSON encoding would compete with the client for the interpreter.

- this client: a full extraction (every non-restricted source, ids from every source looked up) through
  ``activities.extract`` (thread pool, shared token bucket, raw parts written to a temporary folder);
- a sequential baseline: a plain ``requests`` loop over exactly the URLs the client fetched, one after
  the other, with the same tokens. (spotipy cannot easily be pointed at the twin, so the baseline is
  what a straightforward sequential client does.)

Prints requests/s and items/s of both and their ratio; the last line is ``speedup_vs_baseline: <x>``.
Run: ``make bench-extract`` or ``python bench/bench_extract.py [--scale 0.5] [--concurrency 8]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from activities.common import LocalFolderStorage, SecureString
from activities.extract.config import SOURCES, ExtractConfig
from activities.extract.run import extract_all, make_client

CLIENT_ID = "bench-client"
SECRET = "bench-secret-not-real"
REFRESH = "bench-refresh-not-real"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.5, help="twin catalog size (default 0.5)")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="twin latency per response (default 30)")
    parser.add_argument("--concurrency", type=int, default=8, help="client maxConcurrency (default 8)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best compared (default 3)")
    args = parser.parse_args()
    logging.getLogger("activities.extract").setLevel(logging.WARNING if not os.environ.get("BENCH_VERBOSE") else logging.INFO)

    with _twin(args.scale, args.latency_ms) as twin:
        truth = twin.truth
        config = ExtractConfig(
            ingest_date=date(2026, 11, 24), run_id="bench", api_base_url=twin.api_base_url, token_url=twin.token_url,
            access_mode="extended",
            client_id=CLIENT_ID, client_secret_name="spotify-client-secret", markets=("US", "GB"),
            new_releases_limit=10_000, storage_linked_service="-", key_vault_linked_service="-", raw_container="raw",
            sources=tuple(source for source in SOURCES if source != "album_tracks"),
            lookup_sources=("new_releases", "search", "artist_albums", "artist_top_tracks", "playlist_items",
                            "saved_tracks", "user_top_tracks", "recently_played"),
            artist_ids=tuple(truth["artists"][:5]), search_queries=("night", "summer"), search_limit=50,
            playlist_discovery=("search", "user_playlists"), max_concurrency=args.concurrency, requests_per_second=0,
        )

        # This client, then the baseline, alternately, `repeat` times each (best of each is compared:
        # the machine may be busy with other work; the best run is the least disturbed one).
        client_times: list[float] = []
        baseline_times: list[float] = []
        urls: list[str] = []
        items = 0
        for attempt in range(args.repeat):
            with tempfile.TemporaryDirectory() as folder:
                storage = LocalFolderStorage(Path(folder))
                run = replace(config, run_id=f"bench-{attempt}")
                with make_client(run, SecureString(SECRET), refresh_token=SecureString(REFRESH)) as client:
                    started = time.perf_counter()
                    summary = extract_all(run, client, storage)
                    client_times.append(time.perf_counter() - started)
                container, _, path = summary.manifest.partition("/")
                manifest = json.loads(storage.read_bytes(container, path))
            if not urls:
                urls = [part["request_url"] for part in manifest["parts"]]
                items = sum(summary.counts.values())
            baseline_times.append(_sequential(twin, urls))
        client_seconds, baseline_seconds = min(client_times), min(baseline_times)

    requests_made = len(urls)
    client_rps, baseline_rps = requests_made / client_seconds, requests_made / baseline_seconds
    print(f"twin: scale {args.scale:g}, latency {args.latency_ms:g} ms; {requests_made} requests, {items} items; "
          f"best of {args.repeat} runs each (client {', '.join(f'{t:.2f}' for t in client_times)} s; "
          f"baseline {', '.join(f'{t:.2f}' for t in baseline_times)} s)")
    print(f"client (activities.extract, maxConcurrency {args.concurrency}, parts stored): "
          f"{client_seconds:.2f} s, {client_rps:.1f} requests/s, {items / client_seconds:.0f} items/s")
    print(f"sequential baseline (plain requests loop over the same {requests_made} URLs; spotipy cannot easily be "
          f"pointed at the twin): {baseline_seconds:.2f} s, {baseline_rps:.1f} requests/s, "
          f"{items / baseline_seconds:.0f} items/s")
    print(f"speedup_vs_baseline: {client_rps / baseline_rps:.2f}")
    return 0


@dataclass
class _Twin:
    api_base_url: str
    token_url: str
    truth: dict


@contextlib.contextmanager
def _twin(scale: float, latency_ms: float) -> Iterator[_Twin]:
    """``python -m offline.spotify_twin`` in its own process; yields its URLs and ground truth."""
    with tempfile.TemporaryDirectory() as folder:
        truth_file = Path(folder) / "truth.json"
        env = {**os.environ, "SPOTIFY_TWIN_CLIENT_SECRET": SECRET, "SPOTIFY_TWIN_REFRESH_TOKEN": REFRESH}
        process = subprocess.Popen(
            [sys.executable, "-m", "offline.spotify_twin", "--scale", f"{scale:g}", "--faults", f"latency_ms={latency_ms:g}",
             "--client-id", CLIENT_ID, "--truth-out", str(truth_file), "--access-mode", "extended"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            event = json.loads(process.stdout.readline())
            yield _Twin(event["api_base_url"], event["token_url"], json.loads(truth_file.read_text()))
        finally:
            process.terminate()
            process.wait(timeout=10)


def _sequential(twin: _Twin, urls: list[str]) -> float:
    """Seconds a plain sequential requests loop takes over ``urls`` (tokens fetched before the clock starts)."""
    with requests.Session() as session:
        app = _token(session, twin.token_url, {"grant_type": "client_credentials"})
        user = _token(session, twin.token_url, {"grant_type": "refresh_token", "refresh_token": REFRESH})
        started = time.perf_counter()
        for url in urls:
            token = user if "/v1/me" in url else app
            response = session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            response.raise_for_status()
            response.json()
        return time.perf_counter() - started


def _token(session: requests.Session, url: str, form: dict[str, str]) -> str:
    response = session.post(url, data=form, auth=(CLIENT_ID, SECRET), timeout=30)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


if __name__ == "__main__":
    sys.exit(main())
