"""Orchestration of the first Spotify slice: new releases → albums → album tracks → tracks → artists.

Every response body is stored as a raw part as soon as it arrives; the manifest is written only
after the last part, so a failing run leaves no manifest (and the transform never sees it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from activities.common.context import ActivityContext, SecureString
from activities.common.logs import get_logger, register_secret
from activities.common.secrets import open_secret_store
from activities.common.storage import Storage, open_storage
from activities.extract.client import SpotifyClient
from activities.extract.config import ExtractConfig
from activities.extract.raw_writer import RawWriter
from activities.extract.resources import albums, artists, new_releases, tracks, unique

_log = get_logger("activities.extract")


@dataclass
class ExtractSummary:
    run_id: str
    ingest_date: str
    manifest: str  # "<container>/<path>"
    parts: int
    requests: int
    counts: dict[str, int] = field(default_factory=dict)

    def to_outputs(self) -> dict[str, Any]:
        """customOutput per the contract (the entrypoint adds durationSeconds)."""
        return {
            "runId": self.run_id,
            "ingestDate": self.ingest_date,
            "manifest": self.manifest,
            "parts": self.parts,
            "requests": self.requests,
            "counts": dict(self.counts),
        }


def main(context: ActivityContext) -> dict[str, Any]:
    """Entry for :func:`activities.common.run_activity`: resolve config, secret and storage, then extract."""
    config = ExtractConfig.from_context(context)
    secrets = open_secret_store(context.linked_service(config.key_vault_linked_service))
    client_secret = secrets.get(config.client_secret_name)
    register_secret(client_secret)  # stores register on read; repeated here so no store can forget
    storage = open_storage(context.linked_service(config.storage_linked_service), secrets)
    with make_client(config, client_secret) as client:
        summary = extract_first_slice(config, client, storage)
    return summary.to_outputs()


def make_client(config: ExtractConfig, client_secret: SecureString, **overrides: Any) -> SpotifyClient:
    options: dict[str, Any] = {
        "api_base_url": config.api_base_url,
        "token_url": config.token_url,
        "client_id": config.client_id,
        "client_secret": client_secret,
        "max_attempts": config.http_max_attempts,
        "backoff_seconds": config.http_backoff_seconds,
        "max_wait_seconds": config.http_max_wait_seconds,
    }
    options.update(overrides)
    return SpotifyClient(**options)


def extract_first_slice(
    config: ExtractConfig,
    client: SpotifyClient,
    storage: Storage,
    *,
    monotonic: Callable[[], float] = time.monotonic,
) -> ExtractSummary:
    """Fetch the slice, store every response as a raw part, then write the manifest."""
    started = monotonic()
    writer = RawWriter(storage, config.raw_container, config.ingest_date, config.run_id)
    cleared = writer.clear_previous_attempt()
    _log.info(
        "extract run %s for %s: new releases up to %d albums, market %s%s",
        config.run_id,
        config.ingest_date.isoformat(),
        config.new_releases_limit,
        config.market,
        f" (removed {cleared} blobs of an earlier attempt)" if cleared else "",
    )

    # 1. New releases: pages until we have enough album ids.
    album_ids: list[str] = []
    pages = 0
    for response, payload in new_releases.fetch_new_releases(client, config.new_releases_limit):
        page_ids = new_releases.ids_from_new_releases(payload)
        writer.write_part(new_releases.ENTITY, response, items=len(page_ids))
        pages += 1
        album_ids = unique([*album_ids, *page_ids])
        if len(album_ids) >= config.new_releases_limit:
            break
    album_ids = album_ids[: config.new_releases_limit]
    _log.info("new_releases: %d pages, %d album ids", pages, len(album_ids))

    # 2. Albums, 20 per call; remember which albums have more tracks than the embedded page.
    track_ids: list[str] = []
    artist_ids: list[str] = []
    tracks_next: list[str] = []
    albums_found = 0
    for response in albums.fetch_albums(client, album_ids, config.market):
        parsed = albums.ids_from_albums(response.json())
        writer.write_part(albums.ENTITY, response, items=len(parsed.album_ids))
        albums_found += len(parsed.album_ids)
        track_ids.extend(parsed.track_ids)
        artist_ids.extend(parsed.artist_ids)
        tracks_next.extend(parsed.tracks_next)
    if albums_found < len(album_ids):
        _log.warning("albums: %d of %d album ids were not found", len(album_ids) - albums_found, len(album_ids))
    _log.info("albums: %d albums, %d with more track pages", albums_found, len(tracks_next))

    # 3. Album track pages beyond the embedded first one.
    extra_pages = 0
    for next_url in tracks_next:
        for response, payload in albums.fetch_album_tracks(client, next_url):
            parsed_page = albums.ids_from_album_tracks(payload)
            writer.write_part(albums.TRACKS_ENTITY, response, items=len(parsed_page.track_ids))
            track_ids.extend(parsed_page.track_ids)
            extra_pages += 1
    track_ids = unique(track_ids)
    _log.info("album_tracks: %d extra pages; %d unique track ids", extra_pages, len(track_ids))

    # 4. Tracks, 50 per call; their artists join the albums' artists.
    tracks_found = 0
    for response in tracks.fetch_tracks(client, track_ids):
        parsed_tracks = tracks.ids_from_tracks(response.json())
        writer.write_part(tracks.ENTITY, response, items=len(parsed_tracks.track_ids))
        tracks_found += len(parsed_tracks.track_ids)
        artist_ids.extend(parsed_tracks.artist_ids)
    artist_ids = unique(artist_ids)
    _log.info("tracks: %d tracks; %d unique artist ids", tracks_found, len(artist_ids))

    # 5. Artists, 50 per call.
    artists_found = 0
    for response in artists.fetch_artists(client, artist_ids):
        found = artists.ids_from_artists(response.json())
        writer.write_part(artists.ENTITY, response, items=len(found))
        artists_found += len(found)
    _log.info("artists: %d artists", artists_found)

    # 6. The manifest, last: its presence is the signal that the run is complete.
    path = writer.write_manifest()
    manifest = f"{config.raw_container}/{path}"
    _log.info(
        "manifest %s: %d parts, %d requests, %.1f s",
        manifest,
        len(writer.parts),
        client.request_count,
        monotonic() - started,
    )
    return ExtractSummary(
        run_id=config.run_id,
        ingest_date=config.ingest_date.isoformat(),
        manifest=manifest,
        parts=len(writer.parts),
        requests=client.request_count,
        counts=writer.counts,
    )


__all__ = ["ExtractSummary", "extract_first_slice", "main", "make_client"]
