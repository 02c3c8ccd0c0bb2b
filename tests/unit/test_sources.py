"""activities.sources: one declaration per Spotify source, consistent with the stages it drives."""

from __future__ import annotations

import pytest

from activities import sources
from activities.sources import DEVELOPMENT, EXTENDED, SOURCES, resolve


def test_when_a_source_is_declared_then_its_parser_resolves_to_the_transform_parser_of_its_entity() -> None:
    from activities.transform.parse import PARSERS

    for declared in SOURCES:
        assert resolve(declared.parser) is PARSERS[declared.entity], declared.name


def test_when_sources_are_listed_per_mode_then_development_lacks_what_spotify_refuses_new_apps() -> None:
    development = set(sources.names(mode=DEVELOPMENT))

    assert {"new_releases", "categories", "markets", "artist_top_tracks"}.isdisjoint(development)
    assert {"user_profile", "recently_played", "search", "albums", "artists"} <= development
    assert set(sources.names(mode=EXTENDED)) == {s.name for s in SOURCES}


def test_when_development_limits_are_read_then_search_and_artist_albums_stay_within_ten() -> None:
    for name in ("search", "artist_albums"):
        (request,) = sources.source(name).requests[DEVELOPMENT]
        assert request.limit(DEVELOPMENT) == 10


def test_when_a_development_lookup_is_declared_then_it_is_per_id_not_several_ids() -> None:
    for name in ("albums", "tracks", "artists"):
        (request,) = sources.source(name).requests[DEVELOPMENT]
        assert request.path == f"/{name}/{{id}}" and request.paging == sources.SINGLE


def test_when_an_unknown_source_is_asked_for_then_the_error_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown Spotify source `nope`; known: user_profile"):
        sources.source("nope")


def test_when_a_source_is_declared_then_its_fetch_resolves_to_a_plan_builder_in_the_extract() -> None:
    from activities.extract import plan

    for declared in SOURCES:
        builder = resolve(declared.fetch)
        assert builder.__module__ == plan.__name__, declared.name
