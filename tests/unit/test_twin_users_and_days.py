"""Unit tests of the allow-listed users, refresh-token rotation, the calendar and the per-run truth (pure parts)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from offline.spotify_twin.auth import Secret, TokenStore, fingerprint
from offline.spotify_twin.catalog import CATALOG_AS_OF, build_catalog
from offline.spotify_twin.catalog_social import ALLOWLISTED_USERS
from offline.spotify_twin.daily import end_of
from offline.spotify_twin.search import search_ids
from offline.spotify_twin.truth import export_truth, run_record_path, run_records, served_so_far, write_run_record

SEED, SCALE = 42, 0.3
CLIENT, SECRET = "cid", "s3cret"
DAY_1 = CATALOG_AS_OF + timedelta(days=4)
DAY_2 = DAY_1 + timedelta(days=1)


def _grant(store: TokenStore, refresh_token: str) -> tuple[int, dict[str, object]]:
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    response = store.token_endpoint(f"Basic {basic}", f"grant_type=refresh_token&refresh_token={refresh_token}".encode())
    return response.status, response.body


# ---- the allow-listed users -------------------------------------------------------------------------------------


def test_when_built_then_five_allowlisted_users_each_own_collaborate_on_and_follow_playlists() -> None:
    catalog = build_catalog(SEED, SCALE)

    assert len(catalog.listeners) == ALLOWLISTED_USERS == 5
    assert len({listener.user.id for listener in catalog.listeners}) == 5
    for n, listener in enumerate(catalog.listeners):
        me = listener.user.id
        playlists = [catalog.playlist_by_id[p] for p in listener.playlist_ids]
        owned = [p for p in playlists if p.owner_id == me]
        joined = [p for p in playlists if p.owner_id != me and me in p.collaborator_ids]
        others = [p for p in playlists if p.owner_id not in (me, "spotify") and me not in p.collaborator_ids]
        assert len(owned) >= 2 and others, n
        assert len(joined) == (1 if n < 4 else 0), n  # users 0-3 collaborate on the next user's playlist, user 4 on none
        assert all(p.collaborative for p in joined)
        assert listener.plays and listener.saved_tracks and listener.followed_artist_ids
        assert all(u in catalog.user_by_id for u in (p.owner_id for p in playlists))


def test_when_users_are_added_then_the_first_listener_keeps_its_own_data_plus_two_playlists() -> None:
    catalog = build_catalog(SEED, SCALE)
    first, second = catalog.listeners[:2]

    assert len(first.plays) == 60 and len(first.saved_tracks) == 15  # the sizes at this scale, as before
    assert len(first.playlist_ids) == 3 + 2
    assert [catalog.playlist_by_id[p].owner_id for p in first.playlist_ids[-2:]] == [second.user.id] * 2


# ---- refresh tokens: several users, rotation ------------------------------------------------------------------


def test_when_each_user_presents_its_token_then_the_grant_is_for_that_user() -> None:
    store = TokenStore(CLIENT, Secret(SECRET), refresh_tokens=[Secret("t-0"), Secret("t-1")])

    statuses = [_grant(store, token)[0] for token in ("t-0", "t-1", "t-2")]

    assert statuses == [200, 200, 400]
    assert [g.user for g in store.grants] == [0, 1, None]
    assert [g.outcome for g in store.grants] == ["ok", "ok", "invalid_grant"]
    assert store.grants[0].presented_sha256 == fingerprint("t-0") != "t-0"


def test_when_rotation_is_on_then_one_new_token_per_run_and_the_old_one_works_until_the_new_one_is_used() -> None:
    store = TokenStore(CLIENT, Secret(SECRET), refresh_tokens=[Secret("t-0")], rotate=True, rotation_seed=SEED)

    first = _grant(store, "t-0")[1]
    concurrent = _grant(store, "t-0")[1]  # another process of the same run, same old token
    rotated = str(first["refresh_token"])
    with_new = _grant(store, rotated)
    old_after = _grant(store, "t-0")
    new_again = _grant(store, rotated)

    assert concurrent["refresh_token"] == rotated != "t-0"
    assert with_new[0] == 200 and "refresh_token" not in with_new[1]  # once per run
    assert old_after[0] == 400 and old_after[1]["error"] == "invalid_grant"
    assert new_again[0] == 200
    assert [g.issued_sha256 for g in store.grants] == [fingerprint(rotated)] * 2 + [None] * 3


def test_when_rotation_is_repeated_in_another_run_then_the_new_token_is_the_same() -> None:
    def rotate_once(seed: int) -> object:
        store = TokenStore(CLIENT, Secret(SECRET), refresh_tokens=[Secret("t-0")], rotate=True, rotation_seed=seed)
        return _grant(store, "t-0")[1]["refresh_token"]

    assert rotate_once(SEED) == rotate_once(SEED) != rotate_once(SEED + 1)


def test_when_rotation_is_off_then_no_refresh_token_is_returned() -> None:
    store = TokenStore(CLIENT, Secret(SECRET), refresh_tokens=[Secret("t-0")])

    assert "refresh_token" not in _grant(store, "t-0")[1]
    assert "refresh_token" not in _grant(store, "t-0")[1]


# ---- the calendar -----------------------------------------------------------------------------------------------


def test_when_a_day_passes_then_each_user_has_that_days_plays_saves_and_the_past_unchanged() -> None:
    day_1 = build_catalog(SEED, SCALE, DAY_1)
    day_2 = build_catalog(SEED, SCALE, DAY_2)

    start, end = datetime.combine(DAY_2, datetime.min.time(), UTC), end_of(DAY_2)
    for before, after in zip(day_1.listeners, day_2.listeners, strict=True):
        new_plays = after.plays[: len(after.plays) - len(before.plays)]
        assert after.plays[len(new_plays):] == before.plays  # nothing of the past changes
        assert 15 <= len(new_plays) <= 45
        assert all(start <= p.played_at <= end for p in new_plays)
        stamps = [p.played_at for p in after.plays]
        assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)  # a cursor order
        new_saves = after.saved_tracks[: len(after.saved_tracks) - len(before.saved_tracks)]
        assert all(start <= s.added_at <= end for s in new_saves)
        assert after.saved_tracks[len(new_saves):] == before.saved_tracks
        assert set(before.followed_artist_ids) <= set(after.followed_artist_ids)
        assert after.now == end


def test_when_a_date_is_built_twice_then_the_same_data() -> None:
    first = export_truth(build_catalog(SEED, SCALE, DAY_2))
    build_catalog.__globals__["_catalog_as_of"].cache_clear()  # type: ignore[attr-defined]

    assert export_truth(build_catalog(SEED, SCALE, DAY_2)) == first


def test_when_days_pass_then_new_releases_appear_and_tag_new_finds_them() -> None:
    base = build_catalog(SEED, SCALE)
    later = build_catalog(SEED, SCALE, CATALOG_AS_OF + timedelta(days=10))

    new = [a for a in later.albums if a.id not in base.album_by_id]
    assert new and all(CATALOG_AS_OF < a.release_date <= later.as_of for a in new)
    assert {a.id for a in new} <= set(search_ids(later, "tag:new", "album"))
    assert later.new_release_ids[0] in {a.id for a in new}
    assert all(t in later.track_by_id for a in new for t in a.track_ids)


def test_when_as_of_is_before_the_catalog_day_then_later_activity_is_not_there_yet() -> None:
    early = build_catalog(SEED, SCALE, CATALOG_AS_OF - timedelta(days=10))

    for listener in early.listeners:
        assert all(p.played_at <= end_of(early.as_of) for p in listener.plays)
        assert all(s.added_at <= end_of(early.as_of) for s in listener.saved_tracks)


# ---- per-run truth ---------------------------------------------------------------------------------------------


def _record(as_of: date, tracks: list[str]) -> dict[str, object]:
    return {"run": {"as_of": as_of.isoformat()}, "served": {"tracks": tracks, "albums": []}}


def test_when_runs_of_one_date_write_their_truth_then_none_overwrites_another_and_the_union_adds_up(
    tmp_path: Path,
) -> None:
    first = run_record_path(tmp_path, DAY_1, "20261125T020000Z")
    write_run_record(_record(DAY_1, ["a", "b"]), first)
    again = run_record_path(tmp_path, DAY_1, "20261125T020000Z")  # same label: the name moves on
    write_run_record(_record(DAY_1, ["b", "c"]), again)
    write_run_record(_record(DAY_2, ["d"]), run_record_path(tmp_path, DAY_2, "20261126T020000Z"))

    assert first != again and first.exists() and again.exists()
    assert json.loads(first.read_text())["served"]["tracks"] == ["a", "b"]
    assert served_so_far(tmp_path, DAY_1)["tracks"] == {"a", "b", "c"}
    assert served_so_far(tmp_path)["tracks"] == {"a", "b", "c", "d"}
    assert len(run_records(tmp_path, DAY_2)) == 3
    assert not list(tmp_path.rglob("*.partial"))


@pytest.mark.parametrize("bad", ["2026-13-01", "soon"])
def test_when_the_truth_folder_holds_other_folders_then_they_are_skipped(tmp_path: Path, bad: str) -> None:
    (tmp_path / bad).mkdir()
    write_run_record(_record(DAY_1, ["a"]), run_record_path(tmp_path, DAY_1, "x"))

    assert served_so_far(tmp_path)["tracks"] == {"a"}


def test_when_writing_a_record_fails_then_no_partial_file_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = run_record_path(tmp_path, DAY_1, "x")

    def full_disk(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full_disk)  # the write itself went through; the rename fails
    with pytest.raises(OSError, match="No space"):
        write_run_record(_record(DAY_1, ["a"]), path)

    assert not path.exists() and not list(tmp_path.rglob("*.partial"))


def test_when_days_pass_then_some_owned_playlists_grow_at_their_end_with_a_new_snapshot_id() -> None:
    base = build_catalog(SEED, SCALE)
    later = build_catalog(SEED, SCALE, CATALOG_AS_OF + timedelta(days=10))
    owners = {listener.user.id for listener in base.listeners}

    changed = [p for p in later.playlists if p.snapshot_id != base.playlist_by_id[p.id].snapshot_id]
    assert changed and all(p.owner_id in owners for p in changed)  # only the allow-listed users edit
    for playlist in changed:
        before = base.playlist_by_id[playlist.id].items
        added = playlist.items[len(before):]
        assert playlist.items[: len(before)] == before and added
        assert all(CATALOG_AS_OF < i.added_at.date() <= later.as_of and i.ref_id in later.track_by_id for i in added)
        assert all(i.added_by in (playlist.owner_id, *playlist.collaborator_ids) for i in added)
    unchanged = [p for p in later.playlists if p not in changed]
    assert all(p.items == base.playlist_by_id[p.id].items for p in unchanged)
