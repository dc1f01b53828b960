"""`summarize`: a `RunSet` -> a `Report` (cells keyed by fingerprint, ranked).

Definitions (the paper's, Jozefowicz et al. 2015):

* a cell's result on a task is its best validation score over all its
  completed trials there (seeds x hyperparameter samples); the spread is the
  median and interquartile range over those trials;
* its ratio on a task is that best divided by the baseline's (the GRU's) best,
  inverted for metrics where lower is better, so > 1 always means better;
* its score is the min over tasks of the ratio, over the `search`-stage tasks
  (pre-filter gates and `report`-only tasks are shown but not scored);
* each ratio and score comes with a test against the baseline, a verdict and
  an interval that agrees with it (the test inverted; `evidence`, `stats`),
  the leaderboard with rank ranges and tied groups from bootstrap replicates
  (`ranking`), and the findings in words (`findings`).

Ratios and scores are `archsearch.scoring`'s, the same the oracles decide by.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from archsearch import scoring
from archsearch.report import (
    analysis,
    cards,
    confirmed,
    controls,
    evidence,
    findings,
    importance,
    speed,
)
from archsearch.report.summaries import CellSummary, Report, RunSet, TaskStats, TaskSummary

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
    df["score_mode"] = df.task.map({t: m[1] for t, m in modes.items()})  # one per task
    names = _cell_names(df)
    base_fp = _baseline_fingerprint(baseline, names)
    stats, prefilter = _task_stats(df, modes)
    base_best = {task: s.best for (fp, task), s in stats.items()
                 if fp == base_fp and s.best is not None}
    scored = set(df[df.stage == "search"].task)
    # One cell in the runs (e.g. Hyperband tuning one cell) is a design, not a missing
    # baseline: the findings say so, and nothing is warned.
    if (base_fp is None or not base_best) and len(names) != 1:
        problems.append(f"baseline {baseline!r} has no completed trials: no ratios and no "
                        f"min-ratio scores; cells are ranked by their results relative to "
                        f"each task's best")
    task_best = {task: scoring.best(df[(df.task == task) & df.ok & (df.stage != "prefilter")].score,
                             modes[task][1]) for task in modes}
    stats = {key: _with_ratio(s, base_best.get(key[1])) for key, s in stats.items()}
    cells = _cells(df, names, stats, prefilter,
                   {t: b for t, b in base_best.items() if t in scored}, task_best)
    task_order = _task_order(runs, df)
    labels = {c.fingerprint: c.label for c in cells}
    ev = evidence.gather(df, {t: m[1] for t, m in modes.items()}, cells,
                         base_fp if base_best else None,
                         [t for t in task_order if t in scored and t in base_best],
                         pairs=findings.claim_pairs({fp: _zoo_index().get(fp) or names.get(fp)
                                                     for fp in labels}))
    cells = [replace(c, tasks={t: replace(s, **ev.task_fields.get((c.fingerprint, t), {}))
                               for t, s in c.tasks.items()},
                     **ev.cell_fields.get(c.fingerprint, {})) for c in cells]
    df["label"] = df.fingerprint.map({c.fingerprint: c.label for c in cells})
    df["family"] = df.fingerprint.map({c.fingerprint: c.family for c in cells})
    df["rel_cell"] = _relative_to_cell(df, stats)
    df["forget_bias"] = analysis.forget_bias_column(df, runs.genomes)
    summaries = tuple(_task_summary(t, df, modes[t], cells, base_best.get(t), t in scored)
                      for t in task_order)
    top_cards, genomes = cards.make_cards(cells[:top], runs.genomes, df, problems)
    effects, importance_note = importance.hparam_importance(df)
    report = Report(
        title=_title(title, runs, problems),
        runs=runs.runs,
        baseline=baseline,
        baseline_fingerprint=base_fp,
        tasks=summaries,
        cells=tuple(cells),
        failures=analysis.failure_groups(df),
        importance=effects,
        cards=top_cards,
        genomes=genomes,
        trials=df,
        progress=analysis.progress_frame(df, runs.runs),
        warnings=tuple(dict.fromkeys(problems)),
        created_at=datetime.now().replace(microsecond=0),
        comparisons=ev.comparisons,
        pairs=ev.pairs,
        expected=ev.expected,
        noise=ev.noise,
        importance_note=importance_note,
        running=runs.running,
    )
    report = _with_confirmation(report, runs.confirmations)
    report = replace(report, controls=controls.control_rows(report, runs),
                     speed=_speed_rows(runs, base_fp, labels))
    return replace(report, findings=findings.findings(report))


def _title(title: str | None, runs: RunSet, problems: list[str]) -> str:
    """The report's title (default: names the runs); says so when scores are simulated."""
    title = title or "archsearch report: " + ", ".join(r.label for r in runs.runs)
    simulated = sum(t.simulated for t in runs.trials)
    if simulated:
        title += " (simulated scores, no training)"
        problems.insert(0, f"{simulated} of {len(runs.trials)} trials were scored by "
                           f"`archsearch search --simulate` (a deterministic stand-in for "
                           f"training): the numbers say nothing about the cells")
    return title


