"""Rank ranges and groups of statistically tied cells, from bootstrap replicates.

A strict leaderboard order ranks noise. One bootstrap replicate resamples
every cell's trials on each task with replacement (n of n, `replicates`),
recomputes its best-of-n, and takes its ratio to the baseline's replicate
(`ratio_replicates`) and the min over the scored tasks: a replicate of the
cells' scores, and of their ranking. When trials come in hyperparameter
settings with several seeds it is a two-stage cluster bootstrap (settings
with replacement, then each chosen setting's seeds), and settings shared
by two cells are drawn jointly (paired). Replicates come from a fixed seed
and the (cell, task) key, so a report is the same every time it is made.

A cell's rank range is the 2.5-97.5 percentile of its rank over the
replicates. Cells are then grouped top-down: a group starts at the best cell
not yet grouped and takes every following cell whose best plausible rank
reaches the leader's worst plausible rank (rank ranges that overlap the
leader's). Cells in one group are not told apart at this budget.
(`evidence.gather` gives a cell whose score rests on a single trial
somewhere, its own or the baseline's, the full range of ranks: one trial
says nothing about the spread.) The intervals beside the verdicts are not
these: they invert the verdicts' tests (`stats.ratio_interval`).

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

from archsearch import scoring
from archsearch.report.strata import check_mode, finite, labelled, seeded_rng

__all__ = ["N_BOOT", "replicates", "ratio_replicates", "rank_ranges", "tied_groups"]

N_BOOT = 2000         # bootstrap replicates


def replicates(scores: Sequence[float], mode: str, *key: str | int, n_boot: int = N_BOOT,
               clusters: Sequence | None = None, pair_key: tuple | None = None) -> np.ndarray:
    """Bootstrap replicates of the best-of-n of `scores`.

    Without `clusters` (or when every cluster holds one trial) the n trials
    are resampled with replacement. With `clusters` it is a two-stage cluster
    bootstrap: the clusters (hyperparameter samples) are resampled with
    replacement, then each chosen cluster's trials (its seeds) with
    replacement, and the best is taken over all of them. The first stage is
    seeded by `pair_key` and the set of cluster labels: two sides with the
    same clusters (a matched design) draw the same clusters in each
    replicate, so the cell and the baseline are resampled jointly (paired).

    Args:
        scores: Trial scores (non-finite values are dropped).
        mode: `max` or `min`.
        *key: Identifies the sample (e.g. fingerprint, task); seeds its generator.
        n_boot: Number of replicates.
        clusters: One label per score (its hyperparameter setting or sample).
        pair_key: Seeds the cluster draw with the labels (default: `key`).

    Returns:
        An array of `n_boot` bests (empty if there are no finite scores).

    Raises:
        ValueError: `mode` is not `max` or `min`, or `clusters` has another length.
    """
    check_mode(mode)
    if clusters is not None:
        values, labels = labelled(scores, clusters, "clusters")
    else:
        values, labels = finite(scores), None
    if not len(values):
        return np.empty(0)
    if labels is None or len(np.unique(labels)) == len(values):
        draws = values[seeded_rng(*key).integers(0, len(values), size=(n_boot, len(values)))]
        return draws.max(axis=1) if mode == "max" else draws.min(axis=1)
    names, inverse = np.unique(labels, return_inverse=True)
    sizes = np.bincount(inverse)
    fill = -np.inf if mode == "max" else np.inf
    table = np.full((len(names), sizes.max()), fill)
    for k in range(len(names)):
        table[k, :sizes[k]] = values[inverse == k]
    picks = seeded_rng("clusters", *(key if pair_key is None else pair_key), *names).integers(
        0, len(names), size=(n_boot, len(names)))
    chosen = sizes[picks][..., None]
    within = (seeded_rng(*key).random((n_boot, len(names), sizes.max())) * chosen).astype(int)
    draws = np.where(np.arange(sizes.max()) < chosen, table[picks[..., None], within], fill)
    return draws.max(axis=(1, 2)) if mode == "max" else draws.min(axis=(1, 2))


def ratio_replicates(cell: np.ndarray, baseline: np.ndarray, mode: str) -> np.ndarray:
    """`scoring.ratio` of paired replicates (NaN where it is undefined).

    Replicates of a best-of-n take at most n distinct values, so
    `scoring.ratio` is called once per distinct pair and the table indexed.
    """
    if not len(cell) or not len(baseline):
        return np.empty(0)
    uc, ic = np.unique(cell, return_inverse=True)
    ub, ib = np.unique(baseline, return_inverse=True)
    table = np.array([[np.nan if (r := scoring.ratio(float(a), float(b), mode)) is None else r
                       for b in ub] for a in uc], dtype=float).reshape(len(uc), len(ub))
    return table[ic, ib]


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
