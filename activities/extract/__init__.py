"""Spotify extraction: API responses into the raw zone, then a run manifest.

Run as ``python -m activities.extract`` in a Batch task working directory (see docs/architecture.md).
"""

__all__: list[str] = []
