"""Endpoints Spotify closed to apps created after 2024-11-27, answered as such an app sees them.

Default (a new app): audio features and audio analysis answer 403, recommendations, related artists,
featured playlists and category playlists answer 404, each with Spotify's error JSON. Those are the
statuses clients report from the live API; the messages are the twin's.

With `legacy_app=True` (CLI `--legacy-app`) they answer 200 with realistic, deterministic bodies, as a
grandfathered app with extended access still gets them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from offline.spotify_twin import objects
from offline.spotify_twin.api import (
    ApiRequest,
    ApiResponse,
    check_id,
    ids,
    int_param,
    limit_offset,
    market,
    not_found,
    ok,
    one,
    path_id,
)
from offline.spotify_twin.catalog import Catalog
from offline.spotify_twin.errors import ApiError
from offline.spotify_twin.vocabulary import GENRES, SPOTIFY_USER_ID

RESTRICTED_FORBIDDEN = "Forbidden: this endpoint is not available to apps created after 2024-11-27"
RESTRICTED_NOT_FOUND = "Not found: this endpoint is not available to apps created after 2024-11-27"
MAX_AUDIO_FEATURE_IDS = 100
MAX_SEEDS = 5
RELATED_ARTISTS = 20


def _restricted(status: int, handler: Callable[[ApiRequest], ApiResponse]) -> Callable[[ApiRequest], ApiResponse]:
    """Wrap a legacy handler: a new app gets `status`, a legacy app gets the handler's answer."""

    def guarded(request: ApiRequest) -> ApiResponse:
        if not request.legacy_app:
            raise ApiError(status, RESTRICTED_FORBIDDEN if status == 403 else RESTRICTED_NOT_FOUND)
        return handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


# ---- legacy bodies ------------------------------------------------------------------------------------------


def audio_features_object(track_id: str, catalog: Catalog, base_url: str) -> objects.JsonObject | None:
    track = catalog.track_by_id.get(track_id)
    if track is None:
        return None
    rng = random.Random(f"spotify-twin:audio-features:{track_id}")
    return {
        "acousticness": round(rng.random() ** 2, 5),
        "analysis_url": f"{base_url}/audio-analysis/{track_id}",
        "danceability": round(rng.uniform(0.2, 0.95), 3),
        "duration_ms": track.duration_ms,
        "energy": round(rng.uniform(0.05, 1.0), 3),
        "id": track_id,
        "instrumentalness": round(rng.random() ** 4, 6),
        "key": rng.randint(-1, 11),
        "liveness": round(rng.uniform(0.03, 0.6), 4),
        "loudness": round(rng.uniform(-25.0, -2.0), 3),
        "mode": rng.randint(0, 1),
        "speechiness": round(rng.uniform(0.02, 0.4), 4),
        "tempo": round(rng.uniform(60.0, 190.0), 3),
        "time_signature": rng.choice((3, 4, 4, 4, 5)),
        "track_href": f"{base_url}/tracks/{track_id}",
        "type": "audio_features",
        "uri": f"spotify:track:{track_id}",
        "valence": round(rng.random(), 3),
    }


def _several_audio_features(request: ApiRequest) -> ApiResponse:
    wanted = ids(request, MAX_AUDIO_FEATURE_IDS)
    return ok({"audio_features": [audio_features_object(i, request.catalog, request.base_url) for i in wanted]})


def _one_audio_features(request: ApiRequest) -> ApiResponse:
    features = audio_features_object(path_id(request), request.catalog, request.base_url)
    if features is None:
        raise not_found()
    return ok(features)


