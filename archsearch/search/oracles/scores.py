"""`CellScores`: the paper's score of each cell, kept up to date trial by trial.

A cell's score is the minimum over search tasks of its best result divided by
the baseline's best (`archsearch.scoring`). Bests are updated as each trial
ends; a cell's score is recomputed when it finishes, and every finished
cell's when the baseline's best on a search task improves (the only step that
visits many cells, and it happens a handful of times per search).
"""

from __future__ import annotations

from archsearch import scoring
from archsearch.search.oracles.cells import CellState, CellStatus

__all__ = ["CellScores"]


class CellScores:
    """Mixin of `ArchitectureOracle`: per-cell bests, ratios and scores.

    Needs `cells` (fingerprint -> `CellState`), `baseline_fp`, `search_stages`, and the sets
    `_finished` (done, uncut cells) and `_scores` (those with a score).

    Example:
        >>> class Tiny(CellScores):
        ...     def __init__(self):
        ...         self.cells, self.baseline_fp, self.search_stages = {}, "gru", ["xml"]
        ...         self._finished, self._scores = set(), {}
        ...         for fp in ("gru", "mine"):
        ...             self.cells[fp] = CellState(fp)
        >>> tiny = Tiny()
        >>> tiny._add_result(tiny.cells["mine"], "xml", 0.45)
        >>> tiny._rescore(tiny.cells["mine"])  # no baseline result yet: no score
        >>> tiny.scored()
        []
        >>> tiny._add_result(tiny.cells["gru"], "xml", 0.9)  # rescores the finished cells
        >>> tiny.cells["mine"].score, tiny.leader().fingerprint
        (0.5, 'mine')
    """

    def scored(self) -> list[CellState]:
        """Cells that finished every stage and have a score (`cell.score`)."""
        return [self.cells[fp] for fp in self._scores]

    def leader(self) -> CellState | None:
        """The best scored cell so far, or None."""
        if not self._scores:
            return None
        return self.cells[max(self._scores, key=self._scores.__getitem__)]

    def best(self, fp: str, task: str) -> float | None:
        """Best objective value of cell `fp` on `task` (None if no success)."""
        return self.cells[fp].bests.get(task)

    def ratio(self, fp: str, task: str) -> float | None:
        """`scoring.ratio` of `fp`'s best on `task` to the baseline's best.

        The oracle holds objectives (-metric for "min" metrics, which are
        positive), so a negative baseline objective means a "min" metric.
        """
        mine, base = self.best(fp, task), self.best(self.baseline_fp, task)
        if mine is None or base is None:
            return None
        if base < 0:
            return scoring.ratio(-mine, -base, "min")
        return scoring.ratio(mine, base, "max")

    def score(self, fp: str) -> float | None:
        """Min over search tasks of best / baseline's best, from the results so far."""
        cell = self.cells[fp]
        if cell.status != CellStatus.DONE or cell.cut:
            return None
        return scoring.min_ratio(self.ratio(fp, t) for t in self.search_stages)

    def _add_result(self, cell: CellState, task: str, objective: float | None) -> None:
        cell.results.setdefault(task, []).append(objective)
        old = cell.bests.get(task)
        if objective is None or (old is not None and objective <= old):
            return
        cell.bests[task] = objective
        if cell.fingerprint == self.baseline_fp and task in self.search_stages:
            for fp in self._finished:  # every ratio moved
                self._rescore(self.cells[fp])

    def _rescore(self, cell: CellState) -> None:
        fp = cell.fingerprint
        cell.score = self.score(fp)
        if cell.status == CellStatus.DONE and not cell.cut:
            self._finished.add(fp)
        if cell.score is None:
            self._scores.pop(fp, None)
        else:
            self._scores[fp] = cell.score
