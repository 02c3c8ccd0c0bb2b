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
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

from spotify_twin.errors import CatalogError

# A fixed "today" keeps the catalog pure; real new releases cluster just before it.
CATALOG_AS_OF = date(2026, 11, 20)

BASE_ARTISTS = 300
BASE_ALBUMS = 900
BASE_NEW_RELEASES = 100
MIN_NEW_RELEASES = 20
MAX_SCALE = 50.0

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22

GENRES: tuple[str, ...] = (
    "pop", "dance pop", "electropop", "indie pop", "art pop", "k-pop", "j-pop", "latin pop", "synthpop",
    "rock", "indie rock", "alternative rock", "classic rock", "garage rock", "post-punk", "punk", "shoegaze",
    "dream pop", "grunge", "hard rock", "metal", "metalcore", "doom metal", "progressive rock", "psychedelic rock",
    "hip hop", "rap", "trap", "drill", "uk drill", "conscious hip hop", "boom bap", "alternative hip hop",
    "r&b", "alternative r&b", "neo soul", "soul", "funk", "disco", "motown", "gospel",
    "edm", "house", "deep house", "tech house", "techno", "trance", "drum and bass", "dubstep", "ambient",
    "lo-fi beats", "downtempo", "trip hop", "electronica", "idm",
    "country", "contemporary country", "americana", "bluegrass", "folk", "indie folk", "singer-songwriter",
    "jazz", "smooth jazz", "bebop", "jazz fusion", "blues", "delta blues",
    "reggae", "dancehall", "afrobeats", "amapiano", "reggaeton", "latin", "salsa", "bachata", "cumbia",
    "bossa nova", "mpb", "flamenco", "chanson", "schlager", "classical", "modern classical", "soundtrack",
)

MARKETS: tuple[str, ...] = (
    "AD", "AE", "AR", "AT", "AU", "BE", "BG", "BO", "BR", "CA", "CH", "CL", "CO", "CR", "CY", "CZ", "DE",
    "DK", "DO", "EC", "EE", "ES", "FI", "FR", "GB", "GR", "GT", "HK", "HN", "HU", "ID", "IE", "IL", "IN",
    "IS", "IT", "JP", "KR", "LT", "LU", "LV", "MX", "MY", "NI", "NL", "NO", "NZ", "PA", "PE", "PH", "PL",
    "PT", "PY", "RO", "SA", "SE", "SG", "SK", "SV", "TH", "TR", "TW", "US", "UY", "VN", "ZA",
)

LABELS: tuple[str, ...] = (
    "Northbound Records", "Lighthouse Music", "Copper Lane Recordings", "Blue Fern Audio", "Satellite Sound",
    "Harbor & Pine", "Midnight Orchard", "Glass Canyon Records", "Paper Kite Music", "Velvet Static",
    "Open Field Records", "Red Dune Entertainment", "Silver Echo Label Group", "Kestrel Recordings",
    "Lowtide Collective", "Ironwood Music", "Polar Signal", "Golden Hour Records", "Cinder Block Audio",
    "Hollow Tree Records", "Neon Parish", "Atlas Grove Music", "Quiet Riot Distribution", "Wild Honey Records",
)

ISRC_COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "SE", "FR", "NL", "CA", "AU", "JP", "KR", "BR", "QZ", "QM")

FIRST_NAMES: tuple[str, ...] = (
    "Ava", "Leo", "Maya", "Noah", "Iris", "Jonas", "Lena", "Mateo", "Zara", "Elias", "Nina", "Oscar", "Mila",
    "Felix", "Sofia", "Hugo", "Amara", "Kai", "Elena", "Theo", "Yuna", "Rafael", "Freya", "Dante", "Ines",
    "Malik", "Clara", "Sami", "Aurora", "Jude",
)
LAST_NAMES: tuple[str, ...] = (
    "Quinn", "Hart", "Moreau", "Okafor", "Lindqvist", "Castillo", "Reyes", "Novak", "Sato", "Bennett",
    "Ferreira", "Walsh", "Kowalski", "Haddad", "Park", "Rossi", "Nakamura", "Delgado", "Byrne", "Ahmed",
    "Varga", "Silva", "Holm", "Mercer", "Ivanova", "Laurent", "Osei", "Brandt", "Kaur", "Vance",
)
ADJECTIVES: tuple[str, ...] = (
    "Velvet", "Electric", "Silent", "Golden", "Neon", "Hollow", "Crimson", "Midnight", "Paper", "Wild",
    "Lunar", "Broken", "Frozen", "Burning", "Distant", "Gentle", "Restless", "Violet", "Static", "Endless",
    "Hidden", "Lucky", "Northern", "Sunday", "Glass", "Copper", "Faded", "Bright", "Slow", "Secret",
)
NOUNS: tuple[str, ...] = (
    "Harbors", "Echoes", "Foxes", "Satellites", "Rivers", "Lanterns", "Machines", "Tigers", "Orchards",
    "Pilots", "Ghosts", "Waves", "Mountains", "Signals", "Parades", "Shadows", "Mirrors", "Comets", "Wolves",
    "Gardens", "Engines", "Sparrows", "Cities", "Horizons", "Dreams", "Hearts", "Streets", "Strangers",
    "Oceans", "Wires",
)
SINGULAR_NOUNS: tuple[str, ...] = (
    "Heart", "Night", "Summer", "River", "Fire", "Light", "Road", "Dream", "Storm", "Moon", "City", "Ocean",
    "Mirror", "Signal", "Garden", "Window", "Highway", "Shadow", "Echo", "Season", "Kingdom", "Horizon",
    "Paradise", "Machine", "Letter", "Island", "Winter", "Rain", "Morning", "Silence",
)
TRACK_PATTERNS: tuple[str, ...] = (
    "{adj} {noun}", "{noun}", "The {adj} {noun}", "{noun} of {noun2}s", "Into the {noun}", "{adj}",
    "Call Me {adj}", "{noun} Song", "Lost in the {noun}", "{adj} {noun} (Interlude)", "Don't Let the {noun} Go",
    "{noun}, {noun2}", "All the {adj} {noun}s", "{adj} Again", "Every {noun}",
)
ALBUM_PATTERNS: tuple[str, ...] = (
    "{adj} {noun}", "{noun}s", "The {adj} {noun}", "{noun} & {noun2}", "Songs for the {noun}",
    "{adj} {noun}s", "After the {noun}", "{noun} Sessions", "Live at the {noun}", "{adj}",
)

