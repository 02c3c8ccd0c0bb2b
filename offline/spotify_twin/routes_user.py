"""Handlers of the listener's endpoints (/me...). The route table marks them user-only, so the dispatcher
answers an app (client-credentials) token with 403 before any of these runs.

Cursor paging as Spotify does it:

- recently played: newest first, cursors are `played_at` in Unix ms. Without a cursor or with `before=T`
  a page holds the newest plays older than T and `next` asks for `before=<oldest on the page>`. With
  `after=T` a page holds the plays right after T (the oldest ones first in time, listed newest first) and
  `next` asks for `after=<newest on the page>`. An empty page has `cursors: null`. No `total`, like Spotify.
- followed artists: ascending artist id; `after=<id>` continues after that id, `cursors.after` is the last id
  of the page (null on the last page), `total` is the number followed.
"""

from __future__ import annotations

from urllib.parse import urlencode

from offline.spotify_twin import objects
from offline.spotify_twin.api import ApiRequest, ApiResponse, int_param, limit_offset, listener, market, ok, one
from offline.spotify_twin.errors import ApiError
from offline.spotify_twin.rows import TIME_RANGES, epoch_millis

DEFAULT_TIME_RANGE = "medium_term"
RECENTLY_PLAYED_KEPT = 50


def get_me(request: ApiRequest) -> ApiResponse:
    return ok(objects.private_user(listener(request), request.base_url))


def _time_range(request: ApiRequest) -> str:
    value = one(request, "time_range") or DEFAULT_TIME_RANGE
    if value not in TIME_RANGES:
        raise ApiError(400, "Invalid time range")
    return value


def _top(request: ApiRequest, kind: str) -> ApiResponse:
    user = listener(request)
    time_range = _time_range(request)
    limit, offset = limit_offset(request)
    catalog = request.catalog
    base = request.base_url
    if kind == "artists":
        ids = user.top_artists(time_range)
        items = [objects.full_artist(catalog.artist_by_id[i], base) for i in ids[offset : offset + limit]]
    else:
        ids = user.top_tracks(time_range)
        items = [objects.full_track(catalog.track_by_id[i], catalog, base) for i in ids[offset : offset + limit]]
    extra = {"time_range": time_range} if one(request, "time_range") else None
    return ok(
        objects.paging(
            items, endpoint_url=f"{base}/me/top/{kind}", total=len(ids), offset=offset, limit=limit,
            extra_params=extra,
        )
    )


def get_top_artists(request: ApiRequest) -> ApiResponse:
    return _top(request, "artists")


def get_top_tracks(request: ApiRequest) -> ApiResponse:
    return _top(request, "tracks")


def get_recently_played(request: ApiRequest) -> ApiResponse:
    user = listener(request)
    limit = int_param(request, "limit", 20, 1, 50)
    after = _millis(request, "after")
    before = _millis(request, "before")
    if after is not None and before is not None:
        raise ApiError(400, "Only one of after and before may be given")
    # Spotify keeps only the newest 50 plays for recently played (its reference: "the current user's recently
    # played tracks", limit max 50, and clients report nothing older reachable); extended mode serves them all.
    plays = user.plays[:RECENTLY_PLAYED_KEPT] if request.development else user.plays
    stamped = [(epoch_millis(p.played_at), p) for p in plays]  # newest first
    if after is not None:
        newer = [entry for entry in stamped if entry[0] > after]
        page = newer[-limit:]  # the ones right after the cursor, still newest first
        has_more = len(newer) > len(page)
    else:
        older = [entry for entry in stamped if before is None or entry[0] < before]
        page = older[:limit]
        has_more = len(older) > len(page)
    endpoint = f"{request.base_url}/me/player/recently-played"
    given = {k: v for k in ("after", "before") if (v := one(request, k))}
    href = f"{endpoint}?{urlencode({**given, 'limit': limit})}"
    cursors = {"after": str(page[0][0]), "before": str(page[-1][0])} if page else None
    next_url = None
    if page and has_more:
        cursor = ("after", page[0][0]) if after is not None else ("before", page[-1][0])
        next_url = f"{endpoint}?{urlencode({cursor[0]: cursor[1], 'limit': limit})}"
    items = [objects.play_history(p, request.catalog, request.base_url) for _, p in page]
    return ok(objects.cursor_paging(items, href=href, limit=limit, next_url=next_url, cursors=cursors))


def _millis(request: ApiRequest, name: str) -> int | None:
    raw = one(request, name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} cursor: expected a Unix timestamp in milliseconds") from None
    if value < 0:
        raise ApiError(400, f"Invalid {name} cursor: expected a Unix timestamp in milliseconds")
    return value


def get_saved_tracks(request: ApiRequest) -> ApiResponse:
    user = listener(request)
    country = market(request)
    limit, offset = limit_offset(request)
    rows = user.saved_tracks
    items = [objects.saved_track(r, request.catalog, request.base_url, country) for r in rows[offset : offset + limit]]
    return ok(
        objects.paging(
            items, endpoint_url=f"{request.base_url}/me/tracks", total=len(rows), offset=offset, limit=limit,
            extra_params={"market": country} if country else None,
        )
    )


def get_followed_artists(request: ApiRequest) -> ApiResponse:
    user = listener(request)
    kind = one(request, "type")
    if kind is None or kind == "":
        raise ApiError(400, "Missing required parameter: type")
    if kind != "artist":
        raise ApiError(400, "Invalid type: only artist is supported")
    limit = int_param(request, "limit", 20, 1, 50)
    after = one(request, "after") or None
    followed = user.followed_artist_ids
    remaining = [a for a in followed if after is None or a > after]
    page = remaining[:limit]
    endpoint = f"{request.base_url}/me/following"
    href = f"{endpoint}?{urlencode({'type': 'artist', **({'after': after} if after else {}), 'limit': limit})}"
    more = len(remaining) > len(page)
    last = page[-1] if page and more else None
    next_url = f"{endpoint}?{urlencode({'type': 'artist', 'after': last, 'limit': limit})}" if last else None
    items = [objects.full_artist(request.catalog.artist_by_id[a], request.base_url) for a in page]
    return ok(
        {
            "artists": objects.cursor_paging(
                items, href=href, limit=limit, next_url=next_url, cursors={"after": last}, total=len(followed)
            )
        }
    )


def get_my_playlists(request: ApiRequest) -> ApiResponse:
    user = listener(request)
    limit, offset = limit_offset(request, max_offset=100_000)
    catalog = request.catalog
    ids = user.playlist_ids
    items = [objects.simplified_playlist(catalog.playlist_by_id[i], catalog, request.base_url)
             for i in ids[offset : offset + limit]]
    return ok(
        objects.paging(
            items, endpoint_url=f"{request.base_url}/me/playlists", total=len(ids), offset=offset, limit=limit
        )
    )
