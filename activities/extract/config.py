"""The extract activity's settings, read once from the activity's extended properties."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypedDict, TypeVar

from activities.common.context import ActivityContext
from activities.common.errors import ActivityConfigError
from activities.extract.rules import (
    access_mode_problem,
    budget_problem,
    concurrency_problem,
    rate_problem,
    shard_count_problem,
    user_count_problem,
)
from activities.sources import DEVELOPMENT, DISCOVERY, EXTENDED, LOOKUP, RESTRICTED_NAMES, USER
from activities.sources import names as source_names

# ADF run ids are GUIDs; anything that is safe as one blob path segment is accepted.
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MARKET_RE = re.compile(r"^[A-Z]{2}$")
_ID_RE = re.compile(r"^[A-Za-z0-9]{1,64}$")

MODES = ("all", "discover", "shard", "manifest")
LEVELS = (1, 2, 3)  # extended mode's lookup levels (albums, tracks, artists), one ForEach each
_SECRET_NAME_RE = re.compile(r"^[0-9A-Za-z-]{1,127}$")

# Sources by how they run, as activities.sources declares them (docs/architecture.md, extract section).
DISCOVERY_SOURCES = source_names(role=DISCOVERY)
USER_SOURCES = source_names(role=USER)
LOOKUP_SOURCES = source_names(role=LOOKUP)
SOURCES = DISCOVERY_SOURCES + USER_SOURCES + LOOKUP_SOURCES
RESTRICTED_SOURCES = RESTRICTED_NAMES
FIRST_SLICE = ("new_releases", "albums", "tracks", "artists")
SEARCH_TYPES = ("album", "artist", "playlist", "track")
PLAYLIST_DISCOVERY = ("search", "user_playlists")  # sources whose playlists are crawled like playlistIds
INCLUDE_GROUPS = ("album", "single", "appears_on", "compilation")


@dataclass(frozen=True)
class UserConfig:
    """An allow-listed user: a label for logs and the Key Vault secret holding the user's refresh token."""

    name: str
    refresh_token_secret_name: str


@dataclass(frozen=True)
class ExtractConfig:
    ingest_date: date
    run_id: str
    api_base_url: str
    token_url: str
    client_id: str
    client_secret_name: str
    markets: tuple[str, ...]
    new_releases_limit: int
    storage_linked_service: str
    key_vault_linked_service: str
    raw_container: str
    # Optional tuning (not in every pipeline): retry budget of the HTTP client.
    http_max_attempts: int = 5
    http_backoff_seconds: float = 1.0
    http_max_wait_seconds: float = 120.0
    http_timeout_seconds: float = 30.0
    # What runs (defaults: the first slice), and how it is split and paced.
    mode: str = "all"
    shard_index: int = 0
    shard_count: int = 1
    sources: tuple[str, ...] = FIRST_SLICE
    restricted_sources: tuple[str, ...] = ()
    lookup_sources: tuple[str, ...] = ("new_releases",)
    artist_ids: tuple[str, ...] = ()
    search_queries: tuple[str, ...] = ()
    search_types: tuple[str, ...] = SEARCH_TYPES
    search_limit: int = 20
    playlist_ids: tuple[str, ...] = ()
    playlist_discovery: tuple[str, ...] = ()
    include_groups: str = "album,single"
    recently_played_after: int = 0
    refresh_token_secret_name: str = "spotify-refresh-token"
    max_concurrency: int = 8
    requests_per_second: float = 20.0
    # Access mode (activities.sources): which endpoints the app may call.
    access_mode: str = DEVELOPMENT
    users: tuple[UserConfig, ...] = ()  # empty: one user, refresh_token_secret_name
    request_budget: int = 0  # API requests per run (0: no limit); user data first, then unseen, then refreshes
    refresh_after_days: int = 7  # known entities older than this are refreshed with what is left of the budget
    retry_budget: int = 0  # retries per run shared by every request (0: httpMaxAttempts per request)
    level: int = 1  # the lookup level a shard runs (extended mode: 1 albums, 2 tracks, 3 artists)

    def runs(self, source: str) -> bool:
        """Whether ``source`` is configured (a restricted source only through restrictedSources)."""
        if source == "album_tracks":
            source = "albums"
        return source in self.sources or source in self.restricted_sources

    @property
    def needs_user_token(self) -> bool:
        return any(source in self.sources for source in USER_SOURCES)

    @property
    def user_list(self) -> tuple[UserConfig, ...]:
        return self.users or (UserConfig("default", self.refresh_token_secret_name),)

    @property
    def development(self) -> bool:
        return self.access_mode == DEVELOPMENT

    @property
    def fingerprint(self) -> str:
        """Digest of every setting that decides which requests a run makes (not the pacing)."""
        plan = {
            "markets": self.markets, "new_releases_limit": self.new_releases_limit, "shard_count": self.shard_count,
            "sources": sorted(self.sources), "restricted": sorted(self.restricted_sources),
            "lookup": sorted(self.lookup_sources), "artists": self.artist_ids, "queries": self.search_queries,
            "types": self.search_types, "search_limit": self.search_limit, "playlists": self.playlist_ids,
            "playlist_discovery": sorted(self.playlist_discovery),
            "include_groups": self.include_groups, "after": self.recently_played_after,
            "access_mode": self.access_mode, "users": [user.refresh_token_secret_name for user in self.user_list],
        }
        return hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def market(self) -> str:
        """The market albums are requested for: the first configured one."""
        return self.markets[0]

    @classmethod
    def from_context(cls, context: ActivityContext) -> ExtractConfig:
        """Build and validate the config; every problem names the extended property and the fix."""
        mode, shard_index, shard_count = _split(context)
        access_mode = _checked("accessMode", context.get_str("accessMode", DEVELOPMENT), access_mode_problem)
        max_attempts, backoff, max_wait, timeout = _http(context)
        return cls(
            ingest_date=_ingest_date(context),
            run_id=_run_id(context),
            api_base_url=_url(context, "apiBaseUrl").rstrip("/"),
            token_url=_url(context, "tokenUrl"),
            client_id=context.get_str("clientId"),
            client_secret_name=context.get_str("clientSecretName"),
            markets=_markets(context),
            new_releases_limit=_checked("newReleasesLimit", context.get_int("newReleasesLimit"), _positive),
            storage_linked_service=context.get_str("storageLinkedService"),
            key_vault_linked_service=context.get_str("keyVaultLinkedService"),
            raw_container=context.get_str("rawContainer"),
            http_max_attempts=max_attempts,
            http_backoff_seconds=backoff,
            http_max_wait_seconds=max_wait,
            http_timeout_seconds=timeout,
            mode=mode,
            shard_index=shard_index,
            shard_count=shard_count,
            **_source_lists(context, access_mode),
            include_groups=_include_groups(context),
            recently_played_after=context.get_int("recentlyPlayedAfter", 0),
            refresh_token_secret_name=context.get_str("refreshTokenSecretName", "spotify-refresh-token"),
            max_concurrency=_checked("maxConcurrency", context.get_int("maxConcurrency", 8), concurrency_problem),
            requests_per_second=_checked("requestsPerSecond", context.get_float("requestsPerSecond", 20.0), rate_problem),
            access_mode=access_mode,
            users=_users(context),
            request_budget=_checked("requestBudget", context.get_int("requestBudget", 0), budget_problem),
            refresh_after_days=_checked("refreshAfterDays", context.get_int("refreshAfterDays", 7), budget_problem),
            retry_budget=_checked("retryBudget", context.get_int("retryBudget", 0), budget_problem),
            level=_checked("level", context.get_int("level", 1), _level_problem),
        )