def _audio_analysis(request: ApiRequest) -> ApiResponse:
    track = request.catalog.track_by_id.get(path_id(request))
    if track is None:
        raise not_found()
    rng = random.Random(f"spotify-twin:audio-analysis:{track.id}")
    duration = track.duration_ms / 1000
    tempo = round(rng.uniform(60.0, 190.0), 3)
    beat = 60 / tempo
    beats = [{"start": round(i * beat, 5), "duration": round(beat, 5), "confidence": round(rng.random(), 3)}
             for i in range(int(duration / beat))]
    bars = [{"start": b["start"], "duration": round(beat * 4, 5), "confidence": b["confidence"]} for b in beats[::4]]
    section_starts = sorted({0.0, *(round(rng.uniform(0, duration), 3) for _ in range(rng.randint(4, 9)))})
    sections = [
        {
            "start": start, "duration": round(end - start, 3), "confidence": round(rng.random(), 3),
            "loudness": round(rng.uniform(-20, -4), 3), "tempo": tempo, "tempo_confidence": round(rng.random(), 3),
            "key": rng.randint(0, 11), "key_confidence": round(rng.random(), 3), "mode": rng.randint(0, 1),
            "mode_confidence": round(rng.random(), 3), "time_signature": 4, "time_signature_confidence": 1.0,
        }
        for start, end in zip(section_starts, [*section_starts[1:], duration], strict=True)
    ]
    return ok(
        {
            "meta": {"analyzer_version": "4.0.0", "platform": "Linux", "detailed_status": "OK", "status_code": 0,
                     "timestamp": 1495193577, "analysis_time": 6.93906,
                     "input_process": "libvorbisfile L+R 44100->22050"},
            "track": {"num_samples": int(duration * 22050), "duration": duration, "sample_md5": "",
                      "offset_seconds": 0, "window_seconds": 0, "analysis_sample_rate": 22050,
                      "analysis_channels": 1, "end_of_fade_in": 0.0, "start_of_fade_out": round(duration - 5, 3),
                      "loudness": round(rng.uniform(-20, -4), 3), "tempo": tempo, "tempo_confidence": 0.73,
                      "time_signature": 4, "time_signature_confidence": 0.994, "key": rng.randint(0, 11),
                      "key_confidence": 0.408, "mode": rng.randint(0, 1), "mode_confidence": 0.485},
            "bars": bars,
            "beats": beats,
            "sections": sections,
            "segments": [],
            "tatums": beats,
        }
    )


def _related_artists(request: ApiRequest) -> ApiResponse:
    catalog = request.catalog
    artist = catalog.artist_by_id.get(path_id(request))
    if artist is None:
        raise not_found()
    genres = set(artist.genres)
    related = [a for a in catalog.artists if a.id != artist.id and genres & set(a.genres)]
    related.sort(key=lambda a: (-len(genres & set(a.genres)), -a.popularity, a.id))
    return ok({"artists": [objects.full_artist(a, request.base_url) for a in related[:RELATED_ARTISTS]]})


def _seeds(request: ApiRequest, name: str) -> list[str]:
    raw = one(request, name)
    return [s for s in raw.split(",") if s] if raw else []


def _recommendations(request: ApiRequest) -> ApiResponse:
    catalog = request.catalog
    limit = int_param(request, "limit", 20, 1, 100)
    country = market(request)
    seed_artists = [check_id(s) for s in _seeds(request, "seed_artists")]
    seed_tracks = [check_id(s) for s in _seeds(request, "seed_tracks")]
    seed_genres = _seeds(request, "seed_genres")
    _check_seeds(seed_artists, seed_tracks, seed_genres)
    seeds = _seed_pools(request, seed_artists, seed_tracks, seed_genres)
    rng = random.Random(f"spotify-twin:recommendations:{sorted(seed_artists + seed_tracks + seed_genres)}")
    pools = [[t for t in pool if country is None or catalog.album_available(catalog.track_by_id[t].album_id, country)]
             for _, _, _, pool in seeds]
    merged = sorted({t for pool in pools for t in pool} - set(seed_tracks))
    chosen = rng.sample(merged, min(limit, len(merged)))
    seed_objects = [
        {"afterFilteringSize": len(pool), "afterRelinkingSize": len(pool), "href": href, "id": seed_id,
         "initialPoolSize": len(raw_pool), "type": kind}
        for (kind, seed_id, href, raw_pool), pool in zip(seeds, pools, strict=True)
    ]
    tracks = [objects.full_track(catalog.track_by_id[t], catalog, request.base_url, country) for t in chosen]
    return ok({"seeds": seed_objects, "tracks": tracks})


