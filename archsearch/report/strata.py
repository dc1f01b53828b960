"""Rank tests of a cell against the baseline that respect the design: stratified, cluster, trial.

A trial is (hyperparameter setting, seed), and the seeds of one setting are
not independent samples. `compare` picks the test from the labels alone,
never from the scores:

* `stratified` (`stratified_test`): the two sides share settings with
  several seeds (a `fixed` study with matched samples). A van Elteren-style
  rank test, p by permutation of the labels within each setting: exact
  enumeration (`MAX_EXACT`) when small, else `N_PERM` seeded Monte Carlo
  permutations.
* `cluster`: each side has its own settings with several seeds. The
  Mann-Whitney U test of the settings' means.
* `trial`: one seed per setting. The U test of the trials (`rank_test`:
  scipy, exact, or a seeded Monte Carlo permutation test of the mid-ranks
  when there are ties). Under the null its 5% level holds for any n. With
  3 vs 3 trials (or settings) the smallest possible p is 0.1, so such
  comparisons can only come out `tied`.

Measured rejection rates at 5%, two-sided (scores = setting effect with sd
10x the seed sd + cell shift + seed noise; "matched": both sides the same
settings). Rows with shift 0 are the level, the others the power:

=========================  =====  ========  ==========  =======  =====
design                     shift  datasets  stratified  cluster  trial
=========================  =====  ========  ==========  =======  =====
6 x 4 a side, own settings    0       2000           -    0.042   0.35
3 settings x 4 seeds          0       4000       0.035
3 settings x 4 seeds          1       2000        0.51        0  0.016
10 settings x 3 seeds         0       2000       0.049               0
10 settings x 3 seeds       0.5       1000        0.38        0      0
=========================  =====  ========  ==========  =======  =====

(shift in seed sds; "-": not applicable. The 10 x 3 level was 0.047 in
an earlier run of unrecorded size, 0.0485 in 2000 more datasets.) A
permutation test of the best-of-n itself also holds its level but uses one
trial per side: with 8 vs 8 trials, sd 5% of the mean and a 10% gap it
found the gap 70% of the time, the U test 94%.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gru, tanh = rng.normal(0.9, 0.02, 8), rng.normal(0.45, 0.02, 8)
    >>> p, effect = rank_test(tanh, gru, "max")
    >>> p < 0.001, effect
    (True, 0.0)
    >>> settings = np.repeat(["a", "b", "c"], 4)
    >>> base = np.repeat([0.2, 0.5, 0.8], 4) + rng.normal(0, 0.01, 12)
    >>> t = compare(base + 0.05, base, "max", cell_strata=settings, baseline_strata=settings)
    >>> t.test, t.effect, round(t.p_value * 70**3, 3)  # 2 of C(8, 4)^3 arrangements
    ('stratified', 1.0, 2.0)
    >>> rank_test(base + 0.05, base, "max")[0] > 0.05  # the settings' spread drowns it
    True
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archsearch import scoring

__all__ = ["MAX_EXACT", "N_PERM", "SEED", "RankTest", "check_mode", "cluster_means", "compare",
           "finite", "labelled", "rank_test", "seeded_rng", "stratified_test"]

N_PERM = 9999         # permutation resamples (exact enumeration when fewer exist)
SEED = 20150707       # fixed: reports are deterministic
MAX_EXACT = 20_000    # label arrangements per stratum / support size for the exact null
TOL = 1e-7            # |T*| >= |T| - TOL: as extreme (T is a sum of rounded rationals)


def finite(values: Iterable) -> np.ndarray:
    """The finite values of `values` as a float array (None and NaN dropped)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def labelled(scores: Sequence[float], labels: Sequence, name: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """Finite scores and their labels (as strings), dropped together."""
    values = np.asarray([np.nan if v is None else v for v in scores], dtype=float)
    if len(labels) != len(values):
        raise ValueError(f"Expected {name} to have one label per score ({len(values)}). "
                         f"Received: {len(labels)} labels")
    keep = np.isfinite(values)
    return values[keep], np.asarray([str(x) for x in labels], dtype=object)[keep]


def check_mode(mode: str) -> None:
    """Raises `ValueError` unless `mode` is `max` or `min`."""
    if mode not in scoring.MODES:
        raise ValueError(f"Expected mode 'max' or 'min'. Received: mode={mode!r}")


def seeded_rng(*key: str | int) -> np.random.Generator:
    """A generator seeded by `SEED` and a stable hash of `key` (order independent)."""
    words = [SEED] + [zlib.crc32(str(k).encode()) for k in key]
    return np.random.default_rng(words)
def rank_test(cell: Sequence[float], baseline: Sequence[float], mode: str, *,
              key: tuple = ()) -> tuple[float | None, float | None]:
    """Two-sided Mann-Whitney U test of the cell's trial scores against the baseline's.

    Exact (or permutation, with a fixed seed, when there are ties) for small
    samples, so its level holds for any n; the normal approximation with
    continuity correction only for large tie-free samples.

    Args:
        cell: The cell's trial scores on one task.
        baseline: The baseline's trial scores on the task.
        mode: `max` or `min` (for `min` a lower score is better).
        key: Seeds the permutation generator.

    Returns:
        `(p_value, effect)`: effect is the probability that a random trial of
        the cell beats a random trial of the baseline (ties count half; 0.5 =
        no difference). `(None, None)` when a side has no finite score.
    """
    from scipy import stats

    check_mode(mode)
    c, b = finite(cell), finite(baseline)
    if not len(c) or not len(b):
        return None, None
    if mode == "min":
        c, b = -c, -b
    ties = len(np.unique(np.concatenate([c, b]))) < len(c) + len(b)
    effect = float(_wins(c, b) / (len(c) * len(b)))
    if ties and min(len(c), len(b)) < 20:
        ranks = stats.rankdata(np.concatenate([c, b]))
        return _rank_permutation_p(ranks, len(c), ("perm", *key)), effect
    result = stats.mannwhitneyu(c, b, alternative="two-sided", method="auto")
    return float(min(1.0, result.pvalue)), effect


def _wins(c: np.ndarray, b: np.ndarray) -> float:
    """Mann-Whitney U of `c`: pairs it wins, ties half (exact, as halves are)."""
    return float((c[:, None] > b).sum() + 0.5 * (c[:, None] == b).sum())


@lru_cache(maxsize=4)
def _permutations(key: tuple, size: int, parts: tuple[tuple[int, int], ...] = ()) -> tuple:
    """The seeded permutations of `key`: one `N_PERM` x size index array, or one per part.

    Every call with the same key draws the same arrangements (the generator is
    seeded by the key), so they are drawn once and shared: a ratio interval
    (`stats.ratio_interval`) runs the same test on rescaled scores many times.
    With `parts` ((n, m) per stratum, in order) each part's first m positions.
    """
    rng = seeded_rng(*key)
    if not parts:
        return (np.argsort(rng.random((N_PERM, size)), axis=1),)
    return tuple(rng.random((N_PERM, n)).argsort(axis=1)[:, :m] for n, m in parts)


def _rank_permutation_p(ranks: np.ndarray, n_cell: int, key: tuple) -> float:
    """Monte Carlo permutation p of the mid-rank difference (the tie-corrected U test).

    Both groups' mean rank is (N+1)/2 under the null, so the absolute
    difference of mean ranks is a two-sided statistic; p = (1 + #{|t*| >= |t|})
    / (1 + `N_PERM`) is a valid p-value (Phipson & Smyth 2010).
    """
    observed = abs(ranks[:n_cell].mean() - ranks[n_cell:].mean())
    shuffled = ranks[_permutations(tuple(key), len(ranks))[0]]
    null = np.abs(shuffled[:, :n_cell].mean(axis=1) - shuffled[:, n_cell:].mean(axis=1))
    return float((1 + np.sum(null >= observed - 1e-9)) / (1 + N_PERM))


@dataclass(frozen=True)
class RankTest:
    """The test `compare` chose and what it found.

    Args:
        p_value: Two-sided p (None when nothing could be compared).
        effect: Probability that a cell trial beats a baseline trial (ties
            half; within strata for `stratified`, of sample means for `cluster`).
        test: `stratified`, `cluster` or `trial`.
        n: The cell's trials compared.
        baseline_n: The baseline's.

    Example:
        >>> compare([0.2, 0.3, 0.7], [0.5, 0.6, 0.1], "max", cell_strata=["a", "a", "b"],
        ...         baseline_strata=["a", "a", "b"])
        RankTest(p_value=0.5, effect=0.2, test='stratified', n=3, baseline_n=3)
    """

    p_value: float | None
    effect: float | None
    test: str
    n: int
    baseline_n: int


def compare(cell: Sequence[float], baseline: Sequence[float], mode: str, *,
            cell_strata: Sequence | None = None, baseline_strata: Sequence | None = None,
            cell_clusters: Sequence | None = None, baseline_clusters: Sequence | None = None,
            key: tuple = ()) -> RankTest:
    """The cell against the baseline by the test the design allows.

    * `stratified` (`stratified_test`) when the two sides share
      hyperparameter settings (`*_strata`) holding at least half of each
      side's trials, some of them with several seeds; trials of unshared
      settings are left out. With one seed per setting a stratum is a single
      pair and k pairs cannot give p below 2^(1-k) (6 pairs: 0.031, nothing
      survives Holm), so the trial test is kept there: it is valid (one trial
      per sample), conservative when the settings are matched.
    * `cluster` otherwise, when a cluster (`*_clusters`: a hyperparameter
      sample, its seeds) holds several trials: `rank_test` of the clusters' means.
    * `trial`: `rank_test` of the trials (every trial its own sample).

    The choice depends on the labels only, never on the scores.
    """
    check_mode(mode)
    if cell_strata is not None and baseline_strata is not None:
        c, cs = labelled(cell, cell_strata, "cell_strata")
        b, bs = labelled(baseline, baseline_strata, "baseline_strata")
        shared = list(set(cs) & set(bs))
        nc, nb = int(np.isin(cs, shared).sum()), int(np.isin(bs, shared).sum())
        seeds = len(set(cs[np.isin(cs, shared)])) < nc or len(set(bs[np.isin(bs, shared)])) < nb
        if shared and seeds and 2 * nc >= len(c) and 2 * nb >= len(b):
            p, effect = stratified_test(c, cs, b, bs, mode, key=key)
            return RankTest(p, effect, "stratified", nc, nb)
    if cell_clusters is not None and baseline_clusters is not None:
        c, b = cluster_means(cell, cell_clusters, "cell_clusters"), cluster_means(
            baseline, baseline_clusters, "baseline_clusters")
        if len(c) < len(finite(cell)) or len(b) < len(finite(baseline)):
            p, effect = rank_test(c, b, mode, key=key)
            return RankTest(p, effect, "cluster", len(finite(cell)), len(finite(baseline)))
    p, effect = rank_test(cell, baseline, mode, key=key)
    return RankTest(p, effect, "trial", len(finite(cell)), len(finite(baseline)))


def cluster_means(scores: Sequence[float], clusters: Sequence, name: str) -> np.ndarray:
    """The mean score of each cluster (e.g. the seeds of one setting)."""
    values, labels = labelled(scores, clusters, name)
    names, inverse = np.unique(labels, return_inverse=True) if len(labels) else ([], [])
    return np.bincount(inverse, values) / np.bincount(inverse) if len(names) else values


def stratified_test(cell: Sequence[float], cell_strata: Sequence, baseline: Sequence[float],
                    baseline_strata: Sequence, mode: str, *,
                    key: tuple = ()) -> tuple[float | None, float | None]:
    """Van Elteren-style stratified rank test, by permutation within strata.

    In each stratum (hyperparameter setting) s that both sides have, the n_s
    scores are ranked (mid-ranks); T = sum_s (W_s - m_s (n_s + 1) / 2) / (n_s
    + 1), W_s the rank sum of the cell's m_s trials. The null distribution of
    T permutes the labels within each stratum: exact (the strata's
    distributions convolved) when small, else `N_PERM` seeded Monte Carlo
    permutations with p = (1 + #{|T*| >= |T|}) / (1 + `N_PERM`).

    Returns:
        `(p_value, effect)`: effect is the pooled within-stratum probability
        that a cell trial beats a baseline trial (ties half). `(None, None)`
        when no stratum has both sides.
    """
    from scipy.stats import rankdata

    check_mode(mode)
    c, cs = labelled(cell, cell_strata, "cell_strata")
    b, bs = labelled(baseline, baseline_strata, "baseline_strata")
    if mode == "min":
        c, b = -c, -b
    strata, observed, wins, pairs = [], 0.0, 0.0, 0
    for s in sorted(set(cs) & set(bs)):
        x, y = c[cs == s], b[bs == s]
        ranks = rankdata(np.concatenate([x, y]))
        strata.append((ranks, len(x)))
        observed += (ranks[:len(x)].sum() - len(x) * (len(ranks) + 1) / 2) / (len(ranks) + 1)
        wins += (x[:, None] > y).sum() + 0.5 * (x[:, None] == y).sum()
        pairs += len(x) * len(y)
    if not strata:
        return None, None
    null = _exact_null(strata)
    if null is not None:
        values, probs = null
        p = round(float(probs[np.abs(values) >= abs(observed) - TOL].sum()), 12)
    else:
        chosen = _permutations(("strata", *key), 0, tuple((len(r), m) for r, m in strata))
        draws = sum(_deviation(r, m, pick) for (r, m), pick in zip(strata, chosen, strict=True))
        p = float((1 + np.sum(np.abs(draws) >= abs(observed) - TOL)) / (1 + N_PERM))
    return min(1.0, p), float(wins / pairs)


def _deviation(ranks: np.ndarray, m: int, chosen: np.ndarray) -> np.ndarray:
    """(rank sum of the `chosen` positions - its expectation) / (n + 1), per row."""
    n = len(ranks)
    return (ranks[chosen].sum(axis=1) - m * (n + 1) / 2) / (n + 1)


def _exact_null(strata: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact null distribution of T (values, probabilities), or None when too large.

    Strata of one size n share the lattice 1 / (2 (n + 1)) (mid-ranks are
    halves), so their distributions are convolved as integer histograms;
    the few sizes are then combined pairwise.
    """
    from math import comb

    by_size: dict[int, tuple[int, np.ndarray]] = {}
    for ranks, m in strata:
        n = len(ranks)
        if comb(n, m) > MAX_EXACT:
            return None
        chosen = np.array(list(itertools.combinations(range(n), m)), dtype=int).reshape(-1, m)
        steps = np.rint(2 * ranks[chosen].sum(axis=1) - m * (n + 1)).astype(int)
        low, hist = steps.min(), np.bincount(steps - steps.min()) / len(steps)
        if n in by_size:
            low, hist = by_size[n][0] + low, np.convolve(by_size[n][1], hist)
        by_size[n] = (low, hist)
    values, probs = np.zeros(1), np.ones(1)
    for n, (low, hist) in by_size.items():
        support = np.flatnonzero(hist > 0)
        values = (values[:, None] + (low + support) / (2 * (n + 1))).ravel().round(9)
        probs = (probs[:, None] * hist[support]).ravel()
        values, inverse = np.unique(values, return_inverse=True)
        probs = np.bincount(inverse, probs)
        if len(values) > MAX_EXACT:
            return None
    return values, probs
