"""Controls for a discovery: the search against random search, and against the average cell.

Best practice for architecture search (Lindauer & Hutter 2020; Yang et al.
2020) is to compare a search with random search under the same budget and
protocol, and to report the improvement over the average randomly sampled
architecture trained the same way. When the runs given to `archsearch report`
include a `random` strategy run beside a search (evolution), this section
compares, per run:

- the best cell's search score (min-ratio to the baseline, best-of-n on
  validation: what the search selected on);
- the mean search score of the run's cells (for a random run: the average
  randomly sampled cell) with a 95% t-interval;
- the best confirmed ratio (fresh seeds, test split) where the run was
  confirmed.

Example:
    >>> row = ControlRow("evo", "evolution", 40, 1.08, 0.93, 0.91, 0.95, 1.02, 0.99, 1.05)
    >>> round(row.improvement, 2)
    0.15
"""

from __future__ import annotations

import dataclasses
import math
import statistics

from scipy import stats as _stats

from archsearch.report.confirmed import confirmed_rows

__all__ = ["ControlRow", "control_rows"]

#: Strategies that search architectures (compared with `random`).
SEARCHES = ("evolution", "regularized_evolution", "random")


@dataclasses.dataclass(frozen=True)
class ControlRow:
    """One run of the comparison.

    Attributes:
        run: The run's label; `strategy` its strategy.
        cells: Scored cells in the run (mutants and seeds).
        best: The best cell's search score.
        mean, mean_low, mean_high: Mean search score of its cells, 95% interval.
        confirmed, confirmed_low, confirmed_high: Its best confirmed ratio to
            the baseline (None when the run was not confirmed).
    """

    run: str
    strategy: str
    cells: int
    best: float | None
    mean: float | None
    mean_low: float | None
    mean_high: float | None
    confirmed: float | None = None
    confirmed_low: float | None = None
    confirmed_high: float | None = None

    @property
    def improvement(self) -> float | None:
        """Best search score minus the mean cell's (Yang et al.'s improvement)."""
        return None if self.best is None or self.mean is None else self.best - self.mean


def _mean_interval(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = _stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(
        len(values))
    return mean, mean - half, mean + half


def control_rows(report, runs) -> tuple[ControlRow, ...]:
    """The comparison, when the runs hold a `random` run and another search; else ().

    Args:
        report: The `Report` (cells with their search scores).
        runs: The `RunSet` it was made from.
    """
    searches = [r for r in runs.runs if r.strategy in SEARCHES]
    if not any(r.strategy == "random" for r in searches) or len(searches) < 2:
        return ()
    rows = []
    for run in searches:
        cells = [c for c in report.cells if run.label in c.runs and c.score is not None
                 and c.fingerprint != report.baseline_fingerprint]
        scores = [c.score for c in cells]
        mean, low, high = _mean_interval(scores)
        confirmed = [r for r in confirmed_rows([t for t in runs.confirmations
                                                if t.run == run.label],
                                               report.cells, report.baseline_fingerprint)
                     if r.role == "mutant" and r.ratio is not None]
        top = max(confirmed, key=lambda r: r.ratio, default=None)
        rows.append(ControlRow(run.label, run.strategy, len(cells), max(scores, default=None),
                               mean, low, high, top.ratio if top else None,
                               top.low if top else None, top.high if top else None))
    return tuple(rows)
