"""The evidence behind a report's numbers: intervals, tests, verdicts, ranks, noise.

`gather` takes the trial frame and the ranked cells and returns everything
`stats`, `ranking` and `expected_best` say about them, as record fields and
records (see `stats` for the definitions). Each test is `stats.compare`
with the trials' hyperparameter settings (all `hparams` but `seed` and
`sample`) as strata and clusters (the `sample` column, when the frame has
one), so the seeds of one setting count as one sample; `comparisons.csv`
names the test and the trials it compared. Each ratio's interval is that
test inverted at the level Holm gave the comparison in its family
(`stats.ratio_interval`, `stats.holm_factors`), so it agrees with the
verdict beside it. Two families for Holm's correction: the verdicts (every
cell vs the baseline on every task: the leaderboard, the tables and
`comparisons.csv`), and the cell-vs-cell pairs behind the paper's claims.
Pooling them would let the number of claims the
report checks decide whether a cell's verdict can come out at all: with 6
trials a side the smallest exact two-sided Mann-Whitney p is 0.0022, which
survives Holm over at most 22 tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from archsearch import scoring
from archsearch.report import ranking, stats
from archsearch.report.expected_best import expected_best
from archsearch.report.summaries import CellSummary, Comparison, ExpectedBest, NoiseSplit

__all__ = ["Evidence", "gather", "noise_split", "SCORE"]

SCORE = "score"  # the task name of the min-over-tasks rows


@dataclass
class Evidence:
    """What `gather` found: new fields for `TaskStats` and `CellSummary`, and records."""

    task_fields: dict = field(default_factory=dict)    # (fp, task) -> TaskStats fields
    cell_fields: dict = field(default_factory=dict)    # fp -> CellSummary fields
    comparisons: tuple[Comparison, ...] = ()
    pairs: tuple[Comparison, ...] = ()
    expected: tuple[ExpectedBest, ...] = ()
    noise: tuple[NoiseSplit, ...] = ()


def _test(samples, groups, modes, a, b, task, labels) -> dict:
    mode = modes[task]
    x, y = samples[(a, task)], samples[(b, task)]
    (xs, xc), (ys, yc) = groups[(a, task)], groups[(b, task)]
    t = stats.compare(x, y, mode, cell_strata=xs, baseline_strata=ys, cell_clusters=xc,
                      baseline_clusters=yc, key=(a, b, task))
    return dict(cell=labels[a], fingerprint=a, task=task, reference=labels[b], n=t.n,
                reference_n=t.baseline_n, p_value=t.p_value, effect=t.effect, test=t.test,
                reference_fingerprint=b)


def _decide(tests: list[dict], samples, groups, modes) -> list[Comparison]:
    """One Holm family: adjusted p, verdict, and the interval drawn at the verdict's level."""
    pvalues = [np.nan if t["p_value"] is None else t["p_value"] for t in tests]
    records = []
    for t, p_adj, factor in zip(tests, stats.holm(pvalues), stats.holm_factors(pvalues),
                                strict=True):
        p_holm = None if np.isnan(p_adj) else float(p_adj)
        verdict = stats.verdict(p_holm, t["effect"])
        a, b, task = t["fingerprint"], t["reference_fingerprint"], t["task"]
        (xs, xc), (ys, yc) = groups[(a, task)], groups[(b, task)]
        iv = stats.ratio_interval(samples[(a, task)], samples[(b, task)], modes[task],
                                  factor=int(factor), key=(a, b, task), decision=verdict,
                                  cell_strata=xs, baseline_strata=ys, cell_clusters=xc,
                                  baseline_clusters=yc)
        fields = {k: v for k, v in t.items() if k != "reference_fingerprint"}
        records.append(Comparison(**fields, ratio=iv.estimate, ratio_low=iv.low,
                                  ratio_high=iv.high, reliable=iv.reliable, p_holm=p_holm,
                                  verdict=verdict))
    return records