def _check_seeds(seed_artists: list[str], seed_tracks: list[str], seed_genres: list[str]) -> None:
    total_seeds = len(seed_artists) + len(seed_tracks) + len(seed_genres)
    if total_seeds == 0:
        raise ApiError(400, "Missing required parameter: seed_artists, seed_genres or seed_tracks")
    if total_seeds > MAX_SEEDS:
        raise ApiError(400, "Invalid request: at most 5 seeds")
    if any(g not in GENRES for g in seed_genres):
        raise ApiError(400, "Invalid seed_genres value")


def _seed_pools(request: ApiRequest, seed_artists: list[str], seed_tracks: list[str],
                seed_genres: list[str]) -> list[tuple[str, str, str | None, list[str]]]:
    """Each seed as (type, id, href, candidate tracks), in the order the answer's ``seeds`` lists them: an artist's
    tracks, a track's artists' tracks, a genre's artists' tracks (a genre seed has no href)."""
    catalog = request.catalog
    seeds: list[tuple[str, str, str | None, list[str]]] = []
    for artist_id in seed_artists:
        pool = list(catalog.tracks_by_popularity.get(artist_id, ()))
        seeds.append(("ARTIST", artist_id, f"{request.base_url}/artists/{artist_id}", pool))
    for track_id in seed_tracks:
        track = catalog.track_by_id.get(track_id)
        pool = [t for a in (track.artist_ids if track else ()) for t in catalog.tracks_by_popularity.get(a, ())]
        seeds.append(("TRACK", track_id, f"{request.base_url}/tracks/{track_id}", pool))
    for genre in seed_genres:
        pool = [t for a in catalog.artists if genre in a.genres for t in catalog.tracks_by_popularity.get(a.id, ())]
        seeds.append(("GENRE", genre, None, pool))
    return seeds


def _featured_playlists(request: ApiRequest) -> ApiResponse:
    limit, offset = limit_offset(request)
    editorial = [p for p in request.catalog.playlists if p.owner_id == SPOTIFY_USER_ID]
    page = objects.paging(
        [objects.simplified_playlist(p, request.catalog, request.base_url) for p in editorial[offset : offset + limit]],
        endpoint_url=f"{request.base_url}/browse/featured-playlists", total=len(editorial), offset=offset, limit=limit,
    )
    return ok({"message": "Popular Playlists", "playlists": page})


def _category_playlists(request: ApiRequest) -> ApiResponse:
    category_id = request.path_params["category_id"]
    limit, offset = limit_offset(request)
    category = next((c for c in request.catalog.categories if c.id == category_id), None)
    if category is None:
        raise not_found()
    listed = [p for p in request.catalog.playlists if category_id in p.category_ids]
    page = objects.paging(
        [objects.simplified_playlist(p, request.catalog, request.base_url) for p in listed[offset : offset + limit]],
        endpoint_url=f"{request.base_url}/browse/categories/{category_id}/playlists", total=len(listed),
        offset=offset, limit=limit,
    )
    return ok({"message": category.name, "playlists": page})


# ---- the route handlers ---------------------------------------------------------------------------------------

get_several_audio_features = _restricted(403, _several_audio_features)
get_audio_features = _restricted(403, _one_audio_features)
get_audio_analysis = _restricted(403, _audio_analysis)
get_recommendations = _restricted(404, _recommendations)
get_related_artists = _restricted(404, _related_artists)
get_featured_playlists = _restricted(404, _featured_playlists)
get_category_playlists = _restricted(404, _category_playlists)
