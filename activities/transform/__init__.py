"""Transform stage: raw Spotify parts listed in a run manifest -> curated Parquet tables.

Run as ``python -m activities.transform`` by the ADF Custom activity. ``transform`` is the
activity's main (context in, customOutput out); ``schemas.TABLES`` declares every table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TransformConfig", "transform"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (e.g. for ``-m``) must not pull in pyarrow before it is needed.
    if name == "transform":
        from activities.transform.run import transform

        return transform
    if name == "TransformConfig":
        from activities.transform.config import TransformConfig

        return TransformConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
