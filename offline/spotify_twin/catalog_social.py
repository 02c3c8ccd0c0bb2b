"""Deterministic users, podcasts, playlists, browse categories and the listener, on top of the music catalog.

Pure like `catalog`: one seeded `random.Random` stream for attributes, ids drawn through the caller's id
factory (its own stream, so the music catalog's ids never shift when this module changes). No wall clock:
the listener's "now" is `CATALOG_AS_OF` plus a seed-derived time of day.

Sizes at scale 1.0 (request-light on purpose): ~30 playlists of 20-300 items, ~20 categories, a handful of
shows, and a listener with ~50 saved tracks, ~30 followed artists, ~10 playlists and ~200 plays over the last
30 days.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from offline.spotify_twin.rows import (
    ITEM_EPISODE,
    ITEM_LOCAL,
    ITEM_REMOVED,
    ITEM_TRACK,
    TIME_RANGES,
    AlbumRow,
    ArtistRow,
    CategoryRow,
    EpisodeRow,
    Image,
    ListenerRow,
    LocalTrackRow,
    PlaylistItemRow,
    PlaylistRow,
    PlayRow,
    SavedTrackRow,
    ShowRow,
    TrackRow,
    UserRow,
)
from offline.spotify_twin.vocabulary import (
    ADJECTIVES,
    BASE62,
    CATALOG_AS_OF,
    CATEGORIES,
    CATEGORY_ICON_HOST,
    CATEGORY_ID_PREFIX,
    EDITORIAL_DESCRIPTIONS,
    EDITORIAL_IMAGE_PREFIX,
    EDITORIAL_PLAYLIST_PATTERNS,
    EPISODE_PATTERNS,
    FIRST_NAMES,
    ID_LENGTH,
    IMAGE_HOST,
    LAST_NAMES,
    MARKETS,
    MOSAIC_HOST,
    NEW_USER_ID_ALPHABET,
    PERSONAL_DESCRIPTIONS,
    PERSONAL_PLAYLIST_PATTERNS,
    SHOW_IMAGE_PREFIXES,
    SHOW_PATTERNS,
    SINGULAR_NOUNS,
    SPOTIFY_USER_ID,
    USER_IMAGE_PREFIXES,
)

BASE_PLAYLISTS = 30
MIN_PLAYLISTS = 6
BASE_CATEGORIES = 20
BASE_SHOWS = 5
BASE_OWNERS = 8
BASE_LISTENER_PLAYLISTS = 10
BASE_SAVED_TRACKS = 50
BASE_FOLLOWED_ARTISTS = 30
BASE_PLAYS = 200
BASE_TOP_ITEMS = 50
PLAYLIST_MIN_ITEMS = 20
PLAYLIST_MAX_ITEMS = 300
LONG_PLAYLIST_MIN_ITEMS = 110  # the first playlist always needs a second page beyond the embedded 100
PLAY_WINDOW = timedelta(days=30)
ALLOWLISTED_USERS = 5  # February 2026 migration guide: at most 5 users per Development Mode app
DUPLICATE_SHARE = 0.01  # playlist positions repeating a track already in the playlist


@dataclass(frozen=True)
class SocialRows:
    users: tuple[UserRow, ...]  # playlist owners and the listeners' own users, "spotify" first
    shows: tuple[ShowRow, ...]
    episodes: tuple[EpisodeRow, ...]
    playlists: tuple[PlaylistRow, ...]
    categories: tuple[CategoryRow, ...]
    listeners: tuple[ListenerRow, ...]  # the allow-listed users, in token order; [0] is the original listener


def build_social(
    seed: int,
    scale: float,
    artists: Sequence[ArtistRow],
    albums: Sequence[AlbumRow],
    tracks: Sequence[TrackRow],
    new_id: Callable[[], str],
    new_user_id: Callable[[], str],
) -> SocialRows:
    """The social rows with ALLOWLISTED_USERS listeners. The allow-listed users after the first come from their
    own random streams and ids (`new_user_id`), so the first listener and everything before stay as they were."""
    builder = _SocialBuilder(seed, scale, artists, albums, tracks, new_id)
    social = builder.build()
    extra = [
        _SocialBuilder(seed, scale, artists, albums, tracks, new_user_id, stream=f"allowlisted:{n}", now=builder.now)
        for n in range(1, ALLOWLISTED_USERS)
    ]
    return _with_allowlisted_users(social, extra)


def _with_allowlisted_users(social: SocialRows, builders: Sequence[_SocialBuilder]) -> SocialRows:
    """Add a listener per builder. Allow-listed user n (n >= 1) owns 2-4 playlists: the first collaborative with
    user n-1, who joined it, the others not collaborative; user n-1 also follows user n's second playlist (followed,
    not owned: no items for it in development mode), and the last user follows the second user's. Each also
    follows the editorial playlist and 1-3 others."""
    first = social.listeners[0]
    users = [b._user(new_style=True) for b in builders]
    everyone = [first.user.id, *(u.id for u in users)]
    owners = [u.id for u in social.users if u.id not in (SPOTIFY_USER_ID, first.user.id)]
    playlists = list(social.playlists)
    owned: list[list[str]] = []
    for n, (builder, user) in enumerate(zip(builders, users, strict=True), start=1):
        ids = [builder.new_id() for _ in range(builder.rng.randint(2, 4))]
        owned.append(ids)
        for k, playlist_id in enumerate(ids):
            # Index past 0: only the catalog's first playlist is forced to hold every kind of item.
            playlists.append(builder._playlist(
                len(playlists), playlist_id, user.id, owners, social.episodes, social.categories, ids,
                collaborators=[everyone[n - 1]] if k == 0 else [],
            ))
    editorial = social.playlists[0].id
    shared = [p.id for p in social.playlists[1:] if p.owner_id != first.user.id]
    listeners = [replace(first, playlist_ids=(*first.playlist_ids, owned[0][0], owned[0][1]))]
    for n, (builder, user) in enumerate(zip(builders, users, strict=True), start=1):
        # The next user's collaborative and second playlist; the last user: the first extra user's second one.
        joined = owned[n][:2] if n < len(owned) else [owned[0][1]]
        listeners.append(builder._listener_rows(
            user, playlists, owned[n - 1], shared, builder.rng.randint(1, 3), [editorial, *joined]
        ))
    for listener in listeners:
        playlists = _join_collaborations(playlists, listener)
    return replace(
        social, users=(*social.users, *users), playlists=tuple(playlists), listeners=tuple(listeners)
    )


def _join_collaborations(playlists: Sequence[PlaylistRow], listener: ListenerRow) -> list[PlaylistRow]:
    """A listener following someone else's collaborative playlist has joined it: a collaborator."""
    followed = set(listener.playlist_ids)
    me = listener.user.id
    return [
        replace(p, collaborator_ids=(*p.collaborator_ids, me))
        if p.collaborative and p.id in followed and p.owner_id != me and me not in p.collaborator_ids
        else p
        for p in playlists
    ]


