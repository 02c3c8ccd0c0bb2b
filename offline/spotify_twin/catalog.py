"""Deterministic synthetic music catalog.

Pure: `build_catalog(seed, scale)` always returns the same rows for the same inputs, on any machine and
Python version, because every random stream is seeded from a string (hashed with SHA-512 by `random`)
and only uses `random` methods whose algorithms are stable across versions. No wall clock is read:
dates are relative to the fixed `CATALOG_AS_OF`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType

from offline.spotify_twin import daily
from offline.spotify_twin.catalog_social import SocialRows, build_social
from offline.spotify_twin.errors import CatalogError
from offline.spotify_twin.rows import (
    AlbumRow,
    ArtistRow,
    CategoryRow,
    Copyright,
    EpisodeRow,
    Image,
    ListenerRow,
    PlaylistRow,
    ShowRow,
    TrackRow,
    UserRow,
)
from offline.spotify_twin.vocabulary import (  # re-exported: routes and tests import them from here
    ADJECTIVES,
    ALBUM_IMAGE_PREFIXES,
    ALBUM_PATTERNS,
    ARTIST_IMAGE_PREFIXES,
    BASE62,
    CATALOG_AS_OF,
    FIRST_NAMES,
    GENRES,
    ID_LENGTH,
    IMAGE_HOST,
    ISRC_COUNTRIES,
    LABELS,
    LAST_NAMES,
    MARKETS,
    NOUNS,
    SINGULAR_NOUNS,
    TRACK_PATTERNS,
)

__all__ = [  # the vocabulary and row types are re-exported: older callers import them from here
    "ADJECTIVES", "ALBUM_GROUP_ORDER", "ALBUM_IMAGE_PREFIXES", "ALBUM_PATTERNS", "ARTIST_IMAGE_PREFIXES", "BASE62",
    "CATALOG_AS_OF", "FIRST_NAMES", "GENRES", "ID_LENGTH", "IMAGE_HOST", "ISRC_COUNTRIES", "LABELS", "LAST_NAMES",
    "MARKETS", "MAX_SCALE", "NOUNS", "SINGULAR_NOUNS", "TOP_TRACKS", "TRACK_PATTERNS", "AlbumRow", "ArtistRow",
    "Catalog", "CategoryRow", "Copyright", "EpisodeRow", "Image", "ListenerRow", "PlaylistRow", "ShowRow",
    "TrackRow", "UserRow", "album_group", "build_catalog", "new_release_count",
]

BASE_ARTISTS = 300
BASE_ALBUMS = 900
BASE_NEW_RELEASES = 100
MIN_NEW_RELEASES = 20
MAX_SCALE = 50.0
TOP_TRACKS = 10  # GET /artists/{id}/top-tracks answers at most this many
DAILY_RELEASE_CHANCE = 0.35  # the share of days after CATALOG_AS_OF with a new release
ALBUM_GROUP_ORDER: tuple[str, ...] = ("album", "single", "compilation", "appears_on")


@dataclass(frozen=True)
class Catalog:
    """All rows of one synthetic catalog plus id indexes. Immutable, so one instance can be shared by threads."""

    seed: int
    scale: float
    artists: tuple[ArtistRow, ...]
    albums: tuple[AlbumRow, ...]
    tracks: tuple[TrackRow, ...]
    new_release_ids: tuple[str, ...]
    shows: tuple[ShowRow, ...]
    episodes: tuple[EpisodeRow, ...]
    users: tuple[UserRow, ...]
    playlists: tuple[PlaylistRow, ...]
    categories: tuple[CategoryRow, ...]
    listeners: tuple[ListenerRow, ...]  # the allow-listed users, in refresh-token order
    artist_by_id: Mapping[str, ArtistRow] = field(repr=False, compare=False)
    album_by_id: Mapping[str, AlbumRow] = field(repr=False, compare=False)
    track_by_id: Mapping[str, TrackRow] = field(repr=False, compare=False)
    show_by_id: Mapping[str, ShowRow] = field(repr=False, compare=False)
    episode_by_id: Mapping[str, EpisodeRow] = field(repr=False, compare=False)
    user_by_id: Mapping[str, UserRow] = field(repr=False, compare=False)
    playlist_by_id: Mapping[str, PlaylistRow] = field(repr=False, compare=False)
    # artist id -> (album id, album_group) in the order GET /artists/{id}/albums lists them
    discography: Mapping[str, tuple[tuple[str, str], ...]] = field(repr=False, compare=False)
    # artist id -> ids of the tracks it performs on, most popular first (ties by id)
    tracks_by_popularity: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)
    album_markets: Mapping[str, frozenset[str]] = field(repr=False, compare=False)
    as_of: date = CATALOG_AS_OF  # the day whose end the catalog and the listeners' activity stand at

    @property
    def listener(self) -> ListenerRow:
        """The first allow-listed user: the one behind a single refresh token."""
        return self.listeners[0]

    def album_available(self, album_id: str, market: str) -> bool:
        """Whether an album (and so each of its tracks, which share its markets) plays in `market`."""
        return market in self.album_markets[album_id]

    def artist_albums(
        self, artist_id: str, groups: Sequence[str] = ALBUM_GROUP_ORDER, market: str | None = None
    ) -> list[tuple[str, str]]:
        """(album id, album_group) of GET /artists/{id}/albums: the asked groups, playable in `market`."""
        return [
            (album_id, group)
            for album_id, group in self.discography.get(artist_id, ())
            if group in groups and (market is None or self.album_available(album_id, market))
        ]

    def top_tracks(self, artist_id: str, market: str) -> list[str]:
        """GET /artists/{id}/top-tracks: its TOP_TRACKS most popular tracks playable in `market`."""
        chosen: list[str] = []
        for track_id in self.tracks_by_popularity.get(artist_id, ()):
            if self.album_available(self.track_by_id[track_id].album_id, market):
                chosen.append(track_id)
                if len(chosen) == TOP_TRACKS:
                    break
        return chosen


def new_release_count(scale: float, album_count: int) -> int:
    """How many albums the new-releases endpoint lists: 100 per unit of scale, at least 20, at most all."""
    return min(album_count, max(MIN_NEW_RELEASES, round(BASE_NEW_RELEASES * scale)))


def build_catalog(seed: int, scale: float, as_of: date | None = None) -> Catalog:
    """Build (or reuse) the catalog for `seed` and `scale`, standing at the end of `as_of` (default
    `CATALOG_AS_OF`): every day after `CATALOG_AS_OF` brings its new releases and the users' activity
    (`daily`); a day before it shows the users' activity up to then.

    Raises:
        CatalogError: scale is not a finite number in (0, MAX_SCALE], or as_of is not a date.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CatalogError("seed", seed, "must be an integer")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale):
        raise CatalogError("scale", scale, "must be a finite number")
    if scale <= 0 or scale > MAX_SCALE:
        raise CatalogError("scale", scale, f"must be > 0 and <= {MAX_SCALE:g}")
    if as_of is not None and (isinstance(as_of, datetime) or not isinstance(as_of, date)):
        raise CatalogError("as_of", as_of, "must be a date")
    if as_of is None or as_of == CATALOG_AS_OF:
        return _build_catalog_cached(seed, float(scale))
    return _catalog_as_of(seed, float(scale), as_of)


