"""Learning speed: steps to reach a task's threshold, each cell against the baseline.

The paper judges final scores; an initialisation (a forget-gate bias,
chrono) or a missing gate mostly changes how fast a cell learns. From each
trial's learning curve (`TrialRecord.curve`: one point per evaluation, with
`step` and `valid_<metric>`) `steps_to_threshold` takes the first
evaluation step at which the task's score metric reaches its threshold
(`>=` for `max` metrics, `<=` for `min`). A trial that never reaches it is
censored at the task's step budget: all we know is "more than the budget".
Only completed search-phase trials with a recorded curve count (a trial
stopped early by a scheduler is censored by a rule that looks at its curve,
which would bias the comparison; a diverged trial has no usable curve; a
trial read without its curve, as `load_runs` reads those it finds in the
run's index, says nothing about its speed and is left out, not censored).

* Threshold (`threshold_for`): `thresholds[task]` when given, else the
  default of the task's score metric (`DEFAULT_THRESHOLDS`: accuracies 0.95,
  `mse` 0.05 with mode `min`, ...). No task carries a threshold of its own
  yet; a metric without a default (perplexity) gets no rows, and neither
  does a task on which no trial reached its threshold (nothing to compare).
* Test: every trial censored at the same budget, so a censored trial ranks
  after every trial that reached the threshold and ties with the other
  censored ones (steps = budget + 1, "not reached"). With this common
  censoring Gehan's generalised Wilcoxon test is the Mann-Whitney U test of
  those values; it runs through `stats.compare`, the report's own
  design-aware rank test (stratified within shared hyperparameter settings,
  p by permutation with mid-ranks), mode `min` (fewer steps is better).
  Holm's correction over the whole table; verdict `better` (faster),
  `worse` (slower) or `tied`, as in `stats.verdict`.
* Ratio: median steps of the cell over the baseline's (above 1: the cell
  needs more steps). With common censoring the Kaplan-Meier median is the
  sample median with censored trials last; it is `None` ("not reached")
  when half or more of the trials are censored, and the ratio is then
  `inf` (or 0, or `None` when both sides are).
* Interval: the test inverted, as `stats.ratio_interval` does for final
  scores, at the level Holm used for the row (`stats.holm_factors`). Under a
  scale model (the cell's steps are the baseline's times r), dividing the
  cell's steps by r makes the two sides exchangeable once both are censored
  at the same point, L = min(budget, budget / r); the interval holds the r
  that test does not reject. At r = 1 it is the verdict's own test, so the
  interval excludes 1 exactly when the verdict is `better` or `worse`. A side
  that never reaches the threshold leaves its end of the interval open (0 or
  inf).

Measured on synthetic data (the generator of `tests/report/test_speed.py`:
log-normal steps, median 1,200 for the baseline, sd 0.5 in log units,
budget 2,000, so 15% of the baseline's trials are censored; one setting x n
seeds a side; 5% two-sided; "covered": the 95% interval held the true ratio):

==================================  ==  =====  ========  ==========  =======
data                                n   every  datasets  rejections  covered
==================================  ==  =====  ========  ==========  =======
same distribution                   6   100    2000      0.032       0.968
same distribution                   10  100    2000      0.039       0.961
same distribution                   6   500    1000      0.031       0.969
same distribution                   10  500    1000      0.044       0.956
cell 1.5x slower                    6   100    1000      0.21        0.977
cell 1.5x slower                    10  100    1000      0.36        0.963
cell 2x slower (64% censored)       6   100    1000      0.46        0.989
cell 2x slower                      10  100    1000      0.76        0.981
cell 2x slower                      10  500    500       0.74        0.994
cell 4x slower (median 400 -> 1600) 6   500    500       0.96        0.922
baseline 500, cell never in 90%     5   100    1000      0.80
==================================  ==  =====  ========  ==========  =======

("every": steps between evaluations; `archsearch search` evaluates every
budget / 4 steps, the `every 500` rows.) The level stays under 5% because
the evaluation grid ties many trials; the power is that of a rank test of
n a side. Under the null an interval misses 1 exactly when the verdict is
not `tied`, so its coverage there is one minus the rejection rate.

Example:
    >>> curve = [{"step": 100, "valid_mse": 0.16}, {"step": 200, "valid_mse": 0.04}]
    >>> steps_to_threshold(curve, "mse", "min", 0.05)
    200
    >>> steps_to_threshold(curve, "mse", "min", 0.01) is None
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from archsearch.report import stats

if TYPE_CHECKING:
    from archsearch.report.summaries import TrialRecord

__all__ = ["DEFAULT_THRESHOLDS", "SpeedRow", "ratio_text", "speed_table",
           "steps_to_threshold", "threshold_for"]

#: Score metric -> threshold, where a task names none (its mode comes from the trials).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "long_range_accuracy": 0.95,  # reber: chance is 0.5
    "accuracy": 0.95,
    "exact_match": 0.95,
    "solved": 0.95,
    "mse": 0.05,                  # adding: a memoryless model sits at 0.167
}


@dataclass(frozen=True)
class SpeedRow:
    """One cell on one task: steps to the threshold, against the baseline.

    Args:
        cell: The cell's name (`mut-` and a short fingerprint for a mutant).
        fingerprint: Its fingerprint.
        task: Task name.
        metric: The score metric the threshold applies to.
        mode: `max` (reach at least the threshold) or `min` (at most).
        threshold: The threshold.
        budget: The step budget trials are censored at.
        n: Completed trials counted.
        censored: Of those, trials that never reached the threshold.
        median_steps: Median steps to the threshold; None when half or more
            of the trials never reached it.
        baseline_median_steps: The baseline's.
        ratio: `median_steps / baseline_median_steps` (above 1: slower);
            `inf` or 0 when one side's median is not reached, None when both.
        low: Lower end of the ratio's interval (0 when unbounded below).
        high: Upper end (`inf` when unbounded above).
        p: Two-sided p of the rank test (None for the baseline, or with no trials).
        p_holm: Holm-adjusted over the table's rows.
        effect: Probability that a cell trial reaches the threshold in fewer
            steps than a baseline trial (ties half; 0.5 = even).
        test: The design `stats.compare` chose (`stratified`, `cluster`, `trial`).
        verdict: `better` (faster), `worse` (slower), `tied` or `baseline`.
    """

    cell: str
    fingerprint: str
    task: str
    metric: str
    mode: str
    threshold: float
    budget: int
    n: int
    censored: int
    median_steps: float | None
    baseline_median_steps: float | None
    ratio: float | None
    low: float | None
    high: float | None
    p: float | None
    p_holm: float | None
    effect: float | None
    test: str | None
    verdict: str


def ratio_text(row: SpeedRow) -> str:
    """A row's ratio as text; a side that never reached its median gives a bound.

    Example:
        >>> import dataclasses
        >>> row = SpeedRow("c", "fp", "t", "mse", "min", 0.05, 1000, 5, 5, None, 250.0,
        ...                math.inf, 4.0, math.inf, 0.01, 0.01, 0.0, "trial", "worse")
        >>> ratio_text(row), ratio_text(dataclasses.replace(row, median_steps=250.0,
        ...     baseline_median_steps=None, ratio=0.0))
        ('> 4.00', '< 0.25')
    """
    if row.verdict == "baseline" or row.ratio is None:
        return "-"
    if math.isinf(row.ratio):  # the cell's median is past the budget
        return f"> {row.budget / row.baseline_median_steps:.2f}"
    if row.ratio == 0.0 and row.baseline_median_steps is None:
        return f"< {row.median_steps / row.budget:.2f}"
    return f"{row.ratio:.2f}"


def steps_to_threshold(curve: Iterable[Mapping], metric: str, mode: str,
                       threshold: float) -> int | None:
    """The first evaluation step whose `valid_<metric>` reaches `threshold`; None if none does."""
    if mode not in ("max", "min"):
        raise ValueError(f"Expected mode 'max' or 'min'. Received: mode={mode!r}")
    for point in sorted(curve, key=lambda p: p.get("step", math.inf)):
        value, step = point.get(f"valid_{metric}"), point.get("step")
        if not isinstance(value, int | float) or not math.isfinite(value) or step is None:
            continue
        if (value >= threshold) if mode == "max" else (value <= threshold):
            return int(step)
    return None


def threshold_for(task: str, metric: str, thresholds: Mapping[str, float] | None = None
                  ) -> float | None:
    """`thresholds[task]` if given, else `DEFAULT_THRESHOLDS[metric]` (None: no default)."""
    if thresholds and task in thresholds:
        return float(thresholds[task])
    return DEFAULT_THRESHOLDS.get(metric)


@dataclass(frozen=True)
class _Side:
    """One cell's trials on one task: steps (None = censored) and hyperparameter settings."""

    label: str
    steps: tuple[int | None, ...]
    strata: tuple[str, ...]


