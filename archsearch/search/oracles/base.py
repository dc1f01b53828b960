"""`ArchitectureOracle`: KerasTuner's `Oracle`, taught to evaluate cells.

KerasTuner's base `Oracle` defines the trial protocol (`create_trial`,
`update_trial`, `end_trial`); `LeanTrials` implements it at a constant cost
per trial. A strategy only decides which cells to evaluate next (`propose`)
and what to do with a scored cell (`on_cell_scored`). This base turns
"evaluate this cell" into trials: one per (task stage x hyperparameter sample
x seed), the paper's memorization pre-filter, staged tasks with the cut at
`min_ratio` of the baseline's best, and the score = min over search tasks of
best / baseline's best (`archsearch.scoring`).

Per-cell bests and scores are kept incrementally; a change of the baseline's
best rescoring the scored cells is the only step that visits many cells. The
saved state (`OracleState`) is a small snapshot; ended trials are read back
from their records.
"""

from __future__ import annotations

import random

import keras_tuner

from archsearch.genome import Genome
from archsearch.search.oracles.cells import ACTIVE, CellState, CellStatus
from archsearch.search.oracles.persist import OracleState
from archsearch.search.oracles.scores import CellScores
from archsearch.search.oracles.trials import (
    COMPLETED,
    FAILED,
    IDLE,
    RUNNING,
    STOPPED,
    LeanTrials,
)

__all__ = ["ArchitectureOracle", "space_hyperparameters", "COMPLETED", "FAILED",
           "IDLE", "RUNNING", "STOPPED"]

#: Trial values that are not hyperparameters.
TRIAL_KEYS = ("cell", "task", "stage", "seed", "sample", "phase")


def space_hyperparameters(space) -> keras_tuner.HyperParameters:
    """The space's hyperparameter distribution as KerasTuner `HyperParameters`."""
    hp = keras_tuner.HyperParameters()
    for name, values in space.hyperparameters.model_dump().items():
        if values is None:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        hp.Choice(name, list(values), ordered=numeric and len(set(values)) > 1)
    return hp


