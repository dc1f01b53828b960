"""Uncertainty for the paper's numbers: bootstrap intervals, a permutation test, Holm, verdicts.

Everything a report says about "better" or "worse" comes from here. The
statistic shown for a cell on a task is its best score over its trials
(best-of-n, `archsearch.scoring.best`); its ratio to the baseline is
`archsearch.scoring.ratio` of the two bests, and its score the min of the
ratios over tasks (`archsearch.scoring.min_ratio`).

* Intervals: percentile bootstrap. One replicate resamples a cell's trials on
  a task with replacement (n of n), recomputes its best-of-n, and does the
  same for the baseline; the ratio of the two is one replicate of the ratio.
  When trials come in hyperparameter settings with several seeds it is a
  two-stage cluster bootstrap (settings with replacement, then each chosen
  setting's seeds), and settings the cell shares with the baseline are
  drawn jointly for both (paired). The score's replicate is the min over
  tasks of one replicate per task. Replicates come from a fixed seed and the
  (cell, task) key, so a report is the same every time it is made. With
  fewer than `MIN_RELIABLE` settings (trials, when each setting has one) on
  either side an interval is flagged unreliable: the bootstrap of a maximum
  over a handful of settings is too narrow, however many seeds each has.
* Test (`compare`): a trial is (setting, seed), and the seeds of one setting
  are not independent samples. With 6 settings x 4 seeds a side, each side
  its own settings, a setting effect 10x the seed sd and no cell effect, the
  two-sided Mann-Whitney U test of the 24 vs 24 trials rejected at 5% in
  35% of 2000 datasets. So: when the cell and the baseline share settings
  with several seeds (a `fixed` study with matched samples), a stratified
  van Elteren-style rank test with p by permutation within settings
  (`stratified_test`; 3 settings x 4 seeds, matched: level 0.035 in 4000
  null datasets; a 1 seed-sd effect found in 51% of 2000, where the U test
  of trials found 1.6% and the U test of setting means 0%; 10 settings x 3
  seeds: level 0.047 and a 0.5 seed-sd effect found in 38% of 1000, the
  other two 0%); when each side
  has its own settings with several seeds, the U test of the settings' means
  (`cluster`; level 0.042 in the case above); with one seed per setting the
  U test of the trials (`trial`, unchanged: scipy, exact, or a seeded Monte
  Carlo permutation test of the mid-ranks when there are ties). Under the
  null its 5% level holds for any n. A permutation test of the best-of-n
  itself also holds its level but uses one trial per side: with 8 vs 8
  trials, sd 5% of the mean and a 10% gap it found the gap 70% of the time,
  Mann-Whitney 94%. With 3 vs 3 trials (or settings) the smallest possible p
  is 0.1, so such comparisons can only come out `tied`.
* Coverage: the percentile bootstrap of a maximum is too narrow; on normal
  scores with 8 trials a side (sd 5% of the mean) the 95% interval of the
  ratio covered the ratio of expected bests about 80-87% of the time (not
  measured for the cluster bootstrap).
* Multiplicity: Holm's step-down correction within each family of tests (see
  `archsearch.report.evidence`).
* Verdict per task: `better` / `worse` when the Holm-adjusted p < `ALPHA`,
  in the direction of the test's effect, else `tied`; the baseline's own is
  `baseline`. Overall (score): `worse` if any scored task is `worse` (the
  min-ratio score is then below 1 at that level), `better` only if every
  scored task is `better` (an intersection-union test: no further
  correction needed), else `tied`.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gru, tanh = rng.normal(0.9, 0.02, 8), rng.normal(0.45, 0.02, 8)
    >>> p, effect = rank_test(tanh, gru, "max")
    >>> p < 0.001, effect
    (True, 0.0)
    >>> interval = ratio_interval(tanh, gru, "max")
    >>> interval.low < interval.estimate < 0.55 and interval.reliable
    True
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archsearch import scoring

__all__ = ["ALPHA", "MIN_RELIABLE", "N_BOOT", "SEED", "VERDICTS", "Interval", "replicates",
           "ratio_replicates", "interval", "ratio_interval", "score_interval",
           "rank_test", "compare", "stratified_test", "RankTest", "n_clusters", "holm",
           "verdict", "overall_verdict"]

ALPHA = 0.05
MIN_RELIABLE = 5      # settings (trials, unseeded) a side below which an interval is unreliable
N_BOOT = 2000         # bootstrap replicates
N_PERM = 9999         # permutation resamples (exact enumeration when fewer exist)
SEED = 20150707       # fixed: reports are deterministic
LEVEL = 0.95
VERDICTS = ("better", "worse", "tied", "baseline")


@dataclass(frozen=True)
class Interval:
    """A point estimate and its percentile bootstrap interval.

    Args:
        estimate: The statistic on the observed trials.
        low: Lower end of the interval (None if it cannot be computed).
        high: Upper end.
        reliable: False when a side had fewer than `MIN_RELIABLE` trials.

    Example:
        >>> Interval(0.9, 0.85, 0.97, True).text()
        '0.900 [0.850, 0.970]'
    """

    estimate: float | None
    low: float | None
    high: float | None
    reliable: bool

    def text(self, digits: int = 3) -> str:
        """`estimate [low, high]`, `?` marking an unreliable interval."""
        if self.estimate is None:
            return "-"
        if self.low is None or self.high is None:
            return f"{self.estimate:.{digits}f}"
        flag = "?" if not self.reliable else ""
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]{flag}"


def _finite(values: Iterable) -> np.ndarray:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def _labelled(scores: Sequence[float], labels: Sequence, name: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """Finite scores and their labels (as strings), dropped together."""
    values = np.asarray([np.nan if v is None else v for v in scores], dtype=float)
    if len(labels) != len(values):
        raise ValueError(f"Expected {name} to have one label per score ({len(values)}). "
                         f"Received: {len(labels)} labels")
    keep = np.isfinite(values)
    return values[keep], np.asarray([str(x) for x in labels], dtype=object)[keep]


def _check_mode(mode: str) -> None:
    if mode not in scoring.MODES:
        raise ValueError(f"Expected mode 'max' or 'min'. Received: mode={mode!r}")


def _rng(*key: str | int) -> np.random.Generator:
    """A generator seeded by `SEED` and a stable hash of `key` (order independent)."""
    words = [SEED] + [zlib.crc32(str(k).encode()) for k in key]
    return np.random.default_rng(words)


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
    _check_mode(mode)
    if clusters is not None:
        values, labels = _labelled(scores, clusters, "clusters")
    else:
        values, labels = _finite(scores), None
    if not len(values):
        return np.empty(0)
    if labels is None or len(np.unique(labels)) == len(values):
        draws = values[_rng(*key).integers(0, len(values), size=(n_boot, len(values)))]
        return draws.max(axis=1) if mode == "max" else draws.min(axis=1)
    names, inverse = np.unique(labels, return_inverse=True)
    sizes = np.bincount(inverse)
    fill = -np.inf if mode == "max" else np.inf
    table = np.full((len(names), sizes.max()), fill)
    for k in range(len(names)):
        table[k, :sizes[k]] = values[inverse == k]
    picks = _rng("clusters", *(key if pair_key is None else pair_key), *names).integers(
        0, len(names), size=(n_boot, len(names)))
    chosen = sizes[picks][..., None]
    within = (_rng(*key).random((n_boot, len(names), sizes.max())) * chosen).astype(int)
    draws = np.where(np.arange(sizes.max()) < chosen, table[picks[..., None], within], fill)
    return draws.max(axis=(1, 2)) if mode == "max" else draws.min(axis=(1, 2))


def n_clusters(scores: Sequence[float], clusters: Sequence | None = None) -> int:
    """Finite trials, or distinct clusters among them: what `MIN_RELIABLE` counts."""
    if clusters is None:
        return len(_finite(scores))
    return len(np.unique(_labelled(scores, clusters, "clusters")[1]))


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


def interval(estimate: float | None, reps: np.ndarray, reliable: bool,
             level: float = LEVEL) -> Interval:
    """The percentile interval of `reps` around `estimate`."""
    reps = reps[np.isfinite(reps)] if len(reps) else reps
    if estimate is None or len(reps) < 2:
        return Interval(estimate, None, None, reliable)
    low, high = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    return Interval(estimate, float(low), float(high), reliable)


def ratio_interval(cell: Sequence[float], baseline: Sequence[float], mode: str, *,
                   key: tuple = ("cell", "task"), n_boot: int = N_BOOT,
                   cell_clusters: Sequence | None = None,
                   baseline_clusters: Sequence | None = None) -> Interval:
    """Ratio of the cell's best to the baseline's best, with its bootstrap interval.

    Args:
        cell: The cell's trial scores on one task.
        baseline: The baseline's trial scores on the same task.
        mode: `max` or `min`.
        key: Seeds the two samples' generators (the baseline's gets `key` + "baseline").
        n_boot: Number of replicates.
        cell_clusters: Hyperparameter setting of each cell trial (two-stage
            bootstrap; settings shared with the baseline are resampled jointly).
        baseline_clusters: The baseline's.

    Returns:
        An `Interval` of `scoring.ratio(best(cell), best(baseline))`; reliable
        when each side has `MIN_RELIABLE` clusters (trials without clusters).
    """
    c, b = _finite(cell), _finite(baseline)
    estimate = scoring.ratio(scoring.best(c, mode), scoring.best(b, mode), mode)
    reps = ratio_replicates(
        replicates(cell, mode, *key, n_boot=n_boot, clusters=cell_clusters, pair_key=key),
        replicates(baseline, mode, *key, "baseline", n_boot=n_boot, clusters=baseline_clusters,
                   pair_key=key), mode)
    reliable = min(n_clusters(cell, cell_clusters),
                   n_clusters(baseline, baseline_clusters)) >= MIN_RELIABLE
    return interval(estimate, reps, reliable)


def score_interval(cell: Mapping[str, Sequence[float]], baseline: Mapping[str, Sequence[float]],
                   modes: Mapping[str, str], *, key: str = "cell", n_boot: int = N_BOOT,
                   cell_clusters: Mapping[str, Sequence] | None = None,
                   baseline_clusters: Mapping[str, Sequence] | None = None) -> Interval:
    """The min-over-tasks score with its interval (all tasks resampled in each replicate).

    Args:
        cell: Task -> the cell's trial scores (the scored tasks).
        baseline: Task -> the baseline's trial scores.
        modes: Task -> `max` or `min`.
        key: Seeds the generators (with each task's name).
        n_boot: Number of replicates.
        cell_clusters: Task -> the cell's trials' settings (see `ratio_interval`).
        baseline_clusters: Task -> the baseline's.

    Returns:
        An `Interval` of `scoring.min_ratio` over the tasks of `baseline`.
    """
    tasks = list(baseline)
    cc, bc = cell_clusters or {}, baseline_clusters or {}
    estimate = scoring.min_ratio(
        scoring.ratio(scoring.best(_finite(cell.get(t, ())), modes[t]),
                      scoring.best(_finite(baseline[t]), modes[t]), modes[t]) for t in tasks)
    per_task = [ratio_replicates(
        replicates(cell.get(t, ()), modes[t], key, t, n_boot=n_boot, clusters=cc.get(t),
                   pair_key=(t,)),
        replicates(baseline[t], modes[t], key, t, "baseline", n_boot=n_boot, clusters=bc.get(t),
                   pair_key=(t,)), modes[t]) for t in tasks]
    if not tasks or any(not len(r) for r in per_task):
        return Interval(estimate, None, None, False)
    reliable = all(min(n_clusters(cell.get(t, ()), cc.get(t)),
                       n_clusters(baseline[t], bc.get(t))) >= MIN_RELIABLE for t in tasks)
    return interval(estimate, np.min(np.vstack(per_task), axis=0), reliable)


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

    _check_mode(mode)
    c, b = _finite(cell), _finite(baseline)
    if not len(c) or not len(b):
        return None, None
    if mode == "min":
        c, b = -c, -b
    ties = len(np.unique(np.concatenate([c, b]))) < len(c) + len(b)
    effect = float(stats.mannwhitneyu(c, b, method="asymptotic").statistic / (len(c) * len(b)))
    if ties and min(len(c), len(b)) < 20:
        ranks = stats.rankdata(np.concatenate([c, b]))
        return _rank_permutation_p(ranks, len(c), _rng("perm", *key)), effect
    result = stats.mannwhitneyu(c, b, alternative="two-sided", method="auto")
    return float(min(1.0, result.pvalue)), effect


def _rank_permutation_p(ranks: np.ndarray, n_cell: int, rng: np.random.Generator) -> float:
    """Monte Carlo permutation p of the mid-rank difference (the tie-corrected U test).

    Both groups' mean rank is (N+1)/2 under the null, so the absolute
    difference of mean ranks is a two-sided statistic; p = (1 + #{|t*| >= |t|})
    / (1 + `N_PERM`) is a valid p-value (Phipson & Smyth 2010).
    """
    observed = abs(ranks[:n_cell].mean() - ranks[n_cell:].mean())
    shuffled = ranks[np.argsort(rng.random((N_PERM, len(ranks))), axis=1)]
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
    _check_mode(mode)
    if cell_strata is not None and baseline_strata is not None:
        c, cs = _labelled(cell, cell_strata, "cell_strata")
        b, bs = _labelled(baseline, baseline_strata, "baseline_strata")
        shared = list(set(cs) & set(bs))
        nc, nb = int(np.isin(cs, shared).sum()), int(np.isin(bs, shared).sum())
        seeds = len(set(cs[np.isin(cs, shared)])) < nc or len(set(bs[np.isin(bs, shared)])) < nb
        if shared and seeds and 2 * nc >= len(c) and 2 * nb >= len(b):
            p, effect = stratified_test(c, cs, b, bs, mode, key=key)
            return RankTest(p, effect, "stratified", nc, nb)
    if cell_clusters is not None and baseline_clusters is not None:
        c, b = _means(cell, cell_clusters, "cell_clusters"), _means(
            baseline, baseline_clusters, "baseline_clusters")
        if len(c) < len(_finite(cell)) or len(b) < len(_finite(baseline)):
            p, effect = rank_test(c, b, mode, key=key)
            return RankTest(p, effect, "cluster", len(_finite(cell)), len(_finite(baseline)))
    p, effect = rank_test(cell, baseline, mode, key=key)
    return RankTest(p, effect, "trial", len(_finite(cell)), len(_finite(baseline)))


def _means(scores: Sequence[float], clusters: Sequence, name: str) -> np.ndarray:
    values, labels = _labelled(scores, clusters, name)
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

    _check_mode(mode)
    c, cs = _labelled(cell, cell_strata, "cell_strata")
    b, bs = _labelled(baseline, baseline_strata, "baseline_strata")
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
        rng = _rng("strata", *key)
        draws = sum(_deviation(r, m, rng.random((N_PERM, len(r))).argsort(axis=1)[:, :m])
                    for r, m in strata)
        p = float((1 + np.sum(np.abs(draws) >= abs(observed) - TOL)) / (1 + N_PERM))
    return min(1.0, p), float(wins / pairs)


MAX_EXACT = 20_000    # label arrangements per stratum / support size for the exact null
TOL = 1e-7            # |T*| >= |T| - TOL: as extreme (T is a sum of rounded rationals)


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


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order as given; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(1.0, adjusted)
    return out


def verdict(p_adjusted: float | None, effect: float | None, alpha: float = ALPHA) -> str:
    """`better` / `worse` when significant (direction: effect above or below 0.5), else `tied`."""
    if p_adjusted is None or effect is None or not np.isfinite(p_adjusted) or p_adjusted >= alpha:
        return "tied"
    return "better" if effect > 0.5 else "worse" if effect < 0.5 else "tied"


def overall_verdict(task_verdicts: Iterable[str]) -> str:
    """The score's verdict: `worse` if any task is, `better` if all are, else `tied`."""
    verdicts = list(task_verdicts)
    if not verdicts:
        return "tied"
    if all(v == "baseline" for v in verdicts):
        return "baseline"
    if "worse" in verdicts:
        return "worse"
    return "better" if all(v == "better" for v in verdicts) else "tied"
