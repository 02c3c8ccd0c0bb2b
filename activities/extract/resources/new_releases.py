"""GET /browse/new-releases: pages of simplified albums (entity ``new_releases``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from activities.extract.client import ApiResponse, SpotifyClient
from activities.extract.resources import _array, _ids, _next, _object

ENTITY = "new_releases"
PATH = "/browse/new-releases"
PAGE_LIMIT = 50  # the endpoint's maximum


def fetch_new_releases(client: SpotifyClient) -> Iterator[tuple[ApiResponse, Any]]:
    """Yield ``(response, payload)`` per page, following ``albums.next``; the caller stops when it has enough."""
    url: str | None = client.url_for(PATH, {"limit": PAGE_LIMIT, "offset": 0})
    while url is not None:
        response = client.get(url)
        payload = response.json()
        yield response, payload
        page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
        # An empty page with a `next` would loop forever; no items means no more albums.
        url = _next(page) if _array(page, "items", "new releases `albums`") else None


def ids_from_new_releases(payload: Any) -> list[str]:
    """Album ids of one new-releases page, in page order."""
    page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
    return _ids(_array(page, "items", "new releases `albums`"))


def next_from_new_releases(payload: Any) -> str | None:
    page = _object(_object(payload, "new releases").get("albums"), "new releases `albums`")
    return _next(page)