def _with_confirmation(report: Report, confirmations) -> Report:
    """Adds the Confirmed table; a mutant's search-phase `better` becomes `not confirmed`.

    A mutant keeps `better` only when confirmation on fresh seeds says so on
    its worst task (the paper's min over tasks).
    """
    rows = confirmed.confirmed_rows(confirmations, report.cells, report.baseline_fingerprint)
    worst = confirmed.cell_confirmation(rows)
    cells = tuple(
        replace(c, verdict="not confirmed") if c.is_mutant and c.verdict == "better" and (
            c.fingerprint not in worst or worst[c.fingerprint].verdict != "better") else c
        for c in report.cells)
    return replace(report, cells=cells, confirmed=rows)


def _speed_rows(runs: RunSet, base_fp: str | None, labels: Mapping[str, str]) -> tuple:
    """The learning-speed table, its cells named as the report names them."""
    if base_fp is None:
        return ()
    rows = speed.speed_table(runs.trials, base_fp)
    return tuple(replace(r, cell=labels.get(r.fingerprint, r.cell)) for r in rows)


#: The record fields `trials_frame` copies into columns.
_RECORD_FIELDS = ("run", "trial_id", "sequence", "strategy", "status", "failure", "fingerprint",
                  "cell_name", "parent", "origin", "task", "stage", "seed", "sample", "score",
                  "score_metric", "score_mode", "params", "units", "steps", "seconds",
                  "started_at", "finished_at", "node")


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
        row = {f: getattr(t, f) for f in _RECORD_FIELDS}
        row.update(key=f"{t.run}/{t.trial_id}", ok=t.completed, index=k, hparams=dict(t.hparams))
        row.update({f"hp.{name}": _hp_value(v) for name, v in t.hparams.items()})
        rows.append(row)
    columns = [*_RECORD_FIELDS, "key", "ok", "index", "hparams"]
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
        modes = Counter(m for m in rows.score_mode if isinstance(m, str))
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


def _task_stats(df: pd.DataFrame, modes) -> tuple[dict, dict]:
    """(fingerprint, task) -> TaskStats for stage `task`; fingerprint -> prefilter stats."""
    out: dict[tuple[str, str], TaskStats] = {}
    pre: dict[str, TaskStats] = {}
    if not len(df):
        return out, pre
    df = df.assign(stage=df.stage.where(df.stage == "prefilter", "table"))
    keys = ["fingerprint", "task", "stage"]
    failed = df.status.eq("failed").groupby([df[k] for k in keys], sort=False).sum()
    ok = df[df.ok]
    sign = ok.task.map({t: 1.0 if m[1] == "max" else -1.0 for t, m in modes.items()})
    groups = ok.groupby(keys, sort=False)
    agg = groups.score.agg(["count", "median"])
    agg["q25"] = groups.score.quantile(0.25)
    agg["q75"] = groups.score.quantile(0.75)
    agg["seeds"] = groups.seed.nunique()
    agg["best_idx"] = (ok.score * sign).groupby([ok[k] for k in keys], sort=False).idxmax()
    best = df.loc[agg.best_idx, ["score", "key", "hparams", "units"]]
    found = {key: (count, med, q25, q75, seeds, *b) for key, count, med, q25, q75, seeds, *b in zip(
        agg.index, agg["count"], agg["median"], agg.q25, agg.q75, agg.seeds, best.score,
        best.key, best.hparams, best.units, strict=True)}
    for key, n_failed in failed.items():
        fp, task, stage = key
        metric, mode = modes[task]
        if key in found:
            count, med, q25, q75, seeds, score, trial, hparams, units = found[key]
            stats = TaskStats(
                task=task, metric=metric, mode=mode, n=int(count), failed=int(n_failed),
                seeds=int(seeds), best=float(score), median=float(med), q25=float(q25),
                q75=float(q75), best_trial=trial, best_hparams=dict(hparams),
                best_units=_int(units))
        else:
            stats = TaskStats(task=task, metric=metric, mode=mode, n=0, failed=int(n_failed),
                              seeds=0, best=None, median=None, q25=None, q75=None)
        if stage == "prefilter":
            pre[fp] = stats
        else:
            out[(fp, task)] = stats
    return out, pre


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(round(value))


