"""Intervals, Holm and verdicts: everything a report says about "better" or "worse".

The statistic shown for a cell on a task is its best score over its trials
(best-of-n, `archsearch.scoring.best`); its ratio to the baseline is
`archsearch.scoring.ratio` of the two bests, and its score the min of the
ratios over tasks (`archsearch.scoring.min_ratio`).

* Test: `compare`, chosen by the design (stratified within shared
  settings, settings' means, or trials), lives in
  `archsearch.report.strata` with its measured level and power; it is
  re-exported here with `rank_test`, `stratified_test`, `RankTest`.
* Multiplicity: Holm's step-down correction within each family of tests (see
  `archsearch.report.evidence`).
* Verdict per task: `better` / `worse` when the Holm-adjusted p < `ALPHA`,
  in the direction of the test's effect, else `tied`; the baseline's own is
  `baseline`. Overall (score): `worse` if any scored task is `worse` (the
  min-ratio score is then below 1 at that level), `better` only if every
  scored task is `better` (an intersection-union test: no further
  correction needed), else `tied`.
* Interval (`ratio_interval`): the verdict's own test inverted. For a
  ratio r the cell's trial scores are divided by r (multiplied, where lower
  is better) and `compare` runs again, same design, strata, clusters and
  seeded permutations; the interval is the range of r it does not reject at
  the level Holm used for this comparison (`holm_factors`: ALPHA / (m - j + 1)
  for the j-th smallest of m p-values when Holm rejects it, ALPHA / (m - k)
  for every comparison past the k it rejects; never below 95%). So 1 lies
  outside the interval exactly when the verdict is `better` or `worse`, on
  the verdict's side. It is then widened to take in the ratio of bests (a
  noisier estimate of the same r), unless that would bring 1 in against the
  verdict: there the best trials point the other way from most trials and
  the ratio lies outside (the findings say so). The score's interval is
  [min of the tasks' lows, min of their highs], so it agrees with the
  overall verdict too. Where no r can be rejected (too few trials for this
  many comparisons) the interval is [0, inf].
* What it covers: r in a scale model, where a cell's trials are the
  baseline's times r (r is then the ratio of expected bests of any equal n,
  and of medians). Measured on such data (tests/report/
  test_interval_agreement.py, nominal 95%, normal scores with sd 5% of the
  mean, r = 0.9): 6, 10, 20 trials a side covered r in 95.8%, 96.3%, 96.3%
  of 600 data sets (`COVERAGE`; exact tests are conservative), 96.5-98.0%
  with shared settings x seeds (`stratified`). Where the model is off, a
  location shift of normals, the ratio of expected bests was covered
  94.3-96.0%. Mean width at 6, 10, 20 a side: 0.125, 0.091, 0.064 (the
  bootstrap's: 0.094, 0.080, 0.074) for one comparison; in a family, Holm's
  level widens it.
* Why not a bootstrap: the percentile bootstrap of a best-of-n covered
  82-87% on the same data, and drawn at 95% beside Holm-corrected verdicts
  it disagreed with 101 of the 276 verdicts it was checked against in the
  agreement test (the rank ranges still use it: `ranking`).
* `is_reliable` flags a comparison with fewer than `MIN_RELIABLE` samples a
  side (trials in a matched design, else settings): its interval is valid
  but wide, and its ratio of bests rests on a handful of draws.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> gru, tanh = rng.normal(0.9, 0.02, 8), rng.normal(0.45, 0.02, 8)
    >>> iv = ratio_interval(tanh, gru, "max")
    >>> iv.low < iv.estimate < iv.high < 0.55 and iv.reliable
    True
    >>> verdict(*rank_test(tanh, gru, "max"))
    'worse'
    >>> holm([0.01, 0.04, 0.03]).round(2).tolist()
    [0.03, 0.06, 0.06]
    >>> holm_factors([0.01, 0.04, 0.03]).tolist()  # Holm rejects 0.01 only
    [3, 2, 2]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from archsearch import scoring
from archsearch.report.strata import (  # re-exported: the report's one statistics module
    N_PERM,
    SEED,
    RankTest,
    cluster_means,
    compare,
    labelled,
    rank_test,
    stratified_test,
)

__all__ = ["ALPHA", "COVERAGE", "MIN_RELIABLE", "N_PERM", "SEED", "VERDICTS", "Interval",
           "bracket", "is_reliable", "n_clusters", "ratio_interval", "score_interval",
           "rank_test", "compare", "stratified_test", "RankTest", "holm", "holm_factors",
           "verdict", "overall_verdict"]

ALPHA = 0.05
MIN_RELIABLE = 5      # settings (trials, unseeded) a side below which an interval is flagged
#: Trials a side -> how often a nominal 95% `ratio_interval` covered a known ratio (scale
#: model, 600 data sets each; measured and checked by tests/report/test_interval_agreement.py).
COVERAGE = {6: 0.958, 10: 0.963, 20: 0.963}
VERDICTS = ("better", "worse", "tied", "baseline")


@dataclass(frozen=True)
class Interval:
    """A point estimate and its interval.

    Args:
        estimate: The statistic on the observed trials.
        low: Lower end of the interval (None if it cannot be computed).
        high: Upper end (`inf` when unbounded).
        reliable: False when a side had fewer than `MIN_RELIABLE` samples.

    Example:
        >>> Interval(0.9, 0.85, 0.97, True).text()
        '0.900 [0.850, 0.970]'
        >>> Interval(0.9, 0.0, float("inf"), False).text(2)
        '0.90 [0.00, ∞)?'
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
        return f"{self.estimate:.{digits}f} {bracket(self.low, self.high, digits)}{flag}"