_Value = TypeVar("_Value", int, float, str)


def _checked(name: str, value: _Value, rule: Callable[[_Value], str | None]) -> _Value:
    """``value`` if ``rule`` finds nothing wrong with it, else the error naming extended property ``name``."""
    problem = rule(value)
    if problem:
        raise _bad(name, problem)
    return value


def _positive(value: int) -> str | None:
    return None if value >= 1 else f"must be at least 1, got {value}"


def _level_problem(level: int) -> str | None:
    return None if level in LEVELS else f"must be 1, 2 or 3 (albums, tracks, artists), got {level}"


def _ingest_date(context: ActivityContext) -> date:
    text = context.get_str("ingestDate")
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _bad("ingestDate", f"must be a date YYYY-MM-DD, got {text!r}") from None


def _run_id(context: ActivityContext) -> str:
    run_id = context.get_str("runId")
    if not _RUN_ID_RE.match(run_id):
        raise _bad("runId", f"must be letters, digits, '.', '_' or '-' (it names a folder), got {run_id!r}")
    return run_id


def _url(context: ActivityContext, name: str) -> str:
    url = context.get_str(name)
    if not url.startswith(("https://", "http://")):
        raise _bad(name, f"must be an http(s) URL, got {url!r}")
    return url


def _markets(context: ActivityContext) -> tuple[str, ...]:
    raw = context.get_list("markets")
    markets = tuple(str(market).strip().upper() for market in raw)
    if not markets or not all(_MARKET_RE.match(market) for market in markets):
        raise _bad("markets", f"must be a non-empty array of ISO 3166-1 alpha-2 codes, got {raw!r}")
    return markets


def _http(context: ActivityContext) -> tuple[int, float, float, float]:
    """httpMaxAttempts, httpBackoffSeconds, httpMaxWaitSeconds, httpTimeoutSeconds."""
    max_attempts = _checked("httpMaxAttempts", context.get_int("httpMaxAttempts", 5), _positive)
    backoff = context.get_float("httpBackoffSeconds", 1.0)
    max_wait = context.get_float("httpMaxWaitSeconds", 120.0)
    if backoff < 0 or max_wait < 0:
        raise _bad("httpBackoffSeconds", "and httpMaxWaitSeconds must not be negative")
    timeout = context.get_float("httpTimeoutSeconds", 30.0)
    if timeout <= 0:
        raise _bad("httpTimeoutSeconds", f"must be positive, got {timeout}")
    return max_attempts, backoff, max_wait, timeout


