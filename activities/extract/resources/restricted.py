"""Endpoints Spotify restricted for new apps on 2024-11-27: related artists, audio features and
analysis, recommendations, featured and category playlists. Never on the default path: they run only
when configured (``restrictedSources``), wrapped by :meth:`Fetcher.restricted`, so a 403/404 records
the source as unavailable and the run goes on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activities.extract.fetcher import Fetcher, Found, Step, Task
from activities.extract.resources import (
    _array,
    _ids,
    _object,
    batched,
    found_in_artists,
    found_in_tracks,
    page_items,
)
from activities.extract.resources._paging import next_at, offset_pages, total_at
from activities.extract.resources.catalog import _path_id

AUDIO_FEATURES_MAX_IDS = 100
RECOMMENDATION_SEEDS = 5
PAGE = 50


def related_artists(fetcher: Fetcher, artist_ids: Sequence[str]) -> list[Task]:
    """GET /artists/{id}/related-artists (entity ``related_artists``), per seed artist."""

    def one(artist: str) -> Task:
        def run() -> Step:
            payload = fetcher.get("related_artists", f"/artists/{_path_id(artist)}/related-artists",
                                  count=lambda body: len(_array(_object(body, "related artists"), "artists",
                                                                "related artists")))
            result = Found()
            found_in_artists(payload.get("artists") or [], result)
            return Step(result)

        return run

    return [fetcher.restricted("related_artists", one(artist)) for artist in artist_ids]


def recommendations(fetcher: Fetcher, artist_ids: Sequence[str], market: str) -> list[Task]:
    """GET /recommendations?seed_artists=… (entity ``recommendations``), seeds in groups of five."""

    def one(seeds: list[str]) -> Task:
        def run() -> Step:
            payload = fetcher.get("recommendations", "/recommendations",
                                  {"seed_artists": ",".join(seeds), "limit": 100, "market": market},
                                  count=lambda body: len(_array(_object(body, "recommendations"), "tracks",
                                                                "recommendations")))
            result = Found()
            found_in_tracks(payload.get("tracks") or [], result)
            return Step(result)

        return run

    return [fetcher.restricted("recommendations", one(seeds))
            for seeds in batched(list(artist_ids), RECOMMENDATION_SEEDS)]


def _playlists_count(payload: Any) -> int:
    return len(page_items(payload, "playlists", "playlists"))


def featured_playlists(fetcher: Fetcher) -> list[Task]:
    """GET /browse/featured-playlists pages (entity ``featured_playlists``)."""
    return [fetcher.restricted("featured_playlists", offset_pages(
        fetcher, "featured_playlists", "/browse/featured-playlists", {}, page_size=PAGE,
        total_of=total_at("playlists"), parse=lambda body: Found(), count=_playlists_count,
        next_of=next_at("playlists")))]


def category_playlists(fetcher: Fetcher, category_ids: Sequence[str]) -> list[Task]:
    """GET /browse/categories/{id}/playlists pages (entity ``category_playlists``), per category found."""
    return [fetcher.restricted("category_playlists", offset_pages(
        fetcher, "category_playlists", f"/browse/categories/{_path_id(category)}/playlists", {}, page_size=PAGE,
        total_of=total_at("playlists"), parse=lambda body: Found(), count=_playlists_count,
        next_of=next_at("playlists")))
        for category in category_ids]


def audio_features(fetcher: Fetcher, track_ids: Sequence[str]) -> list[Task]:
    """GET /audio-features?ids= (entity ``audio_features``), 100 ids per call."""

    def one(batch: list[str]) -> Task:
        def run() -> Step:
            fetcher.get("audio_features", "/audio-features", {"ids": ",".join(batch)},
                        count=lambda body: len(_ids(_array(_object(body, "audio features"), "audio_features",
                                                           "audio features"))))
            return Step()

        return run

    return [fetcher.restricted("audio_features", one(batch)) for batch in batched(list(track_ids),
                                                                                 AUDIO_FEATURES_MAX_IDS)]


def audio_analysis(fetcher: Fetcher, track_ids: Sequence[str]) -> list[Task]:
    """GET /audio-analysis/{id} (entity ``audio_analysis``), one call per track: only for small runs."""

    def one(track: str) -> Task:
        def run() -> Step:
            fetcher.get("audio_analysis", f"/audio-analysis/{_path_id(track)}",
                        count=lambda body: 1 if _object(body, "audio analysis") else 0)
            return Step()

        return run

    return [fetcher.restricted("audio_analysis", one(track)) for track in track_ids]


__all__ = [
    "audio_analysis",
    "audio_features",
    "category_playlists",
    "featured_playlists",
    "recommendations",
    "related_artists",
]