def bracket(low: float, high: float, digits: int = 2) -> str:
    """`[low, high]`, `[low, ∞)` when unbounded above.

    An end that lies just past 1 but rounds to it (an interval that leaves
    out 1 by a hair, as a `better` or `worse` verdict's does) is shown open,
    so the text never reads as if it held 1.

    Example:
        >>> bracket(0.5, 2.0), bracket(math.nextafter(1.0, 2.0), 2.0), bracket(0.9, math.inf)
        ('[0.50, 2.00]', '(1.00, 2.00]', '[0.90, ∞)')
    """
    left = "(" if low > 1.0 and round(low, digits) == 1.0 else "["
    if math.isinf(high):
        return f"{left}{low:.{digits}f}, ∞)"
    right = ")" if high < 1.0 and round(high, digits) == 1.0 else "]"
    return f"{left}{low:.{digits}f}, {high:.{digits}f}{right}"


def n_clusters(scores: Sequence[float], clusters: Sequence | None = None) -> int:
    """Finite trials, or distinct clusters among them: what `MIN_RELIABLE` counts."""
    if clusters is None:
        return int(np.isfinite(_values(scores)).sum())
    return len(np.unique(labelled(scores, clusters, "clusters")[1]))


def is_reliable(cell: Sequence[float], baseline: Sequence[float],
                cell_clusters: Sequence | None = None,
                baseline_clusters: Sequence | None = None) -> bool:
    """Whether a comparison has enough samples a side to read its numbers (`MIN_RELIABLE`).

    Counts trials when the two sides share the same hyperparameter settings
    (a matched design: the comparison is conditional on those settings and
    the seeds are its replicates, e.g. one setting x 10 seeds) or when there
    are no settings; otherwise distinct settings, since the seeds of one
    setting are not independent samples of the cell.
    """
    if cell_clusters is not None and baseline_clusters is not None:
        own = set(labelled(cell, cell_clusters, "clusters")[1].tolist())
        other = set(labelled(baseline, baseline_clusters, "clusters")[1].tolist())
        if own == other:
            cell_clusters = baseline_clusters = None
    return min(n_clusters(cell, cell_clusters),
               n_clusters(baseline, baseline_clusters)) >= MIN_RELIABLE


def ratio_interval(cell: Sequence[float], baseline: Sequence[float], mode: str, *,
                   factor: int = 1, key: tuple = (), decision: str | None = None,
                   cell_strata: Sequence | None = None, baseline_strata: Sequence | None = None,
                   cell_clusters: Sequence | None = None,
                   baseline_clusters: Sequence | None = None) -> Interval:
    """Ratio of the cell's best to the baseline's best, with its test-inverted interval.

    Args:
        cell: The cell's trial scores on one task.
        baseline: The baseline's trial scores on the same task.
        mode: `max` or `min`.
        factor: Holm's multiplier for this comparison (`holm_factors`): the
            interval holds the r whose p times `factor` is at least `ALPHA`.
        key: The comparison's key, as given to `compare` for its verdict.
        decision: The comparison's verdict (default: `verdict(factor * p, effect)`).
        cell_strata: Each cell trial's hyperparameter setting (see `compare`).
        baseline_strata: The baseline's.
        cell_clusters: Each cell trial's sample, several seeds each (see `compare`).
        baseline_clusters: The baseline's.

    Returns:
        An `Interval` of `scoring.ratio(best(cell), best(baseline))`, without
        ends when a side has a single trial or a score is negative; reliable
        when each side has `MIN_RELIABLE` settings (strata, else clusters;
        trials when the two sides share them or have none).
    """
    labels = dict(cell_strata=cell_strata, baseline_strata=baseline_strata,
                  cell_clusters=cell_clusters, baseline_clusters=baseline_clusters)
    c, b = _values(cell), _values(baseline)
    fc, fb = c[np.isfinite(c)], b[np.isfinite(b)]
    estimate = scoring.ratio(scoring.best(fc, mode), scoring.best(fb, mode), mode)
    settings = (cell_strata, baseline_strata) if cell_strata is not None else (
        cell_clusters, baseline_clusters)
    reliable = is_reliable(cell, baseline, *settings)
    if estimate is None or min(len(fc), len(fb)) < 2 or min(fc.min(), fb.min()) < 0:
        return Interval(estimate, None, None, reliable)

    def test(r: float) -> RankTest:
        return compare(c / r if mode == "max" else c * r, b, mode, key=key, **labels)

    at_one = test(1.0)
    if decision is None:
        p = at_one.p_value
        decision = verdict(None if p is None else factor * p, at_one.effect)
    grid = _Grid(c, b, mode, at_one.test, labels)
    ends = grid.accepted(lambda r: _accepts(test(r), factor), decision, factor)
    if ends is None:
        return Interval(estimate, None, None, reliable)
    low, high = ends
    if decision == "tied":
        low, high = min(low, estimate, 1.0), max(high, estimate, 1.0)
    elif (decision == "better" and estimate > 1) or (decision == "worse" and estimate < 1):
        low, high = min(low, estimate), max(high, estimate)
    return Interval(estimate, float(low), float(high), reliable)


