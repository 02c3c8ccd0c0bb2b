"""What the extract settings must be, wherever they are written: in `config/<env>.json` (checked by
`factory_deploy.env_config` at deploy and before a local run) and in the pipeline's extended properties (checked
by `activities.extract.config` on Batch). One rule, one wording: each check returns what is wrong, for the caller
to prefix with the key's name in its own file, or None.
"""

from __future__ import annotations

from activities.sources import ACCESS_MODES

# ADF's ForEach batchCount maximum (Microsoft Learn, "ForEach activity": batchCount at most 50).
MAX_SHARDS = 50
# A Development Mode app serves at most 5 allow-listed users (Spotify, 2026-02 Development Mode changes).
MAX_USERS = 5
# The most worker threads one extract process runs (each keeps its own keep-alive connections).
MAX_CONCURRENCY = 64


def shard_count_problem(count: int) -> str | None:
    return None if 1 <= count <= MAX_SHARDS else f"must be between 1 and {MAX_SHARDS} (ForEach batchCount), got {count}"


def concurrency_problem(threads: int) -> str | None:
    return None if 1 <= threads <= MAX_CONCURRENCY else f"must be between 1 and {MAX_CONCURRENCY}, got {threads}"


def rate_problem(per_second: float) -> str | None:
    return None if per_second >= 0 else f"must not be negative (0 = unlimited), got {per_second}"


def budget_problem(value: int) -> str | None:
    """requestBudget, retryBudget and refreshAfterDays: a count, 0 meaning none (or no limit)."""
    return None if value >= 0 else f"must not be negative (0 = no limit), got {value}"


def user_count_problem(count: int) -> str | None:
    if count <= MAX_USERS:
        return None
    return f"lists {count} users; a Development Mode app serves at most {MAX_USERS} allow-listed users"


def access_mode_problem(mode: str) -> str | None:
    return None if mode in ACCESS_MODES else f"must be one of {', '.join(ACCESS_MODES)}, got {mode!r}"


__all__ = [
    "MAX_CONCURRENCY",
    "MAX_SHARDS",
    "MAX_USERS",
    "access_mode_problem",
    "budget_problem",
    "concurrency_problem",
    "rate_problem",
    "shard_count_problem",
    "user_count_problem",
]
