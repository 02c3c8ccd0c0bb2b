"""Spotify-shaped payload builders for the transform's tests.

Every builder returns a body in the shape of the vendored offline/spotify_twin/openapi/openapi.yaml;
tests/unit/test_transform_payloads.py validates BODIES and DEVELOPMENT_BODIES (one body per endpoint the
transform reads) against it, so the parse tests cannot drift away from what Spotify sends.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from offline.spotify_twin.openapi import OPENAPI_PATH

API = "https://api.spotify.com/v1"


def simplified_artist(artist_id: str, name: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"{API}/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


PITBULL = simplified_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull")
NEYO = simplified_artist("21E3waRsmPlU7jZsS13rcj", "Ne-Yo")


def simplified_track(
    track_id: str, name: str, artists: list[dict[str, Any]], *, number: int = 1, duration_ms: int = 207959
) -> dict[str, Any]:
    return {
        "artists": artists,
        "available_markets": ["US", "GB"],
        "disc_number": 1,
        "duration_ms": duration_ms,
        "explicit": False,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "href": f"{API}/tracks/{track_id}",
        "id": track_id,
        "is_playable": True,
        "name": name,
        "preview_url": None,
        "track_number": number,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "is_local": False,
    }


def simplified_album(
    album_id: str, name: str, *, release_date: str = "2026-11-20", precision: str = "day",
    artists: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "album_type": "album",
        "total_tracks": 2,
        "available_markets": ["US", "GB"],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "href": f"{API}/albums/{album_id}",
        "id": album_id,
        "images": [
            {"url": f"https://i.scdn.co/image/{album_id}-64", "height": 64, "width": 64},
            {"url": f"https://i.scdn.co/image/{album_id}-640", "height": 640, "width": 640},
        ],
        "name": name,
        "release_date": release_date,
        "release_date_precision": precision,
        "type": "album",
        "uri": f"spotify:album:{album_id}",
        "artists": artists if artists is not None else [PITBULL],
    }


def paging(
    href: str, items: list[Any], *, limit: int = 20, offset: int = 0, total: int | None = None
) -> dict[str, Any]:
    return {
        "href": href,
        "limit": limit,
        "next": None,
        "offset": offset,
        "previous": None,
        "total": total if total is not None else offset + len(items),
        "items": items,
    }


def cursor_paging(href: str, items: list[Any]) -> dict[str, Any]:
    return {"href": href, "limit": 20, "next": f"{href}&after=1484811043508", "cursors": {"after": "1484811043508"},
            "total": len(items), "items": items}


def full_album(album_id: str, name: str, tracks: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    album = simplified_album(album_id, name, **kwargs)
    album.update({
        "tracks": paging(f"{API}/albums/{album_id}/tracks?offset=0&limit=50", tracks, limit=50),
        "copyrights": [{"text": "(P) 2026 Label", "type": "P"}],
        "external_ids": {"upc": "00602445790975"},
        "genres": [],
        "label": "Mr.305/Polo Grounds Music/J Records",
        "popularity": 71,
    })
    return album


def full_track(
    track_id: str, name: str, album: dict[str, Any], artists: list[dict[str, Any]], *, popularity: int = 64
) -> dict[str, Any]:
    track = simplified_track(track_id, name, artists)
    track.update({"album": album, "external_ids": {"isrc": f"US{track_id[:10].upper()}"}, "popularity": popularity})
    return track


def full_artist(
    artist_id: str, name: str, *, followers: int = 1000, genres: list[str] | None = None,
    images: list[dict[str, Any]] | None = None, popularity: int = 80,
) -> dict[str, Any]:
    artist = simplified_artist(artist_id, name)
    artist.update({
        "followers": {"href": None, "total": followers},
        "genres": genres if genres is not None else ["dance pop", "miami hip hop"],
        "images": images if images is not None else [
            {"url": f"https://i.scdn.co/image/{artist_id}-160", "height": 160, "width": 160},
            {"url": f"https://i.scdn.co/image/{artist_id}-640", "height": 640, "width": 640},
        ],
        "popularity": popularity,
    })
    return artist


def user(user_id: str, display_name: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
        "href": f"{API}/users/{user_id}", "id": user_id, "type": "user", "uri": f"spotify:user:{user_id}",
    }
    if display_name is not None:
        obj["display_name"] = display_name
    return obj


def private_user(user_id: str) -> dict[str, Any]:
    return {
        **user(user_id, "Listener"), "country": "SE", "email": "listener@example.com", "product": "premium",
        "explicit_content": {"filter_enabled": False, "filter_locked": False},
        "followers": {"href": None, "total": 12}, "images": [],
    }


def episode(episode_id: str, name: str) -> dict[str, Any]:
    return {
        "audio_preview_url": None, "description": "d", "html_description": "<p>d</p>", "duration_ms": 1_800_000,
        "explicit": False, "external_urls": {"spotify": f"https://open.spotify.com/episode/{episode_id}"},
        "href": f"{API}/episodes/{episode_id}", "id": episode_id, "images": [], "is_externally_hosted": False,
        "is_playable": True, "language": "en", "languages": ["en"], "name": name, "release_date": "2026-11-01",
        "release_date_precision": "day", "resume_point": {"fully_played": False, "resume_position_ms": 0},
        "type": "episode", "uri": f"spotify:episode:{episode_id}",
        "show": {
            "available_markets": ["US"], "copyrights": [], "description": "s", "html_description": "s",
            "explicit": False, "external_urls": {"spotify": "https://open.spotify.com/show/s1"},
            "href": f"{API}/shows/s1", "id": "s1", "images": [], "is_externally_hosted": False,
            "languages": ["en"], "media_type": "audio", "name": "Show", "publisher": "P", "type": "show",
            "uri": "spotify:show:s1", "total_episodes": 1,
        },
    }


def playlist_entry(item: dict[str, Any] | None, *, added_at: str | None = "2026-11-01T10:00:00Z",
                   added_by: str = "curator", is_local: bool = False) -> dict[str, Any]:
    return {"added_at": added_at, "added_by": user(added_by), "is_local": is_local, "track": item}


def local_track(name: str) -> dict[str, Any]:
    track = simplified_track("x", name, [{"external_urls": {}, "href": None, "id": None, "name": "Someone",
                                          "type": "artist", "uri": "spotify:artist:null"}])
    track.update({"id": None, "is_local": True, "uri": f"spotify:local:Someone::{name}:180",
                  "album": {**simplified_album("x", "", artists=[]), "id": None}, "external_ids": {},
                  "popularity": 0, "href": None})
    return track


def playlist(playlist_id: str, name: str, entries: list[dict[str, Any]], *, full: bool = True) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "collaborative": False, "description": "Songs", "external_urls": {"spotify": "https://open.spotify.com"},
        "href": f"{API}/playlists/{playlist_id}", "id": playlist_id,
        "images": [{"url": f"https://i.scdn.co/image/{playlist_id}", "height": 300, "width": 300}],
        "name": name, "owner": user("curator", "The Curator"), "public": True, "snapshot_id": "snap1",
        "type": "playlist", "uri": f"spotify:playlist:{playlist_id}",
    }
    if full:
        obj["followers"] = {"href": None, "total": 321}
        obj["tracks"] = paging(f"{API}/playlists/{playlist_id}/tracks?offset=0&limit=100", entries, limit=100,
                               total=len(entries) + 1)
    else:
        obj["tracks"] = {"href": f"{API}/playlists/{playlist_id}/tracks", "total": len(entries)}
    return obj


def category(category_id: str, name: str) -> dict[str, Any]:
    return {"href": f"{API}/browse/categories/{category_id}", "id": category_id, "name": name,
            "icons": [{"url": f"https://t.scdn.co/{category_id}.jpg", "height": 274, "width": 274}]}


def play(track: dict[str, Any], played_at: str) -> dict[str, Any]:
    return {"track": track, "played_at": played_at,
            "context": {"type": "playlist", "href": f"{API}/playlists/p1",
                        "external_urls": {"spotify": "https://open.spotify.com/playlist/p1"},
                        "uri": "spotify:playlist:p1"}}


# -- Development Mode (Spotify's February 2026 changes; issue 9) ----------------------------------

# Fields a Development Mode app no longer receives, by object ``type``: absent from the body, not null
# (the OpenAPI description 2026.5.31 marks them deprecated). Artist ``genres`` is deprecated: absent here,
# the strictest reading. ``external_ids`` came back in March 2026 and stays.
REMOVED_IN_DEVELOPMENT: dict[str, tuple[str, ...]] = {
    "track": ("popularity", "available_markets", "linked_from"),
    "album": ("popularity", "label", "available_markets", "album_group"),
    "artist": ("popularity", "followers", "genres"),
    "user": ("country", "email", "explicit_content", "followers", "product"),
}


def development(body: Any) -> Any:
    """``body`` as a Development Mode app receives it: the removed fields absent, at every depth."""
    if isinstance(body, list):
        return [development(item) for item in body]
    if not isinstance(body, dict):
        return body
    removed = REMOVED_IN_DEVELOPMENT.get(body.get("type"), ())  # type: ignore[arg-type]
    return {key: development(value) for key, value in body.items() if key not in removed}


def items_entry(item: dict[str, Any] | None, *, added_at: str | None = "2026-11-01T10:00:00Z",
                added_by: str = "curator", is_local: bool = False) -> dict[str, Any]:
    """An entry of GET /playlists/{id}/items: the item under ``item`` (``track`` is the deprecated name)."""
    return {"added_at": added_at, "added_by": user(added_by), "is_local": is_local, "item": item}


def owned_playlist(playlist_id: str, name: str, entries: list[dict[str, Any]], *, owner: str = "listener") -> dict[str, Any]:
    """GET /playlists/{id} of a playlist the user owns: its first page of items under ``items``."""
    obj = playlist(playlist_id, name, [], full=True)
    del obj["tracks"]
    obj["owner"] = user(owner, "Listener")
    obj["items"] = paging(f"{API}/playlists/{playlist_id}/items?offset=0&limit=100", entries, limit=100)
    return obj


def not_owned_playlist(playlist_id: str, name: str) -> dict[str, Any]:
    """GET /playlists/{id} of someone else's playlist in Development Mode: metadata without items."""
    obj = playlist(playlist_id, name, [], full=True)
    del obj["tracks"]
    return obj


