"""The allow-listed users' activity moving with the calendar. Pure.

The base catalog stands at the end of `CATALOG_AS_OF`'s listening (a seed-derived time of that day). Each later
day adds, per user, from a random stream seeded by (seed, day, user) alone, so a rerun of a date sees the same
data and consecutive days only add to each other:

- plays: 15-45, in one to three listening sessions between 06:00 and 23:30 UTC; a play's `played_at` is when it
  ended (the previous play's end, plus its duration, plus a short gap), unique per user to the millisecond (it is
  the recently-played cursor). Tracks come from the user's top tracks, saved tracks, the releases of the last
  14 days, and (with the playlist as context) the playlists it owns or follows;
- 0-3 saved tracks among that day's plays (`added_at` within the day, shortly after the play);
- now and then (one day in four) a newly followed artist among that day's plays;
- on about one day in six, each playlist an allow-listed user owns gains 1-3 tracks at its end (added that day
  by the owner or a collaborator) and a new `snapshot_id`, as Spotify changes it with every edit.

A day before `CATALOG_AS_OF` shows the base activity cut at that day's end. Top items do not move (Spotify
recomputes them on its own schedule); new releases are the catalog's (`catalog.release_day`).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from offline.spotify_twin.rows import (
    ITEM_TRACK,
    ListenerRow,
    PlaylistItemRow,
    PlaylistRow,
    PlayRow,
    SavedTrackRow,
    TrackRow,
)

RECENT_RELEASE_DAYS = 14  # as search's tag:new
SESSION_START = time(6, 0)
SESSION_LATEST_END = time(23, 30)
FOLLOW_CHANCE = 0.25
PLAY_S = 240  # a play plus the gap after it, on average
PLAYLIST_EDIT_CHANCE = 1 / 6


def end_of(day: date) -> datetime:
    """The last millisecond of `day` in UTC: the twin's "now" when it stands at `day`."""
    return datetime.combine(day, time(23, 59, 59, 999_000), UTC)


def days_after(start: date, end: date) -> list[date]:
    """The days after `start` up to and including `end`."""
    return [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]


def cut_at(listener: ListenerRow, moment: datetime) -> ListenerRow:
    """`listener` as it stood at `moment`: later plays and saves not yet there."""
    return replace(
        listener,
        now=moment,
        plays=tuple(p for p in listener.plays if p.played_at <= moment),
        saved_tracks=tuple(s for s in listener.saved_tracks if s.added_at <= moment),
    )


def advance(
    seed: int,
    listeners: Sequence[ListenerRow],
    days: Sequence[date],
    track_by_id: Mapping[str, TrackRow],
    playlist_by_id: Mapping[str, PlaylistRow],
    released_on: Callable[[date], Sequence[str]],
) -> tuple[ListenerRow, ...]:
    """Each listener after the activity of `days` (in order). `released_on(day)` gives that day's new track ids."""
    result = []
    for index, listener in enumerate(listeners):
        plays = list(listener.plays)  # newest first
        saved = list(listener.saved_tracks)  # newest first
        followed = set(listener.followed_artist_ids)
        contexts = _playlist_tracks(listener, playlist_by_id)
        favorites = sorted({t for _, ids in listener.top_track_ids for t in ids})
        for day in days:
            rng = random.Random(f"spotify-twin:{seed}:day:{day.isoformat()}:user:{index}")
            recent = [t for n in range(RECENT_RELEASE_DAYS) for t in released_on(day - timedelta(days=n))]
            library = sorted({s.track_id for s in saved})
            todays = _plays(rng, day, favorites, library, recent, contexts, track_by_id)
            plays[:0] = reversed(todays)
            saved[:0] = reversed(_saves(rng, day, todays, {s.track_id for s in saved}))
            new_artist = _follow(rng, todays, followed, track_by_id)
            if new_artist is not None:
                followed.add(new_artist)
        result.append(
            replace(
                listener, now=end_of(days[-1]) if days else listener.now, plays=tuple(plays), saved_tracks=tuple(saved),
                followed_artist_ids=tuple(sorted(followed)),
            )
        )
    return tuple(result)


def _playlist_tracks(listener: ListenerRow, playlist_by_id: Mapping[str, PlaylistRow]) -> list[tuple[str, list[str]]]:
    found = []
    for playlist_id in listener.playlist_ids:
        tracks = [i.ref_id for i in playlist_by_id[playlist_id].items if i.kind == ITEM_TRACK and i.ref_id]
        if tracks:
            found.append((playlist_id, tracks))
    return found


