"""The vendored Spotify Web API OpenAPI description (see SOURCE.md beside this file)."""

from pathlib import Path

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.yaml"

__all__ = ["OPENAPI_PATH"]