def _values(scores: Sequence[float]) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in scores], dtype=float)


def _accepts(t: RankTest, factor: int) -> bool:
    """Holm's decision for this comparison, the arithmetic `holm` uses: keep when p * m >= alpha."""
    return t.p_value is None or not factor * t.p_value < ALPHA


class _Grid:
    """The ratios where a rank test's statistic can change, and the test's accepted range.

    A rank test compares cell and baseline scores pair by pair (within a
    stratum for `stratified`, sample means for `cluster`); dividing the
    cell's scores by r flips a pair where r crosses the pair's ratio, so the
    statistic is a step function of r, non-increasing, with steps at those
    ratios (and at 1, so that no gap straddles it). The test is run inside
    the gaps between steps (at a step, ties change the null distribution a
    little, so the accepted steps need not be contiguous) and each kept gap
    counts with its ends; which gaps, a handful of runs find: the normal
    approximation of the statistic guesses the edges, the test settles them.
    """

    def __init__(self, c: np.ndarray, b: np.ndarray, mode: str, design: str, labels: dict):
        ratios, weights, var = _pairs(c, b, design, labels)
        if mode == "min":
            with np.errstate(divide="ignore"):
                ratios = 1.0 / ratios  # the cell wins a pair while r < baseline / cell
        known = ~np.isnan(ratios)  # NaN: 0 vs 0, a tie at every r
        r, w = np.sort(ratios[known]), weights[known][np.argsort(ratios[known])]
        self.steps = np.unique(np.concatenate([r[np.isfinite(r) & (r > 0)], [1.0]]))
        # gap i lies between steps i - 1 and i; gap `one` starts at 1
        self.one = int(np.searchsorted(self.steps, 1.0)) + 1
        upto = np.concatenate([[0.0], np.cumsum(w)])  # weight of the i smallest ratios
        wins = upto[-1] - upto[np.searchsorted(r, np.concatenate([[0.0], self.steps]),
                                               side="right")]
        self.stat = wins - upto[-1] / 2  # sum over pairs of weight x (win - 1/2), per gap
        self.sd = math.sqrt(var) if var > 0 else 1.0

    def ratio(self, i: int) -> float:
        """A ratio inside gap i (its geometric midpoint; beyond the ends, x/÷ 2)."""
        steps = self.steps
        if i == 0:
            return float(steps[0] / 2)
        if i == len(steps):
            return float(steps[-1] * 2)
        return float(math.sqrt(steps[i - 1] * steps[i]))

    def bounds(self, lo: int, hi: int) -> tuple[float, float]:
        """The closed range of ratios that gaps lo..hi span (0 and inf beyond the ends)."""
        low = 0.0 if lo == 0 else float(self.steps[lo - 1])
        return low, math.inf if hi == len(self.steps) else float(self.steps[hi])

    def accepted(self, accepts, decision: str, factor: int) -> tuple[float, float] | None:
        """The range of ratios the test keeps, on the side of 1 that `decision` names."""
        last = len(self.steps)
        first, final = {"better": (self.one, last), "worse": (0, self.one - 1)}.get(
            decision, (0, last))
        seen: dict[int, bool] = {}

        def keep(i: int) -> bool:
            if i not in seen:
                seen[i] = accepts(self.ratio(i))
            return seen[i]

        from scipy.stats import norm

        span = np.abs(self.stat[first:final + 1])
        inside = np.flatnonzero(span <= norm.isf(ALPHA / (2 * factor)) * self.sd) + first
        order = np.argsort(span, kind="stable") + first
        anchor = next((i for i in ([self.one - 1, self.one] if decision == "tied" else [])
                       if keep(i)), None)
        if anchor is None:  # the gap nearest no difference, else any kept one
            anchor = next((int(i) for i in order if keep(int(i))), None)
        if anchor is None:
            return None
        guess_lo = int(inside[0]) if len(inside) else anchor
        guess_hi = int(inside[-1]) if len(inside) else anchor
        lo = _edge(keep, anchor, min(max(guess_lo, first), anchor), first, -1)
        hi = _edge(keep, anchor, max(min(guess_hi, final), anchor), final, 1)
        low, high = self.bounds(lo, hi)
        if decision == "better" and low <= 1.0:  # the gap just above a tie at 1: (1, high]
            low = math.nextafter(1.0, 2.0)
        if decision == "worse" and high >= 1.0:
            high = math.nextafter(1.0, 0.0)
        return low, high


