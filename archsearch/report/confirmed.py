"""Confirmed results: each chosen cell against the baseline on fresh seeds, test split.

A search picks its winners by their best validation score among many noisy
trials, so their search-phase ratio to the baseline is optimistic (the
winner's curse). Confirmation (`archsearch.search.confirm`) retrains them
with seeds the search never used; this module compares those trials only.

Per cell and task: the test-split score metric of each confirmation trial
(one per fresh seed) against the baseline's on the same seeds. The ratio is
of the means, oriented so that above 1 is better (`archsearch.scoring.ratio`).
The test is Welch's t-test on the logarithm of the scores (a ratio of means
is a difference of log means; seeds are replicates of one setting, so their
spread is the noise); p-values are Holm-corrected over the table. Each
interval is the test inverted at the level its verdict was decided at: Holm
rejects the i-th smallest p-value at alpha / (m - i + 1) until the first
that fails, so a `better`/`worse` row's interval is at its own step's level
and every `tied` row's at the level of the first step that failed. An
interval that excludes 1 beside a `tied` verdict therefore never appears.

The shrinkage is the search estimate minus the confirmed ratio: how much of
the search's apparent gain was selection on noise.

Example:
    >>> rows = confirm_table([
    ...     ConfirmInput("mut", "arithmetic", "max", [0.90, 0.91, 0.92, 0.90, 0.91],
    ...                  [0.80, 0.81, 0.79, 0.80, 0.82], search_ratio=1.2, role="top"),
    ... ])
    >>> rows[0].verdict, round(rows[0].ratio, 3), rows[0].low > 1
    ('better', 1.129, True)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats as _stats

from archsearch import scoring

__all__ = ["ALPHA", "ConfirmInput", "ConfirmRow", "cell_confirmation", "confirm_table",
           "confirmed_rows", "holm_levels"]

ALPHA = 0.05


@dataclasses.dataclass(frozen=True)
class ConfirmInput:
    """One cell on one task: its confirmation scores and the baseline's (test split)."""

    cell: str
    task: str
    mode: str
    scores: list[float]
    baseline: list[float]
    search_ratio: float | None = None
    role: str = "top"
    fingerprint: str = ""


@dataclasses.dataclass(frozen=True)
class ConfirmRow:
    """A row of the Confirmed table.

    Attributes:
        ratio: Confirmed ratio of means to the baseline (above 1: better).
        low, high: The interval at the level the verdict was decided at.
        level: That level's coverage (e.g. 0.99 for Holm's first of 5 steps).
        p: Welch's p-value (uncorrected); `p_holm` Holm-adjusted.
        verdict: `better`, `worse` or `tied` (confirmation trials only), or
            `n/a` when a side has fewer than 2 finite positive scores.
        shrinkage: Search estimate minus confirmed ratio (None without one).
    """

    cell: str
    task: str
    role: str
    n: int
    n_baseline: int
    ratio: float | None
    low: float | None
    high: float | None
    level: float | None
    p: float | None
    p_holm: float | None
    verdict: str
    search_ratio: float | None
    shrinkage: float | None
    mean: float | None
    baseline_mean: float | None
    fingerprint: str = ""