def _plays(
    rng: random.Random,
    day: date,
    favorites: Sequence[str],
    library: Sequence[str],
    recent: Sequence[str],
    contexts: Sequence[tuple[str, list[str]]],
    track_by_id: Mapping[str, TrackRow],
) -> list[PlayRow]:
    """One day's plays, oldest first."""
    total = rng.randint(15, 45)
    session_count = rng.randint(1, 3)
    cuts = sorted(rng.sample(range(1, total), session_count - 1))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    latest = datetime.combine(day, SESSION_LATEST_END, UTC)
    first = datetime.combine(day, SESSION_START, UTC)
    # A session starts early enough for its plays to fit before the day's last one (about 4 minutes a play).
    sessions = sorted(
        (first + timedelta(seconds=rng.randrange(max(1, int((latest - first).total_seconds()) - share * PLAY_S))), share)
        for share in shares
    )
    plays: list[PlayRow] = []
    for start, share in sessions:
        moment = max(start, plays[-1].played_at + timedelta(milliseconds=1)) if plays else start
        playlist = rng.choice(contexts) if contexts and rng.random() < 0.3 else None
        for _ in range(share):
            track_id, context = _pick(rng, favorites, library, recent, playlist, track_by_id)
            moment += timedelta(milliseconds=track_by_id[track_id].duration_ms + rng.randint(200, 20_000))
            if moment > latest:
                break
            plays.append(PlayRow(track_id, moment, context))
    return plays


def _pick(
    rng: random.Random,
    favorites: Sequence[str],
    library: Sequence[str],
    recent: Sequence[str],
    playlist: tuple[str, list[str]] | None,
    track_by_id: Mapping[str, TrackRow],
) -> tuple[str, tuple[str, str] | None]:
    if playlist is not None:
        return rng.choice(playlist[1]), ("playlist", playlist[0])
    roll = rng.random()
    pool = recent if roll < 0.15 and recent else library if roll < 0.5 and library else favorites
    track_id = rng.choice(pool)
    track = track_by_id[track_id]
    context_roll = rng.random()
    if context_roll < 0.55:
        return track_id, ("album", track.album_id)
    if context_roll < 0.8:
        return track_id, ("artist", track.artist_ids[0])
    return track_id, None  # played from search or a radio: Spotify sends context null


def _saves(rng: random.Random, day: date, plays: Sequence[PlayRow], saved: set[str]) -> list[SavedTrackRow]:
    """Up to 3 of the day's plays saved a few minutes after they ended, oldest first."""
    candidates = list({p.track_id: p for p in plays if p.track_id not in saved}.values())
    chosen = rng.sample(candidates, min(len(candidates), rng.randint(0, 3)))
    last = end_of(day).replace(microsecond=0)
    moments: dict[str, datetime] = {}
    for play in chosen:
        moment = min(last, (play.played_at + timedelta(seconds=rng.randint(5, 900))).replace(microsecond=0))
        while moment in moments.values():  # distinct, so "newest first" is a total order
            moment -= timedelta(seconds=1)
        moments[play.track_id] = moment
    return [SavedTrackRow(track_id, moment) for track_id, moment in sorted(moments.items(), key=lambda kv: kv[1])]


def _follow(
    rng: random.Random, plays: Sequence[PlayRow], followed: set[str], track_by_id: Mapping[str, TrackRow]
) -> str | None:
    if rng.random() >= FOLLOW_CHANCE:
        return None
    candidates = sorted({a for p in plays for a in track_by_id[p.track_id].artist_ids} - followed)
    return rng.choice(candidates) if candidates else None


def grow_playlists(
    seed: int, playlists: Sequence[PlaylistRow], listeners: Sequence[ListenerRow], days: Sequence[date]
) -> list[PlaylistRow]:
    """`playlists` after the allow-listed users' edits of `days`: tracks added at the end, a new snapshot_id."""
    owners = {listener.user.id: listener for listener in listeners}
    result = []
    for playlist in playlists:
        owner = owners.get(playlist.owner_id)
        if owner is not None:
            pool = sorted({t for _, ids in owner.top_track_ids for t in ids})
            for day in days:
                playlist = _edit(random.Random(f"spotify-twin:{seed}:day:{day.isoformat()}:playlist:{playlist.id}"),
                                 playlist, day, pool)
        result.append(playlist)
    return result


def _edit(rng: random.Random, playlist: PlaylistRow, day: date, pool: Sequence[str]) -> PlaylistRow:
    if rng.random() >= PLAYLIST_EDIT_CHANCE:
        return playlist
    editors = [playlist.owner_id, *playlist.collaborator_ids]
    start = datetime.combine(day, time(8, 0), UTC)
    moments = sorted(start + timedelta(seconds=rng.randrange(14 * 3600)) for _ in range(rng.randint(1, 3)))
    added = tuple(PlaylistItemRow(ITEM_TRACK, rng.choice(pool), moment, rng.choice(editors)) for moment in moments)
    snapshot = base64.b64encode(rng.getrandbits(192).to_bytes(24, "big")).decode("ascii")
    return replace(playlist, items=(*playlist.items, *added), snapshot_id=snapshot)
