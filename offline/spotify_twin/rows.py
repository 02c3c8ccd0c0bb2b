"""Row types of the synthetic catalog: plain frozen records, no behaviour beyond formatting helpers.

`catalog` builds them; `objects` turns them into Spotify JSON. Kept apart so the generators of the
music catalog (`catalog`) and of playlists, shows and the listener (`catalog_social`) share them
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote_plus


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    height: int | None  # Spotify sends null sizes for some playlist and category images
    width: int | None


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


# ---- users, podcasts, playlists, categories -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserRow:
    """A Spotify user as playlists show them (owner, added_by); the listener has one too."""

    id: str
    display_name: str | None
    followers: int
    images: tuple[Image, ...]


@dataclass(frozen=True, slots=True)
class ShowRow:
    id: str
    name: str
    publisher: str
    description: str
    languages: tuple[str, ...]
    explicit: bool
    images: tuple[Image, ...]
    available_markets: tuple[str, ...]
    episode_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    id: str
    show_id: str
    name: str
    description: str
    duration_ms: int
    explicit: bool
    release_date: date
    languages: tuple[str, ...]
    images: tuple[Image, ...]


@dataclass(frozen=True, slots=True)
class LocalTrackRow:
    """A file from the owner's disk added to a playlist: no Spotify id, only names and a `spotify:local:` URI."""

    name: str
    artist: str
    album: str
    duration_ms: int

    @property
    def uri(self) -> str:
        # Spotify form: spotify:local:{artist}:{album}:{title}:{seconds}, each part URL-encoded with '+' for spaces.
        parts = (quote_plus(self.artist), quote_plus(self.album), quote_plus(self.name), str(self.duration_ms // 1000))
        return "spotify:local:" + ":".join(parts)


# What a playlist position holds.
ITEM_TRACK = "track"
ITEM_EPISODE = "episode"
ITEM_LOCAL = "local"
ITEM_REMOVED = "removed"  # a track taken down since it was added: Spotify answers `track: null`


@dataclass(frozen=True, slots=True)
class PlaylistItemRow:
    kind: str  # one of ITEM_*
    ref_id: str | None  # track id or episode id; None for local and removed items
    added_at: datetime
    added_by: str  # user id
    local: LocalTrackRow | None = None


@dataclass(frozen=True, slots=True)
class PlaylistRow:
    id: str
    name: str
    description: str  # "" when the owner wrote none, as Spotify sends it
    owner_id: str
    public: bool
    collaborative: bool
    followers: int
    snapshot_id: str
    images: tuple[Image, ...]
    items: tuple[PlaylistItemRow, ...]
    category_ids: tuple[str, ...]  # browse categories listing it (editorial playlists only)
    # Users besides the owner who joined a collaborative playlist: with the owner, the only ones a Development
    # Mode app may read its items for (February 2026 changelog; OpenAPI GET /playlists/{id}/items).
    collaborator_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CategoryRow:
    id: str
    name: str
    icons: tuple[Image, ...]


# ---- the listener (the user behind the refresh token) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayRow:
    track_id: str
    played_at: datetime  # UTC, millisecond precision, unique per listener
    context: tuple[str, str] | None  # (type, id) of the album/playlist/artist it was played from


@dataclass(frozen=True, slots=True)
class SavedTrackRow:
    track_id: str
    added_at: datetime  # UTC, whole seconds


TIME_RANGES: tuple[str, ...] = ("short_term", "medium_term", "long_term")


@dataclass(frozen=True, slots=True)
class ListenerRow:
    """The current user of the authorization-code flow and everything /me endpoints serve."""

    user: UserRow
    email: str
    country: str
    product: str
    now: datetime  # the listener's fixed "now": plays and saves lie before it
    top_artist_ids: tuple[tuple[str, tuple[str, ...]], ...]  # (time_range, ids), TIME_RANGES order
    top_track_ids: tuple[tuple[str, tuple[str, ...]], ...]
    plays: tuple[PlayRow, ...]  # newest first
    saved_tracks: tuple[SavedTrackRow, ...]  # newest first
    followed_artist_ids: tuple[str, ...]  # ascending id: the order of the cursor
    playlist_ids: tuple[str, ...]  # owned and followed, as /me/playlists lists them

    def top_artists(self, time_range: str) -> tuple[str, ...]:
        return dict(self.top_artist_ids)[time_range]

    def top_tracks(self, time_range: str) -> tuple[str, ...]:
        return dict(self.top_track_ids)[time_range]


def iso_seconds(moment: datetime) -> str:
    """`2026-11-19T21:04:12Z`, the form of `added_at`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """`2026-11-19T21:04:12.345Z`, the form of `played_at`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_millis(moment: datetime) -> int:
    """Unix time in ms of an aware datetime, the unit of recently-played cursors."""
    return round(moment.timestamp() * 1000)
