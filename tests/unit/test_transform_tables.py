"""Unit tests of activities.transform.tables: deterministic dedupe, richest record wins."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from activities.transform.parse import Record, Richness
from activities.transform.tables import CuratedTables, RunLineage

LINEAGE = RunLineage(snapshot_date=date(2026, 11, 24), source_run_id="run-1")


def album(album_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "album_id": album_id,
        "name": "Global Warming",
        "album_type": "album",
        "release_date": date(2012, 11, 16),
        "release_date_raw": "2012-11-16",
        "release_date_precision": "day",
        "release_year": 2012,
        "total_tracks": 18,
        "label": None,
        "popularity": None,
    }
    row.update(values)
    return row


def track(track_id: str, artists: tuple[str | None, ...] = ("a1",), **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "track_id": track_id,
        "name": "Don't Stop the Party",
        "album_id": "al1",
        "duration_ms": 206120,
        "explicit": True,
        "popularity": None,
        "isrc": None,
        "track_number": 2,
        "disc_number": 1,
        "is_local": False,
        "primary_artist_id": artists[0] if artists else None,
        "_artist_ids": artists,
    }
    row.update(values)
    return row


SIMPLIFIED_ALBUM = Record("albums", Richness.SIMPLIFIED, album("al1"))
FULL_ALBUM = Record("albums", Richness.FULL, album("al1", label="Mr.305", popularity=71))


def test_when_a_full_album_and_a_simplified_one_share_a_key_then_the_full_one_wins_in_any_order() -> None:
    for first, second in ((SIMPLIFIED_ALBUM, FULL_ALBUM), (FULL_ALBUM, SIMPLIFIED_ALBUM)):
        tables = CuratedTables()
        tables.add([first], source_blob=f"raw/{first.richness.name}", fetched_at="2026-11-24T05:00:00Z")
        tables.add([second], source_blob=f"raw/{second.richness.name}", fetched_at="2026-11-24T05:00:00Z")

        (row,) = tables.rows("albums", LINEAGE)

        assert row["label"] == "Mr.305"
        assert row["popularity"] == 71
        assert row["source_blob"] == "raw/FULL"


def test_when_a_simplified_record_is_fetched_later_then_the_full_one_still_wins() -> None:
    tables = CuratedTables()
    tables.add([FULL_ALBUM], source_blob="raw/a", fetched_at="2026-11-24T05:00:00Z")
    tables.add([SIMPLIFIED_ALBUM], source_blob="raw/b", fetched_at="2026-11-24T06:00:00Z")

    (row,) = tables.rows("albums", LINEAGE)

    assert row["source_blob"] == "raw/a"


def test_when_two_full_records_differ_in_completeness_then_the_one_with_more_values_wins() -> None:
    tables = CuratedTables()
    tables.add(
        [Record("tracks", Richness.FULL, track("t1", popularity=50, isrc="USRC1"))], source_blob="raw/a", fetched_at="1"
    )
    tables.add([Record("tracks", Richness.FULL, track("t1", popularity=51))], source_blob="raw/b", fetched_at="2")

    (row,) = tables.rows("tracks", LINEAGE)

    assert (row["isrc"], row["popularity"]) == ("USRC1", 50)


def test_when_equally_rich_records_tie_then_the_later_fetch_wins_regardless_of_read_order() -> None:
    parts = [
        ([Record("tracks", Richness.FULL, track("t1", popularity=10, isrc="X"))], "raw/p0", "2026-11-24T05:00:01Z"),
        ([Record("tracks", Richness.FULL, track("t1", popularity=30, isrc="X"))], "raw/p1", "2026-11-24T05:00:03Z"),
        ([Record("tracks", Richness.FULL, track("t1", popularity=20, isrc="X"))], "raw/p2", "2026-11-24T05:00:02Z"),
    ]
    winners = set()
    for order in itertools.permutations(parts):
        tables = CuratedTables()
        for records, blob, fetched_at in order:
            tables.add(records, source_blob=blob, fetched_at=fetched_at)
        winners.add(tuple(sorted(next(tables.rows("tracks", LINEAGE)).items())))

    assert len(winners) == 1
    assert dict(next(iter(winners)))["popularity"] == 30


def test_when_rows_are_read_then_they_are_sorted_by_natural_key_with_lineage_filled() -> None:
    tables = CuratedTables()
    tables.add(
        [Record("albums", Richness.FULL, album(key)) for key in ("c", "a", "b")], source_blob="raw/p", fetched_at=None
    )

    result = list(tables.rows("albums", LINEAGE))

    assert [r["album_id"] for r in result] == ["a", "b", "c"]
    assert {(r["snapshot_date"], r["source_run_id"], r["source_blob"]) for r in result} == {
        (date(2026, 11, 24), "run-1", "raw/p")
    }


def test_when_a_track_is_seen_twice_then_track_artists_follow_the_winning_record_only() -> None:
    tables = CuratedTables()
    simplified = Record("tracks", Richness.SIMPLIFIED, track("t1", ("a1", "a2", "a3")))
    full = Record("tracks", Richness.FULL, track("t1", ("a1", None, "a2"), popularity=5, isrc="X"))
    tables.add([simplified], source_blob="raw/album", fetched_at="1")
    tables.add([full], source_blob="raw/tracks", fetched_at="1")
    tables.add([Record("tracks", Richness.SIMPLIFIED, track("t0", ("a9",)))], source_blob="raw/album", fetched_at="1")

    result = [
        (r["track_id"], r["artist_id"], r["artist_position"], r["source_blob"])
        for r in tables.rows("track_artists", LINEAGE)
    ]

    assert result == [
        ("t0", "a9", 0, "raw/album"),
        ("t1", "a1", 0, "raw/tracks"),
        ("t1", "a2", 2, "raw/tracks"),  # the id-less artist keeps slot 1
    ]
    assert tables.count("track_artists") == 3
    assert tables.count("tracks") == 2


def test_when_the_same_key_appears_twice_in_one_part_then_the_first_occurrence_wins() -> None:
    tables = CuratedTables()
    tables.add(
        [
            Record("albums", Richness.SIMPLIFIED, album("al1", name="first")),
            Record("albums", Richness.SIMPLIFIED, album("al1", name="second")),
        ],
        source_blob="raw/p",
        fetched_at="1",
    )

    (row,) = tables.rows("albums", LINEAGE)

    assert row["name"] == "first"
