"""Unit tests of the twin's synthetic catalog: determinism, size and realism."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from offline.spotify_twin.catalog import GENRES, MARKETS, Catalog, _CatalogBuilder, build_catalog
from offline.spotify_twin.errors import CatalogError
from offline.spotify_twin.truth import export_truth

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE62_ID = re.compile(r"[0-9A-Za-z]{22}")


def _fresh(seed: int, scale: float) -> Catalog:
    # Bypass build_catalog's cache so determinism is really re-derived.
    return _CatalogBuilder(seed, scale).build()


def test_when_same_seed_and_scale_then_catalog_is_identical() -> None:
    first, second = _fresh(42, 0.3), _fresh(42, 0.3)

    assert export_truth(first) == export_truth(second)
    assert first.albums == second.albums
    assert first.tracks == second.tracks


def test_when_built_in_another_process_with_other_hash_seed_then_ids_are_identical() -> None:
    code = (
        "import json; from offline.spotify_twin.catalog import build_catalog; from offline.spotify_twin.truth import export_truth; "
        "print(json.dumps(export_truth(build_catalog(42, 0.1))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env={"PYTHONHASHSEED": "123", "PATH": ""},
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout

    assert json.loads(out) == json.loads(json.dumps(export_truth(_fresh(42, 0.1))))


def test_when_seed_differs_then_ids_differ() -> None:
    first, second = _fresh(42, 0.1), _fresh(43, 0.1)

    first_ids = {a.id for a in first.artists} | {a.id for a in first.albums}
    second_ids = {a.id for a in second.artists} | {a.id for a in second.albums}
    assert not first_ids & second_ids


def test_when_scale_is_one_then_sizes_are_about_300_900_9000() -> None:
    catalog = build_catalog(42, 1.0)

    assert len(catalog.artists) == 300
    assert len(catalog.albums) == 900
    assert 8000 <= len(catalog.tracks) <= 10500
    assert len(catalog.new_release_ids) == 100


def test_when_scale_is_small_then_at_least_20_new_releases() -> None:
    catalog = build_catalog(42, 0.05)

    assert len(catalog.new_release_ids) == 20


def test_when_built_then_all_ids_are_unique_base62_22_chars() -> None:
    catalog = build_catalog(42, 1.0)
    ids = [a.id for a in catalog.artists] + [a.id for a in catalog.albums] + [t.id for t in catalog.tracks]

    assert all(BASE62_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_when_built_then_new_releases_are_the_newest_albums_newest_first() -> None:
    catalog = build_catalog(42, 1.0)
    dates = [catalog.album_by_id[a].release_date for a in catalog.new_release_ids]
    newest_other = max(a.release_date for a in catalog.albums if a.id not in set(catalog.new_release_ids))

    assert dates == sorted(dates, reverse=True)
    assert min(dates) >= newest_other


def test_when_built_then_some_albums_need_track_paging_and_one_is_a_new_release() -> None:
    catalog = build_catalog(42, 0.3)
    long_albums = [a for a in catalog.albums if a.total_tracks > 50]

    assert len(long_albums) >= 2
    assert any(catalog.album_by_id[a].total_tracks > 50 for a in catalog.new_release_ids)


def test_when_built_then_rows_are_consistent_with_each_other() -> None:
    catalog = build_catalog(42, 0.3)

    for album in catalog.albums:
        assert album.total_tracks == len(album.track_ids)
        assert 1 <= len(album.artist_ids) <= 3
        tracks = [catalog.track_by_id[t] for t in album.track_ids]
        assert all(t.album_id == album.id for t in tracks)
        positions = [(t.disc_number, t.track_number) for t in tracks]
        assert positions == sorted(positions)
        if album.album_type == "single":
            assert 1 <= album.total_tracks <= 3
    for track in catalog.tracks:
        assert all(a in catalog.artist_by_id for a in track.artist_ids)


def test_when_built_then_fields_have_a_realistic_mix() -> None:
    catalog = build_catalog(42, 1.0)

    assert set(Counter(a.album_type for a in catalog.albums)) == {"album", "single", "compilation"}
    assert set(Counter(a.release_date_precision for a in catalog.albums)) == {"year", "month", "day"}
    assert {len(a.genres) for a in catalog.artists} == {0, 1, 2, 3, 4}
    assert all(set(a.genres) <= set(GENRES) for a in catalog.artists)
    assert any(t.disc_number > 1 for t in catalog.tracks)
    assert any(len(t.artist_ids) > len(catalog.album_by_id[t.album_id].artist_ids) for t in catalog.tracks)
    assert any(t.explicit for t in catalog.tracks) and not all(t.explicit for t in catalog.tracks)
    assert all(re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}\d{7}", t.isrc) for t in catalog.tracks)
    assert all(re.fullmatch(r"\d{12}", a.upc) for a in catalog.albums)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan"), float("inf"), 1000.0])
def test_when_scale_is_out_of_range_then_catalog_error_names_scale(scale: float) -> None:
    with pytest.raises(CatalogError) as caught:
        build_catalog(42, scale)

    assert caught.value.field == "scale"


# ---- playlists, podcasts, categories and the listener ------------------------------------------------------


def test_when_scale_is_one_then_social_sizes_are_request_light() -> None:
    catalog = build_catalog(42, 1.0)
    listener = catalog.listener

    base = [p for p in catalog.playlists if p.owner_id not in {u.user.id for u in catalog.listeners[1:]}]
    assert len(base) == 30  # plus 2-4 owned by each further allow-listed user
    assert 30 + 4 * 2 <= len(catalog.playlists) <= 30 + 4 * 4
    assert all(20 <= len(p.items) <= 300 for p in catalog.playlists)
    assert len(catalog.categories) == 20
    assert len(listener.saved_tracks) == 50
    assert len(listener.followed_artist_ids) == 30
    assert len(listener.playlist_ids) == 12  # 10, plus the two playlists of the second user it follows
    assert len(listener.plays) == 200
    assert all(len(listener.top_tracks(r)) == 50 for r in ("short_term", "medium_term", "long_term"))


def test_when_built_then_first_playlist_holds_every_item_kind_on_both_pages() -> None:
    items = build_catalog(42, 0.3).playlists[0].items

    assert len(items) > 100
    for page in (items[:100], items[100:]):
        kinds = {i.kind for i in page}
        assert {"episode", "local", "removed"} <= kinds
    assert all((i.ref_id is None) == (i.kind in ("local", "removed")) for i in items)
    assert all((i.local is not None) == (i.kind == "local") for i in items)


def test_when_built_then_playlists_obey_spotify_rules() -> None:
    catalog = build_catalog(42, 1.0)

    for playlist in catalog.playlists:
        assert not (playlist.collaborative and playlist.public)  # collaborative playlists are never public
        assert playlist.owner_id in catalog.user_by_id
        assert all(i.ref_id in catalog.track_by_id for i in playlist.items if i.kind == "track")
        assert all(i.ref_id in catalog.episode_by_id for i in playlist.items if i.kind == "episode")
        moments = [i.added_at for i in playlist.items]
        assert moments == sorted(moments) and moments[-1] <= catalog.listener.now
        assert set(playlist.category_ids) <= {c.id for c in catalog.categories}
    assert any(p.collaborative for p in catalog.playlists)
    assert any(u.display_name is None for u in catalog.users)


def test_when_built_then_listener_rows_reference_the_catalog_and_plays_are_unique_and_recent() -> None:
    catalog = build_catalog(42, 1.0)
    listener = catalog.listener

    plays = [p.played_at for p in listener.plays]
    assert plays == sorted(plays, reverse=True) and len(set(plays)) == len(plays)
    assert listener.now - plays[-1] <= timedelta(days=30) and plays[0] < listener.now
    assert all(p.track_id in catalog.track_by_id for p in listener.plays)
    assert {p.context[0] for p in listener.plays if p.context} == {"album", "artist", "playlist"}
    assert any(p.context is None for p in listener.plays)
    assert list(listener.followed_artist_ids) == sorted(set(listener.followed_artist_ids))
    assert all(a in catalog.artist_by_id for a in listener.followed_artist_ids)
    saved = [s.added_at for s in listener.saved_tracks]
    assert saved == sorted(saved, reverse=True) and len({s.track_id for s in listener.saved_tracks}) == len(saved)
    assert set(listener.playlist_ids) <= set(catalog.playlist_by_id)
    assert any(catalog.playlist_by_id[p].owner_id == listener.user.id for p in listener.playlist_ids)
    assert listener.user.id in catalog.user_by_id and listener.country in MARKETS


def test_when_built_then_social_ids_are_unique_and_never_collide_with_music_ids() -> None:
    catalog = build_catalog(42, 1.0)
    music = {a.id for a in catalog.artists} | {a.id for a in catalog.albums} | {t.id for t in catalog.tracks}
    social = [p.id for p in catalog.playlists] + [s.id for s in catalog.shows] + [e.id for e in catalog.episodes]

    assert all(BASE62_ID.fullmatch(i) for i in social)
    assert len(set(social)) == len(social) and not set(social) & music
    assert len({c.id for c in catalog.categories}) == len(catalog.categories)


def test_when_discography_is_indexed_then_groups_follow_album_artists_and_guest_tracks() -> None:
    catalog = build_catalog(42, 0.3)

    for artist in catalog.artists[:40]:
        entries = catalog.artist_albums(artist.id)
        assert entries, "every artist leads at least one album"
        for album_id, group in entries:
            album = catalog.album_by_id[album_id]
            if group == "appears_on":
                assert artist.id not in album.artist_ids
                assert any(artist.id in catalog.track_by_id[t].artist_ids for t in album.track_ids)
            else:
                assert group == album.album_type and artist.id in album.artist_ids


def test_when_top_tracks_are_picked_then_at_most_10_most_popular_playable_in_the_market() -> None:
    catalog = build_catalog(42, 0.3)

    for artist in catalog.artists[:40]:
        top = catalog.top_tracks(artist.id, "JP")
        performed = [t for t in catalog.tracks if artist.id in t.artist_ids and "JP" in t.available_markets]
        expected = sorted(performed, key=lambda t: (-t.popularity, t.id))[:10]
        assert top == [t.id for t in expected]


def test_when_playlists_are_filled_then_a_track_repeats_rarely_but_does_repeat() -> None:
    catalog = build_catalog(42, 1.0)

    repeats = 0
    for playlist in catalog.playlists:
        tracks = [i.ref_id for i in playlist.items if i.kind == "track"]
        repeats += len(tracks) - len(set(tracks))
    total = sum(len(p.items) for p in catalog.playlists)

    assert 0 < repeats <= total * 0.02
