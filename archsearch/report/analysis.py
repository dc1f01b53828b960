"""Failure groups, hyperparameter levels and search progress, from the trial frame."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd

from archsearch.report.summaries import FailureGroup, RunInfo

__all__ = ["normalize_reason", "failure_groups", "progress_frame", "forget_bias_column",
           "levels", "ALL_CELLS"]

ALL_CELLS = "all cells"
MAX_LEVELS = 10         # more distinct values than this: binned into quintiles
_NUMBER = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+){2,}"          # hex, IP-like
                     r"|[-+]?(?<![A-Za-z_])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_HEX_ID = re.compile(r"\b[0-9a-f]{16,}\b")


def normalize_reason(reason: str | None) -> str:
    """Groups failure reasons: first line, numbers -> `N`, long hex ids -> `<id>`.

    Args:
        reason: A trial's `failure` text.

    Returns:
        The normalised reason, e.g. `training loss became nan at step N`.

    Example:
        >>> normalize_reason("training loss became nan at step 12")
        'training loss became nan at step N'
    """
    if not reason or not reason.strip():
        return "(no reason recorded)"
    line = reason.strip().splitlines()[0]
    line = _HEX_ID.sub("<id>", line)
    line = _NUMBER.sub("N", line)
    return re.sub(r"\s+", " ", line)[:200]


def failure_groups(df: pd.DataFrame) -> tuple[FailureGroup, ...]:
    """Failed trials grouped by normalised reason, most frequent first.

    Args:
        df: The report's trial frame (with a `label` column).

    Returns:
        One `FailureGroup` per reason.
    """
    failed = df[df.status == "failed"] if len(df) else df
    if not len(failed):
        return ()
    reasons = failed.failure.map(normalize_reason)
    groups = []
    for reason, rows in failed.groupby(reasons, sort=False):
        groups.append(FailureGroup(
            reason=reason, count=len(rows),
            cells=tuple(dict.fromkeys(rows.label)), tasks=tuple(dict.fromkeys(rows.task)),
            example=str(rows.failure.iloc[0] or reason), trials=tuple(rows.key.iloc[:5])))
    groups.sort(key=lambda g: (-g.count, g.reason))
    return tuple(groups)


def levels(values: pd.Series) -> pd.Series:
    """Hyperparameter values as categorical levels (`default` for None)."""
    filled = values.astype(object).where(values.notna(), "default")
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and numeric.nunique() > MAX_LEVELS:
        return pd.qcut(numeric, 5, duplicates="drop").astype(str)
    return filled.map(_level_name)


def _level_name(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) >= 1000 else f"{value:g}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def progress_frame(df: pd.DataFrame, runs: Iterable[RunInfo]) -> pd.DataFrame:
    """Best-so-far score per run and task, after each completed trial.

    Args:
        df: The report's trial frame.
        runs: The runs (for their strategy and start time).

    Returns:
        Columns `run`, `strategy`, `series` (`run (strategy)`), `task`, `trial`
        (the trial's sequence number in its run), `minutes` (since the run's first
        trial started; NaN when timestamps are missing), `score`, `best`.
    """
    columns = ["run", "strategy", "series", "task", "trial", "minutes", "score", "best"]
    frames = []
    strategy = {r.label: r.strategy for r in runs}
    for run, rows in df.groupby("run", sort=False) if len(df) else []:
        rows = rows.copy()
        rows["trial"] = rows.sequence.where(rows.sequence.notna(), rows.order).astype(float)
        starts = pd.to_datetime(rows.started_at).dropna()
        start = starts.min() if len(starts) else pd.NaT
        finished = pd.to_datetime(rows.finished_at)
        rows["minutes"] = (finished - start).dt.total_seconds() / 60.0
        done = rows[rows.ok & (rows.stage != "prefilter")].sort_values("trial")
        for task, part in done.groupby("task", sort=False):
            mode = part.score_mode.mode().iloc[0]
            best = part.score.cummax() if mode == "max" else part.score.cummin()
            label = strategy.get(run, "unknown")
            frames.append(pd.DataFrame({
                "run": run, "strategy": label, "series": f"{run} ({label})", "task": task,
                "trial": part.trial.to_numpy(), "minutes": part.minutes.to_numpy(),
                "score": part.score.to_numpy(), "best": best.to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns].astype({"minutes": float})


def forget_bias_column(df: pd.DataFrame, genomes) -> pd.Series:
    """Each trial's effective LSTM forget-gate bias; NaN for cells that are not an LSTM.

    A cell counts as an LSTM when it is the zoo `lstm` apart from the bias
    initialiser of its forget-gate node `f_pre` (so `lstm`, `lstm_b` and cells
    such as `lstm_fb2` of `search_spaces/forget_bias.yaml`). The effective bias
    is the trial's `forget_bias` hyperparameter where set, else the genome's.

    Args:
        df: The trial frame.
        genomes: Genome data by fingerprint.

    Returns:
        A float Series aligned with `df`.
    """
    bias = {fp: _lstm_forget_bias(genomes.get(fp)) for fp in df.fingerprint.unique()} \
        if len(df) else {}
    own = df.fingerprint.map(bias).astype(float) if len(df) else pd.Series(dtype=float)
    if "hp.forget_bias" not in df:
        return own
    override = pd.to_numeric(df["hp.forget_bias"], errors="coerce")
    return override.where(override.notna() & own.notna(), own)


def _lstm_forget_bias(data) -> float:
    from archsearch.genome import Genome, GenomeError, Node

    size, lstm_fingerprint = _lstm_reference()
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list) or len(nodes) != size or not any(
            isinstance(n, dict) and n.get("id") == "f_pre" for n in nodes):
        return float("nan")  # cheap rejection before parsing and fingerprinting
    try:
        genome = Genome.from_dict(data)
        f_pre = next((n for n in genome.nodes if n.id == "f_pre" and n.op == "linear"), None)
        if f_pre is None:
            return float("nan")
        nodes = [Node(n.id, n.op, n.inputs, {**n.params, "bias": 0.0}) if n is f_pre else n
                 for n in genome.nodes]
        plain = Genome(nodes, dict(zip(genome.states, genome.next_state, strict=True)),
                       genome.states, genome.output)
    except GenomeError:
        return float("nan")
    if plain.fingerprint() != lstm_fingerprint:
        return float("nan")
    return float(f_pre.param("bias"))


@lru_cache(maxsize=1)
def _lstm_reference() -> tuple[int, str]:
    from archsearch.genome import zoo

    lstm = zoo.get("lstm")
    return len(lstm.nodes), lstm.fingerprint()
