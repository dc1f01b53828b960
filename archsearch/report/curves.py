"""Learning curves for the speed table, read from the trial files the index leaves them out of.

`load_runs` reads a run's trials from its index, which holds everything a
record says except its learning curve (one point per evaluation). Steps to
threshold (`archsearch.report.speed`) needs the curves, and only of the
trials it can compare: completed search-phase trials, not pre-filters, on a
task whose score metric has a threshold, of cells with at least
`MIN_TRIALS` such trials on that task (a lone trial per mutant, as an
evolution gives, is no sample to test). Those files, and no others, are
read again; at most `MAX_FILES` per run, so a large run costs bounded time
(the rest are left out of the speed table, and a warning says how many).

Example:
    >>> from archsearch.report.summaries import TrialRecord
    >>> fields = {f: None for f in TrialRecord.__dataclass_fields__}
    >>> t = TrialRecord(**{**fields, "status": "completed", "stage": "search",
    ...                    "phase": "search", "curve": (), "score_metric": "mse",
    ...                    "fingerprint": "a", "task": "adding"})
    >>> len(wanted([t, t]))
    2
    >>> len(wanted([t]))
    0
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from archsearch.report.speed import DEFAULT_THRESHOLDS
from archsearch.report.summaries import TrialRecord

__all__ = ["MAX_FILES", "MIN_TRIALS", "wanted", "with_curves"]

#: Trial files read again for their curves, per run.
MAX_FILES = 5_000
#: Completed trials a cell needs on a task before its curves are read.
MIN_TRIALS = 2


def _usable(t: TrialRecord) -> bool:
    return (t.status == "completed" and t.phase == "search" and t.stage != "prefilter"
            and not t.curve and t.score_metric in DEFAULT_THRESHOLDS)


def wanted(trials: Sequence[TrialRecord]) -> list[int]:
    """Positions of the trials whose curves the speed table can use (see the module docstring)."""
    counts = Counter((t.fingerprint, t.task) for t in trials if _usable(t))
    return [i for i, t in enumerate(trials)
            if _usable(t) and counts[(t.fingerprint, t.task)] >= MIN_TRIALS]


def with_curves(store, trials: list[TrialRecord], problems: list[str]) -> list[TrialRecord]:
    """`trials` with the curves of the `wanted` ones read from their files.

    Args:
        store: The run's `RunStore` (`read_text("trials/<file>")`).
        trials: The run's trials as read from its index.
        problems: Warnings are appended here (files left out or unreadable).

    Returns:
        A new list; a trial whose file cannot be read again keeps an empty
        curve and stays out of the speed table (with a warning), as does one
        that recorded no curve (silently: e.g. a simulated trial).
    """
    positions = wanted(trials)
    if len(positions) > MAX_FILES:
        problems.append(f"{store.source}: steps to threshold read from the first {MAX_FILES:,} "
                        f"of {len(positions):,} trials with a comparable curve; the others "
                        f"are left out of the learning-speed table")
        positions = positions[:MAX_FILES]
    out, unreadable = list(trials), 0
    for i in positions:
        try:
            data = json.loads(store.read_text(f"trials/{trials[i].file}") or "null")
            curve = data.get("curve", []) if isinstance(data, dict) else None
        except (ValueError, UnicodeDecodeError, OSError):
            curve = None
        if not isinstance(curve, list):  # a record with no curve at all is not damage
            unreadable += 1
            continue
        out[i] = replace(trials[i], curve=tuple(p for p in curve if isinstance(p, dict)))
    if unreadable:
        problems.append(f"{store.source}: {unreadable} trial record(s) could not be read again "
                        f"for their learning curve; left out of the learning-speed table")
    return out
