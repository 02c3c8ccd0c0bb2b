"""``python -m activities.transform``: the command of the ADF Custom activity that builds curated tables."""

from __future__ import annotations

from typing import NoReturn

from activities.common.entrypoint import run_activity
from activities.transform.run import transform


def main() -> NoReturn:
    """Run the transform as a Batch task: context from the working directory, outputs.json, exit code."""
    run_activity("transform", transform)


if __name__ == "__main__":
    main()
