"""`ArchitectureOracle`: KerasTuner's `Oracle`, taught to evaluate cells.

KerasTuner's base `Oracle` owns trial bookkeeping, retries and ids; a strategy
only decides which cells to evaluate next (`propose`) and what to do with a
scored cell (`on_cell_scored`). This base turns "evaluate this cell" into
trials: one per (task stage x hyperparameter sample), the paper's
memorization pre-filter, staged tasks with the cut at `min_ratio` of the
baseline's best, and the score = min over search tasks of best / baseline best.

State is JSON (`get_state`/`set_state`) and saved atomically to the run
directory after every change, *after* a finished trial has left "ongoing", so
that a restarted driver neither reruns a finished trial nor loses one
(KerasTuner's own restart reruns the last finished trial: it saves before it
pops the trial).
"""

from __future__ import annotations

import math
import random

import keras_tuner
from keras_tuner.src.engine import trial as trial_module

from archsearch.genome import Genome

__all__ = ["ArchitectureOracle", "space_hyperparameters", "HPARAM_KEYS"]

RUNNING, IDLE, STOPPED = (trial_module.TrialStatus.RUNNING, trial_module.TrialStatus.IDLE,
                          trial_module.TrialStatus.STOPPED)
COMPLETED, FAILED = trial_module.TrialStatus.COMPLETED, trial_module.TrialStatus.FAILED
# Search-space hyperparameter name -> trainer name.
HPARAM_KEYS = {"init_scale": "init_scale", "learning_rate": "learning_rate",
               "clip_norm": "clip_norm", "layers": "num_layers", "param_budget": "param_budget",
               "units": "units", "forget_bias": "forget_bias", "dropout": "dropout",
               "optimizer": "optimizer"}


def space_hyperparameters(space) -> keras_tuner.HyperParameters:
    """The space's hyperparameter distribution as KerasTuner `HyperParameters`."""
    hp = keras_tuner.HyperParameters()
    for name, values in space.hyperparameters.model_dump().items():
        if values is None:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        hp.Choice(name, list(values), ordered=numeric and len(set(values)) > 1)
    return hp