def _pairs(c: np.ndarray, b: np.ndarray, design: str, labels: dict
           ) -> tuple[np.ndarray, np.ndarray, float]:
    """Each pair the test compares: its ratio cell / baseline, its weight; the null variance."""
    if design == "stratified":
        cv, cs = labelled(c, labels["cell_strata"], "cell_strata")
        bv, bs = labelled(b, labels["baseline_strata"], "baseline_strata")
        ratios, weights, var = [], [], 0.0
        for s in sorted(set(cs) & set(bs)):
            x, y = cv[cs == s], bv[bs == s]
            n = len(x) + len(y)
            ratios.append(_ratios(x, y))
            weights.append(np.full(len(x) * len(y), 1.0 / (n + 1)))
            var += len(x) * len(y) / (12.0 * (n + 1))
        if not ratios:
            return np.empty(0), np.empty(0), 0.0
        return np.concatenate(ratios), np.concatenate(weights), var
    if design == "cluster":
        x = cluster_means(c, labels["cell_clusters"], "cell_clusters")
        y = cluster_means(b, labels["baseline_clusters"], "baseline_clusters")
    else:
        x, y = c[np.isfinite(c)], b[np.isfinite(b)]
    return (_ratios(x, y), np.ones(len(x) * len(y)),
            len(x) * len(y) * (len(x) + len(y) + 1) / 12.0)


def _ratios(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x_i / y_j for every pair (inf where only y_j is 0, NaN where both are)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x[:, None] / y[None, :]).ravel()


def _edge(keep, anchor: int, guess: int, limit: int, step: int) -> int:
    """The last kept position from `anchor` towards `limit` (kept positions are contiguous).

    Starts at `guess` and gallops (1, 2, 4, ... positions) to a kept/rejected
    pair, then bisects it: a handful of tests when the guess is close.
    """
    if keep(guess):
        inner, gap = guess, 1
        while True:
            outer = inner + step * gap
            if (outer - limit) * step > 0:
                if keep(limit):
                    return limit
                outer = limit
                break
            if not keep(outer):
                break
            inner, gap = outer, gap * 2
    else:
        outer, gap = guess, 1
        while True:
            inner = outer - step * gap
            if (inner - anchor) * step <= 0:
                inner = anchor
                break
            if keep(inner):
                break
            outer, gap = inner, gap * 2
    while abs(outer - inner) > 1:  # inner kept, outer rejected
        mid = (inner + outer) // 2
        if keep(mid):
            inner = mid
        else:
            outer = mid
    return inner


def score_interval(estimate: float | None, tasks: Sequence[Interval]) -> Interval:
    """The score's interval from its scored tasks': [min of the lows, min of the highs].

    The score is the min over tasks of the ratios; each task's interval
    agrees with its verdict, so this one agrees with `overall_verdict`: above
    1 iff every task is `better`, below 1 iff some task is `worse`.
    """
    reliable = all(t.reliable for t in tasks)
    if not tasks or any(t.low is None or t.high is None for t in tasks):
        return Interval(estimate, None, None, reliable)
    return Interval(estimate, min(t.low for t in tasks), min(t.high for t in tasks), reliable)


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


def holm_factors(pvalues: Sequence[float], alpha: float = ALPHA) -> np.ndarray:
    """The multiplier m' at whose level alpha / m' each comparison's interval is drawn.

    Holm rejects the k smallest of m p-values; the j-th of them (j <= k) at
    alpha / (m - j + 1), and every other one is kept at alpha / (m - k).
    `factor * p < alpha` is then Holm's own decision, by the same arithmetic
    (1 for a NaN p).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.ones(len(p), dtype=int)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    rejected = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order])) < alpha
    k = int(rejected.sum())
    out[order] = np.where(rejected, m - np.arange(m), m - k)
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
