"""The ``markets`` dimension: GET /markets and the markets facts were requested for, in; one named row per code, out.

Parsing runs through ``parse()`` of test_transform_parse (every body as a dict and as a simdjson document);
the table build runs the emitter's rows through the spill, the dedupe and the enrichment as the run does.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from activities.transform.countries import COUNTRY_NAMES, country_name, country_names
from activities.transform.dedupe import winners
from activities.transform.enrich import Lineage, curated_table
from activities.transform.parse import FULL, SIMPLIFIED, DriftRecorder, Emitter, ItemError, request_context
from activities.transform.parse.catalog import parse_artist_top_tracks, parse_markets
from activities.transform.parse.values import market_code
from activities.transform.schemas import PARSED_TABLES, SPECS
from activities.transform.spill import TableSpill
from tests.spotify_payloads import A1, API, T1, full_artist, paging, simplified_track
from tests.transform_parsing import parse

# -- country names ---------------------------------------------------------------------------------


def test_when_a_code_is_named_then_it_gets_its_english_short_name_and_an_unknown_code_gets_none() -> None:
    assert [country_name(code) for code in ("US", "GB", "KR", "XK", "ZZ", "us", None)] == [
        "United States", "United Kingdom", "South Korea", "Kosovo", None, None, None]


def test_when_a_column_of_codes_is_named_then_unknown_codes_and_nulls_stay_null() -> None:
    codes = pa.chunked_array([["SE", "QQ"], [None, "BR"]])

    assert country_names(codes).to_pylist() == ["Sweden", None, None, "Brazil"]


def test_when_the_table_is_compared_with_iso_3166_then_it_holds_every_assigned_code_and_kosovo() -> None:
    # tzdata ships ISO 3166-1 alpha-2 as iso3166.tab (public domain); pandas depends on tzdata.
    table = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    assigned = {line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#")}

    assert len(assigned) == 249
    assert set(COUNTRY_NAMES) == assigned | {"XK"}  # Spotify lists Kosovo's user-assigned code as a market
    assert all(name and name == name.strip() for name in COUNTRY_NAMES.values())


def _market_examples(node: Any, under_market: bool = False) -> set[str]:
    """Every example value found below a key that names markets (markets, available_markets, QueryMarket)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            market_key = under_market or "market" in str(key).lower()
            if key == "example" and under_market:
                found.update(value if isinstance(value, list) else [value])
            else:
                found |= _market_examples(value, market_key)
    elif isinstance(node, list):
        for value in node:
            found |= _market_examples(value, under_market)
    return found


def test_when_the_openapi_description_gives_market_codes_then_each_is_named() -> None:
    from tests.spotify_payloads import openapi

    examples = {code for code in _market_examples(openapi()) if isinstance(code, str) and len(code) == 2}

    assert {"CA", "BR", "IT", "ES"} <= examples
    assert {code: country_name(code) for code in examples if country_name(code) is None} == {}


def test_when_the_twin_lists_its_markets_then_each_is_named() -> None:
    from offline.spotify_twin.vocabulary import MARKETS

    assert [code for code in MARKETS if code not in COUNTRY_NAMES] == []


# -- codes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["us", "USA", "U", "", "from_token", "U1", " US", 1, None, ["US"]])
def test_when_a_market_code_is_not_two_upper_case_letters_then_item_error_names_market(raw: Any) -> None:
    with pytest.raises(ItemError) as caught:
        market_code(raw)

    assert caught.value.field == "market"
    assert "ISO 3166-1 alpha-2" in caught.value.reason


# -- parsing ---------------------------------------------------------------------------------------


def test_when_get_markets_is_parsed_then_every_code_is_a_full_row_that_spotify_lists() -> None:
    parsed = parse("markets", {"markets": ["AD", "AE", "XK", None]}, f"{API}/markets")

    assert [(r["market"], r["is_spotify_market"], r["_richness"]) for r in parsed.rows["markets"]] == [
        ("AD", True, FULL), ("AE", True, FULL), ("XK", True, FULL)]
    assert parsed.bad == [] and parsed.drift == {}


def test_when_get_markets_lists_a_bad_code_then_it_is_quarantined_with_the_reason_and_the_rest_kept() -> None:
    parsed = parse("markets", {"markets": ["SE", "se", 46, {"code": "NO"}]}, f"{API}/markets")

    assert [r["market"] for r in parsed.rows["markets"]] == ["SE"]
    assert [(table, field, record) for table, _, field, record in parsed.bad] == [
        ("markets", "market", "se"), ("markets", "market", 46), ("markets", "market", {"code": "NO"})]
    assert parsed.bad[0][1] == "'se' is not an ISO 3166-1 alpha-2 market code (two upper-case letters)"
    assert parsed.bad[1][1] == "expected an ISO 3166-1 alpha-2 market code string, got int 46"


def test_when_get_markets_answers_another_shape_then_the_part_is_refused_and_new_fields_are_drift() -> None:
    from activities.transform.errors import PayloadShapeError

    with pytest.raises(PayloadShapeError, match=r"\$\.markets"):
        parse("markets", {"countries": ["SE"]}, f"{API}/markets")
    with pytest.raises(PayloadShapeError, match=r"\$\.markets"):
        parse("markets", {"markets": "SE,NO"}, f"{API}/markets")

    assert parse("markets", {"markets": ["SE"], "regions": []}).drift == {"markets": {"new_fields": ["Markets.regions"]}}