# Several TwinServers in one test session share catalogs; rows are immutable so sharing is safe.
@lru_cache(maxsize=4)
def _build_catalog_cached(seed: int, scale: float) -> Catalog:
    return _CatalogBuilder(seed, scale).build()


@lru_cache(maxsize=4)
def _catalog_as_of(seed: int, scale: float, as_of: date) -> Catalog:
    base = _build_catalog_cached(seed, scale)
    if as_of < base.as_of:
        moment = daily.end_of(as_of)
        listeners = tuple(daily.cut_at(listener, moment) for listener in base.listeners)
        return replace(base, listeners=listeners, as_of=as_of)
    days = daily.days_after(base.as_of, as_of)
    releases = _CatalogBuilder(seed, scale).releases(base, days)
    albums = [*base.albums, *(album for _, album, _ in releases)]
    tracks = [*base.tracks, *(t for _, _, album_tracks in releases for t in album_tracks)]
    newest = [album.id for _, album, _ in sorted(releases, key=lambda r: (-r[0].toordinal(), r[1].id))]
    new_release_ids = [*newest, *base.new_release_ids][: len(base.new_release_ids)]
    released: dict[date, list[str]] = {}
    for day, _, album_tracks in releases:
        released.setdefault(day, []).extend(t.id for t in album_tracks)
    track_by_id = {t.id: t for t in tracks}
    listeners = daily.advance(
        seed, base.listeners, days, track_by_id, base.playlist_by_id, lambda day: released.get(day, ())
    )
    playlists = daily.grow_playlists(seed, base.playlists, base.listeners, days)
    social = SocialRows(base.users, base.shows, base.episodes, tuple(playlists), base.categories, listeners)
    return assemble_catalog(seed, scale, as_of, base.artists, albums, tracks, new_release_ids, social)


