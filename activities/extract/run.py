"""Orchestration of the Spotify extraction: discovery, sharded lookups, the manifest.

Modes (extended property ``mode``; the pipeline runs them as three activities):

- ``discover`` ("Extract Spotify"): every discovery source (new releases, search, categories, markets,
  playlists, artist albums and top tracks, the user sources, configured restricted ones) in one task;
  the ids they reveal are its published result (level 0);
- ``shard`` ("Extract Spotify shard", one per ForEach item): the batch lookups of the ids it owns
  (``hash(id) % shardCount``): level 1 albums (+ their further track pages), barrier, level 2 tracks,
  barrier, level 3 artists. At a barrier a shard publishes what it found and reads what the others
  found (their progress blobs), so every id is looked up once, by exactly one shard;
- ``manifest`` ("Write manifest", or ``python -m activities.extract.finalize``): once every worker
  has completed, the run manifest listing every worker's parts, written last;
- ``all`` (default): the three in one process, for small runs and tests.

Every response body is stored as a raw part as soon as it arrives; the manifest is written only when
every worker has completed, so a failing run leaves no manifest (and the transform never sees it).
A retry of the same run id resumes from the workers' progress blobs (see checkpoint.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from activities.common.context import ActivityContext, SecureString
from activities.common.errors import SecretNotFoundError, StorageError
from activities.common.logs import get_logger, register_secret
from activities.common.secrets import open_secret_store
from activities.common.storage import Storage, open_storage
from activities.extract.checkpoint import (
    DISCOVER_WORKER,
    Checkpoint,
    progress_path,
    read_state,
    shard_worker,
    wait_for_level,
)
from activities.extract.client import SpotifyClient
from activities.extract.config import ExtractConfig
from activities.extract.errors import ProgressError
from activities.extract.fetcher import Fetcher, Found, Step, Task, describe, run_tasks
from activities.extract.progress import Progress
from activities.extract.ratelimit import RateLimiter
from activities.extract.raw_writer import (
    DISCOVER_WRITER,
    PartRecord,
    RawWriter,
    count_items,
    manifest_path,
    shard_writer,
    write_manifest,
)
from activities.extract.resources import (
    albums,
    artists,
    catalog,
    new_releases,
    restricted,
    tracks,
    user,
)
from activities.extract.sharding import owned

_log = get_logger("activities.extract")

DISCOVERY_LEVEL = "0"


@dataclass(kw_only=True)
class _Summary:
    """What a step of the run did: the fields every extract customOutput shares (the contract's names)."""

    run_id: str
    ingest_date: str
    parts: int
    requests: int
    counts: dict[str, int] = field(default_factory=dict)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)

    def _own_outputs(self) -> dict[str, Any]:
        return {}

    def to_outputs(self) -> dict[str, Any]:
        """customOutput per the contract (the entrypoint adds durationSeconds)."""
        return {
            "runId": self.run_id,
            "ingestDate": self.ingest_date,
            **self._own_outputs(),
            "parts": self.parts,
            "requests": self.requests,
            "counts": dict(self.counts),
            "unavailable": list(self.unavailable),
            "missing": list(self.missing),
        }


@dataclass(kw_only=True)
class WorkerSummary(_Summary):
    """What one worker (the discovery step or a shard) did, over every attempt."""

    worker: str
    resumed_parts: int

    def _own_outputs(self) -> dict[str, Any]:
        return {"worker": self.worker, "resumedParts": self.resumed_parts}


@dataclass(kw_only=True)
class ExtractSummary(_Summary):
    """The whole run, as the manifest step reports it."""

    manifest: str  # "<container>/<path>"

    def _own_outputs(self) -> dict[str, Any]:
        return {"manifest": self.manifest}


