"""Deterministic split of work between shards: the same key lands on the same shard on every machine
and in every attempt (Python's ``hash`` is salted per process, so a digest is used instead)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def shard_of(key: str, shard_count: int) -> int:
    """The shard (0 … shard_count-1) that owns ``key`` (an entity id or a task key)."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    if shard_count == 1:
        return 0
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def owned(keys: Iterable[str], shard_index: int, shard_count: int) -> list[str]:
    """The keys shard ``shard_index`` owns, sorted (so batches, and their request URLs, are the same
    in every attempt whatever order the keys were discovered in)."""
    return sorted({key for key in keys if shard_of(key, shard_count) == shard_index})


__all__ = ["owned", "shard_of"]
