"""Handlers of the catalog endpoints beyond the first slice: artist albums and top tracks, search,
playlists and their items, browse categories, markets. Any bearer (app or user) may call them.

Limits follow the OpenAPI description (2026 edition), which lowered some of them for new apps:
artist albums default 5 / max 10, search default 5 / max 10 per type with offset + limit <= 1000,
playlist items default 20 / max 50 (the deprecated /tracks alias: max 100).
"""

from __future__ import annotations

from offline.spotify_twin import objects
from offline.spotify_twin.access import FORBIDDEN
from offline.spotify_twin.api import (
    ApiRequest,
    ApiResponse,
    int_param,
    limit_offset,
    market,
    not_found,
    ok,
    one,
    path_id,
)
from offline.spotify_twin.catalog import ALBUM_GROUP_ORDER
from offline.spotify_twin.errors import ApiError
from offline.spotify_twin.rows import PlaylistRow
from offline.spotify_twin.search import MAX_REACH, RESULT_ORDER, SEARCH_TYPES, search_ids
from offline.spotify_twin.vocabulary import MARKETS, SPOTIFY_USER_ID

ARTIST_ALBUMS_DEFAULT_LIMIT = 5
ARTIST_ALBUMS_MAX_LIMIT = 10
SEARCH_DEFAULT_LIMIT = 5
SEARCH_MAX_LIMIT = 10


def _include_groups(request: ApiRequest) -> tuple[str, ...]:
    raw = one(request, "include_groups")
    if raw is None or raw.strip() == "":
        return ALBUM_GROUP_ORDER
    groups = tuple(g.strip() for g in raw.split(","))
    if any(g not in ALBUM_GROUP_ORDER for g in groups):
        raise ApiError(400, "Invalid include_groups value")
    return groups


def get_artist_albums(request: ApiRequest) -> ApiResponse:
    artist_id = path_id(request)
    groups = _include_groups(request)
    country = market(request)
    limit, offset = limit_offset(request, default=ARTIST_ALBUMS_DEFAULT_LIMIT, maximum=ARTIST_ALBUMS_MAX_LIMIT)
    catalog = request.catalog
    if artist_id not in catalog.artist_by_id:
        raise not_found()
    entries = catalog.artist_albums(artist_id, groups, country)
    extra = {}
    if one(request, "include_groups"):
        extra["include_groups"] = ",".join(groups)
    if country:
        extra["market"] = country
    items = [
        objects.artist_album(catalog.album_by_id[album_id], group, catalog, request.base_url, country)
        for album_id, group in entries[offset : offset + limit]
    ]
    return ok(
        objects.paging(
            items, endpoint_url=f"{request.base_url}/artists/{artist_id}/albums", total=len(entries),
            offset=offset, limit=limit, extra_params=extra or None,
        )
    )


def get_artist_top_tracks(request: ApiRequest) -> ApiResponse:
    artist_id = path_id(request)
    country = market(request)
    if country is None:
        raise ApiError(400, "Missing required parameter: market")
    catalog = request.catalog
    if artist_id not in catalog.artist_by_id:
        raise not_found()
    tracks = [
        objects.full_track(catalog.track_by_id[t], catalog, request.base_url, country)
        for t in catalog.top_tracks(artist_id, country)
    ]
    return ok({"tracks": tracks})


def _search_item(request: ApiRequest, kind: str, object_id: str, country: str | None) -> objects.JsonObject:
    catalog = request.catalog
    base = request.base_url
    if kind == "track":
        return objects.full_track(catalog.track_by_id[object_id], catalog, base, country)
    if kind == "artist":
        return objects.full_artist(catalog.artist_by_id[object_id], base)
    if kind == "album":
        return objects.simplified_album(catalog.album_by_id[object_id], catalog, base, country)
    if kind == "playlist":
        return objects.simplified_playlist(catalog.playlist_by_id[object_id], catalog, base)
    if kind == "show":
        return objects.simplified_show(catalog.show_by_id[object_id], base)
    return objects.simplified_episode(catalog.episode_by_id[object_id], catalog, base, country)


