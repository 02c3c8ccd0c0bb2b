"""Turn Spotify objects into row tuples of the curated tables; shared by every entity's parser.

An ``Emitter`` holds one ``append`` per parsed table (the run's column buffers) and writes one
row per record, built by column name with the table's ``TableSpec.row`` (a generated
keyword-only function returning the tuple the buffers take, so no column order is repeated
here). Nothing here builds dicts or per-row objects beyond that tuple: this is the hot loop of
the transform.

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
    RequestContext,
    market_code,
    parse_release_date,
    parse_timestamp,
    widest_image_url,
)
from activities.transform.schemas import SPECS

SIMPLIFIED = 1
FULL = 2
DRIFT_FIRST_PAGES = 8
DRIFT_EVERY = 64

Append = Callable[[tuple[Any, ...]], None]

_ARTIST_ROW = SPECS["artists"].row
_ALBUM_ROW = SPECS["albums"].row
_TRACK_ROW = SPECS["tracks"].row
_USER_ROW = SPECS["users"].row
_PLAYLIST_ROW = SPECS["playlists"].row
_MARKET_ROW = SPECS["markets"].row
_PLAYLIST_ITEM_ROW = SPECS["playlist_items"].row
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
        self.profiles: set[Any] = set()  # user ids of the GET /me parts read so far

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

    def append(self, table: str, **columns: Any) -> None:
        """Append a row, by column name, to a table without a dedicated method (facts, categories).

        Facts are no richer one way than another: they are SIMPLIFIED unless told.
        """
        columns.setdefault("_richness", SIMPLIFIED)
        self._append[table](SPECS[table].row(**columns))

    def user_of(self, context: RequestContext) -> Any:
        """The Spotify user a user source's part belongs to: the manifest part's ``user_id``, else the
        run's only GET /me user (a manifest written before several users were supported); None
        makes every row of the part a "missing user_id" quarantine record."""
        if context.user_id is not None:
            return context.user_id
        return next(iter(self.profiles)) if len(self.profiles) == 1 else None

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
            _ARTIST_ROW(
                artist_id=artist_id,
                name=g("name"),
                followers=followers.get("total") if followers is not None else None,
                popularity=g("popularity"),
                genres=plain(g("genres")),
                image_url=widest_image_url(g("images")),
                _richness=richness,
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
                append(_ARTIST_ROW(artist_id=artist_id, name=artist.get("name"), _richness=SIMPLIFIED))

    # -- albums ----------------------------------------------------------------------------------

    def _album_row(self, obj: Mapping[str, Any], album_id: Any, richness: int) -> tuple[Any, ...]:
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
        full = richness == FULL
        return _ALBUM_ROW(
            album_id=album_id,
            name=g("name"),
            album_type=g("album_type"),
            release_date=release_date,
            release_date_raw=raw,
            release_date_precision=precision,
            release_year=release_year,
            total_tracks=g("total_tracks"),
            # Only the full AlbumObject has these (extended mode only since February 2026); asking a
            # document object for a key it lacks is slow.
            label=g("label") if full else None,
            popularity=g("popularity") if full else None,
            image_url=widest_image_url(g("images")),
            primary_artist_name=primary_name,
            _artist_ids=ids,
            _richness=richness,
        )

    def album(self, obj: Mapping[str, Any], richness: int) -> Any:
        """An AlbumObject (full) or SimplifiedAlbumObject -> ``albums`` (and its credits); returns its id."""
        album_id = obj.get("id")
        self._albums(self._album_row(obj, album_id, richness))
        self._seen_albums.add(album_id)
        artists = obj.get("artists")
        if artists:
            self._credits(artists)
        return album_id

    def _album_ref(self, obj: Mapping[str, Any], album_id: Any) -> tuple[Any, ...] | None:
        """The row of a simplified album embedded in a track (not yet emitted in this part), or None if bad."""
        try:
            return self._album_row(obj, album_id, SIMPLIFIED)
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
            _TRACK_ROW(
                track_id=track_id,
                name=g("name"),
                album_id=album_id,
                duration_ms=g("duration_ms"),
                explicit=g("explicit"),
                popularity=popularity,
                isrc=external_ids.get("isrc") if external_ids is not None else None,
                track_number=g("track_number"),
                disc_number=g("disc_number"),
                is_local=g("is_local"),
                primary_artist_name=primary_name,
                _artist_ids=ids,
                _richness=richness,
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
        self._markets(_MARKET_ROW(market=code, is_spotify_market=True, _richness=FULL))
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
        self._markets(_MARKET_ROW(market=code, _richness=SIMPLIFIED))

    # -- users and playlists ---------------------------------------------------------------------

    def user(self, obj: Mapping[str, Any], richness: int = FULL) -> Any:
        """A PrivateUserObject / PublicUserObject -> ``users``; returns its id."""
        g = obj.get
        followers = g("followers")
        user_id = g("id")
        self._users(
            _USER_ROW(
                user_id=user_id,
                display_name=g("display_name"),
                # Extended mode only since February 2026 (Development Mode's GET /me omits them).
                country=g("country"),
                product=g("product"),
                followers=followers.get("total") if followers is not None else None,
                image_url=widest_image_url(g("images")),
                _richness=richness,
            )
        )
        return user_id

    def user_ref(self, obj: Mapping[str, Any]) -> Any:
        """A playlist owner or ``added_by`` (id and maybe display name) -> ``users``, once per part."""
        user_id = obj.get("id")
        if user_id.__class__ is str and user_id not in self._seen_users:
            self._seen_users.add(user_id)
            self._users(_USER_ROW(user_id=user_id, display_name=obj.get("display_name"), _richness=SIMPLIFIED))
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
            _PLAYLIST_ROW(
                playlist_id=playlist_id,
                name=g("name"),
                description=g("description"),
                owner_id=owner.get("id") if owner is not None else None,
                owner_display_name=owner.get("display_name") if owner is not None else None,
                public=g("public"),
                collaborative=g("collaborative"),
                snapshot_id=g("snapshot_id"),
                followers=followers.get("total") if followers is not None else None,
                total_items=contents.get("total") if contents is not None else None,
                image_url=widest_image_url(g("images")),
                _richness=richness,
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
            _PLAYLIST_ITEM_ROW(
                playlist_id=playlist_id,
                position=position,
                added_at=added_at,
                added_by_id=added_by_id,
                is_local=is_local,
                item_type=item_type,
                track_id=track_id,
                episode_id=episode_id,
                item_uri=uri,
                item_name=name,
                item_duration_ms=duration,
                _richness=SIMPLIFIED,
            )
        )
        if added_by is not None:
            self.user_ref(added_by)


__all__ = ["FULL", "SHAPE_ERRORS", "SIMPLIFIED", "Emitter"]
