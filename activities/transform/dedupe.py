"""Keep one row per natural key: the richest, chosen deterministically.

The same album, track or artist reaches the transform many times (a new-releases entry, the
full album, a track's embedded album, a search result, a playlist entry …). Within one bucket
of candidates (see ``spill.py``), rows are ranked per key, highest wins:

1. ``_richness``: a full object over a simplified one;
2. ``_filled``: more non-null columns (a full object that lacks a field loses to one that has it);
3. ``_part``: the part fetched later (``fetched_at``), then the greater part path;
4. ``_seq``: the earlier row (only so that the result never depends on anything but the input).

Vectorised: one sort of the bucket by (key, rank) and a "first row of each key" mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

RANK_ORDER: tuple[tuple[str, str], ...] = (
    ("_richness", "descending"),
    ("_filled", "descending"),
    ("_part", "descending"),
    ("_seq", "ascending"),
)


def winners(candidates: pa.Table, key: Sequence[str]) -> pa.Table:
    """The best row of every key in ``candidates``, sorted by key."""
    if candidates.num_rows == 0:
        return candidates
    order = pc.sort_indices(candidates, sort_keys=[(k, "ascending") for k in key] + list(RANK_ORDER))
    count = len(order)
    if count == 1:
        return candidates.take(order)
    # The first row of each key in rank order wins: compare keys only, then take the winners once.
    first = np.zeros(count, dtype=bool)
    first[0] = True
    for column in key:
        values = candidates.column(column).take(order).combine_chunks()
        differs = pc.not_equal(values.slice(1), values.slice(0, count - 1))
        first[1:] |= differs.to_numpy(zero_copy_only=False)
    return candidates.take(order.filter(pa.array(first)))


__all__ = ["RANK_ORDER", "winners"]
