"""Turn catalog rows into the JSON objects the Spotify Web API returns.

Pure functions: rows + the twin's API base URL in, dicts out. Field sets follow the OpenAPI schemas
(ArtistObject, SimplifiedArtistObject, AlbumObject, SimplifiedAlbumObject, TrackObject,
SimplifiedTrackObject, PagingObject, ErrorObject) and what the live API sends.

Market handling: when a country `market` is given, albums and tracks also carry `is_playable`. The live API
then tends to drop `available_markets`, but the OpenAPI description marks it required on albums, so the twin
keeps it everywhere (a superset that validates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from spotify_twin.catalog import AlbumRow, ArtistRow, Catalog, Image, TrackRow

JsonObject = dict[str, Any]

OPEN_SPOTIFY = "https://open.spotify.com"
ALBUM_TRACKS_PAGE = 50  # the full album object embeds at most this many tracks, as Spotify does


def _common(kind: str, object_id: str, base_url: str, collection: str) -> JsonObject:
    return {
        "external_urls": {"spotify": f"{OPEN_SPOTIFY}/{kind}/{object_id}"},
        "href": f"{base_url}/{collection}/{object_id}",
        "id": object_id,
        "type": kind,
        "uri": f"spotify:{kind}:{object_id}",
    }


def _images(images: Sequence[Image]) -> list[JsonObject]:
    return [{"url": i.url, "height": i.height, "width": i.width} for i in images]


def _with_market(obj: JsonObject, markets: Sequence[str], market: str | None) -> JsonObject:
    obj["available_markets"] = list(markets)
    if market is not None:
        obj["is_playable"] = market in markets
    return obj


def simplified_artist(artist: ArtistRow, base_url: str) -> JsonObject:
    obj = _common("artist", artist.id, base_url, "artists")
    obj["name"] = artist.name
    return obj


def full_artist(artist: ArtistRow, base_url: str) -> JsonObject:
    obj = simplified_artist(artist, base_url)
    obj["followers"] = {"href": None, "total": artist.followers}
    obj["genres"] = list(artist.genres)
    obj["images"] = _images(artist.images)
    obj["popularity"] = artist.popularity
    return obj


def simplified_album(album: AlbumRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    obj = _common("album", album.id, base_url, "albums")
    obj.update(
        {
            "album_type": album.album_type,
            "total_tracks": album.total_tracks,
            "images": _images(album.images),
            "name": album.name,
            "release_date": album.release_date_text,
            "release_date_precision": album.release_date_precision,
            "artists": [simplified_artist(catalog.artist_by_id[a], base_url) for a in album.artist_ids],
        }
    )
    return _with_market(obj, album.available_markets, market)


def full_album(album: AlbumRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    obj = simplified_album(album, catalog, base_url, market)
    obj["tracks"] = album_tracks_page(album, catalog, base_url, 0, ALBUM_TRACKS_PAGE, market)
    obj["copyrights"] = [{"text": c.text, "type": c.type} for c in album.copyrights]
    obj["external_ids"] = {"upc": album.upc}
    obj["genres"] = []  # Spotify documents this array as always empty
    obj["label"] = album.label
    obj["popularity"] = album.popularity
    return obj


def simplified_track(track: TrackRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    obj = _common("track", track.id, base_url, "tracks")
    obj.update(
        {
            "artists": [simplified_artist(catalog.artist_by_id[a], base_url) for a in track.artist_ids],
            "disc_number": track.disc_number,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "name": track.name,
            # Spotify stopped serving preview URLs to new apps on 2024-11-27.
            "preview_url": None,
            "track_number": track.track_number,
            "is_local": False,
        }
    )
    return _with_market(obj, track.available_markets, market)


def full_track(track: TrackRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    obj = simplified_track(track, catalog, base_url, market)
    obj["album"] = simplified_album(catalog.album_by_id[track.album_id], catalog, base_url, market)
    obj["external_ids"] = {"isrc": track.isrc}
    obj["popularity"] = track.popularity
    return obj


def page_url(endpoint_url: str, offset: int, limit: int, extra: dict[str, str] | None = None) -> str:
    # offset before limit, as Spotify orders them in its own paging links
    params = {"offset": str(offset), "limit": str(limit), **(extra or {})}
    return f"{endpoint_url}?{urlencode(params)}"


def paging(
    items: Sequence[Any],
    *,
    endpoint_url: str,
    total: int,
    offset: int,
    limit: int,
    extra_params: dict[str, str] | None = None,
) -> JsonObject:
    """A Spotify paging object; `items` is the already-sliced page, `endpoint_url` the absolute URL sans query."""
    next_url = page_url(endpoint_url, offset + limit, limit, extra_params) if offset + limit < total else None
    previous_url = page_url(endpoint_url, max(0, offset - limit), limit, extra_params) if offset > 0 else None
    return {
        "href": page_url(endpoint_url, offset, limit, extra_params),
        "items": list(items),
        "limit": limit,
        "next": next_url,
        "offset": offset,
        "previous": previous_url,
        "total": total,
    }


def album_tracks_page(
    album: AlbumRow, catalog: Catalog, base_url: str, offset: int, limit: int, market: str | None = None
) -> JsonObject:
    track_ids = album.track_ids[offset : offset + limit]
    return paging(
        [simplified_track(catalog.track_by_id[t], catalog, base_url, market) for t in track_ids],
        endpoint_url=f"{base_url}/albums/{album.id}/tracks",
        total=len(album.track_ids),
        offset=offset,
        limit=limit,
        extra_params={"market": market} if market else None,
    )


def new_releases_page(catalog: Catalog, base_url: str, offset: int, limit: int) -> JsonObject:
    album_ids = catalog.new_release_ids[offset : offset + limit]
    page = paging(
        [simplified_album(catalog.album_by_id[a], catalog, base_url) for a in album_ids],
        endpoint_url=f"{base_url}/browse/new-releases",
        total=len(catalog.new_release_ids),
        offset=offset,
        limit=limit,
    )
    return {"albums": page}


def many(key: str, ids: Sequence[str], lookup: Callable[[str], JsonObject | None]) -> JsonObject:
    """`{"albums": [...]}`-style body; unknown ids become `null` entries in request order, like Spotify."""
    return {key: [lookup(i) for i in ids]}


def error_body(status: int, message: str) -> JsonObject:
    return {"error": {"status": status, "message": message}}


def accounts_error_body(error: str, description: str) -> JsonObject:
    """The accounts service uses OAuth's flat error shape, unlike the Web API."""
    return {"error": error, "error_description": description}