def get_search(request: ApiRequest) -> ApiResponse:
    q = one(request, "q")
    if q is None:
        q = one(request, "query")  # the spelling of Spotify's own paging links
    if q is None or not q.strip():
        raise ApiError(400, "No search query")
    raw_types = one(request, "type")
    if raw_types is None or raw_types.strip() == "":
        raise ApiError(400, "Missing parameter type")
    kinds = [k.strip() for k in raw_types.split(",")]
    for kind in kinds:
        if kind not in SEARCH_TYPES:
            raise ApiError(400, f"Bad search type field {kind}")
    country = market(request)
    limit = int_param(request, "limit", SEARCH_DEFAULT_LIMIT, 1, SEARCH_MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, MAX_REACH)
    if offset + limit > MAX_REACH:
        raise ApiError(400, "Invalid limit/offset: offset + limit may not exceed 1000")
    body: dict[str, objects.JsonObject] = {}
    for kind in RESULT_ORDER:
        if kind not in kinds:
            continue
        found = search_ids(request.catalog, q, kind, country)
        extra = {"query": q, "type": kind, **({"market": country} if country else {})}
        page = objects.paging(
            [_search_item(request, kind, i, country) for i in found[offset : offset + limit]],
            endpoint_url=f"{request.base_url}/search", total=len(found), offset=offset, limit=limit,
            extra_params=extra,
        )
        if offset + 2 * limit > MAX_REACH:
            page["next"] = None
        body[kind + "s"] = page
    return ok(body)


def _playlist(request: ApiRequest) -> PlaylistRow:
    playlist = request.catalog.playlist_by_id.get(path_id(request))
    if playlist is None:
        raise not_found()
    if request.development and playlist.owner_id == SPOTIFY_USER_ID:
        # 2024-11-27 blog, item 8: Spotify-owned editorial playlists are gone for new apps (clients report 404).
        raise not_found()
    return playlist


def may_read_items(playlist: PlaylistRow, request: ApiRequest) -> bool:
    """Development Mode: items only for the owner or a collaborator, with a user token (February 2026
    changelog; OpenAPI GET /playlists/{id}/items: "403 Forbidden ... neither the owner nor a collaborator").
    Extended mode: any token."""
    if not request.development:
        return True
    user = request.user
    return user is not None and (user.user.id == playlist.owner_id or user.user.id in playlist.collaborator_ids)


def get_playlist(request: ApiRequest) -> ApiResponse:
    """`fields` and `additional_types` are accepted and ignored: the whole object, episodes as episodes.

    Development Mode: a playlist the user neither owns nor collaborates on comes back without `items`
    (OpenAPI PlaylistObject.items: "only available for playlists owned by the current user or playlists the
    user is a collaborator of").
    """
    country = market(request)
    playlist = _playlist(request)
    body = objects.full_playlist(playlist, request.catalog, request.base_url, country)
    if not may_read_items(playlist, request):
        del body["items"]
    return ok(body)


def _items_page(request: ApiRequest, collection: str, maximum: int) -> ApiResponse:
    country = market(request)
    limit, offset = limit_offset(request, maximum=maximum)
    playlist = _playlist(request)
    if not may_read_items(playlist, request):
        raise ApiError(403, FORBIDDEN)
    return ok(
        objects.playlist_items_page(
            playlist, request.catalog, request.base_url, offset, limit, country, collection=collection
        )
    )


def get_playlist_items(request: ApiRequest) -> ApiResponse:
    return _items_page(request, "items", objects.PLAYLIST_ITEMS_MAX_LIMIT)


def get_playlist_tracks(request: ApiRequest) -> ApiResponse:
    """The deprecated alias of /items that the `tracks` fields still link to (extended mode only)."""
    return _items_page(request, "tracks", objects.PLAYLIST_TRACKS_MAX_LIMIT)


def get_categories(request: ApiRequest) -> ApiResponse:
    """`locale` and `country` are accepted and ignored: names are always American English."""
    limit, offset = limit_offset(request)
    categories = request.catalog.categories
    page = objects.paging(
        [objects.category(c, request.base_url) for c in categories[offset : offset + limit]],
        endpoint_url=f"{request.base_url}/browse/categories", total=len(categories), offset=offset, limit=limit,
    )
    return ok({"categories": page})


def get_markets(request: ApiRequest) -> ApiResponse:
    return ok({"markets": list(MARKETS)})
