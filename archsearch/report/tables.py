"""Tables of a report as plain rows: leaderboard and comparisons frames, the paper-style table."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import pandas as pd

from archsearch.report.speed import SpeedRow
from archsearch.report.stats import bracket
from archsearch.report.summaries import CellSummary, Report, TaskStats

__all__ = ["leaderboard_frame", "comparisons_frame", "COMPARISON_COLUMNS", "paper_rows",
           "PaperCell", "PaperRow", "fmt", "fmt_interval", "fmt_steps", "speed_frame",
           "SPEED_COLUMNS"]

COMPARISON_COLUMNS = ("phase", "cell", "fingerprint", "task", "reference", "n", "baseline_n",
                      "ratio", "ratio_low", "ratio_high", "reliable", "p_value", "p_holm",
                      "effect", "verdict", "test")

MAX_PAPER_MUTANTS = 5


def fmt(value, digits: int = 3) -> str:
    """Formats a number for a table (`-` for missing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def fmt_interval(low, high, reliable: bool = True, digits: int = 2, *, value=None) -> str:
    """`[0.91, 0.99]` (`[0.91, ∞)` when unbounded), with `?` when unreliable.

    Without an interval: `[?]` when there is a `value` it would belong to
    and too few trials to compute one, else empty.
    """
    if low is None or high is None:
        return "[?]" if value is not None and not reliable else ""
    return bracket(low, high, digits) + ("" if reliable else "?")


def comparisons_frame(report: Report) -> pd.DataFrame:
    """`comparisons.csv`: one row per (cell, task) and per cell on the score (task `score`).

    Columns (`COMPARISON_COLUMNS`): the cell's label and fingerprint, the task,
    the reference cell (the baseline), trial counts of both, the ratio of
    bests with its interval (the verdict's test inverted at the level Holm
    set for the verdict, `stats.ratio_interval`; `inf` when unbounded),
    whether it rests on at least 5 trials a side, the p and its Holm-adjusted value,
    the effect (P(a cell trial beats a baseline trial)), the verdict and the
    test behind the p (`stats.compare`: `stratified`, `cluster` or `trial`). `phase`
    says where the numbers come from: `search` (best validation scores of the
    search's trials) or `confirm` (test-split means of the confirmation trials on
    fresh seeds, Welch's test on log scores, `archsearch.report.confirmed`).
    """
    rows = [{"phase": "search", "cell": c.cell, "fingerprint": c.fingerprint, "task": c.task,
             "reference": c.reference, "n": c.n, "baseline_n": c.reference_n, "ratio": c.ratio,
             "ratio_low": c.ratio_low, "ratio_high": c.ratio_high, "reliable": c.reliable,
             "p_value": c.p_value, "p_holm": c.p_holm, "effect": c.effect,
             "verdict": c.verdict, "test": c.test} for c in report.comparisons]
    rows += [{"phase": "confirm", "cell": r.cell, "fingerprint": r.fingerprint, "task": r.task,
              "reference": report.baseline, "n": r.n, "baseline_n": r.n_baseline,
              "ratio": r.ratio, "ratio_low": r.low, "ratio_high": r.high,
              "reliable": r.n >= 2 and r.n_baseline >= 2, "p_value": r.p, "p_holm": r.p_holm,
              "effect": None, "verdict": r.verdict, "test": "welch-log"}
             for r in report.confirmed]
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def leaderboard_frame(report: Report) -> pd.DataFrame:
    """All cells in rank order, one row each, with raw numbers (the CSV).

    Columns: `rank, rank_low, rank_high, group, cell, fingerprint, name,
    zoo_name, origin, parent, family, params, trials, completed, failed, score,
    score_low, score_high, verdict, complete, search_score, confirmed_score,
    confirmed_low, confirmed_high` (the confirmed ratio to the baseline on fresh
    seeds, test split, on the cell's worst confirmed task), then per task `TASK_best,
    TASK_ratio, TASK_ratio_low, TASK_ratio_high, TASK_verdict, TASK_median,
    TASK_iqr, TASK_n`, then `prefilter_best` and `genome_file` (set for
    exported top cells). `rank_low`-`rank_high` is the plausible rank range
    and `group` the group of statistically tied cells (1 = top).
    """
    from archsearch.report.confirmed import cell_confirmation

    exported = {c.cell.fingerprint: c.genome_file for c in report.cards if c.genome_file}
    confirmed = cell_confirmation(report.confirmed)
    rows = []
    for c in report.cells:
        held = confirmed.get(c.fingerprint)
        row = {"rank": c.rank, "rank_low": c.rank_low, "rank_high": c.rank_high,
               "group": c.group, "cell": c.label, "fingerprint": c.fingerprint, "name": c.name,
               "zoo_name": c.zoo_name, "origin": c.origin, "parent": c.parent,
               "family": c.family, "params": c.params, "trials": c.trials,
               "completed": c.completed, "failed": c.failed, "score": c.score,
               "score_low": c.score_low, "score_high": c.score_high, "verdict": c.verdict,
               "complete": c.complete, "search_score": c.score,
               "confirmed_score": held.ratio if held else None,
               "confirmed_low": held.low if held else None,
               "confirmed_high": held.high if held else None}
        for t in report.tasks:
            s = c.tasks.get(t.task)
            row[f"{t.task}_best"] = s.best if s else None
            row[f"{t.task}_ratio"] = s.ratio if s else None
            row[f"{t.task}_ratio_low"] = s.ratio_low if s else None
            row[f"{t.task}_ratio_high"] = s.ratio_high if s else None
            row[f"{t.task}_verdict"] = s.verdict if s else None
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
        """The ratio to the baseline with its interval, formatted (`×1.018 [0.97, 1.05]`)."""
        s = self.stats
        if not s or s.ratio is None:
            return ""
        interval = fmt_interval(s.ratio_low, s.ratio_high, s.reliable, value=s.ratio)
        return f"×{s.ratio:.3f}" + (f" {interval}" if interval else "")

    @property
    def verdict(self) -> str:
        """`better`, `worse` or `tied` vs the baseline (empty for the baseline itself)."""
        s = self.stats
        return s.verdict if s and s.verdict in ("better", "worse", "tied") else ""

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


#: `speed.csv`'s columns: the fields of `archsearch.report.speed.SpeedRow`.
SPEED_COLUMNS = tuple(f.name for f in fields(SpeedRow))


def speed_frame(report: Report) -> pd.DataFrame:
    """`speed.csv`: steps to threshold, one row per cell and task (`SpeedRow` fields)."""
    return pd.DataFrame([astuple(r) for r in report.speed], columns=list(SPEED_COLUMNS))


def fmt_steps(value, budget: int) -> str:
    """Median steps as text: `1,250`, or `> 1,000` (not reached within the budget) when None."""
    return f"> {budget:,}" if value is None else f"{value:,.0f}"

