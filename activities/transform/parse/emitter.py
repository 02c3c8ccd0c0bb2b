"""Turn Spotify objects into row tuples of the curated tables; shared by every entity's parser.

An ``Emitter`` holds one ``append`` per parsed table (the run's column buffers) and writes one
tuple per record, in the column order of ``TableSpec.parsed`` followed by the record's
richness. Nothing here builds dicts or per-row objects beyond that tuple: this is the hot
loop of the transform.

Objects come from a lazy document (``document.py``): only the fields read here become Python
values, and a JSON array kept as a value (genres) is copied out with ``plain``. Values are taken
as they come; their types are checked in bulk when the buffers are turned
into Arrow arrays, and a record with a wrong type is quarantined there. What can only be
checked here (dates, timestamps, nested shapes) raises ``ItemError`` or a Python error
(``AttributeError``/``TypeError`` when an object is not an object), which ``items()``
turns into a quarantine record for the item as a whole.

Atomicity: an item's rows are computed first and appended last, so an item that fails half
way leaves nothing behind.

Embedded references (the simplified album inside a track, the credited artists, playlist
owners, the market of a fact) repeat a lot inside one part; only the first copy of an id in a
part is emitted (the copies are the same object). Full objects are always emitted; the dedupe
picks the winner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from activities.transform.parse.document import plain
from activities.transform.parse.drift import DriftRecorder
from activities.transform.parse.values import (
    ItemError,
    market_code,
    parse_release_date,
    parse_timestamp,
    widest_image_url,
)

SIMPLIFIED = 1
FULL = 2
DRIFT_FIRST_PAGES = 8
DRIFT_EVERY = 64

Append = Callable[[tuple[Any, ...]], None]
# quarantine(table, reason, field, record)
Quarantine = Callable[[str, str, "str | None", Any], None]

# Errors that mean "this object does not have the shape its schema promises".
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


class Emitter:
    """Row tuples for every parsed table of one run, part by part."""

    def __init__(self, appenders: Mapping[str, Append], quarantine: Quarantine, drift: DriftRecorder) -> None:
        self._append = appenders
        self._tracks = appenders["tracks"]
        self._albums = appenders["albums"]
        self._artists = appenders["artists"]
        self._users = appenders["users"]
        self._playlists = appenders["playlists"]
        self._markets = appenders["markets"]
        self.quarantine = quarantine
        self.drift = drift
        self.entity = ""
        self._seen_albums: set[Any] = set()
        self._seen_artists: set[Any] = set()
        self._seen_users: set[Any] = set()
        self._seen_markets: set[Any] = set()
        self._pages: dict[str, int] = {}
        self._sampling = True

    def begin_part(self, entity: str) -> None:
        """Start a new part: reset the per-part memory of embedded references, decide on drift sampling."""
        self.entity = entity
        pages = self._pages[entity] = self._pages.get(entity, 0) + 1
        # Drift is checked on the first pages of every entity, then on every 64th.
        self._sampling = pages <= DRIFT_FIRST_PAGES or pages % DRIFT_EVERY == 0
        self._seen_albums.clear()
        self._seen_artists.clear()
        self._seen_users.clear()
        self._seen_markets.clear()

    def append(self, table: str, row: tuple[Any, ...]) -> None:
        """Append a row to a table without a dedicated method (facts, categories)."""
        self._append[table](row)

    def sample(self, kind: str, obj: Any) -> None:
        """Check one object of a page for fields the model does not know (schema drift), on sampled pages."""
        if self._sampling:
            self.drift.check(self.entity, kind, obj)

    def sample_paging(self, page: Any, *, cursor: bool = False) -> None:
        """Check a paging object's own fields, on sampled pages."""
        if self._sampling:
            self.drift.check_paging(self.entity, page, cursor=cursor)

    def items(
        self, table: str, items: Iterable[Any], emit: Callable[[Any, int], object], *, kind: str | None
    ) -> None:
        """Call ``emit(item, index)`` for every non-null item; a failing item goes to quarantine in ``table``.

        The first item is sampled for schema drift as a ``kind`` object (None: not sampled).
        """
        first = kind is not None
        for index, item in enumerate(items):
            if item is None:
                continue  # ids= responses hold null for unknown ids; search pages hold null for removed items
            if first:
                self.sample(kind, item)  # type: ignore[arg-type]
                first = False
            try:
                emit(item, index)
            except ItemError as exc:
                self.quarantine(table, exc.reason, exc.field, item)
            except SHAPE_ERRORS as exc:
                self.quarantine(table, f"unexpected shape: {type(exc).__name__}: {exc}", None, item)

    # -- artists ---------------------------------------------------------------------------------

    def artist(self, obj: Mapping[str, Any], richness: int = FULL) -> Any:
        """An ArtistObject -> ``artists``; returns its id."""
        g = obj.get
        followers = g("followers")
        artist_id = g("id")
        self._artists(
            (
                artist_id,
                g("name"),
                followers.get("total") if followers is not None else None,
                g("popularity"),
                plain(g("genres")),
                widest_image_url(g("images")),
                richness,
            )
        )
        return artist_id

    def _credits(self, artists: list[Any]) -> None:
        # Credited artists (SimplifiedArtistObject) feed `artists` with their name only, once per part.
        seen = self._seen_artists
        append = self._artists
        for artist in artists:
            artist_id = artist.get("id")
            if artist_id.__class__ is str and artist_id not in seen:
                seen.add(artist_id)
                append((artist_id, artist.get("name"), None, None, None, None, SIMPLIFIED))

    # -- albums ----------------------------------------------------------------------------------

    def _album_row(self, obj: Mapping[str, Any], richness: int) -> tuple[Any, ...]:
        g = obj.get
        raw = g("release_date")
        precision = g("release_date_precision")
        release_date, release_year = parse_release_date(raw, precision)
        artists = g("artists")
        if artists:
            ids = [a.get("id") for a in artists]
            primary_name = artists[0].get("name")
        else:
            ids, primary_name = [], None
        return (
            g("id"),
            g("name"),
            g("album_type"),
            release_date,
            raw,
            precision,
            release_year,
            g("total_tracks"),
            # Only the full AlbumObject has these; asking a document object for a key it lacks is slow.
            g("label") if richness == FULL else None,
            g("popularity") if richness == FULL else None,
            widest_image_url(g("images")),
            primary_name,
            ids,
            richness,
        )

    def album(self, obj: Mapping[str, Any], richness: int) -> Any:
        """An AlbumObject (full) or SimplifiedAlbumObject -> ``albums`` (and its credits); returns its id."""
        row = self._album_row(obj, richness)
        self._albums(row)
        self._seen_albums.add(row[0])
        artists = obj.get("artists")
        if artists:
            self._credits(artists)
        return row[0]

    def _album_ref(self, obj: Mapping[str, Any], album_id: Any) -> tuple[Any, ...] | None:
        """The row of a simplified album embedded in a track (not yet emitted in this part), or None if bad."""
        try:
            return self._album_row(obj, SIMPLIFIED)
        except ItemError as exc:
            # A bad embedded album is quarantined on its own; the track that carries it is still good.
            self._seen_albums.add(album_id)
            self.quarantine("albums", exc.reason, exc.field, obj)
            return None

    # -- tracks ----------------------------------------------------------------------------------

    def track(self, obj: Mapping[str, Any], richness: int = FULL, album_id: Any = None) -> Any:
        """A TrackObject (full, with its album) or SimplifiedTrackObject (``album_id`` given) -> ``tracks``.

        Also emits the embedded album and the credited artists. Returns the track id.
        """
        g = obj.get
        artists = g("artists")
        if artists:
            first = artists[0]
            ids = [first.get("id")] if len(artists) == 1 else [a.get("id") for a in artists]
            primary_name = first.get("name")
        else:
            ids, primary_name = [], None
        # Only the full TrackObject has these (see _album_row).
        if richness == FULL:
            external_ids, popularity = g("external_ids"), g("popularity")
        else:
            external_ids = popularity = None
        album = album_row = None
        if album_id is None:
            album = g("album")
            if album is not None:
                album_id = album.get("id")
                if album_id not in self._seen_albums:
                    album_row = self._album_ref(album, album_id)
        track_id = g("id")
        self._tracks(
            (
                track_id,
                g("name"),
                album_id,
                g("duration_ms"),
                g("explicit"),
                popularity,
                external_ids.get("isrc") if external_ids is not None else None,
                g("track_number"),
                g("disc_number"),
                g("is_local"),
                primary_name,
                ids,
                richness,
            )
        )
        if album_row is not None:
            self._albums(album_row)
            self._seen_albums.add(album_id)
            album_artists = album.get("artists")  # type: ignore[union-attr]
            if album_artists:
                self._credits(album_artists)
        if artists:
            self._credits(artists)
        return track_id

    # -- markets ---------------------------------------------------------------------------------

    def market(self, code: Any) -> str:
        """A code GET /markets listed -> a full ``markets`` row (``is_spotify_market`` true); returns it.

        Raises:
            ItemError: the code is not two upper-case letters (``items()`` quarantines it in ``markets``).
        """
        code = market_code(code)
        self._markets((code, True, FULL))
        return code

    def market_ref(self, code: Any) -> None:
        """The market a fact was requested for -> a ``markets`` row with the code only, once per part.

        ``is_spotify_market`` stays null: a fact's market says nothing about GET /markets. A code
        that is not two upper-case letters is quarantined in ``markets`` (once per part); the fact
        keeps its value. None (a request without a market) is no market.
        """
        if code is None or code in self._seen_markets:
            return
        self._seen_markets.add(code)
        try:
            code = market_code(code)
        except ItemError as exc:
            self.quarantine("markets", exc.reason, exc.field, {"market": code, "source": self.entity})
            return
        self._markets((code, None, SIMPLIFIED))

    # -- users and playlists ---------------------------------------------------------------------

    def user(self, obj: Mapping[str, Any], richness: int = FULL) -> Any:
        """A PrivateUserObject / PublicUserObject -> ``users``; returns its id."""
        g = obj.get
        followers = g("followers")
        user_id = g("id")
        self._users(
            (
                user_id,
                g("display_name"),
                g("country"),
                g("product"),
                followers.get("total") if followers is not None else None,
                widest_image_url(g("images")),
                richness,
            )
        )
        return user_id

    def user_ref(self, obj: Mapping[str, Any]) -> Any:
        """A playlist owner or ``added_by`` (id and maybe display name) -> ``users``, once per part."""
        user_id = obj.get("id")
        if user_id.__class__ is str and user_id not in self._seen_users:
            self._seen_users.add(user_id)
            self._users((user_id, obj.get("display_name"), None, None, None, None, SIMPLIFIED))
        return user_id

    def playlist(self, obj: Mapping[str, Any], richness: int) -> Any:
        """A PlaylistObject (full) or SimplifiedPlaylistObject -> ``playlists`` (and its owner); returns its id."""
        g = obj.get
        owner = g("owner")
        # Spotify renamed the playlist's `tracks` to `items` (2025); either may be present.
        contents = g("items")
        if contents is None:
            contents = g("tracks")
        followers = g("followers")
        playlist_id = g("id")
        self._playlists(
            (
                playlist_id,
                g("name"),
                g("description"),
                owner.get("id") if owner is not None else None,
                owner.get("display_name") if owner is not None else None,
                g("public"),
                g("collaborative"),
                g("snapshot_id"),
                followers.get("total") if followers is not None else None,
                contents.get("total") if contents is not None else None,
                widest_image_url(g("images")),
                richness,
            )
        )
        if owner is not None:
            self.user_ref(owner)
        return playlist_id

    def playlist_item(self, playlist_id: Any, position: int, obj: Mapping[str, Any]) -> None:
        """A PlaylistTrackObject at ``position`` -> ``playlist_items`` (and the track, if it is one)."""
        g = obj.get
        added_at = parse_timestamp(g("added_at"), "added_at")
        added_by = g("added_by")
        added_by_id = added_by.get("id") if added_by is not None else None
        is_local = g("is_local")
        # Spotify renamed `track` to `item` (2025); either may be present. The key set is read once
        # because asking a document object for a key it lacks is slow.
        item = g("item") if "item" in (obj if obj.__class__ is dict else set(obj)) else None
        if item is None:
            item = g("track")
        item_type = track_id = episode_id = uri = name = duration = None
        if item is not None:
            ig = item.get
            item_type = ig("type")
            uri, name, duration = ig("uri"), ig("name"), ig("duration_ms")
            local = is_local is True or ig("is_local") is True
            if item_type == "episode":
                episode_id = ig("id")
            elif local:
                item_type = item_type or "track"  # a local file: kept in the playlist, no track id, no dimension row
            else:
                if ig("id") is None:
                    raise ItemError("track.id", "a track that is not a local file has no id")
                track_id = self.track(item, FULL)
            is_local = local
        self._append["playlist_items"](
            (
                playlist_id,
                position,
                added_at,
                added_by_id,
                is_local,
                item_type,
                track_id,
                episode_id,
                uri,
                name,
                duration,
                SIMPLIFIED,
            )
        )
        if added_by is not None:
            self.user_ref(added_by)


__all__ = ["FULL", "SHAPE_ERRORS", "SIMPLIFIED", "Emitter"]