def main(context: ActivityContext) -> dict[str, Any]:
    """Entry for :func:`activities.common.run_activity`: resolve config, secrets and storage, then run the mode."""
    config = ExtractConfig.from_context(context)
    secrets = open_secret_store(context.linked_service(config.key_vault_linked_service))
    storage = open_storage(context.linked_service(config.storage_linked_service), secrets)
    if config.mode == "manifest":
        return finalize(config, storage).to_outputs()
    client_secret = secrets.get(config.client_secret_name)
    register_secret(client_secret)  # stores register on read; repeated here so no store can forget
    refresh_token = None
    if config.needs_user_token and config.mode in ("all", "discover"):
        try:
            refresh_token = secrets.get(config.refresh_token_secret_name)
        except SecretNotFoundError as exc:
            # Not provisioned (yet): the catalog still runs; the user sources are reported unavailable.
            _log.warning("%s; the user sources are skipped and reported as unavailable", exc)
        else:
            register_secret(refresh_token)
    with make_client(config, client_secret, refresh_token=refresh_token) as client:
        if config.mode == "discover":
            return discover(config, client, storage).to_outputs()
        if config.mode == "shard":
            return extract_shard(config, client, storage).to_outputs()
        return extract_all(config, client, storage).to_outputs()


def make_client(config: ExtractConfig, client_secret: SecureString, **overrides: Any) -> SpotifyClient:
    timeout = config.http_timeout_seconds
    options: dict[str, Any] = {
        "api_base_url": config.api_base_url,
        "token_url": config.token_url,
        "client_id": config.client_id,
        "client_secret": client_secret,
        "max_attempts": config.http_max_attempts,
        "backoff_seconds": config.http_backoff_seconds,
        "max_wait_seconds": config.http_max_wait_seconds,
        "timeout": (min(5.0, timeout), timeout),
        "rate_limiter": RateLimiter(config.requests_per_second or None, burst=max(1.0, config.max_concurrency)),
        "max_connections": config.max_concurrency,
    }
    options.update(overrides)
    return SpotifyClient(**options)


def extract_all(
    config: ExtractConfig, client: SpotifyClient, storage: Storage, *, monotonic: Callable[[], float] = time.monotonic
) -> ExtractSummary:
    """Discovery, the only shard, then the manifest, in this process."""
    started = monotonic()
    discover(config, client, storage)
    extract_shard(config, client, storage)
    summary = finalize(config, storage)
    _log.info("extract run %s done in %.1f s", config.run_id, monotonic() - started)
    return summary


# -- one worker -------------------------------------------------------------------------------------


class _Worker:
    """The discovery step or one shard: its writer, checkpoint, progress and fetcher."""

    def __init__(self, config: ExtractConfig, client: SpotifyClient, storage: Storage, worker: str, writer: str):
        self.config = config
        self.client = client
        self.storage = storage
        self.name = worker
        self.writer = RawWriter(storage, config.raw_container, config.ingest_date, config.run_id, writer=writer)
        self.checkpoint = Checkpoint(storage, config.raw_container, config.ingest_date, config.run_id, worker,
                                     config.fingerprint)
        resumed = self.checkpoint.load()
        earlier = self.checkpoint.parts
        deleted = self.writer.remove_orphans(part.path for part in earlier)
        self.writer.adopt(earlier)
        self.resumed_parts = len(earlier)
        baseline = client.request_count
        self.checkpoint.requests_now = lambda: client.request_count - baseline
        self.progress = Progress(f"{config.run_id[:8]} {worker}")
        self.fetcher = Fetcher(client, self.writer, self.checkpoint, storage, self.progress)
        if resumed:
            _log.info(
                "%s resumes attempt %d: %d parts already stored%s", worker, self.checkpoint.attempt, len(earlier),
                f", {deleted} unlisted parts of the earlier attempt deleted" if deleted else "",
            )
        elif deleted:
            _log.info("%s: deleted %d parts an earlier attempt stored before its first checkpoint", worker, deleted)

    def level(self, name: str, describe_level: str, build: Callable[[], list[Task]]) -> Found:
        """Run one level's tasks unless an earlier attempt finished it; publish what it found."""
        done = self.checkpoint.level(name)
        if done is not None:
            _log.info("%s level %s (%s): done in an earlier attempt", self.name, name, describe_level)
            return Found.from_json(done)
        tasks = build()
        self.progress.start_stage(f"level {name}", len(tasks))
        before = self.client.request_count
        found = run_tasks(tasks, self.config.max_concurrency, self.fetcher)
        self.checkpoint.finish_level(name, found.to_json())
        _log.info(
            "%s level %s (%s): %d tasks, %d requests; found %d albums, %d tracks, %d artists",
            self.name, name, describe_level, len(tasks), self.client.request_count - before,
            len(found.albums), len(found.tracks), len(found.artists),
        )
        return found

    def run(self, body: Callable[[], None]) -> WorkerSummary:
        try:
            body()
        except BaseException as exc:
            self.progress.finish()
            try:
                self.checkpoint.save(failed=describe(exc))  # what is stored so far is what the retry skips
            except StorageError as save_error:
                _log.warning("%s could not save its progress after failing: %s", self.name, save_error)
            _log.warning("%s stopped: %s", self.name, describe(exc))
            raise
        self.checkpoint.save(complete=True)
        self.progress.finish()
        parts = self.writer.parts
        return WorkerSummary(
            run_id=self.config.run_id,
            ingest_date=self.config.ingest_date.isoformat(),
            worker=self.name,
            parts=len(parts),
            requests=self.checkpoint.requests,
            resumed_parts=self.resumed_parts,
            counts=count_items(parts),
            unavailable=self.checkpoint.unavailable,
            missing=self.checkpoint.missing,
        )