# -- the builders are Spotify-shaped ---------------------------------------------------------------

_OPENAPI = OPENAPI_PATH
A1 = simplified_album("4aawyAB9vmqN3uQ7FjRGTy", "Global Warming")
T1 = full_track("6OmhkSOpvYBokMKQxpIGx2", "Global Warming", A1, [PITBULL, NEYO])


@lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    return yaml.load(_OPENAPI.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # type: ignore[no-any-return]


BODIES: list[tuple[str, Any]] = [
    ("/albums", {"albums": [full_album(A1["id"], "A", [simplified_track("t1", "T", [PITBULL])])]}),
    ("/browse/new-releases", {"albums": paging(f"{API}/browse/new-releases", [A1])}),
    ("/albums/{id}/tracks", paging(f"{API}/albums/a1/tracks", [simplified_track("t1", "T", [PITBULL, NEYO])])),
    ("/tracks", {"tracks": [T1]}),
    ("/artists", {"artists": [full_artist(PITBULL["id"], "Pitbull")]}),
    ("/artists/{id}/top-tracks", {"tracks": [T1]}),
    ("/artists/{id}/albums", paging(f"{API}/artists/a/albums", [{**A1, "album_group": "album"}])),
    ("/search", {"tracks": paging(f"{API}/search?q=x&type=track", [T1]),
                 "artists": paging(f"{API}/search?q=x&type=artist", [full_artist(PITBULL["id"], "Pitbull")]),
                 "albums": paging(f"{API}/search?q=x&type=album", [A1]),
                 "playlists": paging(f"{API}/search?q=x&type=playlist", [playlist("p1", "P", [], full=False)])}),
    ("/playlists/{playlist_id}", playlist("p1", "P", [playlist_entry(T1), playlist_entry(episode("e1", "E"))])),
    ("/playlists/{playlist_id}/items", paging(f"{API}/playlists/p1/items", [playlist_entry(T1)])),
    ("/browse/categories", {"categories": paging(f"{API}/browse/categories", [category("pop", "Pop")])}),
    ("/markets", {"markets": ["CA", "BR", "IT", "XK"]}),
    ("/me", private_user("listener")),
    ("/me/top/artists", paging(f"{API}/me/top/artists", [full_artist(PITBULL["id"], "Pitbull")])),
    ("/me/top/tracks", paging(f"{API}/me/top/tracks", [T1])),
    ("/me/player/recently-played", cursor_paging(f"{API}/me/player/recently-played",
                                                 [play(T1, "2026-11-23T21:04:05.123Z")])),
    ("/me/tracks", paging(f"{API}/me/tracks", [{"added_at": "2026-10-01T08:00:00Z", "track": T1}])),
    ("/me/following", {"artists": cursor_paging(f"{API}/me/following?type=artist",
                                                [full_artist(NEYO["id"], "Ne-Yo")])}),
    ("/me/playlists", paging(f"{API}/me/playlists", [playlist("p1", "P", [], full=False)])),
]

# What a Development Mode app reads, shaped the same way.
DEV_A1 = development(A1)
DEV_T1 = development(T1)
DEVELOPMENT_BODIES: list[tuple[str, Any]] = [
    ("/albums/{id}", development(full_album(A1["id"], "A", [simplified_track("t1", "T", [PITBULL])]))),
    ("/tracks/{id}", DEV_T1),
    ("/artists/{id}", development(full_artist(PITBULL["id"], "Pitbull"))),
    ("/me", development(private_user("listener"))),
    ("/playlists/{playlist_id}/items", paging(f"{API}/playlists/p1/items", [items_entry(DEV_T1)])),
    ("/playlists/{playlist_id}", owned_playlist("p1", "P", [items_entry(DEV_T1)])),
    ("/playlists/{playlist_id}", not_owned_playlist("p2", "Theirs")),
    ("/me/player/recently-played", cursor_paging(f"{API}/me/player/recently-played",
                                                 [play(DEV_T1, "2026-11-23T21:04:05.123Z")])),
    ("/me/top/artists", paging(f"{API}/me/top/artists", [development(full_artist(NEYO["id"], "Ne-Yo"))])),
    ("/search", {"tracks": paging(f"{API}/search?q=x&type=track", [DEV_T1], limit=10),
                 "albums": paging(f"{API}/search?q=x&type=album", [DEV_A1], limit=10)}),
]