class ArchitectureOracle(CellScores, OracleState, LeanTrials, keras_tuner.Oracle):
    """Base of archsearch's strategies: evaluates proposed cells task by task.

    The strategy contract, declared here once:

    - required: `propose()`, the cells to evaluate next;
    - optional (no-op defaults): `on_cell_scored(cell)`, `kept()`,
      `stage_trials(cell, task)` (which trials a stage runs) and `refill()`
      (what to queue when the queue is empty);
    - persistence (no-op defaults, for strategies that keep lists):
      `strategy_state()`, `set_strategy_state(state)` and
      `rebuild_strategy(finished)` (from the records, when `oracle.json` is lost).

    No strategy overrides a private method. Adding a strategy is one module
    beside `fixed.py` (the shortest: `random_search.py`) plus its parameter
    model in `archsearch.space` and its test.

    Args:
        space: The loaded `SearchSpace`.
        max_trials: Overrides `space.max_trials`.
        seed: Overrides `space.seed`.
        max_in_flight: Cells evaluated concurrently (keep >= workers so they
            stay busy).
    """

    strategy = "base"
    apply_cuts = True
    #: Times `propose` is asked in a row when it returns nothing and no cell is in flight.
    proposal_attempts = 50

    def __init__(self, space, max_trials=None, seed=None, max_in_flight=2):
        seed = space.seed if seed is None else seed
        super().__init__(objective=keras_tuner.Objective("score", "max"),
                         max_trials=max_trials or space.max_trials,
                         hyperparameters=space_hyperparameters(space), seed=seed + 1,
                         max_consecutive_failed_trials=10**9)
        self._init_trials()
        self.verbose = 0
        self.space = space
        self.search_seed = seed
        self.max_in_flight = max_in_flight
        self.queue: list[dict] = []         # trial values waiting for a worker
        self.cells: dict[str, CellState] = {}  # fingerprint -> cell bookkeeping
        self.genomes: dict[str, dict] = {}  # fingerprint -> genome dict (cells still needed)
        self.steps = 0
        self.search_stages = [t.name for t in space.tasks if t.role == "search"]
        self.prefilter_stages = [t.name for t in space.tasks if t.role == "prefilter"]
        self.report_stages = [t.name for t in space.tasks if t.role == "report"]
        self.tasks = {t.name: t for t in space.tasks}
        self.baseline_fp = space.baseline_genome().fingerprint()
        self.storage = None
        self._active: set[str] = set()       # cells running or waiting
        self._finished: set[str] = set()     # cells done and not cut (scorable)
        self._scores: dict[str, float] = {}  # those with a score

    # -- the strategy's part ----------------------------------------------------
    def propose(self) -> list[tuple[Genome, str, str | None]]:
        """Cells to evaluate next, as (genome, origin, parent fingerprint)."""
        raise NotImplementedError

    def on_cell_scored(self, cell: CellState) -> None:
        """Called once a cell has finished all its stages (or was cut)."""

    def kept(self) -> set[str]:
        """Fingerprints of finished cells whose genomes the strategy still needs."""
        return set()

    def strategy_state(self) -> dict:
        """The strategy's own decisions (top-N, population), JSON data for `oracle.json`."""
        return {}

    def set_strategy_state(self, state: dict) -> None:
        """Restores `strategy_state()`."""

    def rebuild_strategy(self, finished: list[str]) -> None:
        """Re-derives the strategy's lists from the records' cells.

        Args:
            finished: Fingerprints of the finished cells, in the order their
                last trial ended.
        """

    # -- helpers for strategies -------------------------------------------------
    def rng(self) -> random.Random:
        """A fresh RNG, deterministic in the order strategy decisions are made."""
        self.steps += 1
        return random.Random(self.search_seed * 1_000_003 + self.steps)

    #: Searches architectures: its trials may be batched and its winners confirmed.
    architectures = True

    @property
    def searched(self):
        """The oracle the Tune searcher asks for trials: itself."""
        return self

    def attach(self, storage, resumed: bool) -> None:
        """Uses `storage` (the run directory) for its state; reloads it when resuming."""
        self.storage = storage
        if resumed:
            self.reload()

    def best_cells(self, k: int = 5) -> list[dict]:
        """The `k` best scored cells (`cell`, `fingerprint`, `score`), for the summary."""
        return [{"cell": c.name or c.fingerprint[:12], "fingerprint": c.fingerprint,
                 "score": c.score}
                for c in sorted(self.scored(), key=lambda c: -c.score)[:k]]

    def in_flight(self) -> int:
        """Cells still being evaluated."""
        return len(self._active)

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
            cell = self.cells[fp] = CellState(fp, genome.name, parent, origin)
        self.genomes[fp] = genome.to_dict()
        cell.stages, cell.stage, cell.pending, cell.cut = list(stages), 0, 0, None
        cell.cuts = self.apply_cuts if cuts is None else cuts
        cell.origin = origin
        self._set_status(cell, CellStatus.RUNNING)
        self._enqueue_stage(cell)
        return True

    def _set_status(self, cell: CellState, status: CellStatus) -> None:
        cell.status = CellStatus(status)
        fp = cell.fingerprint
        if cell.status in ACTIVE:
            self._active.add(fp)
            self._finished.discard(fp)
            self._scores.pop(fp, None)
            cell.score = None
        else:
            self._active.discard(fp)

    def _samples(self, task: str) -> int:
        spec = self.tasks[task]
        if spec.hyperparameter_samples:
            return spec.hyperparameter_samples
        if spec.role == "prefilter" and self.apply_cuts:
            return 1  # the paper: one random setting for the pre-filter
        return getattr(self.space.strategy, "hyperparameter_samples", 1)

    def _seeds(self, task: str) -> int:
        return int(getattr(self.tasks[task], "seeds", 1) or 1)

    def _trial_seed(self, index: int) -> int:
        """A trial's seed from its seed index (`_seed_index` gives the index back)."""
        return self.search_seed * 10_007 + index

    def _seed_index(self, seed: int) -> int:
        """The seed index of a recorded trial seed: the inverse of `_trial_seed`."""
        return seed - self._trial_seed(0)

    def stage_trials(self, cell: CellState, task: str) -> list[tuple[dict, int, int]]:
        """The trials of `cell`'s stage on `task`, one per sample x seed of the task.

        Optional hook: strategies override it to choose a stage's trials; the
        base queues them. Here each sample is a random draw from the
        space (KerasTuner's `_random_values`), each trial takes the next seed
        index (`_seed_state`), and a sample's id is its first trial's index.

        Args:
            cell: The cell's bookkeeping (fingerprint, origin, stages).
            task: The task of the stage.

        Returns:
            (hyperparameter values, sample id, seed) of each trial, in queue
            order; the trials of one sample share its values and id.
        """
        trials = []
        for _ in range(self._samples(task)):
            hparams = self._random_values() or {}
            sample = self._seed_state + 1
            for _ in range(self._seeds(task)):
                self._seed_state += 1
                trials.append((hparams, sample, self._trial_seed(self._seed_state)))
        return trials

    def _enqueue_stage(self, cell: CellState) -> None:
        task = cell.stages[cell.stage]
        for hparams, sample, seed in self.stage_trials(cell, task):
            self.queue.append({**hparams, "cell": cell.fingerprint, "task": task,
                               "stage": self.tasks[task].role, "sample": sample, "seed": seed})
            cell.pending += 1

    # -- KerasTuner hooks ---------------------------------------------------------
    def populate_space(self, trial_id):
        if not self.queue:
            self.refill()
        if self.queue:
            return {"status": RUNNING, "values": self.queue.pop(0)}
        return {"status": IDLE if self.in_flight() else STOPPED, "values": None}

    def refill(self) -> None:
        """Optional hook: fills the queue when it is empty.

        Default: the baseline first, then what `propose` returns.
        """
        if self.baseline_fp not in self.cells:
            baseline = self.space.baseline_genome()
            self.evaluate(baseline, "baseline", stages=self.search_stages + self.report_stages,
                          cuts=False)
        # A proposal can come back empty (every mutant tried was seen before):
        # with nothing in flight, ask again before calling the search finished.
        for _ in range(self.proposal_attempts):
            if self.in_flight() >= self.max_in_flight:
                break
            for genome, origin, parent in self.propose():
                self.evaluate(genome, origin, parent)
            if self.queue or self.in_flight():
                break

    def on_trial_end(self, trial_id, values, objective):
        cell = self.cells.get(values.get("cell"))
        if cell is None:
            return
        self._add_result(cell, values["task"], objective)
        cell.pending -= 1
        if cell.pending <= 0 and cell.status == CellStatus.RUNNING:
            self._advance(cell)
        if cell.fingerprint == self.baseline_fp and cell.status == CellStatus.DONE:
            for fp in [f for f in self._active if self.cells[f].status == CellStatus.WAITING]:
                self._set_status(self.cells[fp], CellStatus.RUNNING)
                self._advance(self.cells[fp])
        self._prune_genomes()

    def _cut_reason(self, cell: CellState, task: str) -> str | None:
        """Why `cell` stops after `task` ("wait": the cut needs the baseline), else None."""
        spec = self.tasks[task]
        best = self.best(cell.fingerprint, task)
        if spec.min_score is not None and (best is None or best < spec.min_score):
            return f"below {spec.min_score:g} on {task}"
        if spec.role == "search" and spec.min_ratio is not None:
            if self.best(self.baseline_fp, task) is None and \
                    self.cells[self.baseline_fp].status != CellStatus.DONE:
                return "wait"
            ratio = self.ratio(cell.fingerprint, task)
            if ratio is None or ratio < spec.min_ratio:
                return f"below {spec.min_ratio:g} of the baseline on {task}"
        return None

    def _advance(self, cell: CellState) -> None:
        task = cell.stages[cell.stage]
        if cell.cuts:
            reason = self._cut_reason(cell, task)
            if reason == "wait":
                self._set_status(cell, CellStatus.WAITING)
                return None
            if reason is not None:
                return self._finish(cell, reason)
        self._set_status(cell, CellStatus.RUNNING)
        cell.stage += 1
        if cell.stage < len(cell.stages):
            self._enqueue_stage(cell)
            return None
        return self._finish(cell, None)

    def _finish(self, cell: CellState, cut: str | None) -> None:
        self._set_status(cell, CellStatus.DONE)
        cell.cut = cut
        self._rescore(cell)
        self.on_cell_scored(cell)

    def _prune_genomes(self) -> None:
        if len(self.genomes) <= len(self._active) + 1:
            return
        keep = self._active | self.kept() | {self.baseline_fp}
        for fp in [f for f in self.genomes if f not in keep]:
            del self.genomes[fp]