def _with_ratio(stats: TaskStats, reference: float | None) -> TaskStats:
    return replace(stats, ratio=scoring.ratio(stats.best, reference, stats.mode))


def _cells(df, names, stats, prefilter, base_best, task_best) -> list[CellSummary]:
    zoo_names = _zoo_index()
    parents = (df[df.parent.notna()].groupby("fingerprint").parent.first().to_dict()
               if len(df) else {})
    labels = _labels(names)
    by_cell: dict[str, dict[str, TaskStats]] = {}
    for (f, task), s in stats.items():
        by_cell.setdefault(f, {})[task] = s
    by_fp = df.groupby("fingerprint", sort=False)
    introduced = df[df.origin != "reevaluation"].groupby("fingerprint").origin.first()
    origins = {fp: o for fp, o in {**by_fp.origin.first().to_dict(),
                                   **introduced.to_dict()}.items() if isinstance(o, str)}
    params = by_fp.params.median()
    completed = by_fp.ok.sum()
    failed = df.status.eq("failed").groupby(df.fingerprint).sum()
    stopped = df.status.eq("stopped").groupby(df.fingerprint).sum()  # partial: not `ok`
    runs = by_fp.run.unique()
    cells = []
    for fp, n_trials in by_fp.size().items():
        tasks = by_cell.get(fp, {})
        ratios = [tasks[t].ratio for t in base_best if t in tasks and tasks[t].ratio is not None]
        score = scoring.min_ratio(ratios) if ratios else None
        cells.append(CellSummary(
            fingerprint=fp, label=labels[fp], name=names.get(fp), zoo_name=zoo_names.get(fp),
            origin=origins.get(fp), parent=parents.get(fp),
            family=_family(fp, names, parents, labels),
            params=_int(params.get(fp)), trials=int(n_trials), completed=int(completed[fp]),
            failed=int(failed[fp]), tasks=tasks, prefilter=prefilter.get(fp),
            score=score,
            complete=bool(base_best) and all(t in tasks and tasks[t].best is not None
                                             for t in base_best),
            runs=tuple(runs[fp]), stopped=int(stopped[fp]),
        ))

    def rel_mean(c: CellSummary) -> float:
        rels = [scoring.ratio(s.best, task_best.get(t), s.mode) for t, s in c.tasks.items()]
        rels = [r for r in rels if r is not None]
        return float(np.mean(rels)) if rels else -np.inf

    cells.sort(key=lambda c: (not c.complete, -(c.score if c.score is not None else -np.inf),
                              -sum(s.best is not None for s in c.tasks.values()),
                              -rel_mean(c), c.label))
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


def _relative_to_cell(df: pd.DataFrame, stats: Mapping) -> pd.Series:
    """Each completed task-stage trial's score relative to its cell's best on the task."""
    if not len(df):
        return pd.Series(dtype=float)
    best = pd.Series([stats[(fp, t)].best if (fp, t) in stats else np.nan
                      for fp, t in zip(df.fingerprint, df.task, strict=True)],
                     index=df.index, dtype=float)
    mask = df.ok & (df.stage != "prefilter") & (best > 0)
    minimize = df.score_mode == "min"
    rel = (df.score / best).where(~minimize, best / df.score.where(df.score > 0))
    return rel.where(mask)


def _task_order(runs: RunSet, df: pd.DataFrame) -> list[str]:
    seen = [t for r in runs.runs for t in r.tasks]
    seen += list(df[df.stage != "prefilter"].task) if len(df) else []
    present = set(df[df.stage != "prefilter"].task) if len(df) else set()
    return [t for t in dict.fromkeys(seen) if t in present]


def _task_summary(task, df, metric_mode, cells, baseline_best, scored) -> TaskSummary:
    metric, mode = metric_mode
    rows = df[(df.task == task) & (df.stage != "prefilter")]
    best_cell = None
    best = scoring.best(rows[rows.ok].score, mode)
    for c in cells:
        s = c.tasks.get(task)
        if s is not None and s.best is not None and s.best == best:
            best_cell = c.label
            break
    return TaskSummary(task=task, metric=metric, mode=mode, scored=scored,
                       trials=len(rows),
                       completed=int(rows.ok.sum()),
                       failed=int((rows.status == "failed").sum()),
                       cells=int(rows[rows.ok].fingerprint.nunique()), best=best,
                       best_cell=best_cell, baseline_best=baseline_best)