def _positive(values) -> np.ndarray:
    out = np.asarray([float(v) for v in values if v is not None and math.isfinite(v)])
    return out[out > 0]


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(difference of log means, its standard error, Welch's degrees of freedom)."""
    la, lb = np.log(a), np.log(b)
    va, vb = la.var(ddof=1) / len(la), lb.var(ddof=1) / len(lb)
    se = math.sqrt(va + vb)
    if se == 0:
        return float(la.mean() - lb.mean()), 0.0, float(len(la) + len(lb) - 2)
    df = (va + vb) ** 2 / (va ** 2 / (len(la) - 1) + vb ** 2 / (len(lb) - 1))
    return float(la.mean() - lb.mean()), se, df


def holm_levels(pvalues: list[float], alpha: float = ALPHA) -> tuple[list[bool], list[float]]:
    """Holm's decisions and the level each comparison's interval is built at.

    Example:
        >>> holm_levels([0.001, 0.04, 0.03])
        ([True, False, False], [0.016666666666666666, 0.025, 0.025])
    """
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    rejected, levels = [False] * m, [alpha / m] * m
    failed_at = None
    for step, i in enumerate(order):
        threshold = alpha / (m - step)
        if failed_at is None and pvalues[i] <= threshold:
            rejected[i], levels[i] = True, threshold
        else:
            failed_at = threshold if failed_at is None else failed_at
            levels[i] = failed_at
    return rejected, levels


def _holm_adjusted(pvalues: list[float]) -> list[float]:
    m, order = len(pvalues), sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * m, 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def confirm_table(inputs: list[ConfirmInput], alpha: float = ALPHA) -> list[ConfirmRow]:
    """The Confirmed table: one row per input, Holm-corrected over all of them."""
    tests = []
    for item in inputs:
        a, b = _positive(item.scores), _positive(item.baseline)
        tests.append(_welch(a, b) + (a, b) if len(a) >= 2 and len(b) >= 2 else None)
    pvalues = []
    for test in tests:
        if test is None:
            continue
        diff, se, df = test[:3]
        p = 1.0 if se == 0 and diff == 0 else 0.0 if se == 0 else \
            float(2 * _stats.t.sf(abs(diff) / se, df))
        pvalues.append(p)
    rejected, levels = holm_levels(pvalues, alpha) if pvalues else ([], [])
    adjusted = _holm_adjusted(pvalues) if pvalues else []
    rows, k = [], 0
    for item, test in zip(inputs, tests, strict=True):
        if test is None:
            rows.append(ConfirmRow(item.cell, item.task, item.role, len(item.scores),
                                   len(item.baseline), None, None, None, None, None, None, "n/a",
                                   item.search_ratio, None, None, None, item.fingerprint))
            continue
        diff, se, df, a, b = test
        level = levels[k]
        half = float(_stats.t.ppf(1 - level / 2, df)) * se if se else 0.0
        sign = 1 if item.mode == "max" else -1  # ratio above 1 = better
        low, high = sorted((math.exp(sign * (diff - half)), math.exp(sign * (diff + half))))
        ratio = scoring.ratio(float(a.mean()), float(b.mean()), item.mode)
        verdict = "tied"
        if rejected[k]:
            verdict = "better" if low > 1 else "worse"
        rows.append(ConfirmRow(
            item.cell, item.task, item.role, len(a), len(b), ratio, low, high, 1 - level,
            pvalues[k], adjusted[k], verdict, item.search_ratio,
            None if item.search_ratio is None or ratio is None else item.search_ratio - ratio,
            float(a.mean()), float(b.mean()), item.fingerprint))
        k += 1
    return rows


def _test_score(trial) -> float | None:
    """A confirmation trial's score metric on the test split (None if it has none)."""
    if trial.status != "completed" or not trial.score_metric:
        return None
    test = trial.metrics.get("test") if isinstance(trial.metrics, dict) else None
    value = test.get(trial.score_metric) if isinstance(test, dict) else None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def confirmed_rows(confirmations, cells, baseline_fp: str | None) -> tuple[ConfirmRow, ...]:
    """The Confirmed table of a report: every confirmed cell vs the baseline, per task.

    Args:
        confirmations: The confirmation trials (`RunSet.confirmations`).
        cells: The report's `CellSummary`s (labels, search-phase ratios).
        baseline_fp: The baseline's fingerprint.
    """
    if not confirmations or baseline_fp is None:
        return ()
    by_cell = {c.fingerprint: c for c in cells}
    latest: dict[tuple, object] = {}  # one trial per cell, task and seed: the latest
    for t in sorted(confirmations, key=lambda t: (t.finished_at is None, t.finished_at)):
        latest[(t.fingerprint, t.task, t.seed)] = t
    scores: dict[tuple[str, str], list[float]] = {}
    modes: dict[str, str] = {}
    for t in latest.values():
        value = _test_score(t)
        if value is not None:
            scores.setdefault((t.fingerprint, t.task), []).append(value)
            modes.setdefault(t.task, t.score_mode or "max")
    inputs = []
    for (fp, task), values in sorted(scores.items(), key=lambda kv: kv[0][1]):
        base = scores.get((baseline_fp, task))
        if fp == baseline_fp or not base:
            continue
        cell = by_cell.get(fp)
        stats = cell.tasks.get(task) if cell is not None else None
        inputs.append(ConfirmInput(
            cell.label if cell else fp[:12], task, modes[task], values, base,
            search_ratio=stats.ratio if stats is not None else None,
            role="mutant" if cell is None or cell.is_mutant else "reference", fingerprint=fp))
    order = {c.fingerprint: k for k, c in enumerate(cells)}
    inputs.sort(key=lambda i: (order.get(i.fingerprint, len(order)), i.task))
    return tuple(confirm_table(inputs))


def cell_confirmation(rows) -> dict[str, ConfirmRow]:
    """Fingerprint -> the row with its lowest confirmed ratio (the paper's min over tasks)."""
    worst: dict[str, ConfirmRow] = {}
    for row in rows:
        if row.ratio is None:
            continue
        if row.fingerprint not in worst or row.ratio < worst[row.fingerprint].ratio:
            worst[row.fingerprint] = row
    return worst
