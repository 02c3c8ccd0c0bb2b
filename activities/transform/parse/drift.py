"""Schema drift: fields in the raw JSON that the Spotify OpenAPI description (and so this model) does not know.

New fields never break the transform (parsers read the fields they know and ignore the rest);
this module only notices them, so the run can report them (customOutput ``schemaDrift``) and
someone can decide whether the curated model should grow. Missing optional fields need no
report: parsers read them as null. Type changes are caught per value and quarantined.

Sampling: one object per array per page (the first), checked recursively through the nested
objects the parsers read. Objects of one response share a shape, so a new field shows up in
the first one; checking every object would cost a set difference per object.

``KNOWN_FIELDS`` is the property set of each schema in the vendored offline/spotify_twin/openapi/openapi.yaml;
a unit test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.transform.parse.document import is_array, is_object

KNOWN_FIELDS: Mapping[str, frozenset[str]] = {
    "TrackObject": frozenset(
        ['album', 'artists', 'available_markets', 'disc_number', 'duration_ms', 'explicit', 'external_ids',
         'external_urls', 'href', 'id', 'is_local', 'is_playable', 'linked_from', 'name', 'popularity',
         'preview_url', 'restrictions', 'track_number', 'type', 'uri']
    ),
    "SimplifiedTrackObject": frozenset(
        ['artists', 'available_markets', 'disc_number', 'duration_ms', 'explicit', 'external_urls', 'href', 'id',
         'is_local', 'is_playable', 'linked_from', 'name', 'preview_url', 'restrictions', 'track_number', 'type',
         'uri']
    ),
    "AlbumObject": frozenset(
        ['album_type', 'artists', 'available_markets', 'copyrights', 'external_ids', 'external_urls', 'genres',
         'href', 'id', 'images', 'label', 'name', 'popularity', 'release_date', 'release_date_precision',
         'restrictions', 'total_tracks', 'tracks', 'type', 'uri']
    ),
    "SimplifiedAlbumObject": frozenset(
        ['album_type', 'artists', 'available_markets', 'external_urls', 'href', 'id', 'images', 'name',
         'release_date', 'release_date_precision', 'restrictions', 'total_tracks', 'type', 'uri']
    ),
    "ArtistDiscographyAlbumObject": frozenset(
        ['album_group', 'album_type', 'artists', 'available_markets', 'external_urls', 'href', 'id', 'images',
         'name', 'release_date', 'release_date_precision', 'restrictions', 'total_tracks', 'type', 'uri']
    ),
    "ArtistObject": frozenset(
        ['external_urls', 'followers', 'genres', 'href', 'id', 'images', 'name', 'popularity', 'type', 'uri']
    ),
    "SimplifiedArtistObject": frozenset(['external_urls', 'href', 'id', 'name', 'type', 'uri']),
    "PlaylistObject": frozenset(
        ['collaborative', 'description', 'external_urls', 'followers', 'href', 'id', 'images', 'items', 'name',
         'owner', 'public', 'snapshot_id', 'tracks', 'type', 'uri']
    ),
    "SimplifiedPlaylistObject": frozenset(
        ['collaborative', 'description', 'external_urls', 'href', 'id', 'images', 'items', 'name', 'owner',
         'public', 'snapshot_id', 'tracks', 'type', 'uri']
    ),
    "PlaylistTrackObject": frozenset(['added_at', 'added_by', 'is_local', 'item', 'track']),
    "PlaylistUserObject": frozenset(['external_urls', 'href', 'id', 'type', 'uri']),
    "PlaylistOwnerObject": frozenset(['display_name', 'external_urls', 'href', 'id', 'type', 'uri']),
    "PrivateUserObject": frozenset(
        ['account_id', 'country', 'display_name', 'email', 'explicit_content', 'external_urls', 'followers',
         'href', 'id', 'images', 'product', 'type', 'uri']
    ),
    "CategoryObject": frozenset(['href', 'icons', 'id', 'name']),
    "PlayHistoryObject": frozenset(['context', 'played_at', 'track']),
    "SavedTrackObject": frozenset(['added_at', 'track']),
    "ContextObject": frozenset(['external_urls', 'href', 'type', 'uri']),
    "EpisodeObject": frozenset(
        ['audio_preview_url', 'description', 'duration_ms', 'explicit', 'external_urls', 'href',
         'html_description', 'id', 'images', 'is_externally_hosted', 'is_playable', 'language', 'languages',
         'name', 'release_date', 'release_date_precision', 'restrictions', 'resume_point', 'show', 'type', 'uri']
    ),
    "ImageObject": frozenset(['height', 'url', 'width']),
    "FollowersObject": frozenset(['href', 'total']),
    "ExternalIdObject": frozenset(['ean', 'isrc', 'upc']),
    "PagingObject": frozenset(['href', 'limit', 'next', 'offset', 'previous', 'total']),
    "CursorPagingObject": frozenset(['cursors', 'href', 'limit', 'next', 'total']),
}

# Fields the live API (and the twin) send that the OpenAPI description leaves out: albums carry
# `is_playable` when the request names a market, as tracks do. Known, so not reported as drift.
ALSO_SENT: Mapping[str, frozenset[str]] = {
    "AlbumObject": frozenset({"is_playable"}),
    "SimplifiedAlbumObject": frozenset({"is_playable"}),
    "ArtistDiscographyAlbumObject": frozenset({"is_playable"}),
}
_KNOWN = {kind: fields | ALSO_SENT.get(kind, frozenset()) for kind, fields in KNOWN_FIELDS.items()}

# Nested objects the parsers read: field -> schema name ("[]" suffix: an array of them, first one sampled).
_NESTED: Mapping[str, Mapping[str, str]] = {
    "TrackObject": {"album": "SimplifiedAlbumObject", "artists": "SimplifiedArtistObject[]",
                    "external_ids": "ExternalIdObject"},
    "SimplifiedTrackObject": {"artists": "SimplifiedArtistObject[]"},
    "AlbumObject": {"artists": "SimplifiedArtistObject[]", "images": "ImageObject[]"},
    "SimplifiedAlbumObject": {"artists": "SimplifiedArtistObject[]", "images": "ImageObject[]"},
    "ArtistDiscographyAlbumObject": {"artists": "SimplifiedArtistObject[]", "images": "ImageObject[]"},
    "ArtistObject": {"followers": "FollowersObject", "images": "ImageObject[]"},
    "PlaylistObject": {"owner": "PlaylistOwnerObject", "followers": "FollowersObject", "images": "ImageObject[]"},
    "SimplifiedPlaylistObject": {"owner": "PlaylistOwnerObject", "images": "ImageObject[]"},
    "PlaylistTrackObject": {"added_by": "PlaylistUserObject"},
    "PrivateUserObject": {"followers": "FollowersObject", "images": "ImageObject[]"},
    "CategoryObject": {"icons": "ImageObject[]"},
    "PlayHistoryObject": {"track": "TrackObject", "context": "ContextObject"},
    "SavedTrackObject": {"track": "TrackObject"},
}

# Paging fields beyond PagingObject's that some responses carry and no parser reads as data.
_PAGING_EXTRA = frozenset({"items", "cursors"})


class DriftRecorder:
    """Collects unknown fields per raw entity over a run; ``report()`` is customOutput's ``schemaDrift``."""

    def __init__(self) -> None:
        self._new: dict[str, set[str]] = {}

    def check(self, entity: str, kind: str, obj: Any) -> None:
        """Record fields of ``obj`` (a ``kind`` object) and its nested objects that ``kind`` does not define."""
        if not is_object(obj):
            return  # a wrong type is the parser's (quarantine's) business, not drift's
        known = _KNOWN[kind]
        unknown = [name for name in obj if name not in known]
        if unknown:
            self._new.setdefault(entity, set()).update(f"{kind}.{name}" for name in unknown)
        for field, nested_kind in _NESTED.get(kind, {}).items():
            value = obj.get(field)
            if nested_kind.endswith("[]"):
                if is_array(value) and value:
                    self.check(entity, nested_kind[:-2], value[0])
            elif value is not None:
                self.check(entity, nested_kind, value)

    def note(self, entity: str, name: str) -> None:
        """Record one unknown field by name (``Schema.field``)."""
        self._new.setdefault(entity, set()).add(name)

    def check_paging(self, entity: str, page: Any, *, cursor: bool = False) -> None:
        """Record unknown fields of a paging object (``items`` itself is checked by the item's kind)."""
        if not is_object(page):
            return
        kind = "CursorPagingObject" if cursor else "PagingObject"
        known = KNOWN_FIELDS[kind] | _PAGING_EXTRA
        unknown = [name for name in page if name not in known]
        if unknown:
            self._new.setdefault(entity, set()).update(f"{kind}.{name}" for name in unknown)

    def report(self) -> dict[str, dict[str, list[str]]]:
        """``{entity: {"new_fields": [sorted "Schema.field" names]}}``; empty when nothing drifted."""
        return {entity: {"new_fields": sorted(fields)} for entity, fields in sorted(self._new.items())}


__all__ = ["ALSO_SENT", "KNOWN_FIELDS", "DriftRecorder"]