def speed_table(trials: Iterable[TrialRecord], baseline_fp: str, *,
                thresholds: Mapping[str, float] | None = None,
                budgets: Mapping[str, int] | None = None) -> list[SpeedRow]:
    """Steps to threshold per cell and task, each cell tested against the baseline.

    Args:
        trials: Trial records (any; completed search-phase trials that are
            not pre-filters and have a curve are used).
        baseline_fp: The baseline cell's fingerprint.
        thresholds: Task -> threshold, overriding `DEFAULT_THRESHOLDS`.
        budgets: Task -> step budget trials are censored at (default: the
            most steps any trial of the task trained).

    Returns:
        One `SpeedRow` per cell and task the baseline also has (the
        baseline's own rows included, verdict `baseline`), tasks in the
        order first seen, the baseline first within a task; a task on
        which no trial reached its threshold has none. Holm's correction
        is over every non-baseline row.
    """
    sides, meta = _gather(trials, thresholds, budgets)
    reached = {task for (_, task), side in sides.items() if any(s is not None for s in side.steps)}
    tests = []
    for (fp, task), side in sides.items():
        if task not in reached:  # no trial reached the threshold: nothing to compare
            continue
        base = sides.get((baseline_fp, task))
        if base is None:
            continue
        if fp == baseline_fp:
            tests.append((fp, task, None))
            continue
        budget = meta[task][2]
        t = stats.compare(_coded(side.steps, budget), _coded(base.steps, budget), "min",
                          cell_strata=side.strata, baseline_strata=base.strata,
                          key=("speed", fp, baseline_fp, task))
        tests.append((fp, task, t))
    pvalues = [np.nan if t is None or t.p_value is None else t.p_value for _, _, t in tests]
    rows = []
    for (fp, task, t), p_adj, factor in zip(tests, stats.holm(pvalues),
                                            stats.holm_factors(pvalues), strict=True):
        side, base = sides[(fp, task)], sides[(baseline_fp, task)]
        metric, mode, budget, threshold = meta[task]
        cell_median, base_median = _median(side.steps), _median(base.steps)
        common = dict(cell=side.label, fingerprint=fp, task=task, metric=metric, mode=mode,
                      threshold=threshold, budget=budget, n=len(side.steps),
                      censored=sum(s is None for s in side.steps), median_steps=cell_median,
                      baseline_median_steps=base_median)
        if t is None:
            rows.append(SpeedRow(**common, ratio=1.0, low=1.0, high=1.0, p=None, p_holm=None,
                                 effect=0.5, test=None, verdict="baseline"))
            continue
        p_holm = None if np.isnan(p_adj) else float(p_adj)
        verdict = stats.verdict(p_holm, t.effect)
        ratio = _ratio(cell_median, base_median)
        low, high = _interval(side, base, budget, int(factor), verdict, ratio,
                              key=("speed", fp, baseline_fp, task))
        rows.append(SpeedRow(**common, ratio=ratio, low=low, high=high, p=t.p_value,
                             p_holm=p_holm, effect=t.effect, test=t.test, verdict=verdict))
    return rows