def test_when_facts_name_a_market_then_it_is_a_code_only_row_once_per_part() -> None:
    top = parse("artist_top_tracks", {"tracks": [T1, T1]}, f"{API}/artists/{A1['id']}/top-tracks?market=SE")
    search = parse("search", {"artists": paging(f"{API}/search?q=p&type=artist", [full_artist("ar1", "P"),
                                                                                  full_artist("ar2", "Q")])},
                   f"{API}/search?q=p&type=artist&market=BR&offset=0&limit=10")
    releases = parse("new_releases", {"albums": paging(f"{API}/browse/new-releases", [A1])},
                     f"{API}/browse/new-releases?country=JP&limit=20")

    for parsed, code in ((top, "SE"), (search, "BR"), (releases, "JP")):
        assert parsed.rows["markets"] == [{"market": code, "is_spotify_market": None, "_richness": SIMPLIFIED}]


def test_when_a_fact_names_no_market_then_no_market_row_comes_out() -> None:
    parsed = parse("new_releases", {"albums": paging(f"{API}/browse/new-releases", [A1])},
                   f"{API}/browse/new-releases?limit=20")
    empty = parse("artist_top_tracks", {"tracks": []}, f"{API}/artists/x/top-tracks?market=SE")

    assert "markets" not in parsed.rows and "markets" not in empty.rows  # no fact, no market


def test_when_a_fact_names_a_bad_market_then_the_fact_is_kept_and_the_code_is_quarantined_once() -> None:
    parsed = parse("artist_top_tracks", {"tracks": [T1, T1]}, f"{API}/artists/x/top-tracks?market=se")

    assert [r["market"] for r in parsed.rows["artist_top_tracks"]] == ["se", "se"]
    assert "markets" not in parsed.rows
    assert parsed.bad == [("markets", "'se' is not an ISO 3166-1 alpha-2 market code (two upper-case letters)",
                           "market", {"market": "se", "source": "artist_top_tracks"})]


def test_when_a_facts_item_fails_then_its_market_is_taken_from_the_next_good_item() -> None:
    bad = {**simplified_track("t9", "T", []), "artists": "Pitbull"}  # a string where objects belong
    parsed = parse("artist_top_tracks", {"tracks": [bad, T1]}, f"{API}/artists/x/top-tracks?market=SE")

    assert [(r["rank"], r["market"]) for r in parsed.rows["artist_top_tracks"]] == [(2, "SE")]
    assert [r["market"] for r in parsed.rows["markets"]] == ["SE"]
    assert [table for table, *_ in parsed.bad] == ["artist_top_tracks"]


# -- the table -------------------------------------------------------------------------------------


def _curated(parts: list[tuple[str, str, Any]], tmp: Path) -> tuple[list[dict[str, Any]], list[Any]]:
    """Parse ``(entity, url, body)`` parts (ranked in list order) and build ``markets`` as the run does."""
    bad: list[Any] = []
    spills = {name: TableSpill(SPECS[name], tmp, lambda *args: bad.append(args)) for name in PARSED_TABLES}
    emitter = Emitter({name: spill.append for name, spill in spills.items()},
                      lambda *args: bad.append(args), DriftRecorder())
    parsers = {"markets": parse_markets, "artist_top_tracks": parse_artist_top_tracks}
    for rank, (entity, url, body) in enumerate(parts):
        emitter.begin_part(entity)
        parsers[entity](body, request_context(url), emitter)
        for spill in spills.values():
            spill.end_part(rank)
    spec = SPECS["markets"]
    lineage = Lineage(date(2026, 11, 24), "run-1", pa.array([f"raw/{entity}/{rank}" for rank, (entity, _, _) in
                                                            enumerate(parts)]))
    rows = [row for bucket in spills["markets"].buckets()
            for row in curated_table(spec, winners(bucket, spec.key), lineage).to_pylist()]
    return rows, bad


@pytest.mark.parametrize("listed_first", [True, False])
def test_when_get_markets_and_facts_share_codes_then_the_listed_row_wins_and_fact_only_codes_stay_unknown(
    tmp_path: Path, listed_first: bool,
) -> None:
    listed = ("markets", f"{API}/markets", {"markets": ["US", "GB", "QQ"]})
    facts = [("artist_top_tracks", f"{API}/artists/x/top-tracks?market={code}", {"tracks": [T1]}) for code in ("US", "CU")]

    rows, bad = _curated([listed, *facts] if listed_first else [*facts, listed], tmp_path)

    assert [(r["market"], r["country_name"], r["is_spotify_market"]) for r in rows] == [
        ("CU", "Cuba", None),  # only a fact used it: whether Spotify lists it is not known
        ("GB", "United Kingdom", True),
        ("QQ", None, True),  # listed, but not an ISO code the table names: null, not an error
        ("US", "United States", True),  # listed and used by a fact: the listed (full) row wins
    ]
    assert {r["market"]: r["source_blob"].split("/")[1] for r in rows} == {
        "CU": "artist_top_tracks", "GB": "markets", "QQ": "markets", "US": "markets"}
    assert bad == []


def test_when_the_run_did_not_fetch_get_markets_then_every_code_comes_from_facts_and_is_unknown(tmp_path: Path) -> None:
    facts = [("artist_top_tracks", f"{API}/artists/{a}/top-tracks?market={code}", {"tracks": [T1]})
             for a in ("x", "y") for code in ("SE", "DE")]

    rows, _ = _curated(facts, tmp_path)

    assert [(r["market"], r["country_name"], r["is_spotify_market"]) for r in rows] == [
        ("DE", "Germany", None), ("SE", "Sweden", None)]