def _ids_only_if(keep: bool, task: Task) -> Task:
    """A discovery source not in lookupSources still stores its pages, but the album, track and artist
    ids it reveals are not looked up (categories and playlists pass: they are not batch lookups)."""
    if keep:
        return task

    def run() -> Step:
        step = task()
        kept = Found(categories=step.found.categories, playlists=step.found.playlists)
        return Step(kept, [_ids_only_if(False, more) for more in step.more])

    return run


class _PlaylistCrawl:
    """Playlists (GET /playlists/{id}) and their items, each playlist once: the configured ids and the
    playlists that the sources in ``playlistDiscovery`` (search hits, the user's playlists) list."""

    def __init__(self, config: ExtractConfig, fetcher: Fetcher) -> None:
        self._config = config
        self._fetcher = fetcher
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def tasks(self, playlist_ids: Iterable[str]) -> list[Task]:
        with self._lock:
            new = [playlist for playlist in sorted(set(playlist_ids)) if playlist not in self._claimed]
            self._claimed.update(new)
        config, fetcher, market = self._config, self._fetcher, self._config.market
        tasks: list[Task] = []
        for source in ("playlists", "playlist_items"):
            if config.runs(source):
                build = catalog.playlists if source == "playlists" else catalog.playlist_items
                keep = source in config.lookup_sources
                tasks += [_ids_only_if(keep, fetcher.optional(source, task)) for task in build(fetcher, new, market)]
        return tasks

    def following(self, task: Task) -> Task:
        """Wrap a search or user-playlists task: the playlists its pages list are crawled too."""

        def run() -> Step:
            step = task()
            return Step(step.found, [self.following(more) for more in step.more] + self.tasks(step.found.playlists))

        return run