def _gather(trials, thresholds, budgets):
    """Per (fingerprint, task) its `_Side`; per task (metric, mode, budget, threshold)."""
    kept = [t for t in trials if t.completed and t.stage != "prefilter" and t.curve
            and t.phase == "search" and t.score_metric and t.score_mode in ("max", "min")]
    meta = {}
    for t in kept:
        if t.task in meta:
            continue
        threshold = threshold_for(t.task, t.score_metric, thresholds)
        if threshold is None:
            continue
        steps = [s for r in kept if r.task == t.task
                 for s in [r.steps, *(p.get("step") for p in r.curve)] if s is not None]
        budget = int(budgets[t.task]) if budgets and t.task in budgets else max(steps, default=0)
        meta[t.task] = (t.score_metric, t.score_mode, budget, threshold)
    grouped: dict[tuple[str, str], list[TrialRecord]] = {}
    for t in kept:
        if t.task in meta:
            grouped.setdefault((t.fingerprint, t.task), []).append(t)
    sides = {}
    for (fp, task), rows in grouped.items():
        metric, mode, budget, threshold = meta[task]
        steps = []
        for r in rows:
            s = steps_to_threshold(r.curve, metric, mode, threshold)
            steps.append(s if s is not None and s <= budget else None)
        sides[(fp, task)] = _Side(rows[0].cell_name or f"mut-{fp[:6]}", tuple(steps),
                                  tuple(_setting(r.hparams) for r in rows))
    return sides, meta


