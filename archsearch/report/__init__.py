"""Comparative reports from run directories: typed records first, then renderers.

Three steps, each usable on its own:

* `load_runs(sources)` reads run directories (local paths or fsspec URIs) into
  a `RunSet` of `TrialRecord`s, with warnings for anything it had to skip;
* `summarize(runs)` aggregates them (pandas) into a `Report`: `CellSummary`
  per fingerprint with `TaskStats` per task, `TaskSummary`, `FailureGroup`,
  `HparamEffect` (fANOVA) and `CellCard` records, and the evidence: a
  `Comparison` per cell and task (interval from the test, test, verdict),
  `ExpectedBest` curves, `NoiseSplit`s and the `Findings` in words
  (`stats`, `evidence`, `ranking`, `findings`);
* `write_report(report, out)` renders index.html, report.md, leaderboard.csv,
  comparisons.csv, figures/*.png and genomes/*.json into `out`, atomically.

`build_report` does all three. Nothing here imports TensorFlow.

Example:
    >>> from archsearch.report import build_report
    >>> report = build_report(["runs/quickstart"], "reports/quickstart")  # doctest: +SKIP
    >>> report.cells[0].label, report.cells[0].score  # doctest: +SKIP
    ('gru', 1.0)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from archsearch.report.aggregate import summarize, trials_frame
from archsearch.report.load import ReportWarning, load_runs
from archsearch.report.render import ReportOutputError, write_report
from archsearch.report.store import RunDirError
from archsearch.report.summaries import (
    CellCard,
    CellSummary,
    ClaimCheck,
    Comparison,
    ExpectedBest,
    FailureGroup,
    Findings,
    HparamEffect,
    NoiseSplit,
    Report,
    RunInfo,
    RunningTrial,
    RunSet,
    TaskStats,
    TaskSummary,
    TrialRecord,
)

__all__ = ["load_runs", "summarize", "write_report", "build_report", "trials_frame",
           "RunDirError", "ReportOutputError", "ReportWarning", "RunInfo", "RunningTrial",
           "TrialRecord",
           "RunSet", "TaskStats", "CellSummary", "TaskSummary", "FailureGroup", "HparamEffect",
           "CellCard", "Comparison", "ExpectedBest", "NoiseSplit", "ClaimCheck", "Findings",
           "Report"]


def build_report(sources: Iterable[str | os.PathLike], out: str | os.PathLike, *,
                 baseline: str | None = None, top: int = 5, title: str | None = None,
                 figures: bool = True) -> Report:
    """Reads run directories, summarises them and writes the report folder.

    Args:
        sources: Run directories (local paths or URIs such as `s3://bucket/run`).
        out: Output folder (replaced atomically if it already holds a report).
        baseline: Cell the ratios refer to (default: the runs' baseline, else `gru`).
        top: Number of top cells that get a card and an exported genome.
        title: Report title.
        figures: Draw the PNG figures.

    Returns:
        The `Report` that was rendered (its `warnings` list every problem found).

    Raises:
        RunDirError: a source is not a run directory (nothing is written).
        ReportOutputError: `out` cannot be used (nothing is written).
    """
    runs = load_runs(sources, curves=True)
    report = summarize(runs, baseline=baseline, top=top, title=title)
    write_report(report, out, figures=figures)
    return report