def assemble_catalog(
    seed: int,
    scale: float,
    as_of: date,
    artists: Sequence[ArtistRow],
    albums: Sequence[AlbumRow],
    tracks: Sequence[TrackRow],
    new_release_ids: Sequence[str],
    social: SocialRows,
) -> Catalog:
    """A Catalog of these rows with its indexes."""
    return Catalog(
        seed=seed,
        scale=scale,
        artists=tuple(artists),
        albums=tuple(albums),
        tracks=tuple(tracks),
        new_release_ids=tuple(new_release_ids),
        shows=social.shows,
        episodes=social.episodes,
        users=social.users,
        playlists=social.playlists,
        categories=social.categories,
        listeners=social.listeners,
        artist_by_id=MappingProxyType({a.id: a for a in artists}),
        album_by_id=MappingProxyType({a.id: a for a in albums}),
        track_by_id=MappingProxyType({t.id: t for t in tracks}),
        show_by_id=MappingProxyType({s.id: s for s in social.shows}),
        episode_by_id=MappingProxyType({e.id: e for e in social.episodes}),
        user_by_id=MappingProxyType({u.id: u for u in social.users}),
        playlist_by_id=MappingProxyType({p.id: p for p in social.playlists}),
        discography=MappingProxyType(_discographies(albums, tracks)),
        tracks_by_popularity=MappingProxyType(_tracks_by_popularity(tracks)),
        album_markets=MappingProxyType({a.id: frozenset(a.available_markets) for a in albums}),
        as_of=as_of,
    )