def _setting(hparams: Mapping) -> str:
    """A trial's hyperparameter setting, seeds aside: the stratum `report.evidence` uses."""
    return json.dumps({k: v for k, v in dict(hparams).items() if k not in ("seed", "sample")},
                      sort_keys=True, default=str)


def _coded(steps: Sequence[int | None], limit: float, scale: float = 1.0) -> np.ndarray:
    """Steps / scale, censored at `limit`: reached-later and never-reached share `limit + 1`."""
    out = np.full(len(steps), float(limit) + 1.0)
    for i, s in enumerate(steps):
        if s is not None and s / scale <= limit:
            out[i] = s / scale
    return out


def _median(steps: Sequence[int | None]) -> float | None:
    """The sample median with censored trials last; None when it falls among them."""
    if not steps:
        return None
    ordered = sorted(steps, key=lambda s: math.inf if s is None else s)
    n = len(ordered)
    middle = ordered[(n - 1) // 2], ordered[n // 2]
    if None in middle:
        return None
    return (middle[0] + middle[1]) / 2.0


def _ratio(cell: float | None, base: float | None) -> float | None:
    if cell is None and base is None:
        return None
    if cell is None:
        return math.inf
    if base is None:
        return 0.0
    return cell / base if base > 0 else None


def _interval(side: _Side, base: _Side, budget: int, factor: int, verdict: str,
              estimate: float | None, key: tuple) -> tuple[float | None, float | None]:
    """The ratios r a rescaled, commonly censored test keeps (see the module docstring)."""
    events = np.array([s for s in side.steps if s is not None], dtype=float)
    others = np.array([s for s in base.steps if s is not None], dtype=float)
    if not len(side.steps) or not len(base.steps) or budget <= 0:
        return None, None
    # Where the coded ranks can change: a cell event passing a baseline event,
    # the budget, or the shrinking common censoring point passing a baseline event.
    steps = np.unique(np.concatenate([
        (events[:, None] / others[None, :]).ravel(), events / budget, budget / others, [1.0]]))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    # Positions 0, 2, ..., 2k are the gaps between steps (tested at their geometric
    # midpoints), 1, 3, ..., 2k - 1 the steps themselves: with many tied trials a
    # single step can be all the test keeps.
    k = len(steps)

    def ratio(j: int) -> float:
        i = j // 2
        if j % 2:
            return float(steps[i])
        if i == 0:
            return float(steps[0] / 2)
        if i == k:
            return float(steps[-1] * 2)
        return float(math.sqrt(steps[i - 1] * steps[i]))

    def keeps(r: float) -> bool:
        limit = min(budget, budget / r)
        t = stats.compare(_coded(side.steps, limit, r), _coded(base.steps, limit), "min",
                          cell_strata=side.strata, baseline_strata=base.strata, key=key)
        return t.p_value is None or not factor * t.p_value < stats.ALPHA

    side_of_one = {"better": lambda r: r < 1.0, "worse": lambda r: r > 1.0}.get(
        verdict, lambda r: True)
    kept = [j for j in range(2 * k + 1) if side_of_one(ratio(j)) and keeps(ratio(j))]
    if not kept:
        return None, None
    lo, hi = kept[0], kept[-1]
    low = 0.0 if lo == 0 else float(steps[(lo - 1) // 2]) if lo % 2 == 0 else ratio(lo)
    high = math.inf if hi == 2 * k else float(steps[hi // 2]) if hi % 2 == 0 else ratio(hi)
    if estimate is not None and (verdict == "tied" or (verdict == "better" and estimate < 1)
                                 or (verdict == "worse" and estimate > 1)):
        low, high = min(low, estimate), max(high, estimate)
    if verdict == "tied":
        low, high = min(low, 1.0), max(high, 1.0)
    if verdict == "better" and high >= 1.0:  # the gap just below a tie at 1: [low, 1)
        high = math.nextafter(1.0, 0.0)
    if verdict == "worse" and low <= 1.0:
        low = math.nextafter(1.0, 2.0)
    return low, high
