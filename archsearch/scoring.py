"""The paper's score, once: a cell's ratio to the baseline per task, min over tasks.

Jozefowicz et al. (2015) scored a candidate on each task by its best result
divided by the GRU's best result on that task, and ranked candidates by the
minimum of those ratios over tasks. A ratio above 1 means better than the
baseline, whatever the metric's direction: for metrics where lower is better
(perplexity, negative log-likelihood) the ratio is inverted.

TF-free: the oracles (to decide) and the report (to show) both import it.

Example:
>>> best([0.5, None, 0.75], "max")
0.75
>>> ratio(0.45, 0.9, "max")
0.5
>>> ratio(120.0, 100.0, "min")  # perplexity 120 vs the baseline's 100
0.8333333333333334
>>> min_ratio([0.9, 1.1, None]) is None
True
>>> min_ratio([0.9, 1.1])
0.9
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["MODES", "best", "ratio", "min_ratio", "objective"]

#: Metric directions: "max" (accuracy) or "min" (perplexity, loss).
MODES = ("max", "min")


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"Expected mode 'max' or 'min'. Received: mode={mode!r}")


def _finite(value) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def best(values: Iterable[float | None], mode: str = "max") -> float | None:
    """The best finite value (max or min by `mode`), None if there is none."""
    _check_mode(mode)
    finite = [float(v) for v in values if _finite(v)]
    if not finite:
        return None
    return max(finite) if mode == "max" else min(finite)


def ratio(value: float | None, baseline: float | None, mode: str = "max") -> float | None:
    """`value` relative to `baseline`, oriented so that above 1 is better.

    `value / baseline` for "max" metrics, `baseline / value` for "min" ones.
    None when either side is missing or the denominator is not positive.
    """
    _check_mode(mode)
    if not _finite(value) or not _finite(baseline):
        return None
    num, den = (value, baseline) if mode == "max" else (baseline, value)
    return float(num / den) if den > 0 else None


def min_ratio(ratios: Iterable[float | None]) -> float | None:
    """The paper's score: the minimum ratio over tasks; None if any task lacks one."""
    ratios = list(ratios)
    if not ratios or any(not _finite(r) for r in ratios):
        return None
    return float(min(ratios))


def objective(value: float | None, mode: str = "max") -> float | None:
    """A metric as a quantity to maximise (negated for "min" metrics), None if not finite."""
    _check_mode(mode)
    if not _finite(value):
        return None
    return float(value) if mode == "max" else -float(value)