def _split(context: ActivityContext) -> tuple[str, int, int]:
    """mode, shardIndex, shardCount: what this process runs of the day's extraction."""
    mode = context.get_str("mode", "all")
    if mode not in MODES:
        raise _bad("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    shard_count = _checked("shardCount", context.get_int("shardCount", 1), shard_count_problem)
    shard_index = context.get_int("shardIndex", 0)
    if not 0 <= shard_index < shard_count:
        raise _bad("shardIndex", f"must be between 0 and shardCount-1 ({shard_count - 1}), got {shard_index}")
    if mode == "all" and shard_count != 1:
        raise _bad("shardCount", "must be 1 in mode `all` (one process does everything); use mode `shard`")
    return mode, shard_index, shard_count


def _source_lists(context: ActivityContext, access_mode: str) -> _SourceLists:
    """What the run asks Spotify for: the sources and the ids, queries and types they start from."""
    default_sources = list(FIRST_SLICE) if access_mode == EXTENDED else list(source_names(mode=DEVELOPMENT))
    queries = tuple(dict.fromkeys(str(query).strip() for query in context.get_list("searchQueries", [])))
    if any(not query for query in queries):
        raise _bad("searchQueries", "must not hold empty queries")
    search_limit = context.get_int("searchLimit", 20)
    if not 1 <= search_limit <= 1000:
        raise _bad("searchLimit", f"must be between 1 and 1000 (results per type and query), got {search_limit}")
    return _SourceLists(
        # In development mode a listed source Spotify refuses to such apps is skipped and reported unavailable.
        sources=_names(context, "sources", default_sources, SOURCES, RESTRICTED_SOURCES),
        restricted_sources=_names(context, "restrictedSources", [], RESTRICTED_SOURCES, ()),
        lookup_sources=_names(context, "lookupSources", ["new_releases"], DISCOVERY_SOURCES + USER_SOURCES, ()),
        search_types=_names(context, "searchTypes", list(SEARCH_TYPES), SEARCH_TYPES, ()),
        playlist_discovery=_names(context, "playlistDiscovery", [], PLAYLIST_DISCOVERY, ()),
        artist_ids=_ids(context, "artistIds"),
        playlist_ids=_ids(context, "playlistIds"),
        search_queries=queries,
        search_limit=search_limit,
    )


class _SourceLists(TypedDict):
    sources: tuple[str, ...]
    restricted_sources: tuple[str, ...]
    lookup_sources: tuple[str, ...]
    search_types: tuple[str, ...]
    playlist_discovery: tuple[str, ...]
    artist_ids: tuple[str, ...]
    playlist_ids: tuple[str, ...]
    search_queries: tuple[str, ...]
    search_limit: int


def _include_groups(context: ActivityContext) -> str:
    groups = [group.strip() for group in context.get_str("includeGroups", "album,single").split(",")]
    if not groups or not all(group in INCLUDE_GROUPS for group in groups):
        raise _bad("includeGroups", f"must be a comma-separated subset of {','.join(INCLUDE_GROUPS)}")
    return ",".join(groups)


def _users(context: ActivityContext) -> tuple[UserConfig, ...]:
    raw = context.get_list("users", [])
    _checked("users", len(raw), user_count_problem)
    users: list[UserConfig] = []
    for entry in raw:
        name = entry.get("name") if isinstance(entry, dict) else None
        secret = entry.get("refreshTokenSecretName") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or not isinstance(secret, str) or not _SECRET_NAME_RE.match(secret):
            raise _bad("users", 'must be an array of {"name": ..., "refreshTokenSecretName": <Key Vault secret name>}, '
                                f"got {entry!r}")
        users.append(UserConfig(name, secret))
    if len({user.name for user in users}) != len(users):
        raise _bad("users", "names the same user twice")
    return tuple(users)


def _names(
    context: ActivityContext, name: str, default: list[str], allowed: tuple[str, ...], restricted: tuple[str, ...]
) -> tuple[str, ...]:
    values = [str(value).strip() for value in context.get_list(name, default)]
    for value in values:
        if value in restricted:
            raise _bad(name, f"lists `{value}`, a source restricted for new apps; list it in restrictedSources")
        if value not in allowed:
            raise _bad(name, f"lists unknown `{value}`; known: {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


def _ids(context: ActivityContext, name: str) -> tuple[str, ...]:
    values = [str(value).strip() for value in context.get_list(name, [])]
    bad = [value for value in values if not _ID_RE.match(value)]
    if bad:
        raise _bad(name, f"must hold Spotify ids (base62), got {bad[0]!r}")
    return tuple(dict.fromkeys(values))


def _bad(name: str, problem: str) -> ActivityConfigError:
    return ActivityConfigError(
        f"extended property `{name}` in activity.json {problem}; fix it in the pipeline's extendedProperties"
    )


__all__ = ["DISCOVERY_SOURCES", "LOOKUP_SOURCES", "MODES", "RESTRICTED_SOURCES", "SOURCES", "USER_SOURCES", "ExtractConfig",
           "UserConfig"]
