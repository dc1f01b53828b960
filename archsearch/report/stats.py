"""Uncertainty for the paper's numbers: bootstrap intervals, Holm, verdicts.

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
  (cell, task) key, so a report is the same every time it is made. An
  interval is flagged unreliable with fewer than `MIN_RELIABLE` replicates a
  side (`is_reliable`): trials when the two sides share their settings (a
  matched design, e.g. one setting x 10 seeds: the comparison is conditional
  on those settings), otherwise settings, since the bootstrap of a maximum
  over a handful of settings is too narrow however many seeds each has.
* Test: `compare`, chosen by the design (stratified within shared
  settings, settings' means, or trials), lives in
  `archsearch.report.strata` with its measured level and power; it is
  re-exported here with `rank_test`, `stratified_test`, `RankTest`.
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
    >>> interval = ratio_interval(tanh, gru, "max")
    >>> interval.low < interval.estimate < 0.55 and interval.reliable
    True
    >>> verdict(*rank_test(tanh, gru, "max"))
    'worse'
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from archsearch import scoring
from archsearch.report.strata import (  # re-exported: the tests used to live here
    N_PERM,
    SEED,
    RankTest,
    _check_mode,
    _finite,
    _labelled,
    _rng,
    compare,
    rank_test,
    stratified_test,
)

__all__ = ["ALPHA", "MIN_RELIABLE", "N_BOOT", "N_PERM", "SEED", "VERDICTS", "Interval",
           "is_reliable",
           "replicates", "ratio_replicates", "interval", "ratio_interval", "score_interval",
           "rank_test", "compare", "stratified_test", "RankTest", "n_clusters", "holm",
           "verdict", "overall_verdict"]

ALPHA = 0.05
MIN_RELIABLE = 5      # settings (trials, unseeded) a side below which an interval is unreliable
N_BOOT = 2000         # bootstrap replicates
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


def is_reliable(cell: Sequence[float], baseline: Sequence[float],
                cell_clusters: Sequence | None = None,
                baseline_clusters: Sequence | None = None) -> bool:
    """Whether a comparison has enough replicates a side for its interval (`MIN_RELIABLE`).

    Counts trials when the two sides share the same hyperparameter settings
    (a matched design: the comparison is conditional on those settings and
    the seeds are its replicates, e.g. one setting x 10 seeds) or when there
    are no settings; otherwise distinct settings, since the seeds of one
    setting are not independent samples of the cell.
    """
    if cell_clusters is not None and baseline_clusters is not None:
        own = set(_labelled(cell, cell_clusters, "clusters")[1].tolist())
        other = set(_labelled(baseline, baseline_clusters, "clusters")[1].tolist())
        if own == other:
            cell_clusters = baseline_clusters = None
    return min(n_clusters(cell, cell_clusters),
               n_clusters(baseline, baseline_clusters)) >= MIN_RELIABLE


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
    return interval(estimate, reps, is_reliable(cell, baseline, cell_clusters, baseline_clusters))


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
    reliable = all(is_reliable(cell.get(t, ()), baseline[t], cc.get(t), bc.get(t))
                   for t in tasks)
    return interval(estimate, np.min(np.vstack(per_task), axis=0), reliable)


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