class _CatalogBuilder:
    """Holds the random streams while one catalog is generated."""

    def __init__(self, seed: int, scale: float) -> None:
        self.seed = seed
        self.scale = scale
        # Separate streams so ids do not shift when, say, the name generator changes.
        self.id_rng = self._stream("ids")
        self.rng = self._stream("attributes")
        self.used_ids: set[str] = set()

    def _stream(self, name: str) -> random.Random:
        return random.Random(f"spotify-twin:{self.seed}:{name}")

    def build(self) -> Catalog:
        artists = self._artists(max(3, round(BASE_ARTISTS * self.scale)))
        album_count = max(len(artists), round(BASE_ALBUMS * self.scale))
        plans = self._album_plans(artists, album_count)
        new_release_ids = tuple(p.id for p in _newest_first(plans)[: new_release_count(self.scale, len(plans))])
        self._make_some_albums_long(plans, new_release_ids)
        albums, tracks = self._albums_and_tracks(plans, artists)
        # Its own id stream, so adding playlists or users never moves an artist, album or track id.
        social_ids = self._stream("social-ids")
        user_ids = self._stream("allowlisted-ids")
        social = build_social(
            self.seed, self.scale, artists, albums, tracks, lambda: self._new_id(social_ids),
            lambda: self._new_id(user_ids),
        )
        return assemble_catalog(self.seed, self.scale, CATALOG_AS_OF, artists, albums, tracks, new_release_ids, social)

    def releases(self, base: Catalog, days: Sequence[date]) -> list[tuple[date, AlbumRow, list[TrackRow]]]:
        """The albums released on each of `days` (about one day in three, one or two albums, dated that day),
        from streams seeded by (seed, day) so a day's releases never depend on how far the catalog goes."""
        self.used_ids = {*base.artist_by_id, *base.album_by_id, *base.track_by_id, *base.playlist_by_id,
                         *base.show_by_id, *base.episode_by_id}
        released = []
        for day in days:
            self.rng = self._stream(f"releases:{day.isoformat()}")
            self.id_rng = self._stream(f"release-ids:{day.isoformat()}")
            if self.rng.random() >= DAILY_RELEASE_CHANCE:
                continue
            for _ in range(self.rng.choice((1, 1, 2))):
                # Popular artists release more often.
                artist = max(self.rng.sample(base.artists, min(3, len(base.artists))), key=lambda a: a.popularity)
                album_type = self.rng.choices(("single", "album"), weights=(60, 40))[0]
                total = self.rng.choice((1, 2, 3)) if album_type == "single" else self.rng.randint(8, 16)
                plan = _AlbumPlan(self._new_id(), album_type, (artist.id,), day, "day", total, artist.popularity)
                albums, tracks = self._albums_and_tracks([plan], base.artists)
                released.append((day, albums[0], tracks))
        return released

    # ---- ids and small values -------------------------------------------------------------------------

    def _new_id(self, rng: random.Random | None = None) -> str:
        source = self.id_rng if rng is None else rng
        while True:
            number = source.getrandbits(131)
            chars = []
            for _ in range(ID_LENGTH):
                number, digit = divmod(number, 62)
                chars.append(BASE62[digit])
            candidate = "".join(chars)
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def _images(self, prefixes: Sequence[tuple[str, int]]) -> tuple[Image, ...]:
        suffix = f"{self.rng.getrandbits(96):024x}"
        return tuple(Image(url=f"{IMAGE_HOST}{prefix}{suffix}", height=size, width=size) for prefix, size in prefixes)

    def _words(self, pattern: str) -> str:
        noun, noun2 = self.rng.sample(SINGULAR_NOUNS, 2)
        return pattern.format(adj=self.rng.choice(ADJECTIVES), noun=noun, noun2=noun2)

    # ---- artists ----------------------------------------------------------------------------------------

    def _artist_name(self) -> str:
        style = self.rng.random()
        if style < 0.35:
            return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        if style < 0.55:
            return f"The {self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"
        if style < 0.75:
            return f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}"
        if style < 0.85:
            return f"{self.rng.choice(FIRST_NAMES)} & the {self.rng.choice(NOUNS)}"
        if style < 0.92:
            return f"DJ {self.rng.choice(SINGULAR_NOUNS)}"
        return self.rng.choice(SINGULAR_NOUNS).lower() + self.rng.choice(("", "s", "x", "wave"))

    def _artists(self, count: int) -> list[ArtistRow]:
        artists = []
        for _ in range(count):
            artist_id = self._new_id()
            genre_count = self.rng.choices((0, 1, 2, 3, 4), weights=(15, 25, 25, 20, 15))[0]
            followers = int(10 ** self.rng.uniform(1.0, 7.6))
            popularity = _clamp(round(math.log10(followers) * 12 + self.rng.gauss(0, 8)), 0, 100)
            has_images = self.rng.random() >= 0.05  # some real artists have no picture
            artists.append(
                ArtistRow(
                    id=artist_id,
                    name=self._artist_name(),
                    genres=tuple(self.rng.sample(GENRES, genre_count)),
                    followers=followers,
                    popularity=popularity,
                    images=self._images(ARTIST_IMAGE_PREFIXES) if has_images else (),
                )
            )
        return artists

    # ---- albums -----------------------------------------------------------------------------------------

    def _release(self) -> tuple[date, str]:
        # Exponential age: most of the catalog is recent, with a long tail back to the 1960s.
        age_days = min(int(self.rng.expovariate(1 / 2600)), 365 * 62)
        released = CATALOG_AS_OF - timedelta(days=age_days)
        if released.year < 1980:
            weights = (50, 20, 30)
        elif released.year < 2000:
            weights = (20, 10, 70)
        elif age_days > 365:
            weights = (3, 2, 95)
        else:
            weights = (0, 0, 1)  # fresh releases always carry a full date
        precision = self.rng.choices(("year", "month", "day"), weights=weights)[0]
        if precision == "year":
            released = date(released.year, 1, 1)
        elif precision == "month":
            released = date(released.year, released.month, 1)
        return released, precision

    def _album_plans(self, artists: Sequence[ArtistRow], count: int) -> list[_AlbumPlan]:
        plans = []
        for index in range(count):
            # Every artist gets at least one album; the rest go to random artists.
            primary = artists[index] if index < len(artists) else self.rng.choice(artists)
            album_type = self.rng.choices(("single", "album", "compilation"), weights=(35, 55, 10))[0]
            extra = self.rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
            if album_type == "compilation":
                extra = self.rng.choice((1, 2))
            others = [a.id for a in self.rng.sample(artists, min(len(artists), extra + 1)) if a.id != primary.id]
            if album_type == "single":
                total = self.rng.choices((1, 2, 3), weights=(60, 25, 15))[0]
            else:
                total = self.rng.randint(8, 20)
            released, precision = self._release()
            plans.append(
                _AlbumPlan(
                    id=self._new_id(),
                    album_type=album_type,
                    artist_ids=(primary.id, *others[:extra]),
                    release_date=released,
                    precision=precision,
                    total_tracks=total,
                    base_popularity=primary.popularity,
                )
            )
        return plans

    def _make_some_albums_long(self, plans: list[_AlbumPlan], new_release_ids: Sequence[str]) -> None:
        """Give a few albums more than 50 tracks so clients must page /albums/{id}/tracks.

        One of them is always among the newest releases, so the first extraction slice meets paging too.
        """
        by_id = {p.id: p for p in plans}
        candidates = [by_id[i] for i in new_release_ids[1:] if by_id[i].album_type != "single"]
        chosen = candidates[:1]
        want = max(2, round(8 * self.scale))
        others = [p for p in plans if p.album_type != "single" and p not in chosen]
        chosen += self.rng.sample(others, min(len(others), want - len(chosen)))
        for plan in chosen:
            plan.total_tracks = self.rng.randint(51, 130)

    def _albums_and_tracks(
        self, plans: Sequence[_AlbumPlan], artists: Sequence[ArtistRow]
    ) -> tuple[list[AlbumRow], list[TrackRow]]:
        albums: list[AlbumRow] = []
        tracks: list[TrackRow] = []
        for plan in plans:
            label = self.rng.choice(LABELS)
            markets = self._markets()
            album_tracks = self._tracks(plan, artists, markets)
            year = plan.release_date.year
            albums.append(
                AlbumRow(
                    id=plan.id,
                    name=self._words(self.rng.choice(ALBUM_PATTERNS)),
                    album_type=plan.album_type,
                    release_date=plan.release_date,
                    release_date_precision=plan.precision,
                    total_tracks=plan.total_tracks,
                    label=label,
                    copyrights=(Copyright(f"© {year} {label}", "C"), Copyright(f"℗ {year} {label}", "P")),
                    upc=_upc(self.rng),
                    available_markets=markets,
                    artist_ids=plan.artist_ids,
                    track_ids=tuple(t.id for t in album_tracks),
                    images=self._images(ALBUM_IMAGE_PREFIXES),
                    popularity=_clamp(round(plan.base_popularity + self.rng.gauss(0, 10)), 0, 100),
                )
            )
            tracks.extend(album_tracks)
        return albums, tracks

    def _markets(self) -> tuple[str, ...]:
        roll = self.rng.random()
        if roll < 0.8:
            return MARKETS
        if roll < 0.99:
            picked = set(self.rng.sample(MARKETS, self.rng.randint(10, len(MARKETS) - 1)))
            return tuple(m for m in MARKETS if m in picked)
        return ()  # taken-down albums list no market at all, as on Spotify

    def _tracks(self, plan: _AlbumPlan, artists: Sequence[ArtistRow], markets: tuple[str, ...]) -> list[TrackRow]:
        total = plan.total_tracks
        if total > 50:
            discs = math.ceil(total / self.rng.randint(20, 35))
        elif total >= 16 and self.rng.random() < 0.15:
            discs = 2
        else:
            discs = 1
        per_disc = math.ceil(total / discs)
        all_artist_ids = [a.id for a in artists]
        name_by_id = {a.id: a.name for a in artists}
        isrc_country = self.rng.choice(ISRC_COUNTRIES)
        registrant = "".join(self.rng.choice(BASE62[:36]) for _ in range(3))
        year2 = plan.release_date.year % 100
        rows = []
        for index in range(total):
            if plan.album_type == "compilation":
                performers = [self.rng.choice(plan.artist_ids)]
            else:
                performers = list(plan.artist_ids)
            name = self._words(self.rng.choice(TRACK_PATTERNS))
            if self.rng.random() < 0.15:
                featured = self.rng.choice(all_artist_ids)
                if featured not in performers:
                    performers.append(featured)
                    if self.rng.random() < 0.5:
                        name = f"{name} (feat. {name_by_id[featured]})"
            rows.append(
                TrackRow(
                    id=self._new_id(),
                    name=name,
                    album_id=plan.id,
                    artist_ids=tuple(performers),
                    duration_ms=_clamp(round(self.rng.gauss(210_000, 50_000)), 45_000, 900_000),
                    explicit=self.rng.random() < 0.18,
                    popularity=_clamp(round(plan.base_popularity + self.rng.gauss(-5, 15)), 0, 100),
                    track_number=index % per_disc + 1,
                    disc_number=index // per_disc + 1,
                    isrc=f"{isrc_country}{registrant.upper()}{year2:02d}{self.rng.randint(0, 99_999):05d}",
                    available_markets=markets,
                )
            )
        return rows


