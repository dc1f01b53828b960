"""Tables of a report as plain rows: the leaderboard frame and the paper-style table."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from archsearch.report.records import CellSummary, Report, TaskStats

__all__ = ["leaderboard_frame", "paper_rows", "PaperCell", "PaperRow", "fmt"]

MAX_PAPER_MUTANTS = 5


def fmt(value, digits: int = 3) -> str:
    """Formats a number for a table (`-` for missing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def leaderboard_frame(report: Report) -> pd.DataFrame:
    """All cells in rank order, one row each, with raw numbers (the CSV).

    Columns: `rank, cell, fingerprint, name, zoo_name, origin, parent, family,
    params, trials, completed, failed, score, complete`, then per task
    `TASK_best, TASK_ratio, TASK_median, TASK_iqr, TASK_n`, then
    `prefilter_best` and `genome_file` (set for exported top cells).
    """
    exported = {c.cell.fingerprint: c.genome_file for c in report.cards if c.genome_file}
    rows = []
    for c in report.cells:
        row = {"rank": c.rank, "cell": c.label, "fingerprint": c.fingerprint, "name": c.name,
               "zoo_name": c.zoo_name, "origin": c.origin, "parent": c.parent,
               "family": c.family, "params": c.params, "trials": c.trials,
               "completed": c.completed, "failed": c.failed, "score": c.score,
               "complete": c.complete}
        for t in report.tasks:
            s = c.tasks.get(t.task)
            row[f"{t.task}_best"] = s.best if s else None
            row[f"{t.task}_ratio"] = s.ratio if s else None
            row[f"{t.task}_median"] = s.median if s else None
            row[f"{t.task}_iqr"] = s.iqr if s else None
            row[f"{t.task}_n"] = s.n if s else 0
        row["prefilter_best"] = c.prefilter.best if c.prefilter else None
        row["genome_file"] = exported.get(c.fingerprint)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PaperCell:
    """One cell x task entry of the paper-style table."""

    stats: TaskStats | None
    is_best: bool

    @property
    def best(self) -> str:
        """The best score, formatted."""
        return fmt(self.stats.best) if self.stats else "-"

    @property
    def ratio(self) -> str:
        """The ratio to the baseline, formatted (`x1.018`)."""
        return f"×{self.stats.ratio:.3f}" if self.stats and self.stats.ratio is not None else ""

    @property
    def spread(self) -> str:
        """Median, IQR and number of trials, formatted."""
        s = self.stats
        if not s or not s.n:
            return f"0 completed, {s.failed} failed" if s else ""
        text = f"med {fmt(s.median)} · IQR {fmt(s.iqr)} · n={s.n}"
        return text + (f" · {s.failed} failed" if s.failed else "")


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper-style table."""

    cell: CellSummary
    entries: tuple[PaperCell, ...]
    is_baseline: bool


def paper_rows(report: Report) -> list[PaperRow]:
    """The paper-style table: named cells and the best few mutants, in rank order."""
    mutants = [c for c in report.cells if c.is_mutant][:MAX_PAPER_MUTANTS]
    chosen = [c for c in report.cells if not c.is_mutant or c in mutants]
    best = {t.task: t.best for t in report.tasks}
    rows = []
    for c in chosen:
        entries = []
        for t in report.tasks:
            s = c.tasks.get(t.task)
            entries.append(PaperCell(s, s is not None and s.best is not None
                                     and s.best == best[t.task]))
        rows.append(PaperRow(c, tuple(entries), c.fingerprint == report.baseline_fingerprint))
    return rows
