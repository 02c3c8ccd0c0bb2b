"""Unit tests of the table build: spill buckets and type checks, the deterministic dedupe, enrichment, bridges."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from activities.transform.dedupe import winners
from activities.transform.enrich import (
    Lineage,
    bridge_table,
    curated_table,
    duration_bucket,
    genre_family,
    popularity_tier,
)
from activities.transform.parse import FULL, SIMPLIFIED
from activities.transform.parse.document import PartDocument
from activities.transform.schemas import SPECS
from activities.transform.spill import TableSpill, key_bytes, key_ranges

BLOBS = ["raw/spotify/new_releases/part-00000.json.gz", "raw/spotify/albums/part-00000.json.gz",
         "raw/spotify/tracks/part-00000.json.gz"]
LINEAGE = Lineage(date(2026, 11, 24), "run-1", pa.array(BLOBS))


def album(album_id: str, richness: int, *, label: str | None = None, popularity: int | None = None,
          year: int = 2012) -> tuple[Any, ...]:
    return SPECS["albums"].row(
        album_id=album_id, name="Global Warming", album_type="album", release_date=date(year, 11, 16),
        release_date_raw=f"{year}-11-16", release_date_precision="day", release_year=year, total_tracks=18, label=label,
        popularity=popularity, primary_artist_name="Pitbull", _artist_ids=["a1"], _richness=richness)


def track(track_id: str, richness: int, *, artists: list[Any] | None = None, popularity: Any = None,
          duration: Any = 206_120) -> tuple[Any, ...]:
    artists = ["a1"] if artists is None else artists
    return SPECS["tracks"].row(
        track_id=track_id, name="Don't Stop the Party", album_id="al1", duration_ms=duration, explicit=True,
        popularity=popularity, track_number=2, disc_number=1, is_local=False, primary_artist_name="Pitbull",
        _artist_ids=artists, _richness=richness)


def spill_of(
    table: str, parts: list[tuple[int, list[tuple[Any, ...]]]], tmp: Path, **limits: int
) -> tuple[TableSpill, list[Any]]:
    bad: list[Any] = []
    spill = TableSpill(SPECS[table], tmp, lambda *args: bad.append(args), flush_rows=3, **limits)
    for rank, rows in parts:
        for row in rows:
            spill.append(row)
        spill.end_part(rank)
    return spill, bad


def built(table: str, parts: list[tuple[int, list[tuple[Any, ...]]]], tmp: Path) -> list[dict[str, Any]]:
    spill, _ = spill_of(table, parts, tmp)
    return [row for bucket in spill.buckets()
            for row in curated_table(SPECS[table], winners(bucket, SPECS[table].key), LINEAGE).to_pylist()]


def test_when_a_full_album_and_a_simplified_one_share_a_key_then_the_full_one_wins_in_any_order(
    tmp_path: Path,
) -> None:
    simplified = (0, [album("al1", SIMPLIFIED)])
    full = (1, [album("al1", FULL, label="Mr.305", popularity=71)])
    for index, parts in enumerate(itertools.permutations([simplified, full])):
        (row,) = built("albums", list(parts), tmp_path / str(index))

        assert (row["label"], row["popularity"], row["source_blob"]) == ("Mr.305", 71, BLOBS[1])


def test_when_equally_rich_records_differ_then_more_values_win_then_the_later_part_then_the_first_row(
    tmp_path: Path,
) -> None:
    sparse, rich = album("al1", FULL, label="L"), album("al1", FULL, label="L", popularity=5)
    late = album("al2", FULL, label="late")
    early = album("al2", FULL, label="early")
    first, second = album("al3", FULL, label="first"), album("al3", FULL, label="second")

    rows = built("albums", [(2, [sparse, late]), (0, [rich, early]), (1, [first, second])], tmp_path)

    assert [(r["album_id"], r["label"], r["popularity"]) for r in rows] == [
        ("al1", "L", 5), ("al2", "late", None), ("al3", "first", None)]


def test_when_rows_span_many_buckets_and_flushes_then_output_is_sorted_by_key_with_lineage(tmp_path: Path) -> None:
    ids = ["zz", "0a", "Ab", "ab", "Zz", "00", "b1"]

    rows = built("albums", [(0, [album(i, SIMPLIFIED) for i in ids])], tmp_path)

    assert [r["album_id"] for r in rows] == sorted(ids)
    assert {(r["snapshot_date"], r["source_run_id"], r["source_blob"]) for r in rows} == {
        (date(2026, 11, 24), "run-1", BLOBS[0])}


def test_when_a_value_has_the_wrong_type_or_a_key_is_missing_then_the_row_is_quarantined_not_written(
    tmp_path: Path,
) -> None:
    rows_in = [track("t1", FULL, popularity="85"), track(None, FULL), track("t3", FULL, duration=1.5),
               track("t4", FULL, artists=[7]), track("t5", FULL, popularity=True), track("t6", FULL, popularity=40)]

    spill, bad = spill_of("tracks", [(2, rows_in)], tmp_path)
    written = [r["track_id"] for b in spill.buckets() for r in b.to_pylist()]

    assert written == ["t6"]
    assert [(b[0], b[2], b[3], b[5]) for b in bad] == [
        ("tracks", "popularity", "t1", 2), ("tracks", "track_id", "", 2), ("tracks", "duration_ms", "t3", 2),
        ("tracks", "_artist_ids", "t4", 2), ("tracks", "popularity", "t5", 2)]
    assert bad[0][1] == "type change: expected an integer, got str '85'"
    assert bad[1][1] == "missing track_id"
    assert bad[0][4]["track_id"] == "t1"  # the record itself, for whoever fixes it


def test_when_a_row_keeps_an_object_of_its_part_document_then_it_is_copied_out_and_quarantined(
    tmp_path: Path,
) -> None:
    # A field whose type changed (an object where a string was promised) lands in a row as a document proxy.
    document = PartDocument(b'{"name": {"text": "Feel This Moment"}}', "raw/part.json")
    bad: list[Any] = []
    spill = TableSpill(SPECS["tracks"], tmp_path, lambda *args: bad.append(args))
    spill.append(SPECS["tracks"].row(track_id="t1", name=document.root.get("name"), _richness=FULL))

    assert document.close() is True  # the row still refers to the document
    spill.detach_open_rows()
    spill.end_part(0)

    assert document.close() is False
    assert [r["track_id"] for b in spill.buckets() for r in b.to_pylist()] == []
    assert bad[0][1] == "type change: expected a string, got dict {'text': 'Feel This Moment'}"
    assert bad[0][4]["name"] == {"text": "Feel This Moment"}


def test_when_keys_are_bucketed_then_the_bucket_is_the_first_byte_of_the_key() -> None:
    assert key_bytes(pa.array(["a", "", "Zq", None, "0"])).tolist() == [97, 0, 90, 0, 48]
    assert key_bytes(pa.array(["a", "", "Zq", None, "0"]), 1).tolist() == [0, 0, 113, 0, 0]


def test_when_key_ranges_are_taken_then_they_follow_the_byte_order_and_spread_base62_evenly() -> None:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    ranges = key_ranges(pa.array([f"x{c}" for c in alphabet]), 1, 4).tolist()

    assert ranges == sorted(ranges)
    assert sorted(set(ranges)) == [0, 1, 2, 3]
    assert max(ranges.count(r) for r in range(4)) - min(ranges.count(r) for r in range(4)) <= 4


def test_when_a_bucket_is_bigger_than_the_limit_then_it_is_read_in_smaller_ranges_with_the_same_rows(
    tmp_path: Path,
) -> None:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    ids = [f"a{c}{d}" for c in alphabet for d in "xy"] + ["a", "b0", "b1"]  # one big bucket "a", a small one "b"
    parts = [(0, [album(i, SIMPLIFIED) for i in ids]), (1, [album(i, FULL, label="L") for i in ids[::3]])]
    whole, _ = spill_of("albums", parts, tmp_path / "whole")
    split, _ = spill_of("albums", parts, tmp_path / "split", max_bucket_rows=40)

    whole_buckets = list(whole.buckets())
    split_buckets = list(split.buckets())

    assert len(whole_buckets) == 2
    assert len(split_buckets) > 3 and all(b.num_rows <= 40 for b in split_buckets[:-1])
    rows = [r for b in split_buckets for r in winners(b, ("album_id",)).to_pylist()]
    assert rows == [r for b in whole_buckets for r in winners(b, ("album_id",)).to_pylist()]
    assert [r["album_id"] for r in rows] == sorted(ids)
    assert not list(tmp_path.glob("*/*.arrow"))  # spill files are gone once read


def test_when_a_track_wins_then_track_artists_follow_its_credits_and_skip_ids_that_are_missing(
    tmp_path: Path,
) -> None:
    spill, _ = spill_of("tracks", [(0, [track("t1", SIMPLIFIED, artists=["x"])]),
                                   (1, [track("t1", FULL, artists=["a1", None, "a3"], popularity=10)])], tmp_path)
    (bucket,) = list(spill.buckets())
    best = winners(bucket, ("track_id",))

    pairs = bridge_table(SPECS["track_artists"], best, LINEAGE).to_pylist()
    tracks = curated_table(SPECS["tracks"], best, LINEAGE).to_pylist()

    assert [(p["track_id"], p["artist_id"], p["artist_position"], p["source_blob"]) for p in pairs] == [
        ("t1", "a1", 0, BLOBS[1]), ("t1", "a3", 2, BLOBS[1])]
    assert (tracks[0]["primary_artist_id"], tracks[0]["primary_artist_name"]) == ("a1", "Pitbull")


def test_when_tracks_are_enriched_then_raw_values_stay_beside_minutes_buckets_and_tiers(tmp_path: Path) -> None:
    rows = built("tracks", [(0, [track("t1", FULL, popularity=82, duration=185_000),
                                 track("t2", FULL, popularity=None, duration=None)])], tmp_path)

    assert [(r["duration_ms"], r["duration_minutes"], r["duration_bucket"], r["popularity"], r["popularity_tier"])
            for r in rows] == [(185_000, pytest.approx(3.0833, abs=1e-4), "3-4 min", 82, "top"),
                               (None, None, None, None, None)]


def test_when_albums_are_enriched_then_decade_sits_beside_the_year(tmp_path: Path) -> None:
    rows = built("albums", [(0, [album("a1", FULL, year=1999, popularity=24), album("a2", FULL, year=2000)])],
                 tmp_path)

    assert [(r["release_year"], r["release_decade"], r["popularity_tier"]) for r in rows] == [
        (1999, 1990, "low"), (2000, 2000, None)]


def test_when_artists_are_enriched_then_genres_get_families_and_the_bridge_keeps_their_order(tmp_path: Path) -> None:
    row = SPECS["artists"].row
    artists = [row(artist_id="a1", name="Pitbull", followers=10, popularity=80, genres=["miami hip hop", "dance pop"],
                   _richness=FULL),
               row(artist_id="a2", name="Nobody", followers=0, popularity=3, genres=[], _richness=FULL),
               row(artist_id="a3", name="Credit", _richness=SIMPLIFIED),
               row(artist_id="a4", name="Odd", followers=1, popularity=50, genres=["vaporwave", "latin pop"],
                   _richness=FULL)]
    spill, _ = spill_of("artists", [(0, artists)], tmp_path)
    best = [winners(bucket, ("artist_id",)) for bucket in spill.buckets()]

    rows = [r for b in best for r in curated_table(SPECS["artists"], b, LINEAGE).to_pylist()]
    genres = [r for b in best for r in bridge_table(SPECS["artist_genres"], b, LINEAGE).to_pylist()]

    assert [(r["artist_id"], r["primary_genre"], r["genre_family"], r["popularity_tier"]) for r in rows] == [
        ("a1", "miami hip hop", "hip hop", "top"), ("a2", None, None, "low"), ("a3", None, None, None),
        ("a4", "vaporwave", "latin", "high")]
    assert [(g["artist_id"], g["genre_position"], g["genre"], g["genre_family"]) for g in genres] == [
        ("a1", 0, "miami hip hop", "hip hop"), ("a1", 1, "dance pop", "pop"),
        ("a4", 0, "vaporwave", "other"), ("a4", 1, "latin pop", "latin")]


@pytest.mark.parametrize(
    ("genre", "family"),
    [("dance pop", "pop"), ("k-pop", "pop"), ("latin pop", "latin"), ("trip hop", "electronic"),
     ("uk drill", "hip hop"), ("indie folk", "folk"), ("post-punk", "punk"), ("doom metal", "metal"),
     ("neo soul", "r&b/soul"), ("classic rock", "rock"), ("modern classical", "classical"), ("dubstep", "electronic"),
     ("afrobeats", "african"), ("bossa nova", "latin"), ("polka", "other")],
)
def test_when_a_genre_is_classified_then_it_gets_its_family(genre: str, family: str) -> None:
    assert genre_family(genre) == family


def test_when_numbers_are_bucketed_then_edges_fall_in_the_upper_bucket() -> None:
    assert popularity_tier(pa.array([0, 24, 25, 50, 75, 100, None], pa.int16())).to_pylist() == [
        "low", "low", "medium", "high", "top", "top", None]
    assert duration_bucket(pa.array([119_999, 120_000, 600_000], pa.int32())).to_pylist() == [
        "under 2 min", "2-3 min", "10 min or more"]