def _scaled(base: int, scale: float, minimum: int) -> int:
    return max(minimum, round(base * scale))


class _SocialBuilder:
    def __init__(
        self,
        seed: int,
        scale: float,
        artists: Sequence[ArtistRow],
        albums: Sequence[AlbumRow],
        tracks: Sequence[TrackRow],
        new_id: Callable[[], str],
        *,
        stream: str = "social",
        now: datetime | None = None,
    ) -> None:
        self.scale = scale
        self.artists = artists
        self.albums = albums
        self.tracks = tracks
        self.new_id = new_id
        self.rng = random.Random(f"spotify-twin:{seed}:{stream}")
        self.now = now or datetime.combine(CATALOG_AS_OF, time(), UTC) + timedelta(
            seconds=self.rng.randint(8 * 3600, 20 * 3600)
        )
        self.tracks_by_genre: dict[str, list[str]] = {}
        genres_by_artist = {a.id: a.genres for a in artists}
        for track in tracks:
            for genre in {g for a in track.artist_ids for g in genres_by_artist[a]}:
                self.tracks_by_genre.setdefault(genre, []).append(track.id)
        self.tracks_by_artist: dict[str, list[str]] = {}
        for track in tracks:
            for artist_id in track.artist_ids:
                self.tracks_by_artist.setdefault(artist_id, []).append(track.id)

    def build(self) -> SocialRows:
        owners = self._owners(_scaled(BASE_OWNERS, self.scale, 3))
        listener_user = self._user(new_style=True)
        shows, episodes = self._shows(_scaled(BASE_SHOWS, self.scale, 2))
        categories = self._categories(min(len(CATEGORIES), _scaled(BASE_CATEGORIES, self.scale, 5)))
        playlist_count = _scaled(BASE_PLAYLISTS, self.scale, MIN_PLAYLISTS)
        listener_count = min(playlist_count - 2, _scaled(BASE_LISTENER_PLAYLISTS, self.scale, 3))
        owned_count = math.ceil(listener_count * 0.6)
        playlists = self._playlists(playlist_count, owned_count, owners, listener_user, episodes, categories)
        listener = self._listener(listener_user, playlists, owned_count, listener_count)
        users = (owners[0], listener_user, *owners[1:])
        return SocialRows(users, tuple(shows), tuple(episodes), tuple(playlists), tuple(categories), (listener,))

    # ---- small values ---------------------------------------------------------------------------------

    def _hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _images(self, prefixes: Sequence[tuple[str, int]]) -> tuple[Image, ...]:
        suffix = self._hex(96)
        return tuple(Image(f"{IMAGE_HOST}{prefix}{suffix}", size, size) for prefix, size in prefixes)

    def _person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def _words(self, pattern: str, **extra: str) -> str:
        noun, noun2 = self.rng.sample(SINGULAR_NOUNS, 2)
        adj = self.rng.choice(ADJECTIVES)
        values = {"adj": adj.lower(), "Adj": adj, "noun": noun.lower(), "Noun": noun, "Noun2": noun2, **extra}
        return pattern.format(**values)

    def _moment_between(self, start: datetime, end: datetime) -> datetime:
        seconds = max(1, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randrange(seconds))

    # ---- users --------------------------------------------------------------------------------------------

    def _user(self, *, new_style: bool) -> UserRow:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        if new_style:  # accounts made since ~2016 get 28 random characters starting with "31"
            user_id = "31" + "".join(self.rng.choice(NEW_USER_ID_ALPHABET) for _ in range(26))
        else:
            user_id = f"{first.lower()}{last.lower()}{self.rng.randint(1, 999)}"
        display_name: str | None = f"{first} {last}" if self.rng.random() < 0.85 else None
        has_picture = self.rng.random() < 0.6
        return UserRow(
            id=user_id,
            display_name=display_name,
            followers=int(10 ** self.rng.uniform(0, 3)),
            images=self._images(USER_IMAGE_PREFIXES) if has_picture else (),
        )

    def _owners(self, count: int) -> list[UserRow]:
        spotify = UserRow(SPOTIFY_USER_ID, "Spotify", 5_000_000 + self.rng.randint(0, 999_999), ())
        owners = [spotify]
        seen = {SPOTIFY_USER_ID}
        while len(owners) < count + 1:
            user = self._user(new_style=self.rng.random() < 0.5)
            if user.id not in seen:
                seen.add(user.id)
                owners.append(user)
        # At least one owner without a display name: Spotify sends null then.
        owners[-1] = UserRow(owners[-1].id, None, owners[-1].followers, owners[-1].images)
        return owners

    # ---- podcasts ------------------------------------------------------------------------------------------

    def _shows(self, count: int) -> tuple[list[ShowRow], list[EpisodeRow]]:
        shows: list[ShowRow] = []
        episodes: list[EpisodeRow] = []
        for _ in range(count):
            show_id = self.new_id()
            languages = self.rng.choice((("en",), ("en",), ("en", "es"), ("de",), ("sv",)))
            explicit = self.rng.random() < 0.3
            images = self._images(SHOW_IMAGE_PREFIXES)
            host = self._person()
            episode_rows = []
            released = CATALOG_AS_OF - timedelta(days=self.rng.randint(0, 20))
            for number in range(self.rng.randint(4, 10), 0, -1):
                episode_rows.append(
                    EpisodeRow(
                        id=self.new_id(),
                        show_id=show_id,
                        name=self._words(self.rng.choice(EPISODE_PATTERNS), n=str(number), person=self._person()),
                        description=f"{host} talks {self.rng.choice(SINGULAR_NOUNS).lower()}s, "
                        f"{self.rng.choice(SINGULAR_NOUNS).lower()}s and everything in between.",
                        duration_ms=self.rng.randint(10 * 60_000, 95 * 60_000),
                        explicit=explicit,
                        release_date=released,
                        languages=languages,
                        images=images,
                    )
                )
                released -= timedelta(days=self.rng.randint(5, 16))
            markets = MARKETS if self.rng.random() < 0.7 else tuple(sorted(self.rng.sample(MARKETS, 30)))
            shows.append(
                ShowRow(
                    id=show_id,
                    name=self._words(self.rng.choice(SHOW_PATTERNS)),
                    publisher=host,
                    description=f"A weekly show hosted by {host}.",
                    languages=languages,
                    explicit=explicit,
                    images=images,
                    available_markets=markets,
                    episode_ids=tuple(e.id for e in episode_rows),
                )
            )
            episodes.extend(episode_rows)
        return shows, episodes

    # ---- categories ---------------------------------------------------------------------------------------

    def _categories(self, count: int) -> list[CategoryRow]:
        categories = []
        for fixed_id, name in CATEGORIES[:count]:
            if fixed_id is not None:
                category_id = fixed_id
            else:
                tail = "".join(self.rng.choice(BASE62) for _ in range(ID_LENGTH - len(CATEGORY_ID_PREFIX)))
                category_id = CATEGORY_ID_PREFIX + tail
            slug = name.lower().replace("/", "-").replace(" & ", "-").replace(" ", "-")
            if self.rng.random() < 0.8:
                icon = Image(f"{CATEGORY_ICON_HOST}media/derived/{slug}-274x274_{self._hex(128)}_default.jpg", 274, 274)
            else:  # older icons come without a size
                icon = Image(f"{CATEGORY_ICON_HOST}images/{self._hex(128)}.jpeg", None, None)
            categories.append(CategoryRow(category_id, name, (icon,)))
        return categories

    # ---- playlists ------------------------------------------------------------------------------------------

    def _playlists(
        self,
        count: int,
        owned_by_listener: int,
        owners: Sequence[UserRow],
        listener: UserRow,
        episodes: Sequence[EpisodeRow],
        categories: Sequence[CategoryRow],
    ) -> list[PlaylistRow]:
        # Index 0 is a long editorial playlist; the listener owns indexes 1..owned; the rest are mixed.
        owner_ids = [SPOTIFY_USER_ID] + [listener.id] * owned_by_listener
        others = [o.id for o in owners[1:]]
        while len(owner_ids) < count:
            owner_ids.append(SPOTIFY_USER_ID if self.rng.random() < 0.5 else self.rng.choice(others))
        ids = [self.new_id() for _ in range(count)]
        return [
            self._playlist(index, playlist_id, owner_id, others, episodes, categories, ids)
            for index, (playlist_id, owner_id) in enumerate(zip(ids, owner_ids, strict=True))
        ]

    def _playlist(
        self,
        index: int,
        playlist_id: str,
        owner_id: str,
        others: Sequence[str],
        episodes: Sequence[EpisodeRow],
        categories: Sequence[CategoryRow],
        ids: Sequence[str],
        collaborators: Sequence[str] | None = None,
    ) -> PlaylistRow:
        """One playlist; `collaborators` given makes it collaborative with them, None rolls whether it is."""
        editorial = owner_id == SPOTIFY_USER_ID
        genre = self.rng.choice(sorted(self.tracks_by_genre))
        if collaborators is None:
            collaborative = not editorial and self.rng.random() < 0.2
        else:
            collaborative = bool(collaborators)
        public = not collaborative and (editorial or self.rng.random() < 0.7)
        low = LONG_PLAYLIST_MIN_ITEMS if index == 0 else PLAYLIST_MIN_ITEMS
        size = self.rng.randint(low, max(low, round(PLAYLIST_MAX_ITEMS * self.scale)))
        if collaborators is None:
            collaborators = self.rng.sample(others, min(2, len(others))) if collaborative else []
        adders = [owner_id, *collaborators]
        items = self._items(index, size, genre, editorial, adders, episodes)
        return PlaylistRow(
            id=playlist_id,
            name=self._playlist_name(editorial, genre),
            description=self._playlist_description(editorial, genre, ids),
            owner_id=owner_id,
            public=public,
            collaborative=collaborative,
            followers=int(10 ** self.rng.uniform(4, 7)) if editorial else self.rng.randint(0, 60),
            snapshot_id=base64.b64encode(self.rng.getrandbits(192).to_bytes(24, "big")).decode("ascii"),
            images=self._playlist_images(editorial),
            items=items,
            category_ids=(
                tuple(c.id for c in self.rng.sample(list(categories), self.rng.randint(1, 2))) if editorial else ()
            ),
            collaborator_ids=tuple(collaborators),
        )

    def _playlist_name(self, editorial: bool, genre: str) -> str:
        if editorial:
            return self._words(self.rng.choice(EDITORIAL_PLAYLIST_PATTERNS), Genre=genre.title(), genre=genre)
        year = str(CATALOG_AS_OF.year - self.rng.randint(0, 6))
        return self._words(self.rng.choice(PERSONAL_PLAYLIST_PATTERNS), genre=genre, year=year)

    def _playlist_description(self, editorial: bool, genre: str, playlist_ids: Sequence[str]) -> str:
        if editorial:
            pattern = self.rng.choice(EDITORIAL_DESCRIPTIONS)
            return pattern.format(genre=genre, artist=self.rng.choice(self.artists).name,
                                  more=self.rng.choice(playlist_ids))
        return self.rng.choice(PERSONAL_DESCRIPTIONS).format(genre=genre)

    def _playlist_images(self, editorial: bool) -> tuple[Image, ...]:
        if editorial:
            return (Image(f"{IMAGE_HOST}{EDITORIAL_IMAGE_PREFIX}{self._hex(96)}", None, None),)
        if self.rng.random() < 0.1:
            return ()
        covers = "".join(f"ab67616d00001e02{self._hex(96)}" for _ in range(4))
        return tuple(Image(f"{MOSAIC_HOST}{size}/{covers}", size, size) for size in (640, 300, 60))

    def _items(
        self,
        index: int,
        size: int,
        genre: str,
        editorial: bool,
        adders: Sequence[str],
        episodes: Sequence[EpisodeRow],
    ) -> tuple[PlaylistItemRow, ...]:
        # Distinct tracks, the playlist's genre first; a rare deliberate repeat, as real playlists have.
        pool = list(self.tracks_by_genre.get(genre, ()))
        self.rng.shuffle(pool)
        if len(pool) < size:
            in_pool = set(pool)
            fill = self.rng.sample(list(self.tracks), min(len(self.tracks), size + 10))
            pool += [t.id for t in fill if t.id not in in_pool]
        fresh = iter(pool)
        used: list[str] = []
        # The first playlist holds every kind of item on both of its pages so clients meet them all.
        forced = {
            2: ITEM_EPISODE, 4: ITEM_LOCAL, 6: ITEM_REMOVED, 100: ITEM_LOCAL, 101: ITEM_EPISODE, 102: ITEM_REMOVED,
        }
        created = self.now - timedelta(days=self.rng.randint(60, 60 if editorial else 2000))
        moments = sorted(self._moment_between(created, self.now) for _ in range(size))
        items = []
        for position, added_at in enumerate(moments):
            kind = forced.get(position) if index == 0 else None
            if kind is None:
                roll = self.rng.random()
                kind = (
                    ITEM_LOCAL if roll < 0.03 and not editorial
                    else ITEM_REMOVED if roll < 0.06
                    else ITEM_EPISODE if roll < 0.09 and episodes
                    else ITEM_TRACK
                )
            # Spotify-made playlists name nobody as the adder: its user object has an empty id.
            added_by = "" if editorial else self.rng.choice(adders)
            if kind == ITEM_TRACK:
                repeat = bool(used) and self.rng.random() < DUPLICATE_SHARE
                track_id = self.rng.choice(used) if repeat else next(fresh, None) or self.rng.choice(pool)
                used.append(track_id)
                items.append(PlaylistItemRow(kind, track_id, added_at, added_by))
            elif kind == ITEM_EPISODE:
                items.append(PlaylistItemRow(kind, self.rng.choice(episodes).id, added_at, added_by))
            elif kind == ITEM_LOCAL:
                local = LocalTrackRow(
                    name=self._words("{Adj} {Noun}"),
                    artist=self._person(),
                    album=self._words("{Noun} Demos"),
                    duration_ms=self.rng.randint(90_000, 400_000),
                )
                items.append(PlaylistItemRow(kind, None, added_at, added_by, local))
            else:
                items.append(PlaylistItemRow(ITEM_REMOVED, None, added_at, added_by))
        return tuple(items)

    # ---- the listener -------------------------------------------------------------------------------------

    def _listener(
        self, user: UserRow, playlists: Sequence[PlaylistRow], owned: int, total: int
    ) -> ListenerRow:
        own = [p.id for p in playlists[1 : owned + 1]]
        pool = [p.id for p in playlists[owned + 1 :]]
        return self._listener_rows(user, playlists, own, pool, total - owned - 1, [playlists[0].id])

    def _listener_rows(
        self,
        user: UserRow,
        playlists: Sequence[PlaylistRow],
        own: Sequence[str],
        follow_pool: Sequence[str],
        follow_count: int,
        always_followed: Sequence[str],
    ) -> ListenerRow:
        """A listener owning `own`, following `always_followed` and `follow_count` playlists of `follow_pool`."""
        rng = self.rng
        playable = [a for a in self.artists if a.id in self.tracks_by_artist]
        favorite_count = min(len(playable), _scaled(80, self.scale, 15))
        favorites = [a.id for a in rng.sample(sorted(playable, key=lambda a: -a.popularity)[: favorite_count * 2],
                                              favorite_count)]
        top_count = min(len(favorites), _scaled(BASE_TOP_ITEMS, self.scale, 10))
        track_pool = sorted({t for a in favorites for t in self.tracks_by_artist[a]})
        top_track_count = min(len(track_pool), _scaled(BASE_TOP_ITEMS, self.scale, 10))
        top_artists = []
        top_tracks = []
        for time_range in TIME_RANGES:
            top_artists.append((time_range, tuple(rng.sample(favorites, top_count))))
            top_tracks.append((time_range, tuple(rng.sample(track_pool, top_track_count))))

        saved_count = min(len(self.tracks), _scaled(BASE_SAVED_TRACKS, self.scale, 15))
        saved_ids = rng.sample(track_pool, min(len(track_pool), saved_count * 2 // 3))
        saved_ids += [t.id for t in rng.sample(list(self.tracks), saved_count - len(saved_ids))]
        saved_seconds = sorted(rng.sample(range(1, 1000 * 86400), len(saved_ids)))
        saved = tuple(
            SavedTrackRow(track_id, (self.now - timedelta(seconds=s)).replace(microsecond=0))
            for track_id, s in zip(dict.fromkeys(saved_ids), saved_seconds, strict=False)
        )

        followed_count = min(len(self.artists), _scaled(BASE_FOLLOWED_ARTISTS, self.scale, 10))
        followed = set(favorites[: followed_count * 2 // 3])
        while len(followed) < followed_count:
            followed.add(rng.choice(self.artists).id)

        followed_playlists = rng.sample(list(follow_pool), min(len(follow_pool), follow_count))
        playlist_ids = [*own, *always_followed, *followed_playlists]
        rng.shuffle(playlist_ids)

        plays = self._plays(
            _scaled(BASE_PLAYS, self.scale, 50),
            [t for _, ids in top_tracks for t in ids],
            [s.track_id for s in saved],
            [p for p in playlists if p.id in set(playlist_ids)],
        )
        return ListenerRow(
            user=user,
            email=f"{(user.display_name or 'listener').lower().replace(' ', '.')}@example.com",
            country=rng.choice(("SE", "US", "GB", "DE", "NL", "BR", "JP")),
            product="premium",
            now=self.now,
            top_artist_ids=tuple(top_artists),
            top_track_ids=tuple(top_tracks),
            plays=plays,
            saved_tracks=saved,
            followed_artist_ids=tuple(sorted(followed)),
            playlist_ids=tuple(playlist_ids),
        )

    def _plays(
        self, count: int, top: Sequence[str], saved: Sequence[str], playlists: Sequence[PlaylistRow]
    ) -> tuple[PlayRow, ...]:
        rng = self.rng
        album_of: Mapping[str, str] = {t.id: t.album_id for t in self.tracks}
        artists_of: Mapping[str, tuple[str, ...]] = {t.id: t.artist_ids for t in self.tracks}
        window_ms = int(PLAY_WINDOW.total_seconds() * 1000)
        offsets = sorted(rng.sample(range(1, window_ms), count))  # distinct: played_at is the cursor
        plays = []
        for offset in offsets:
            played_at = self.now - timedelta(milliseconds=offset)
            roll = rng.random()
            context: tuple[str, str] | None
            playlist_tracks = []
            if roll < 0.2 and playlists:
                playlist = rng.choice(playlists)
                playlist_tracks = [i.ref_id for i in playlist.items if i.kind == ITEM_TRACK and i.ref_id]
            if playlist_tracks:
                track_id = rng.choice(playlist_tracks)
                context = ("playlist", playlist.id)
            else:
                track_id = rng.choice(saved) if roll < 0.45 else rng.choice(top)
                context_roll = rng.random()
                if context_roll < 0.55:
                    context = ("album", album_of[track_id])
                elif context_roll < 0.8:
                    context = ("artist", artists_of[track_id][0])
                else:
                    context = None  # played from search or a radio: Spotify sends context null
            plays.append(PlayRow(track_id, played_at, context))
        return tuple(plays)