def discovery_tasks(config: ExtractConfig, fetcher: Fetcher) -> list[Task]:
    """Level 0: every configured discovery source, user source and level-0 restricted source."""
    market = config.market
    crawl = _PlaylistCrawl(config, fetcher)
    plan: list[tuple[str, list[Task]]] = []
    if config.runs("new_releases"):
        plan.append(("new_releases", [new_releases.task(fetcher, config.new_releases_limit)]))
    if config.runs("search") and config.search_queries:
        plan.append(("search", catalog.search(fetcher, config.search_queries, config.search_types, market,
                                              config.search_limit)))
    if config.runs("categories"):
        plan.append(("categories", catalog.categories(fetcher)))
    if config.runs("markets"):
        plan.append(("markets", catalog.markets(fetcher)))
    if config.runs("artist_albums"):
        plan.append(("artist_albums", [fetcher.optional("artist_albums", task) for task in catalog.artist_albums(
            fetcher, config.artist_ids, market, config.include_groups)]))
    if config.runs("artist_top_tracks"):
        plan.append(("artist_top_tracks", [fetcher.optional("artist_top_tracks", task) for task in
                                           catalog.artist_top_tracks(fetcher, config.artist_ids, config.markets)]))
    user_plan: dict[str, Callable[[], list[Task]]] = {
        "user_profile": lambda: user.profile(fetcher),
        "user_top_artists": lambda: user.top(fetcher, "artists"),
        "user_top_tracks": lambda: user.top(fetcher, "tracks"),
        "recently_played": lambda: user.recently_played(fetcher, config.recently_played_after),
        "saved_tracks": lambda: user.saved_tracks(fetcher, market),
        "followed_artists": lambda: user.followed_artists(fetcher),
        "user_playlists": lambda: user.user_playlists(fetcher),
    }
    for source, build in user_plan.items():
        if not config.runs(source):
            continue
        if not fetcher.client.has_user_token:
            fetcher.checkpoint.add_unavailable(
                {"source": source, "status": None, "endpoint": f"secret `{config.refresh_token_secret_name}`"})
            continue
        plan.append((source, build()))
    if config.runs("related_artists"):
        plan.append(("related_artists", restricted.related_artists(fetcher, config.artist_ids)))
    if config.runs("recommendations") and config.artist_ids:
        plan.append(("recommendations", restricted.recommendations(fetcher, config.artist_ids, market)))
    if config.runs("featured_playlists"):
        plan.append(("featured_playlists", restricted.featured_playlists(fetcher)))
    wrapped: list[Task] = []
    for source, source_tasks in plan:
        for task in source_tasks:
            task = _ids_only_if(source in config.lookup_sources, task)
            wrapped.append(crawl.following(task) if source in config.playlist_discovery else task)
    return wrapped + crawl.tasks(config.playlist_ids)


def discover(config: ExtractConfig, client: SpotifyClient, storage: Storage) -> WorkerSummary:
    """The discovery step: level 0, in this one task (mode ``discover``)."""
    worker = _Worker(config, client, storage, DISCOVER_WORKER, DISCOVER_WRITER)
    _log.info(
        "extract run %s for %s: discovery of %s%s", config.run_id, config.ingest_date.isoformat(),
        ", ".join(s for s in config.sources if s not in ("albums", "album_tracks", "tracks", "artists")) or "nothing",
        f" (restricted, if allowed: {', '.join(config.restricted_sources)})" if config.restricted_sources else "",
    )

    def body() -> None:
        worker.level(DISCOVERY_LEVEL, "discovery", lambda: discovery_tasks(config, worker.fetcher))

    return worker.run(body)