class ArchitectureOracle(keras_tuner.Oracle):
    """Base of archsearch's strategies: evaluates proposed cells task by task.

    Subclasses implement `propose()` (cells to evaluate next) and may override
    `on_cell_scored(cell)`; the rest is shared.

    Args:
        space: The loaded `SearchSpace`.
        max_trials: Overrides `space.max_trials`.
        seed: Overrides `space.seed`.
        max_in_flight: Cells evaluated concurrently (keep >= workers so they
            stay busy).
    """

    strategy = "base"
    apply_cuts = True

    def __init__(self, space, max_trials=None, seed=None, max_in_flight=2):
        seed = space.seed if seed is None else seed
        super().__init__(objective=keras_tuner.Objective("score", "max"),
                         max_trials=max_trials or space.max_trials,
                         hyperparameters=space_hyperparameters(space), seed=seed + 1,
                         max_consecutive_failed_trials=10**9)
        self.verbose = 0
        self.space = space
        self.search_seed = seed
        self.max_in_flight = max_in_flight
        self.queue: list[dict] = []       # trial values waiting for a worker
        self.cells: dict[str, dict] = {}  # fingerprint -> cell bookkeeping
        self.genomes: dict[str, dict] = {}  # fingerprint -> genome dict
        self.steps = 0
        self.search_stages = [t.name for t in space.tasks if t.role == "search"]
        self.prefilter_stages = [t.name for t in space.tasks if t.role == "prefilter"]
        self.report_stages = [t.name for t in space.tasks if t.role == "report"]
        self.tasks = {t.name: t for t in space.tasks}
        self.baseline_fp = space.baseline_genome().fingerprint()
        self.storage = None

    # -- the strategy's part ----------------------------------------------------
    def propose(self) -> list[tuple[Genome, str, str | None]]:
        """Cells to evaluate next, as (genome, origin, parent fingerprint)."""
        raise NotImplementedError

    def on_cell_scored(self, cell: dict) -> None:
        """Called once a cell has finished all its stages (or was cut)."""

    # -- helpers for strategies -------------------------------------------------
    def rng(self) -> random.Random:
        """A fresh RNG, deterministic in the order strategy decisions are made."""
        self.steps += 1
        return random.Random(self.search_seed * 1_000_003 + self.steps)

    def in_flight(self) -> int:
        """Cells still being evaluated."""
        return sum(1 for c in self.cells.values() if c["status"] in ("running", "waiting"))

    def scored(self) -> list[dict]:
        """Cells that finished every stage, with their current score."""
        for cell in self.cells.values():
            cell["score"] = self.score(cell["fingerprint"])
        return [c for c in self.cells.values() if c["score"] is not None]

    def score(self, fp: str) -> float | None:
        """Min over search tasks of best / baseline's best, from the results so far.

        Derived, not stored: re-evaluations of a cell or of the baseline move it.
        """
        cell = self.cells[fp]
        if cell["status"] != "done" or cell.get("cut"):
            return None
        ratios = [self.ratio(fp, t) for t in self.search_stages]
        return None if not ratios or any(r is None for r in ratios) else min(ratios)

    def evaluate(self, genome: Genome, origin: str, parent: str | None = None,
                 stages: list[str] | None = None, cuts: bool | None = None) -> bool:
        """Queues the trials of a cell's first stage; False if already evaluated."""
        fp = genome.fingerprint()
        if fp in self.cells and origin != "reevaluation":
            return False
        if stages is None:
            stages = self.prefilter_stages + self.search_stages + self.report_stages
        cell = self.cells.get(fp)
        if cell is None:
            self.genomes[fp] = genome.to_dict()
            cell = self.cells[fp] = {"fingerprint": fp, "name": genome.name, "parent": parent,
                                     "origin": origin, "results": {}, "score": None}
        cell.update(status="running", stages=list(stages), stage=0, pending=0,
                    cuts=self.apply_cuts if cuts is None else cuts, origin=origin)
        self._enqueue_stage(cell)
        return True

    def _samples(self, task: str) -> int:
        spec = self.tasks[task]
        if spec.hyperparameter_samples:
            return spec.hyperparameter_samples
        if spec.role == "prefilter" and self.apply_cuts:
            return 1  # the paper: one random setting for the pre-filter
        return getattr(self.space.strategy, "hyperparameter_samples", 1)

    def _enqueue_stage(self, cell: dict) -> None:
        task = cell["stages"][cell["stage"]]
        for _ in range(self._samples(task)):
            values = self._random_values() or {}
            self._seed_state += 1
            values.update(cell=cell["fingerprint"], task=task, stage=self.tasks[task].role,
                          seed=self.search_seed * 10_007 + self._seed_state)
            self.queue.append(values)
            cell["pending"] += 1

    # -- KerasTuner hooks ---------------------------------------------------------
    def populate_space(self, trial_id):
        if not self.queue:
            self._refill()
        if self.queue:
            return {"status": RUNNING, "values": self.queue.pop(0)}
        return {"status": IDLE if self.in_flight() else STOPPED, "values": None}

    def _refill(self) -> None:
        if self.baseline_fp not in self.cells:
            baseline = self.space.baseline_genome()
            self.evaluate(baseline, "baseline", stages=self.search_stages + self.report_stages,
                          cuts=False)
        if self.in_flight() < self.max_in_flight:
            for genome, origin, parent in self.propose():
                self.evaluate(genome, origin, parent)

    def end_trial(self, trial):
        super().end_trial(trial)  # pops the trial from "ongoing", then saves
        trial = self.trials[trial.trial_id]
        if trial.status in (COMPLETED, FAILED):
            self._record(trial)
        self.save()

    def _record(self, trial) -> None:
        values = trial.hyperparameters.values
        cell = self.cells.get(values.get("cell"))
        if cell is None or trial.trial_id in cell.setdefault("trials", []):
            return
        cell["trials"].append(trial.trial_id)
        score = None
        if trial.status == COMPLETED and trial.score is not None and math.isfinite(trial.score):
            score = float(trial.score)
        cell["results"].setdefault(values["task"], []).append(score)
        cell["pending"] -= 1
        if cell["pending"] <= 0 and cell["status"] == "running":
            self._advance(cell)
        if cell["fingerprint"] == self.baseline_fp and cell["status"] == "done":
            for waiting in [c for c in self.cells.values() if c["status"] == "waiting"]:
                waiting["status"] = "running"
                self._advance(waiting)

    def best(self, fp: str, task: str) -> float | None:
        """Best objective value of cell `fp` on `task` (None if no success)."""
        values = [v for v in self.cells[fp]["results"].get(task, []) if v is not None]
        return max(values) if values else None

    def ratio(self, fp: str, task: str) -> float | None:
        """Best of `fp` on `task` over the baseline's best (inverted for min metrics)."""
        mine, base = self.best(fp, task), self.best(self.baseline_fp, task)
        if mine is None or base is None:
            return None
        if base < 0 or mine < 0:  # objective = -metric for "min" metrics
            return (-base) / (-mine) if mine != 0 else None
        return mine / base if base else None

    def _advance(self, cell: dict) -> None:
        task = cell["stages"][cell["stage"]]
        role = self.tasks[task].role
        if cell["cuts"]:
            best = self.best(cell["fingerprint"], task)
            threshold = self.tasks[task].min_score
            if threshold is not None and (best is None or best < threshold):
                return self._finish(cell, f"below {threshold:g} on {task}")
            if role == "search" and self.tasks[task].min_ratio is not None:
                if self.best(self.baseline_fp, task) is None and \
                        self.cells[self.baseline_fp]["status"] != "done":
                    cell["status"] = "waiting"  # the cut needs the baseline's best
                    return None
                ratio = self.ratio(cell["fingerprint"], task)
                if ratio is None or ratio < self.tasks[task].min_ratio:
                    return self._finish(cell, f"below {self.tasks[task].min_ratio:g} of the "
                                              f"baseline on {task}")
        cell["status"] = "running"
        cell["stage"] += 1
        if cell["stage"] < len(cell["stages"]):
            self._enqueue_stage(cell)
            return None
        return self._finish(cell, None)

    def _finish(self, cell: dict, cut: str | None) -> None:
        cell["status"] = "done"
        cell["cut"] = cut
        cell["score"] = self.score(cell["fingerprint"])
        self.on_cell_scored(cell)

    # -- persistence: one atomic JSON file in the run directory -----------------
    def get_state(self):
        state = super().get_state()
        state.update(queue=self.queue, cells=self.cells, genomes=self.genomes, steps=self.steps,
                     trials={tid: t.get_state() for tid, t in self.trials.items()},
                     strategy=self.strategy)
        return state

    def set_state(self, state):
        self.trials = {tid: trial_module.Trial.from_state(s)
                       for tid, s in state["trials"].items()}
        super().set_state(state)
        self.queue, self.cells = state["queue"], state["cells"]
        self.genomes, self.steps = state["genomes"], state["steps"]

    def _save_trial(self, trial):
        """Trials live inside oracle.json (one atomic file), not in trial folders."""

    def save(self):
        if self.storage is not None:
            self.storage.write_json("oracle.json", self.get_state())

    def reload(self):
        state = self.storage.read_json("oracle.json") if self.storage else None
        if state is None:
            return False
        self.set_state(state)
        return True
