"""Fixture run directories with realistic trial records, written without training.

`write_run(path, ...)` (fixture `make_run`) writes a run directory in the
search's format (run.json, oracle.json, trials/<id>.json) through the search's
own schema and store (`archsearch.rundir`: `RunRecord`, `TrialRecord`,
`write_trial`): named cells and mutants (real genomes from the zoo and
`Mutator`, with parents), several tasks, seeds and hyperparameter
samples from the paper's grid, pre-filter trials for mutants, curves, timings
and some failed trials. Scores are synthetic: a per-cell quality shaped like
the paper's table, a learning-rate effect (so it is the most important
hyperparameter), and noise.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archsearch.genome import zoo
from archsearch.genome.mutate import Mutator
from archsearch.rundir import (
    RUN_VERSION,
    TRIAL_VERSION,
    CellRef,
    RunRecord,
    RunStore,
    TrialRecord,
    write_trial,
)

# Best accuracies from the paper (Jozefowicz et al. 2015, arithmetic and XML).
QUALITY = {
    "arithmetic": {"tanh_rnn": 0.295, "lstm": 0.892, "lstm_f": 0.293, "lstm_i": 0.751,
                   "lstm_o": 0.867, "lstm_b": 0.902, "gru": 0.896, "mut1": 0.921},
    "xml": {"tanh_rnn": 0.321, "lstm": 0.425, "lstm_f": 0.234, "lstm_i": 0.414,
            "lstm_o": 0.421, "lstm_b": 0.444, "gru": 0.460, "mut1": 0.475},
    "memorization": {},
}
HP_GRID = {
    "init_scale": [0.3, 0.7, 1.0, 1.4, 2.0, 2.8],
    "learning_rate": [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0],
    "clip_norm": [1.0, 2.5, 5.0, 10.0, 20.0],
    "num_layers": [1, 2],
}
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def _hparams(rng: random.Random) -> dict:
    hp = {k: rng.choice(v) for k, v in HP_GRID.items()}
    hp.update(param_budget=250000, units=None, forget_bias=None, dropout=0.0, optimizer="sgd")
    return hp


def _score(quality: float, hp: dict, rng: random.Random) -> float:
    lr_penalty = 0.25 * abs(math.log10(hp["learning_rate"] / 0.5))
    init_penalty = 0.02 * abs(math.log2(hp["init_scale"]))
    value = quality * (1.0 - lr_penalty - init_penalty) + rng.gauss(0, 0.01)
    return round(min(0.999, max(0.01, value)), 6)


class _Writer:
    def __init__(self, root: Path, name: str, strategy: str, version: int, rng: random.Random):
        self.root, self.name, self.strategy, self.version = root, name, strategy, version
        self.store = RunStore(root)
        self.rng = rng
        self.sequence = 0
        self.clock = T0
        self.store.makedirs("trials")

    def trial(self, genome, *, name, parent, origin, task, stage, quality, seed,
              fail: str | None = None) -> dict:
        self.sequence += 1
        hp = _hparams(self.rng)
        if fail is None and hp["learning_rate"] == 5.0 and hp["clip_norm"] >= 10.0:
            fail = f"training loss became nan at step {self.rng.randint(3, 400)}"
        score = None if fail else _score(quality, hp, self.rng)
        seconds = round(self.rng.uniform(2.0, 9.0), 3)
        started = self.clock
        self.clock += timedelta(seconds=seconds + 0.5)
        steps = 200
        curve = []
        for k in range(1, 5):
            frac = k / 4
            point = {"step": int(steps * frac), "seconds": round(seconds * frac, 3),
                     "train_loss": round(2.5 - 1.5 * frac * (score or 0.2), 4),
                     "learning_rate": hp["learning_rate"]}
            if score is not None:
                point.update(valid_loss=round(2.4 - 1.4 * frac * score, 4),
                             valid_accuracy=round(score * (0.6 + 0.4 * frac), 6))
            curve.append(point)
        trial_id = f"{self.sequence:05d}"
        record = TrialRecord(
            trial_id=trial_id, strategy=self.strategy,
            status="failed" if fail else "completed", failure=fail,
            cell=CellRef(name=name, fingerprint=genome.fingerprint(), genome=genome.to_dict(),
                         parent=parent, origin=origin),
            task=task, stage=stage, hparams=hp, seed=seed,
            score=score, score_metric="accuracy", score_mode="max",
            metrics={} if fail else {
                "valid": {"loss": round(2.0 - score, 4), "accuracy": score},
                "test": {"loss": round(2.05 - score, 4), "accuracy": round(score - 0.01, 6)}},
            curve=curve, params=10000 + 2000 * len(genome.nodes) * hp["num_layers"],
            units=32, steps=steps,
            timings={"data": 0.2, "build": 0.05, "train": seconds - 0.5, "eval": 0.25,
                     "total": seconds},
            worker={"node": "10.0.0.1", "hostname": "fixture", "pid": 100 + self.sequence},
            started_at=started.isoformat(), finished_at=self.clock.isoformat())
        if self.version == TRIAL_VERSION:
            write_trial(self.store, record)
            return record.model_dump(mode="json")
        data = record.model_dump(mode="json")
        data["version"] = self.version
        if self.version == 1:  # the driver numbered records by rewriting them
            data["sequence"] = self.sequence
        if self.version == 0:  # the older format: no score fields, no format tag
            for key in ("format", "score", "score_metric", "score_mode", "stage"):
                data.pop(key)
            data["score_metric"] = "accuracy"
        self.store.write_json(record.path, data)
        return data


def write_run(root, *, name="fixture", strategy="fixed",
             cells=("gru", "lstm", "lstm_b", "lstm_f", "lstm_i", "lstm_o"),
             tasks=("arithmetic", "xml"), samples=3, seeds=2, mutants=0,
             mutant_parents=("gru", "lstm_b"), extra_failures=1, version=TRIAL_VERSION, seed=0,
             baseline="gru") -> Path:
    """Writes a run directory at `root` and returns its path.

    Args:
        root: Folder to create.
        name: Run name (run.json `name`).
        strategy: Strategy name recorded in run.json and every trial.
        cells: Zoo cells evaluated (origin `fixed`, or `seed` when mutants > 0).
        tasks: Scored tasks.
        samples: Hyperparameter samples per cell, task and seed.
        seeds: Seeds per hyperparameter sample.
        mutants: Number of mutants (each: one pre-filter trial on memorization,
            then `samples` trials per task with seed 0).
        mutant_parents: Zoo cells the mutants are made from (cycled).
        extra_failures: Trials that fail with an exception (besides NaN losses).
        version: Trial format version written: 2 (current), 1 (numbered by
            `sequence`) or 0 (an older format without score fields).
        seed: Random seed of the generator.
        baseline: Baseline recorded in run.json.
    """
    root = Path(root)
    rng = random.Random(seed)
    writer = _Writer(root, name, strategy, version, rng)
    origin = "seed" if mutants else "fixed"
    jobs = [(cell, task, s) for cell in cells for task in tasks for s in range(seeds)
            for _ in range(samples)]
    rng.shuffle(jobs)  # trials finish in no particular order
    for cell, task, s in jobs:
        writer.trial(zoo.get(cell), name=cell, parent=None, origin=origin, task=task,
                     stage="search", quality=QUALITY[task][cell], seed=s)
    mutator = Mutator()
    for k in range(mutants):
        parent_name = mutant_parents[k % len(mutant_parents)]
        parent = zoo.get(parent_name)
        child = mutator.run(parent, seed * 1000 + k).child
        factor = rng.uniform(0.75, 1.04)
        writer.trial(child, name=None, parent=parent.fingerprint(), origin="mutation",
                     task="memorization", stage="prefilter", quality=0.97, seed=0)
        for task in tasks:
            for _ in range(samples):
                writer.trial(child, name=None, parent=parent.fingerprint(), origin="mutation",
                             task=task, stage="search",
                             quality=QUALITY[task][parent_name] * factor, seed=0)
    for k in range(extra_failures):
        cell = cells[k % len(cells)]
        writer.trial(zoo.get(cell), name=cell, parent=None, origin=origin, task=tasks[0],
                     stage="search", quality=0.5, seed=0,
                     fail=f"ZeroDivisionError: division by zero in trial {1000 + k}")
    run = RunRecord(version=0 if version == 0 else RUN_VERSION, name=name, strategy=strategy,
                    seed=seed, baseline=baseline, tasks=list(tasks), created_at=T0.isoformat(),
                    space={"name": name, "cells": list(cells)})
    writer.store.write_json("run.json", run.model_dump(mode="json"))
    writer.store.write_json("oracle.json", {"state": "ignored"})
    return root


@pytest.fixture(scope="session")
def fixture_runs(tmp_path_factory) -> dict[str, Path]:
    """Two runs side by side: an ablation study (fixed) and an evolution run."""
    base = tmp_path_factory.mktemp("runs")
    ablation = write_run(base / "ablation", name="ablation", strategy="fixed",
                        samples=3, seeds=2, extra_failures=2, seed=1)
    evolution = write_run(base / "evolution", name="evolution", strategy="evolution",
                         cells=("gru", "lstm"), samples=3, seeds=1, mutants=6,
                         extra_failures=1, seed=2)
    return {"ablation": ablation, "evolution": evolution}


@pytest.fixture(scope="session")
def built_report(fixture_runs, tmp_path_factory):
    """The report of both fixture runs, rendered once: `(Report, output folder)`."""
    from archsearch.report import build_report

    out = tmp_path_factory.mktemp("out") / "both"
    report = build_report([fixture_runs["ablation"], fixture_runs["evolution"]], out)
    return report, out


def read_trials(*runs: Path) -> list[dict]:
    """The raw trial records of run directories, parsed with json only."""
    return [json.loads(p.read_text()) for run in runs
            for p in sorted((Path(run) / "trials").glob("*.json"))]


@pytest.fixture
def raw_trials():
    """`read_trials`: the tests' own reading of the records, independent of the report."""
    return read_trials


@pytest.fixture
def make_run():
    """`write_run`: writes a fixture run directory."""
    return write_run


@pytest.fixture(scope="session")
def run_writer():
    """`write_run`, for fixtures wider than one test."""
    return write_run
