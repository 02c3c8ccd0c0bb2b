"""Offline Spotify Web API twin: a deterministic synthetic catalog served over HTTP on 127.0.0.1.

Offline only; imports nothing of the product (it stands in for Spotify, which knows nothing of us);
`activities/` never imports it.
"""

from offline.spotify_twin.access import AccessMode
from offline.spotify_twin.auth import Secret
from offline.spotify_twin.catalog import Catalog, build_catalog
from offline.spotify_twin.errors import ApiError, CatalogError, FaultSpecError, TwinError, TwinStartupError
from offline.spotify_twin.faults import FaultSpec, parse_faults
from offline.spotify_twin.server import TwinServer
from offline.spotify_twin.truth import expected_artist_albums, expected_first_slice, expected_search, export_truth

__all__ = [
    "AccessMode",
    "ApiError",
    "Catalog",
    "CatalogError",
    "FaultSpec",
    "FaultSpecError",
    "Secret",
    "TwinError",
    "TwinServer",
    "TwinStartupError",
    "build_catalog",
    "expected_artist_albums",
    "expected_first_slice",
    "expected_search",
    "export_truth",
    "parse_faults",
]
