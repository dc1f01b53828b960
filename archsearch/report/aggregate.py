"""`summarize`: a `RunSet` -> a `Report` (cells keyed by fingerprint, ranked).

Definitions (the paper's, Jozefowicz et al. 2015):

* a cell's result on a task is its best validation score over all its
  completed trials there (seeds x hyperparameter samples); the spread is the
  median and interquartile range over those trials;
* its ratio on a task is that best divided by the baseline's (the GRU's) best,
  inverted for metrics where lower is better, so > 1 always means better;
* its score is the min over tasks of the ratio (pre-filter trials excluded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from archsearch.report import analysis, cards
from archsearch.report.records import CellSummary, Report, RunSet, TaskStats, TaskSummary

__all__ = ["summarize", "trials_frame"]

DEFAULT_BASELINE = "gru"


def summarize(runs: RunSet, *, baseline: str | None = None, top: int = 5,
              title: str | None = None) -> Report:
    """Aggregates trials into ranked cell summaries and the report's tables.

    Args:
        runs: What `load_runs` read.
        baseline: Cell the ratios refer to (zoo name or a cell name in the
            runs). Default: the runs' own baseline, else `gru`.
        top: How many top cells get a card and an exported genome.
        title: Report title (default: names the runs).

    Returns:
        A `Report`.
    """
    problems = list(runs.warnings)
    df = trials_frame(runs.trials)
    baseline = baseline or _most_common(r.baseline for r in runs.runs) or DEFAULT_BASELINE
    modes = _task_modes(df, problems)
    names = _cell_names(df)
    base_fp = _baseline_fingerprint(baseline, names)
    stats, prefilter = _task_stats(df, modes)
    base_best = {task: s.best for (fp, task), s in stats.items() if fp == base_fp}
    if base_fp is None or not base_best:
        problems.append(f"baseline {baseline!r} has no completed trials: no ratios and no "
                        f"min-ratio scores; cells are ranked by their results relative to "
                        f"each task's best")
    task_best = {task: _best(df[(df.task == task) & df.ok & (df.stage == "task")].score,
                             modes[task][1]) for task in modes}
    stats = {key: _with_ratio(s, base_best.get(key[1])) for key, s in stats.items()}
    cells = _cells(df, names, stats, prefilter, base_best, task_best)
    df["label"] = df.fingerprint.map({c.fingerprint: c.label for c in cells})
    df["family"] = df.fingerprint.map({c.fingerprint: c.family for c in cells})
    df["rel"] = _relative(df, task_best, modes)
    df["forget_bias"] = analysis.forget_bias_column(df, runs.genomes)
    task_order = _task_order(runs, df)
    summaries = tuple(_task_summary(t, df, modes[t], cells, base_best.get(t))
                      for t in task_order)
    top_cards, genomes = cards.make_cards(cells[:top], runs.genomes, df, problems)
    return Report(
        title=title or "archsearch report: " + ", ".join(r.label for r in runs.runs),
        runs=runs.runs,
        baseline=baseline,
        baseline_fingerprint=base_fp,
        tasks=summaries,
        cells=tuple(cells),
        failures=analysis.failure_groups(df),
        importance=analysis.hparam_importance(df),
        cards=top_cards,
        genomes=genomes,
        trials=df,
        progress=analysis.progress_frame(df, runs.runs),
        warnings=tuple(dict.fromkeys(problems)),
        created_at=datetime.now().replace(microsecond=0),
    )


def trials_frame(trials) -> pd.DataFrame:
    """One row per trial; hyperparameters flattened into `hp.NAME` columns.

    Args:
        trials: `TrialRecord`s.

    Returns:
        A DataFrame with the record's scalar fields, `key` (`run/trial_id`),
        `ok` (completed with a score), `order` (position within its run) and
        `hparams` (the original dict).
    """
    rows = []
    for k, t in enumerate(trials):
        row = {f: getattr(t, f) for f in (
            "run", "trial_id", "sequence", "strategy", "status", "failure", "fingerprint",
            "cell_name", "parent", "origin", "task", "stage", "seed", "score", "score_metric",
            "score_mode", "params", "units", "steps", "seconds", "started_at", "finished_at",
            "node")}
        row.update(key=f"{t.run}/{t.trial_id}", ok=t.completed, index=k, hparams=dict(t.hparams))
        row.update({f"hp.{name}": _hp_value(v) for name, v in t.hparams.items()})
        rows.append(row)
    columns = ["run", "trial_id", "sequence", "strategy", "status", "failure", "fingerprint",
               "cell_name", "parent", "origin", "task", "stage", "seed", "score", "score_metric",
               "score_mode", "params", "units", "steps", "seconds", "started_at", "finished_at",
               "node", "key", "ok", "index", "hparams"]
    df = pd.DataFrame(rows, columns=None if rows else columns)
    df["score"] = pd.to_numeric(df["score"], errors="coerce").astype(float)
    df["ok"] = df["ok"].astype(bool)
    df["order"] = df.groupby("run").cumcount() + 1 if len(df) else pd.Series(dtype=int)
    return df


def _hp_value(value):
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _most_common(values) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


def _task_modes(df: pd.DataFrame, problems: list[str]) -> dict[str, tuple[str, str]]:
    """Task -> (metric, mode), the most common among its trials."""
    out = {}
    for task, rows in df.groupby("task", sort=False):
        metrics = Counter(m for m in rows.score_metric if isinstance(m, str))
        modes = Counter(rows.score_mode)
        if len(metrics) > 1 or len(modes) > 1:
            problems.append(f"task {task!r}: trials use different score metrics/modes "
                            f"({dict(metrics)}, {dict(modes)}); using the most common")
        metric = metrics.most_common(1)[0][0] if metrics else "score"
        out[task] = (metric, modes.most_common(1)[0][0] if modes else "max")
    return out


@lru_cache(maxsize=1)
def _zoo_index() -> dict[str, str]:
    from archsearch.genome import zoo

    index: dict[str, str] = {}
    for name in zoo.names():
        index.setdefault(zoo.get(name).fingerprint(), name)
    return index


def _cell_names(df: pd.DataFrame) -> dict[str, str | None]:
    """Fingerprint -> the name most trials give it, else its zoo name."""
    named = df[df.cell_name.notna()].groupby("fingerprint").cell_name.agg(
        lambda s: Counter(s).most_common(1)[0][0]) if len(df) else {}
    zoo_names = _zoo_index()
    return {fp: (named.get(fp) if fp in named else zoo_names.get(fp))
            for fp in df.fingerprint.unique()} if len(df) else {}


def _baseline_fingerprint(baseline: str, names: Mapping[str, str | None]) -> str | None:
    hits = [fp for fp, name in names.items() if name == baseline]
    if hits:
        return hits[0]
    zoo_fp = {name: fp for fp, name in _zoo_index().items()}.get(baseline)
    return zoo_fp if zoo_fp in names else None


def _best(scores: pd.Series, mode: str) -> float | None:
    scores = scores.dropna()
    if scores.empty:
        return None
    return float(scores.max() if mode == "max" else scores.min())


def _task_stats(df: pd.DataFrame, modes) -> tuple[dict, dict]:
    """(fingerprint, task) -> TaskStats for stage `task`; fingerprint -> prefilter stats."""
    out: dict[tuple[str, str], TaskStats] = {}
    pre: dict[str, TaskStats] = {}
    for (fp, task, stage), rows in df.groupby(["fingerprint", "task", "stage"], sort=False):
        metric, mode = modes[task]
        ok = rows[rows.ok]
        scores = ok.score
        best_row = None
        if len(ok):
            best_row = ok.loc[scores.idxmax() if mode == "max" else scores.idxmin()]
        stats = TaskStats(
            task=task, metric=metric, mode=mode, n=len(ok),
            failed=int((rows.status == "failed").sum()),
            seeds=int(ok.seed.nunique()),
            best=_best(scores, mode),
            median=float(scores.median()) if len(ok) else None,
            q25=float(scores.quantile(0.25)) if len(ok) else None,
            q75=float(scores.quantile(0.75)) if len(ok) else None,
            best_trial=best_row.key if best_row is not None else None,
            best_hparams=dict(best_row.hparams) if best_row is not None else {},
            best_units=_int(best_row.units) if best_row is not None else None,
        )
        if stage == "prefilter":
            pre[fp] = stats
        else:
            out[(fp, task)] = stats
    return out, pre


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _ratio(best: float | None, reference: float | None, mode: str) -> float | None:
    if best is None or reference is None:
        return None
    num, den = (best, reference) if mode == "max" else (reference, best)
    return float(num / den) if den > 0 else None


def _with_ratio(stats: TaskStats, reference: float | None) -> TaskStats:
    from dataclasses import replace

    return replace(stats, ratio=_ratio(stats.best, reference, stats.mode))


def _cells(df, names, stats, prefilter, base_best, task_best) -> list[CellSummary]:
    zoo_names = _zoo_index()
    parents = (df[df.parent.notna()].groupby("fingerprint").parent.first().to_dict()
               if len(df) else {})
    labels = _labels(names)
    by_cell: dict[str, dict[str, TaskStats]] = {}
    for (f, task), s in stats.items():
        by_cell.setdefault(f, {})[task] = s
    cells = []
    for fp, rows in df.groupby("fingerprint", sort=False):
        tasks = by_cell.get(fp, {})
        ratios = [tasks[t].ratio for t in base_best if t in tasks and tasks[t].ratio is not None]
        introduced = rows[rows.origin != "reevaluation"]
        origin = (introduced if len(introduced) else rows).origin.iloc[0]
        params = rows.params.dropna()
        cells.append(CellSummary(
            fingerprint=fp, label=labels[fp], name=names.get(fp), zoo_name=zoo_names.get(fp),
            origin=origin, parent=parents.get(fp),
            family=_family(fp, names, parents, labels),
            params=int(params.median()) if len(params) else None,
            trials=len(rows), completed=int(rows.ok.sum()),
            failed=int((rows.status == "failed").sum()),
            tasks=tasks, prefilter=prefilter.get(fp),
            score=min(ratios) if ratios else None,
            complete=bool(base_best) and all(t in tasks and tasks[t].best is not None
                                             for t in base_best),
            runs=tuple(dict.fromkeys(rows.run)),
        ))

    def rel_mean(c: CellSummary) -> float:
        rels = [_ratio(s.best, task_best.get(t), s.mode) for t, s in c.tasks.items()]
        rels = [r for r in rels if r is not None]
        return float(np.mean(rels)) if rels else -np.inf

    cells.sort(key=lambda c: (not c.complete, -(c.score if c.score is not None else -np.inf),
                              -sum(s.best is not None for s in c.tasks.values()),
                              -rel_mean(c), c.label))
    from dataclasses import replace

    return [replace(c, rank=k + 1) for k, c in enumerate(cells)]


def _labels(names: Mapping[str, str | None]) -> dict[str, str]:
    labels = {fp: name or f"mut-{fp[:8]}" for fp, name in names.items()}
    counts = Counter(labels.values())
    return {fp: (lab if counts[lab] == 1 else f"{lab}~{fp[:6]}") for fp, lab in labels.items()}


def _family(fp, names, parents, labels) -> str:
    """The label of the named cell `fp` descends from (itself if named)."""
    seen = set()
    zoo_names = _zoo_index()
    while fp not in seen:
        seen.add(fp)
        if names.get(fp):
            return labels.get(fp, names[fp])
        if fp in zoo_names:
            return zoo_names[fp]
        if fp not in parents:
            break
        fp = parents[fp]
    return "unknown lineage"


def _relative(df: pd.DataFrame, task_best: Mapping, modes: Mapping) -> pd.Series:
    """Each completed task-stage trial's score relative to its task's best (1 = best)."""
    rel = pd.Series(np.nan, index=df.index, dtype=float)
    for task, best in task_best.items():
        if not best:
            continue
        mask = (df.task == task) & df.ok & (df.stage == "task")
        scores = df.loc[mask, "score"]
        if modes[task][1] == "max":
            rel[mask] = scores / best
        else:
            rel[mask] = best / scores.where(scores > 0)
    return rel


def _task_order(runs: RunSet, df: pd.DataFrame) -> list[str]:
    seen = [t for r in runs.runs for t in r.tasks]
    seen += list(df[df.stage == "task"].task) if len(df) else []
    present = set(df[df.stage == "task"].task) if len(df) else set()
    return [t for t in dict.fromkeys(seen) if t in present]


def _task_summary(task, df, mode, cells, baseline_best) -> TaskSummary:
    rows = df[(df.task == task) & (df.stage == "task")]
    best_cell = None
    best = _best(rows[rows.ok].score, mode[1])
    for c in cells:
        s = c.tasks.get(task)
        if s is not None and s.best is not None and s.best == best:
            best_cell = c.label
            break
    return TaskSummary(task=task, metric=mode[0], mode=mode[1], trials=len(rows),
                       completed=int(rows.ok.sum()),
                       failed=int((rows.status == "failed").sum()),
                       cells=int(rows[rows.ok].fingerprint.nunique()), best=best,
                       best_cell=best_cell, baseline_best=baseline_best)
