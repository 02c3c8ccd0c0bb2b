"""Turn catalog rows into the JSON objects the Spotify Web API returns.

Pure functions: rows + the twin's API base URL in, dicts out. Field sets follow the OpenAPI schemas
(ArtistObject, SimplifiedArtistObject, AlbumObject, SimplifiedAlbumObject, TrackObject,
SimplifiedTrackObject, PagingObject, ErrorObject) and what the live API sends.

Market handling: when a country `market` is given, albums and tracks also carry `is_playable`. The live API
then tends to drop `available_markets`, but the OpenAPI description marks it required on albums, so the twin
keeps it everywhere (a superset that validates).

Playlists as Spotify sends them (some of it outside the OpenAPI schemas, which clients must survive):
playlist items carry their content under `item` and the deprecated `track` (same object); a removed track
is `null` there; a local file is a track object with `id`/`href` null and a `spotify:local:...` URI; items of
Spotify-made playlists are `added_by` a user with id "". Episodes are always full EpisodeObjects: the live API
sends track-shaped episodes unless `additional_types` lists `episode`, so clients should always send
`additional_types=track,episode`. Play history `context` may be null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from offline.spotify_twin.catalog import Catalog
from offline.spotify_twin.rows import (
    ITEM_EPISODE,
    ITEM_LOCAL,
    ITEM_TRACK,
    AlbumRow,
    ArtistRow,
    CategoryRow,
    EpisodeRow,
    Image,
    ListenerRow,
    LocalTrackRow,
    PlaylistItemRow,
    PlaylistRow,
    PlayRow,
    SavedTrackRow,
    ShowRow,
    TrackRow,
    UserRow,
    iso_millis,
    iso_seconds,
)

JsonObject = dict[str, Any]

OPEN_SPOTIFY = "https://open.spotify.com"
ALBUM_TRACKS_PAGE = 50  # the full album object embeds at most this many tracks, as Spotify does
PLAYLIST_ITEMS_PAGE = 100  # the full playlist object embeds at most this many items, as Spotify does
PLAYLIST_ITEMS_MAX_LIMIT = 50  # GET /playlists/{id}/items (OpenAPI QueryLimit)
PLAYLIST_TRACKS_MAX_LIMIT = 100  # the deprecated GET /playlists/{id}/tracks


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


def artist_album(
    album: AlbumRow, group: str, catalog: Catalog, base_url: str, market: str | None = None
) -> JsonObject:
    """ArtistDiscographyAlbumObject: a simplified album plus how the artist relates to it."""
    obj = simplified_album(album, catalog, base_url, market)
    obj["album_group"] = group
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


# ---- users ------------------------------------------------------------------------------------------------


def playlist_user(user_id: str, base_url: str) -> JsonObject:
    """PlaylistUserObject (`added_by`). Spotify-made playlists name no adder: the id is "" and links are bare."""
    return _common("user", user_id, base_url, "users")


def playlist_owner(user: UserRow, base_url: str) -> JsonObject:
    obj = playlist_user(user.id, base_url)
    obj["display_name"] = user.display_name
    return obj


def private_user(listener: ListenerRow, base_url: str) -> JsonObject:
    """PrivateUserObject of GET /me, as with the user-read-private and user-read-email scopes."""
    user = listener.user
    obj = _common("user", user.id, base_url, "users")
    obj.update(
        {
            "country": listener.country,
            "display_name": user.display_name,
            "email": listener.email,
            "explicit_content": {"filter_enabled": False, "filter_locked": False},
            "followers": {"href": None, "total": user.followers},
            "images": _images(user.images),
            "product": listener.product,
        }
    )
    return obj


# ---- podcasts ---------------------------------------------------------------------------------------------


def simplified_show(show: ShowRow, base_url: str) -> JsonObject:
    obj = _common("show", show.id, base_url, "shows")
    obj.update(
        {
            "available_markets": list(show.available_markets),
            "copyrights": [],
            "description": show.description,
            "html_description": f"<p>{show.description}</p>",
            "explicit": show.explicit,
            "images": _images(show.images),
            "is_externally_hosted": False,
            "languages": list(show.languages),
            "media_type": "audio",
            "name": show.name,
            "publisher": show.publisher,
            "total_episodes": len(show.episode_ids),
        }
    )
    return obj


def full_episode(episode: EpisodeRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    """EpisodeObject (with its show), the shape playlist items carry for podcast episodes."""
    show = catalog.show_by_id[episode.show_id]
    obj = _common("episode", episode.id, base_url, "episodes")
    obj.update(
        {
            "audio_preview_url": None,
            "description": episode.description,
            "html_description": f"<p>{episode.description}</p>",
            "duration_ms": episode.duration_ms,
            "explicit": episode.explicit,
            "images": _images(episode.images),
            "is_externally_hosted": False,
            "is_playable": market is None or market in show.available_markets,
            "language": episode.languages[0],
            "languages": list(episode.languages),
            "name": episode.name,
            "release_date": episode.release_date.isoformat(),
            "release_date_precision": "day",
            "show": simplified_show(show, base_url),
        }
    )
    return obj


def simplified_episode(episode: EpisodeRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    obj = full_episode(episode, catalog, base_url, market)
    del obj["show"]
    return obj


# ---- playlists ----------------------------------------------------------------------------------------------


def local_track(local: LocalTrackRow) -> JsonObject:
    """A local file as Spotify lists it: names only, `id`/`href` null, a `spotify:local:` URI, empty links."""
    return {
        "album": {
            "album_type": None, "artists": [], "available_markets": [], "external_urls": {}, "href": None,
            "id": None, "images": [], "name": local.album, "release_date": None, "release_date_precision": None,
            "type": "album", "uri": None,
        },
        "artists": [
            {"external_urls": {}, "href": None, "id": None, "name": local.artist, "type": "artist", "uri": None}
        ],
        "available_markets": [],
        "disc_number": 0,
        "duration_ms": local.duration_ms,
        "explicit": False,
        "external_ids": {},
        "external_urls": {},
        "href": None,
        "id": None,
        "is_local": True,
        "name": local.name,
        "popularity": 0,
        "preview_url": None,
        "track_number": 0,
        "type": "track",
        "uri": local.uri,
    }


def playlist_item(item: PlaylistItemRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    """PlaylistTrackObject. The item sits under `item` and, as before 2026, under the deprecated `track`.

    Removed tracks are `null` there; episodes are always full EpisodeObjects (see the module docstring).
    """
    content: JsonObject | None
    if item.kind == ITEM_TRACK and item.ref_id is not None:
        content = full_track(catalog.track_by_id[item.ref_id], catalog, base_url, market)
    elif item.kind == ITEM_EPISODE and item.ref_id is not None:
        content = full_episode(catalog.episode_by_id[item.ref_id], catalog, base_url, market)
    elif item.kind == ITEM_LOCAL and item.local is not None:
        content = local_track(item.local)
    else:
        content = None
    return {
        "added_at": iso_seconds(item.added_at),
        "added_by": playlist_user(item.added_by, base_url),
        "is_local": item.kind == ITEM_LOCAL,
        "primary_color": None,
        "item": content,
        "track": content,
        "video_thumbnail": {"url": None},
    }


def _playlist_base(playlist: PlaylistRow, catalog: Catalog, base_url: str) -> JsonObject:
    obj = _common("playlist", playlist.id, base_url, "playlists")
    obj.update(
        {
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "images": _images(playlist.images),
            "name": playlist.name,
            "owner": playlist_owner(catalog.user_by_id[playlist.owner_id], base_url),
            "primary_color": None,
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
        }
    )
    return obj


def simplified_playlist(playlist: PlaylistRow, catalog: Catalog, base_url: str) -> JsonObject:
    obj = _playlist_base(playlist, catalog, base_url)
    total = len(playlist.items)
    obj["items"] = {"href": f"{base_url}/playlists/{playlist.id}/items", "total": total}
    obj["tracks"] = {"href": f"{base_url}/playlists/{playlist.id}/tracks", "total": total}
    return obj


def full_playlist(playlist: PlaylistRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    """PlaylistObject with the first 100 items embedded twice: under `items` and the deprecated `tracks`.

    The embedded pages hold 100 items but their `next` links ask for what the linked endpoint accepts:
    50 on /items, 100 on the deprecated /tracks.
    """
    obj = _playlist_base(playlist, catalog, base_url)
    obj["followers"] = {"href": None, "total": playlist.followers}
    obj["items"] = playlist_items_page(
        playlist, catalog, base_url, 0, PLAYLIST_ITEMS_PAGE, market, next_limit=PLAYLIST_ITEMS_MAX_LIMIT
    )
    obj["tracks"] = playlist_items_page(
        playlist, catalog, base_url, 0, PLAYLIST_ITEMS_PAGE, market, collection="tracks"
    )
    return obj


def playlist_items_page(
    playlist: PlaylistRow,
    catalog: Catalog,
    base_url: str,
    offset: int,
    limit: int,
    market: str | None = None,
    *,
    collection: str = "items",
    next_limit: int | None = None,
) -> JsonObject:
    rows = playlist.items[offset : offset + limit]
    extra = {"market": market} if market else None
    page = paging(
        [playlist_item(row, catalog, base_url, market) for row in rows],
        endpoint_url=f"{base_url}/playlists/{playlist.id}/{collection}",
        total=len(playlist.items),
        offset=offset,
        limit=limit,
        extra_params=extra,
    )
    if next_limit is not None and page["next"] is not None:
        page["next"] = page_url(f"{base_url}/playlists/{playlist.id}/{collection}", offset + limit, next_limit, extra)
    return page


def category(row: CategoryRow, base_url: str) -> JsonObject:
    return {
        "href": f"{base_url}/browse/categories/{row.id}",
        "icons": _images(row.icons),
        "id": row.id,
        "name": row.name,
    }


# ---- the listener's library -------------------------------------------------------------------------------


def saved_track(row: SavedTrackRow, catalog: Catalog, base_url: str, market: str | None = None) -> JsonObject:
    return {"added_at": iso_seconds(row.added_at), "track": full_track(catalog.track_by_id[row.track_id], catalog,
                                                                      base_url, market)}


def play_history(play: PlayRow, catalog: Catalog, base_url: str) -> JsonObject:
    context: JsonObject | None = None
    if play.context is not None:
        kind, object_id = play.context
        common = _common(kind, object_id, base_url, kind + "s")
        context = {k: common[k] for k in ("type", "href", "external_urls", "uri")}
    return {
        "track": full_track(catalog.track_by_id[play.track_id], catalog, base_url),
        "played_at": iso_millis(play.played_at),
        "context": context,
    }


def cursor_paging(
    items: Sequence[Any],
    *,
    href: str,
    limit: int,
    next_url: str | None,
    cursors: JsonObject | None,
    total: int | None = None,
) -> JsonObject:
    """A Spotify cursor-based paging object; `total` only where Spotify sends one."""
    page: JsonObject = {"href": href, "items": list(items), "limit": limit, "next": next_url, "cursors": cursors}
    if total is not None:
        page["total"] = total
    return page


def error_body(status: int, message: str, reason: str | None = None) -> JsonObject:
    """Spotify's ErrorObject envelope; `reason` only where Spotify adds one (the quota 429)."""
    error: JsonObject = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}


def accounts_error_body(error: str, description: str) -> JsonObject:
    """The accounts service uses OAuth's flat error shape, unlike the Web API."""
    return {"error": error, "error_description": description}