ARTIST_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("ab6761610000e5eb", 640), ("ab67616100005174", 320), ("ab6761610000f178", 160),
)
ALBUM_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("ab67616d0000b273", 640), ("ab67616d00001e02", 300), ("ab67616d00004851", 64),
)
IMAGE_HOST = "https://i.scdn.co/image/"


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    height: int
    width: int


@dataclass(frozen=True, slots=True)
class Copyright:
    text: str
    type: str  # "C" = composition copyright, "P" = sound recording copyright, as Spotify uses them


@dataclass(frozen=True, slots=True)
class ArtistRow:
    id: str
    name: str
    genres: tuple[str, ...]
    followers: int
    popularity: int
    images: tuple[Image, ...]


@dataclass(frozen=True, slots=True)
class AlbumRow:
    id: str
    name: str
    album_type: str
    release_date: date
    release_date_precision: str
    total_tracks: int
    label: str
    copyrights: tuple[Copyright, ...]
    upc: str
    available_markets: tuple[str, ...]
    artist_ids: tuple[str, ...]
    track_ids: tuple[str, ...]
    images: tuple[Image, ...]
    popularity: int

    @property
    def release_date_text(self) -> str:
        """The date as Spotify prints it: only as precise as `release_date_precision` says."""
        if self.release_date_precision == "year":
            return f"{self.release_date.year:04d}"
        if self.release_date_precision == "month":
            return f"{self.release_date.year:04d}-{self.release_date.month:02d}"
        return self.release_date.isoformat()


@dataclass(frozen=True, slots=True)
class TrackRow:
    id: str
    name: str
    album_id: str
    artist_ids: tuple[str, ...]
    duration_ms: int
    explicit: bool
    popularity: int
    track_number: int
    disc_number: int
    isrc: str
    available_markets: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """All rows of one synthetic catalog plus id indexes. Immutable, so one instance can be shared by threads."""

    seed: int
    scale: float
    artists: tuple[ArtistRow, ...]
    albums: tuple[AlbumRow, ...]
    tracks: tuple[TrackRow, ...]
    new_release_ids: tuple[str, ...]
    artist_by_id: Mapping[str, ArtistRow] = field(repr=False, compare=False)
    album_by_id: Mapping[str, AlbumRow] = field(repr=False, compare=False)
    track_by_id: Mapping[str, TrackRow] = field(repr=False, compare=False)


def new_release_count(scale: float, album_count: int) -> int:
    """How many albums the new-releases endpoint lists: 100 per unit of scale, at least 20, at most all."""
    return min(album_count, max(MIN_NEW_RELEASES, round(BASE_NEW_RELEASES * scale)))


def build_catalog(seed: int, scale: float) -> Catalog:
    """Build (or reuse) the catalog for `seed` and `scale`.

    Raises:
        CatalogError: scale is not a finite number in (0, MAX_SCALE].
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise CatalogError("seed", seed, "must be an integer")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not math.isfinite(scale):
        raise CatalogError("scale", scale, "must be a finite number")
    if scale <= 0 or scale > MAX_SCALE:
        raise CatalogError("scale", scale, f"must be > 0 and <= {MAX_SCALE:g}")
    return _build_catalog_cached(seed, float(scale))


# Several TwinServers in one test session share catalogs; rows are immutable so sharing is safe.
@lru_cache(maxsize=4)
def _build_catalog_cached(seed: int, scale: float) -> Catalog:
    return _CatalogBuilder(seed, scale).build()


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
        return Catalog(
            seed=self.seed,
            scale=self.scale,
            artists=tuple(artists),
            albums=tuple(albums),
            tracks=tuple(tracks),
            new_release_ids=new_release_ids,
            artist_by_id=MappingProxyType({a.id: a for a in artists}),
            album_by_id=MappingProxyType({a.id: a for a in albums}),
            track_by_id=MappingProxyType({t.id: t for t in tracks}),
        )

    # ---- ids and small values -------------------------------------------------------------------------

    def _new_id(self) -> str:
        while True:
            number = self.id_rng.getrandbits(131)
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
