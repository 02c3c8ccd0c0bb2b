"""The requests of each source, per access mode: the ``fetch`` that ``activities.sources`` names.

A discovery or user source's fetch is ``fetch(plan) -> list[Task]``; a lookup source's is
``fetch(plan, ids) -> list[Task]``. Extended mode keeps the batch plan of the ``resources`` modules;
development mode asks only what a Development Mode app is served, and only what is new since the state
of the previous run (state.py): recently played ``after`` the newest play, saved tracks until the first
known save, playlist items only when the playlist's ``snapshot_id`` changed, artist albums until a page of
known albums.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from activities.extract.config import ExtractConfig
from activities.extract.errors import FatalError
from activities.extract.fetcher import Fetcher, Found, Step, Task, UserSession
from activities.extract.resources import (
    _ids,
    _next,
    _object,
    catalog,
    found_in_albums,
    found_in_artists,
    found_in_tracks,
    page_items,
    user,
)
from activities.extract.resources import albums as extended_albums
from activities.extract.resources import artists as extended_artists
from activities.extract.resources import new_releases as extended_new_releases
from activities.extract.resources import tracks as extended_tracks
from activities.extract.resources._paging import next_at, next_chain, offset_pages, total_at
from activities.extract.resources.catalog import ITEM_TYPES, _path_id
from activities.extract.state import RunState, StateUpdate

PAGE = 50
DEV_SEARCH_PAGE = 10  # GET /search: limit at most 10 in Development Mode (above: 400)
DEV_ARTIST_ALBUMS_PAGE = 10
NEW_RELEASES_QUERY = "tag:new"  # /browse/new-releases is refused; search's tag:new lists recent albums


@dataclass
class Plan:
    """What a source's fetch needs: settings, the fetcher, the state before this run, this run's update."""

    config: ExtractConfig
    fetcher: Fetcher
    prior: RunState = field(default_factory=RunState)
    update: StateUpdate = field(default_factory=StateUpdate)
    session: UserSession | None = None  # the user a user source runs for
    crawl: Any = None  # extended mode: the playlist crawl (run.py)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def dev(self) -> bool:
        return self.config.development

    @property
    def user_id(self) -> str:
        assert self.session is not None and self.session.user_id is not None, "user sources run after /me"
        return self.session.user_id

    def newest(self, source: str, mark: str, value: str) -> None:
        """Raise this user's mark to ``value`` if newer (ISO timestamps compare as text)."""
        with self._lock:
            marks = self.update.users.setdefault(self.user_id, {}).setdefault(source, {})
            if value > str(marks.get(mark, "")):
                marks[mark] = value


def _full(found: Found, *, artists: Sequence[Any] = (), tracks: Sequence[Any] = ()) -> Found:
    """Record that these objects arrived whole (development mode then does not look them up)."""
    found.full_artists.update(_ids(artists))
    found.full_tracks.update(_ids(obj for obj in tracks if isinstance(obj, dict) and not obj.get("is_local")))
    return found


# -- user sources ---------------------------------------------------------------------------------


def user_profile(plan: Plan) -> list[Task]:
    # Development mode fetches /me first, on its own: it names the user every other part is stamped with.
    return [] if plan.dev else user.profile(plan.fetcher)


def _top(plan: Plan, kind: str) -> list[Task]:
    if not plan.dev:
        return user.top(plan.fetcher, kind)
    entity = f"user_top_{kind}"

    def parse(payload: Any) -> Found:
        items = page_items(payload, None, entity)
        found = Found()
        if kind == "artists":
            found_in_artists(items, found)
            return _full(found, artists=items)
        found_in_tracks(items, found)
        return _full(found, tracks=items)

    return [offset_pages(plan.fetcher, entity, f"/me/top/{kind}", {"time_range": time_range}, page_size=PAGE,
                         total_of=total_at(None), parse=parse, count=lambda body: len(page_items(body, None, entity)),
                         next_of=next_at(None), user=plan.session or True)
            for time_range in user.TIME_RANGES]


def user_top_artists(plan: Plan) -> list[Task]:
    return _top(plan, "artists")


def user_top_tracks(plan: Plan) -> list[Task]:
    return _top(plan, "tracks")