@dataclass(slots=True)
class _AlbumPlan:
    """Album attributes decided before tracks exist (mutable: long albums are picked after dating)."""

    id: str
    album_type: str
    artist_ids: tuple[str, ...]
    release_date: date
    precision: str
    total_tracks: int
    base_popularity: int


def album_group(album: AlbumRow, artist_id: str) -> str:
    """`album_group` of `album` on `artist_id`'s discography: its own type, or appears_on for a guest."""
    return album.album_type if artist_id in album.artist_ids else "appears_on"


def _discographies(albums: Sequence[AlbumRow], tracks: Sequence[TrackRow]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per artist: albums it leads or co-leads, then albums it only guests on, grouped as Spotify groups them."""
    album_by_id = {a.id: a for a in albums}
    members: dict[str, set[str]] = {}
    for album in albums:
        for artist_id in album.artist_ids:
            members.setdefault(artist_id, set()).add(album.id)
    for track in tracks:
        for artist_id in track.artist_ids:
            members.setdefault(artist_id, set()).add(track.album_id)
    result = {}
    for artist_id, album_ids in members.items():
        entries = [(album_by_id[a], album_group(album_by_id[a], artist_id)) for a in album_ids]
        entries.sort(key=lambda e: (ALBUM_GROUP_ORDER.index(e[1]), -e[0].release_date.toordinal(), e[0].id))
        result[artist_id] = tuple((album.id, group) for album, group in entries)
    return result


def _tracks_by_popularity(tracks: Sequence[TrackRow]) -> dict[str, tuple[str, ...]]:
    performed: dict[str, list[TrackRow]] = {}
    for track in tracks:
        for artist_id in track.artist_ids:
            performed.setdefault(artist_id, []).append(track)
    return {
        artist_id: tuple(t.id for t in sorted(rows, key=lambda t: (-t.popularity, t.id)))
        for artist_id, rows in performed.items()
    }


def _newest_first(plans: Sequence[_AlbumPlan]) -> list[_AlbumPlan]:
    # Ties on date are broken by id so the order is total and reproducible.
    return sorted(plans, key=lambda p: (-p.release_date.toordinal(), p.id))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _upc(rng: random.Random) -> str:
    digits = [rng.randint(0, 9) for _ in range(11)]
    odd = sum(digits[0::2])
    even = sum(digits[1::2])
    check = (10 - (odd * 3 + even) % 10) % 10
    return "".join(map(str, digits)) + str(check)
