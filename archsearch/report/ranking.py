"""Rank ranges and groups of statistically tied cells, from bootstrap replicates.

A strict leaderboard order ranks noise. Each bootstrap replicate of the
cells' scores (see `stats.score_interval`) gives a ranking; a cell's rank
range is the 2.5-97.5 percentile of its rank over the replicates. Cells are
then grouped top-down: a group starts at the best cell not yet grouped and
takes every following cell whose best plausible rank reaches the leader's
worst plausible rank (rank ranges that overlap the leader's). Cells in one
group are not told apart at this budget. (`evidence.gather` gives a cell
whose score rests on a single trial somewhere, its own or the baseline's,
the full range of ranks: one trial says nothing about the spread.)

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reps = {"a": rng.normal(1.0, 0.01, 500), "b": rng.normal(0.99, 0.01, 500),
    ...         "c": rng.normal(0.5, 0.01, 500)}
    >>> ranges = rank_ranges(reps)
    >>> ranges["a"], ranges["c"]
    ((1, 2), (3, 3))
    >>> tied_groups(["a", "b", "c"], ranges)
    {'a': 1, 'b': 1, 'c': 2}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["rank_ranges", "tied_groups"]


def rank_ranges(replicates: Mapping[str, np.ndarray],
                level: float = 0.95) -> dict[str, tuple[int, int]]:
    """Each cell's rank range (1 = best) over paired bootstrap replicates of its score.

    Args:
        replicates: Cell -> its score replicates (all the same length; higher
            is better; NaN ranks last).
        level: Coverage of the range.

    Returns:
        Cell -> `(best rank, worst rank)`.
    """
    keys = list(replicates)
    if not keys:
        return {}
    matrix = np.vstack([np.asarray(replicates[k], dtype=float) for k in keys])
    matrix = np.where(np.isfinite(matrix), matrix, -np.inf)
    from scipy.stats import rankdata

    ranks = rankdata(-matrix, axis=0, method="min")  # rank 1 = highest; ties share it
    low = np.floor(np.quantile(ranks, (1 - level) / 2, axis=1)).astype(int)
    high = np.ceil(np.quantile(ranks, (1 + level) / 2, axis=1)).astype(int)
    return {k: (int(lo), int(hi)) for k, lo, hi in zip(keys, low, high, strict=True)}


def tied_groups(order: Sequence[str], ranges: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """Numbers the groups of tied cells (1 = the top group), walking `order` top-down.

    Args:
        order: Cells in leaderboard order (cells without a range are skipped).
        ranges: Cell -> `(best rank, worst rank)` from `rank_ranges`.

    Returns:
        Cell -> group number.
    """
    groups: dict[str, int] = {}
    group, leader_worst = 0, None
    for cell in order:
        if cell not in ranges:
            continue
        best, worst = ranges[cell]
        if leader_worst is None or best > leader_worst:
            group, leader_worst = group + 1, worst
        groups[cell] = group
    return groups
