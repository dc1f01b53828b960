"""Synthetic run directories with trial scores chosen by the test (a known answer).

`write_scores(root, {"gru": {"xml": [0.9, 0.88, ...]}, ...})` writes a run
directory in the search's format (run.json, trials/<id>.json) whose completed
trials have exactly those scores; `normal_scores` draws them from a normal
distribution with a fixed seed. Hyperparameters differ per setting; with
`seeds_per_setting=s`, each run of s consecutive scores shares one setting
and gets seeds 0..s-1 (training noise apart from hyperparameter spread).
Records are written through the run directory's own pydantic schema
(`archsearch.rundir.records`), so they are always of the current version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from archsearch.genome import zoo
from archsearch.rundir.records import CellRef, RunRecord, TrialRecord

T0 = datetime(2025, 6, 1, 9, 0, 0, tzinfo=UTC)
LEARNING_RATES = [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0]


def normal_scores(mean: float, sd: float, n: int, seed: int) -> list[float]:
    """`n` scores ~ N(mean, sd), clipped to (0, 1), from a fixed seed."""
    values = np.random.default_rng(seed).normal(mean, sd, n)
    return [float(v) for v in np.clip(values, 1e-3, 0.999)]


def write_scores(root, scores: Mapping[str, Mapping[str, Sequence[float]]], *,
                 name: str = "synthetic", baseline: str = "gru", seeds_per_setting: int = 1,
                 mode: str = "max", hparams: Sequence[Mapping] | None = None,
                 curves: Mapping[str, Mapping[str, Sequence[Sequence[Mapping]]]] | None = None
                 ) -> Path:
    """Writes a run directory whose completed trials have the given scores.

    Args:
        root: Folder to create.
        scores: Zoo cell name -> task -> trial scores.
        name: Run name.
        baseline: Baseline recorded in run.json.
        seeds_per_setting: Consecutive scores sharing one hyperparameter setting.
        mode: The tasks' score mode (`max`: accuracy, `min`: a loss).
        hparams: Hyperparameters per score position (default: one setting per
            group of `seeds_per_setting`, learning rate cycling).
        curves: Zoo cell name -> task -> one learning curve per score (default: none).

    Returns:
        The run directory.
    """
    root = Path(root)
    (root / "trials").mkdir(parents=True, exist_ok=True)
    sequence, clock = 0, T0
    tasks = list(dict.fromkeys(t for per_task in scores.values() for t in per_task))
    for cell, per_task in scores.items():
        genome = zoo.get(cell)
        for task, values in per_task.items():
            for k, score in enumerate(values):
                sequence += 1
                setting = k // seeds_per_setting
                hp = dict(hparams[k]) if hparams is not None else {
                    "learning_rate": LEARNING_RATES[setting % len(LEARNING_RATES)],
                    "init_scale": 0.3 + 0.1 * setting, "clip_norm": 5.0, "num_layers": 1}
                started, clock = clock, clock + timedelta(seconds=5)
                record = TrialRecord(
                    trial_id=f"{sequence:05d}", strategy="fixed", status="completed",
                    cell=CellRef(name=cell, fingerprint=genome.fingerprint(),
                                 genome=genome.to_dict(), origin="fixed"),
                    task=task, stage="search", hparams=hp, seed=k % seeds_per_setting,
                    score=float(score), score_metric="accuracy" if mode == "max" else "loss",
                    score_mode=mode,
                    metrics={"valid": {"accuracy" if mode == "max" else "loss": float(score)}},
                    curve=list((curves or {}).get(cell, {}).get(task, [[]] * len(values))[k]),
                    params=10000, units=32, steps=100, timings={"total": 5.0},
                    worker={"node": "127.0.0.1"}, started_at=started.isoformat(),
                    finished_at=clock.isoformat())
                (root / record.path).write_text(record.to_json())
    run = RunRecord(name=name, strategy="fixed", seed=0, baseline=baseline, tasks=tasks,
                    created_at=T0.isoformat(), space={"name": name, "cells": list(scores)})
    (root / "run.json").write_text(run.model_dump_json(indent=1))
    return root