def _groups(rows: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Each trial's stratum (hyperparameter setting) and cluster (its sample, else setting)."""
    strata = [_setting(h) for h in rows.hparams]
    if "sample" in rows and rows["sample"].notna().all():
        return strata, [f"sample {s}" for s in rows["sample"]]
    return strata, strata


def gather(df: pd.DataFrame, modes: Mapping[str, str], cells: Sequence[CellSummary],
           base_fp: str | None, scored: Sequence[str],
           pairs: Sequence[tuple[str, str]] = ()) -> Evidence:
    """Intervals, tests and verdicts for every cell, task and score; ranks; noise; curves.

    Args:
        df: The trial frame (`ok`, `stage`, `fingerprint`, `task`, `score`, `hparams`).
        modes: Task -> `max` or `min`.
        cells: Cells in leaderboard order.
        base_fp: The baseline's fingerprint (None: no comparisons).
        scored: Tasks that make up the min-ratio score.
        pairs: `(fingerprint, reference fingerprint)` pairs to test on every shared task.

    Returns:
        An `Evidence`.
    """
    ok = df[df.ok & (df.stage != "prefilter")] if len(df) else df
    labels = {c.fingerprint: c.label for c in cells}
    samples = {key: rows.score.to_numpy(float)
               for key, rows in ok.groupby(["fingerprint", "task"], sort=False)} if len(ok) else {}
    groups = {key: _groups(rows) for key, rows in ok.groupby(["fingerprint", "task"],
                                                             sort=False)} if len(ok) else {}
    reps = {key: ranking.replicates(v, modes[key[1]], *key, clusters=groups[key][0],
                                    pair_key=(key[1],)) for key, v in samples.items()}
    ev = Evidence()
    ev.expected = tuple(ExpectedBest(labels[fp], task, modes[task],
                                     tuple(expected_best(v, modes[task]).round(6)))
                        for (fp, task), v in samples.items() if fp in labels)
    ev.noise = tuple(n for n in (noise_split(labels[fp], task, rows)
                                 for (fp, task), rows in ok.groupby(["fingerprint", "task"],
                                                                    sort=False)
                                 if fp in labels) if n.settings) if len(ok) else ()
    if base_fp is None:
        return ev
    base_tasks = [t for (fp, t) in samples if fp == base_fp]
    verdicts = [_test(samples, groups, modes, fp, base_fp, t, labels) for (fp, t) in samples
                if fp != base_fp and fp in labels and t in base_tasks]
    claims = [_test(samples, groups, modes, a, b, t, labels) for a, b in dict.fromkeys(pairs)
              if base_fp not in (a, b) and a != b for t in modes
              if (a, t) in samples and (b, t) in samples]
    ev.pairs = tuple(_decide(claims, samples, groups, modes))
    records = _decide(verdicts, samples, groups, modes)
    by_key = {(c.fingerprint, c.task): c for c in records}
    by_key.update({(base_fp, t): _baseline_row(samples[(base_fp, t)], labels[base_fp], base_fp, t)
                   for t in base_tasks})
    ev.task_fields = {key: dict(ratio_low=c.ratio_low, ratio_high=c.ratio_high,
                                reliable=c.reliable, p_value=c.p_value, p_holm=c.p_holm,
                                verdict=c.verdict) for key, c in by_key.items()}
    scored = [t for t in scored if t in base_tasks]
    score_reps, rows = {}, []
    for cell in cells:
        fp = cell.fingerprint
        task_rows = [by_key[(fp, t)] for t in base_tasks if (fp, t) in by_key]
        rows.extend(task_rows)
        if not scored or not all((fp, t) in samples for t in scored):
            continue
        per_task = [ranking.ratio_replicates(reps[(fp, t)], reps[(base_fp, t)], modes[t])
                    for t in scored]
        score_reps[fp] = np.min(np.vstack(per_task), axis=0)
        decided = [by_key[(fp, t)] for t in scored]
        reliable = all(c.reliable for c in decided)
        iv = stats.score_interval(scoring.min_ratio(c.ratio for c in decided),
                                  [stats.Interval(c.ratio, c.ratio_low, c.ratio_high, c.reliable)
                                   for c in decided])
        verdict = stats.overall_verdict(c.verdict for c in decided)
        p_holm = _score_p(decided, verdict)
        rows.append(Comparison(
            cell=cell.label, fingerprint=fp, task=SCORE, reference=labels[base_fp],
            n=min(c.n for c in decided), reference_n=min(c.reference_n for c in decided),
            ratio=iv.estimate, ratio_low=iv.low, ratio_high=iv.high, reliable=reliable,
            p_value=None, p_holm=p_holm, effect=None, verdict=verdict))
        ev.cell_fields[fp] = dict(score_low=iv.low, score_high=iv.high, score_reliable=reliable,
                                  verdict=verdict)
    _add_ranks(ev, cells, score_reps, samples, base_fp, scored)
    ev.comparisons = tuple(rows)
    return ev


def _baseline_row(scores, label: str, base_fp: str, task: str) -> Comparison:
    """The baseline's own row on a task: ratio 1, verdict `baseline`."""
    n = len(scores)
    return Comparison(cell=label, fingerprint=base_fp, task=task, reference=label, n=n,
                      reference_n=n, ratio=1.0, ratio_low=1.0, ratio_high=1.0,
                      reliable=stats.is_reliable(scores, scores), p_value=None, p_holm=None,
                      effect=0.5, verdict="baseline")


def _add_ranks(ev: Evidence, cells, score_reps, samples, base_fp: str, scored) -> None:
    """Each scored cell's plausible rank range and tied group, into `ev.cell_fields`."""
    ranges = ranking.rank_ranges(score_reps)
    for fp in ranges:  # one trial (on either side) says nothing about the spread: any rank
        if min(len(samples[(f, t)]) for f in (fp, base_fp) for t in scored) < 2:
            ranges[fp] = (1, len(ranges))
    groups = ranking.tied_groups([c.fingerprint for c in cells], ranges)
    for fp, (low, high) in ranges.items():
        ev.cell_fields[fp].update(rank_low=low, rank_high=high, group=groups[fp])


def _score_p(decided: Sequence[Comparison], verdict: str) -> float | None:
    """The adjusted p that decided the score's verdict (intersection-union for `better`)."""
    if verdict == "better":
        return max(c.p_holm for c in decided)
    if verdict == "worse":
        return min(c.p_holm for c in decided if c.verdict == "worse")
    return None


def _setting(hparams) -> str:
    if not isinstance(hparams, Mapping):
        return "{}"
    return json.dumps({k: v for k, v in hparams.items() if k not in ("seed", "sample")},
                      sort_keys=True, default=str)


def noise_split(cell: str, task: str, rows: pd.DataFrame) -> NoiseSplit:
    """Seed noise (pooled sd within a hyperparameter setting) vs spread across settings.

    Args:
        cell: The cell's label.
        task: The task.
        rows: Its completed trials there (`score`, `hparams`).

    Returns:
        A `NoiseSplit`.

    Example:
        >>> rows = pd.DataFrame({"score": [0.80, 0.82, 0.60, 0.62, 0.70],
        ...                      "hparams": [{"lr": 1}, {"lr": 1}, {"lr": 2}, {"lr": 2},
        ...                                  {"lr": 5}]})
        >>> s = noise_split("gru", "xml", rows)
        >>> s.settings, s.repeated, round(s.seed_sd, 4), round(s.hparam_sd, 4)
        (3, 2, 0.0141, 0.1002)
    """
    groups: dict[str, list[float]] = {}
    for score, hparams in zip(rows.score.to_numpy(float), rows.hparams, strict=True):
        groups.setdefault(_setting(hparams), []).append(score)
    values = [np.asarray(v) for v in groups.values()]
    repeated = [v for v in values if len(v) >= 2]
    dof = sum(len(v) - 1 for v in repeated)
    seed_sd = (float(np.sqrt(sum(((v - v.mean()) ** 2).sum() for v in repeated) / dof))
               if dof else None)
    means = np.array([v.mean() for v in values])
    hparam_sd = float(means.std(ddof=1)) if len(means) >= 2 else None
    return NoiseSplit(cell, task, len(values), len(repeated), seed_sd, hparam_sd)