def extract_shard(config: ExtractConfig, client: SpotifyClient, storage: Storage) -> WorkerSummary:
    """One shard's lookups (mode ``shard``): the ids it owns, level by level, meeting the others at barriers."""
    state = read_state(storage, config.raw_container, _progress(config, DISCOVER_WORKER))
    if state is None or not state.complete or DISCOVERY_LEVEL not in state.levels:
        raise ProgressError(
            f"the discovery step of run {config.run_id} has not completed "
            f"({config.raw_container}/{_progress(config, DISCOVER_WORKER)} is missing or incomplete); "
            "shards run after the `discover` mode activity succeeded"
        )
    if state.fingerprint != config.fingerprint:
        raise ProgressError(
            f"the discovery step of run {config.run_id} ran with other extraction settings; every activity of "
            "a run must get the same extended properties"
        )
    discovered = Found.from_json(state.levels[DISCOVERY_LEVEL])
    index, count = config.shard_index, config.shard_count
    worker = _Worker(config, client, storage, shard_worker(index), shard_writer(index))
    fetcher = worker.fetcher

    def barrier(level: str) -> Found:
        everyone = Found()
        for published in wait_for_level(storage, config.raw_container, config.ingest_date, config.run_id, count,
                                        level, config.fingerprint, timeout_seconds=config.barrier_timeout_seconds,
                                        peer_attempts=config.shard_attempts):
            everyone.merge(Found.from_json(published))
        return everyone

    def body() -> None:
        def level_1() -> list[Task]:
            tasks: list[Task] = []
            if config.runs("albums"):
                tasks += albums.tasks(fetcher, owned(discovered.albums, index, count), config.market)
            if config.runs("category_playlists"):
                tasks += restricted.category_playlists(fetcher, owned(discovered.categories, index, count))
            return tasks

        worker.level("1", "albums", level_1)
        after_1 = barrier("1")
        track_ids = owned(discovered.tracks | after_1.tracks, index, count)

        def level_2() -> list[Task]:
            tasks: list[Task] = []
            if config.runs("tracks"):
                tasks += tracks.tasks(fetcher, track_ids)
            if config.runs("audio_features"):
                tasks += restricted.audio_features(fetcher, track_ids)
            if config.runs("audio_analysis"):
                tasks += restricted.audio_analysis(fetcher, track_ids)
            return tasks

        worker.level("2", "tracks", level_2)
        after_2 = barrier("2")
        artist_ids = owned(discovered.artists | after_1.artists | after_2.artists, index, count)
        worker.level("3", "artists", lambda: artists.tasks(fetcher, artist_ids) if config.runs("artists") else [])

    return worker.run(body)


# -- the manifest ------------------------------------------------------------------------------------


def _progress(config: ExtractConfig, worker: str) -> str:
    return progress_path(config.ingest_date, config.run_id, worker)


def finalize(config: ExtractConfig, storage: Storage) -> ExtractSummary:
    """Write the run manifest once the discovery step and every shard have completed (mode ``manifest``).

    An existing manifest of the run is kept (a retry must not fire the transform a second time).
    """
    container = config.raw_container
    workers = [DISCOVER_WORKER] + [shard_worker(index) for index in range(config.shard_count)]
    parts: list[PartRecord] = []
    requests = 0
    unavailable: dict[str, dict[str, Any]] = {}
    missing: dict[str, dict[str, Any]] = {}
    for worker in workers:
        path = _progress(config, worker)
        state = read_state(storage, container, path)
        if state is None or not state.complete:
            raise ProgressError(
                f"cannot write the manifest of run {config.run_id}: {worker} has "
                f"{'not started' if state is None else 'not completed'} ({container}/{path}); "
                "the manifest step runs after the discovery step and every shard succeeded"
            )
        if state.fingerprint != config.fingerprint:
            raise ProgressError(f"{worker} of run {config.run_id} ran with other extraction settings ({container}/{path})")
        parts.extend(state.parts.values())
        requests += state.requests
        for entry in state.unavailable:
            unavailable.setdefault(str(entry["source"]), dict(entry))
        for entry in state.missing:
            missing.setdefault(str(entry["endpoint"]), dict(entry))
    path = manifest_path(config.ingest_date, config.run_id)
    if storage.exists(container, path):
        _log.info("manifest %s/%s already written by an earlier attempt; kept", container, path)
    else:
        path = write_manifest(storage, container, config.ingest_date, config.run_id, parts)
    manifest = f"{container}/{path}"
    _log.info("manifest %s: %d parts, %d requests, %d workers", manifest, len(parts), requests, len(workers))
    return ExtractSummary(
        run_id=config.run_id,
        ingest_date=config.ingest_date.isoformat(),
        manifest=manifest,
        parts=len(parts),
        requests=requests,
        counts=count_items(parts),
        unavailable=sorted(unavailable.values(), key=lambda entry: str(entry["source"])),
        missing=sorted(missing.values(), key=lambda entry: str(entry["endpoint"])),
    )


__all__ = ["ExtractSummary", "WorkerSummary", "discover", "extract_all", "extract_shard", "finalize", "main",
           "make_client"]