def _epoch_ms(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def recently_played(plan: Plan) -> list[Task]:
    """Plays after the newest one the state knows (``after`` in Unix ms), cursor pages."""
    if not plan.dev:
        return user.recently_played(plan.fetcher, plan.config.recently_played_after)
    path = "/me/player/recently-played"
    newest = str(plan.prior.mark(plan.user_id, "recently_played").get("played_at", ""))
    params: dict[str, str | int] = {"limit": PAGE}
    if newest:
        params["after"] = _epoch_ms(newest)

    def parse(payload: Any) -> Found:
        entries = [entry for entry in page_items(payload, None, "recently played") if isinstance(entry, dict)]
        found = Found()
        found_in_tracks([entry.get("track") for entry in entries], found)
        for entry in entries:
            if isinstance(entry.get("played_at"), str):
                plan.newest("recently_played", "played_at", entry["played_at"])
        return _full(found, tracks=[entry.get("track") for entry in entries])

    return [next_chain(plan.fetcher, "recently_played", path, params=params, parse=parse,
                       count=lambda body: len(page_items(body, None, "recently played")),
                       next_of=user.cursor_next(None, path, {"limit": PAGE}), user=plan.session or True)]


def saved_tracks(plan: Plan) -> list[Task]:
    """Saved tracks, newest first, page by page until a page reaches the newest save the state knows."""
    if not plan.dev:
        return user.saved_tracks(plan.fetcher, plan.config.market)
    known = str(plan.prior.mark(plan.user_id, "saved_tracks").get("added_at", ""))
    fetcher, session = plan.fetcher, plan.session

    def page(offset: int) -> Task:
        def run() -> Step:
            payload = fetcher.get("saved_tracks", "/me/tracks", {"limit": PAGE, "offset": offset, "market":
                                  plan.config.market}, count=lambda body: len(page_items(body, None, "saved tracks")),
                                  user=session or True)
            entries = [entry for entry in page_items(payload, None, "saved tracks") if isinstance(entry, dict)]
            added = [str(entry.get("added_at", "")) for entry in entries]
            for value in added:
                plan.newest("saved_tracks", "added_at", value)
            found = Found()
            found_in_tracks([entry.get("track") for entry in entries], found)
            _full(found, tracks=[entry.get("track") for entry in entries])
            reached_known = bool(known) and any(value <= known for value in added)
            more = [] if reached_known or _next(_object(payload, "saved tracks")) is None else [page(offset + PAGE)]
            return Step(found, more)

        return run

    return [page(0)]


def followed_artists(plan: Plan) -> list[Task]:
    if not plan.dev:
        return user.followed_artists(plan.fetcher)
    path = "/me/following"
    params: dict[str, str | int] = {"type": "artist", "limit": PAGE}

    def parse(payload: Any) -> Found:
        items = page_items(payload, "artists", "followed artists")
        found = Found()
        found_in_artists(items, found)
        return _full(found, artists=items)

    return [next_chain(plan.fetcher, "followed_artists", path, params=params, parse=parse,
                       count=lambda body: len(page_items(body, "artists", "followed artists")),
                       next_of=user.cursor_next("artists", path, params), user=plan.session or True)]


def user_playlists(plan: Plan) -> list[Task]:
    """The user's playlists; the items of those the user owns or collaborates on, when they changed."""
    if not plan.dev:
        return user.user_playlists(plan.fetcher)
    fetcher, session, user_id = plan.fetcher, plan.session, plan.user_id
    known = dict(plan.prior.mark(user_id, "user_playlists").get("snapshots", {}))
    runs_items = plan.config.runs("playlist_items")

    def page(offset: int) -> Task:
        def run() -> Step:
            payload = fetcher.get("user_playlists", "/me/playlists", {"limit": PAGE, "offset": offset},
                                  count=lambda body: len(page_items(body, None, "user playlists")), user=session or True)
            items = [item for item in page_items(payload, None, "user playlists") if isinstance(item, dict)]
            found = Found()
            found.playlists.update(_ids(items))
            more = [] if _next(_object(payload, "user playlists")) is None else [page(offset + PAGE)]
            for playlist in items:
                owner = playlist.get("owner")
                mine = (isinstance(owner, dict) and owner.get("id") == user_id) or playlist.get("collaborative") is True
                snapshot = playlist.get("snapshot_id")
                if mine and runs_items and isinstance(playlist.get("id"), str) and snapshot != known.get(playlist["id"]):
                    more.append(_playlist_items(plan, playlist["id"], str(snapshot)))
            return Step(found, more)

        return run

    return [page(0)]


def _playlist_items(plan: Plan, playlist_id: str, snapshot: str) -> Task:
    """Every item page of one of the user's playlists (with the user's token: items are owner-only)."""
    fetcher, session = plan.fetcher, plan.session
    path = f"/playlists/{_path_id(playlist_id)}/items"
    params = {"market": plan.config.market, "additional_types": ITEM_TYPES}

    def parse(payload: Any) -> Found:
        entries = page_items(payload, None, "playlist items")
        found = catalog.playlist_entries_found(entries)
        objects = [entry.get("item") or entry.get("track") for entry in entries if isinstance(entry, dict)]
        return _full(found, tracks=[obj for obj in objects if isinstance(obj, dict) and obj.get("type") == "track"])

    first = offset_pages(fetcher, "playlist_items", path, params, page_size=PAGE, total_of=total_at(None), parse=parse,
                         count=lambda body: len(page_items(body, None, "playlist items")), next_of=next_at(None),
                         user=session or True)

    def run() -> Step:
        step = first()
        with plan._lock:
            marks = plan.update.users.setdefault(plan.user_id, {}).setdefault("user_playlists", {})
            marks.setdefault("snapshots", dict(plan.prior.mark(plan.user_id, "user_playlists").get("snapshots", {})))
            marks["snapshots"][playlist_id] = snapshot
        return step

    return run


# -- catalog sources --------------------------------------------------------------------------------


def search(plan: Plan) -> list[Task]:
    """Search per configured query (every type, pages of 10 in development mode), and ``tag:new`` albums
    in place of /browse/new-releases."""
    config = plan.config
    if not plan.dev:
        if not config.search_queries:
            return []
        return catalog.search(plan.fetcher, config.search_queries, config.search_types, config.market,
                              config.search_limit)

    def parse(payload: Any) -> Found:
        found = catalog.search_found(payload)
        pages = catalog._search_pages(payload)
        return _full(found, artists=pages.get("artists", {}).get("items", []),
                     tracks=pages.get("tracks", {}).get("items", []))

    def pages(query: str, types: Sequence[str], wanted: int) -> Task:
        return offset_pages(plan.fetcher, "search", "/search", {"q": query, "type": ",".join(types),
                                                                "market": config.market},
                            page_size=DEV_SEARCH_PAGE, total_of=catalog._search_total, parse=parse,
                            count=catalog.search_count, max_items=wanted,
                            max_offset=catalog.SEARCH_MAX_OFFSET - DEV_SEARCH_PAGE)

    tasks = [pages(query, config.search_types, config.search_limit) for query in config.search_queries]
    return tasks + [pages(NEW_RELEASES_QUERY, ("album",), config.new_releases_limit)]


def artist_albums(plan: Plan) -> list[Task]:
    """The configured artists' albums; in development mode pages of 10, until a page of albums the state
    already knows (an artist's catalogue changes at its newest end)."""
    config, fetcher = plan.config, plan.fetcher
    if not plan.dev:
        return [fetcher.optional("artist_albums", task) for task in catalog.artist_albums(
            fetcher, config.artist_ids, config.market, config.include_groups)]

    def chain(artist: str, offset: int) -> Task:
        def run() -> Step:
            payload = fetcher.get("artist_albums", f"/artists/{_path_id(artist)}/albums",
                                  {"include_groups": config.include_groups, "market": config.market,
                                   "limit": DEV_ARTIST_ALBUMS_PAGE, "offset": offset},
                                  count=lambda body: len(page_items(body, None, "artist albums")))
            items = page_items(payload, None, "artist albums")
            found = Found()
            found_in_albums(items, found)
            all_known = bool(items) and all(plan.prior.known("albums", album) for album in _ids(items))
            done = all_known or _next(_object(payload, "artist albums")) is None
            return Step(found, [] if done else [chain(artist, offset + DEV_ARTIST_ALBUMS_PAGE)])

        return run

    return [fetcher.optional("artist_albums", chain(artist, 0)) for artist in config.artist_ids]


def playlists(plan: Plan) -> list[Task]:
    if plan.dev:
        # Metadata only: items are served to the owner or a collaborator (user_playlists fetches those).
        return [plan.fetcher.optional("playlists", task)
                for task in catalog.playlists(plan.fetcher, plan.config.playlist_ids, plan.config.market)]
    return plan.crawl.tasks(plan.config.playlist_ids) if plan.crawl is not None else []


def playlist_items(plan: Plan) -> list[Task]:
    return []  # planned with the playlists that list them (user_playlists, or the extended crawl)


def new_releases(plan: Plan) -> list[Task]:
    return [extended_new_releases.task(plan.fetcher, plan.config.new_releases_limit)]


def categories(plan: Plan) -> list[Task]:
    return catalog.categories(plan.fetcher)


def markets(plan: Plan) -> list[Task]:
    return catalog.markets(plan.fetcher)


def artist_top_tracks(plan: Plan) -> list[Task]:
    return [plan.fetcher.optional("artist_top_tracks", task) for task in
            catalog.artist_top_tracks(plan.fetcher, plan.config.artist_ids, plan.config.markets)]


# -- lookups ----------------------------------------------------------------------------------------


def _one_by_id(plan: Plan, kind: str, entity_id: str, params: dict[str, str | int],
               follow: Callable[[Any], list[Task]] = lambda payload: []) -> Task:
    """GET /{kind}/{id}: the full object; its id is recorded as fetched, or as gone on a 404 (the API no
    longer knows it: it leaves the state and is never asked for again)."""
    fetcher = plan.fetcher

    def run() -> Step:
        try:
            payload = fetcher.get(kind, f"/{kind}/{_path_id(entity_id)}", params,
                                  count=lambda body: 1 if _object(body, kind) else 0)
        except FatalError as exc:
            if exc.status != 404:
                raise
            fetcher.checkpoint.add_note("missing", {"source": kind, "status": 404, "endpoint": f"GET {exc.path}"})
            with plan._lock:
                plan.update.gone.setdefault(kind, set()).add(entity_id)
            return Step()
        found = Found()
        obj = _object(payload, kind)
        if kind == "albums":
            found_in_albums([obj], found)
            tracks_page = obj.get("tracks")
            if isinstance(tracks_page, dict):
                found_in_tracks(tracks_page.get("items") or [], found)
        elif kind == "tracks":
            found_in_tracks([obj], found)
        with plan._lock:
            plan.update.add_fetched(kind, [entity_id])
        return Step(found, follow(obj))

    return run


def _album_track_pages(plan: Plan, album: dict[str, Any]) -> list[Task]:
    """The album's track pages beyond the one embedded in it (GET /albums/{id}/tracks, by offset)."""
    page = album.get("tracks")
    link = _next(page) if isinstance(page, dict) else None
    if link is None or not isinstance(page, dict):
        return []
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query))
    total = page.get("total")
    limit = int(query.get("limit", PAGE))
    first = int(query.get("offset", limit))
    if not isinstance(total, int) or limit < 1:
        return [next_chain(plan.fetcher, "album_tracks", link, parse=extended_albums._album_tracks_found,
                           count=extended_albums._album_tracks_count, next_of=next_at(None))]

    def one(offset: int) -> Task:
        def run() -> Step:
            payload = plan.fetcher.get("album_tracks", f"{parts.scheme}://{parts.netloc}{parts.path}",
                                       {**query, "offset": offset, "limit": limit},
                                       count=extended_albums._album_tracks_count)
            return Step(extended_albums._album_tracks_found(payload))

        return run

    return [one(offset) for offset in range(first, total, limit)]


def albums(plan: Plan, ids: Sequence[str]) -> list[Task]:
    if not plan.dev:
        return extended_albums.tasks(plan.fetcher, ids, plan.config.market)
    return [_one_by_id(plan, "albums", album, {"market": plan.config.market},
                       follow=lambda obj: _album_track_pages(plan, obj)) for album in ids]


def tracks(plan: Plan, ids: Sequence[str]) -> list[Task]:
    if not plan.dev:
        return extended_tracks.tasks(plan.fetcher, ids)
    return [_one_by_id(plan, "tracks", track, {"market": plan.config.market}) for track in ids]


def artists(plan: Plan, ids: Sequence[str]) -> list[Task]:
    if not plan.dev:
        return extended_artists.tasks(plan.fetcher, ids)
    return [_one_by_id(plan, "artists", artist, {}) for artist in ids]


__all__ = ["NEW_RELEASES_QUERY", "Plan", "albums", "artist_albums", "artist_top_tracks", "artists", "categories",
           "followed_artists", "markets", "new_releases", "playlist_items", "playlists", "recently_played",
           "saved_tracks", "search", "tracks", "user_playlists", "user_profile", "user_top_artists",
           "user_top_tracks"]
