"""`HyperbandCellOracle`: KerasTuner's Hyperband tunes one fixed cell through the executor.

The bracket logic is KerasTuner's own `HyperbandOracle` (Li et al. 2018, in
KerasTuner's variant): brackets of random configurations trained for a few
epochs, the best `1/factor` promoted to `factor` times the epochs, round by
round. This subclass only makes its trials ones the executor runs: each
trial's values carry the fixed `cell`, `task`, `stage` and `seed` next to the
sampled hyperparameters and KerasTuner's `tuner/*` values, and an epoch is
`1 / max_epochs` of the task's budget (`trial_budget`): a trial asked for
`tuner/epochs` = e trains `budget.steps * e / max_epochs` steps.

Difference from KerasTuner: KerasTuner's `Hyperband` tuner reloads the
weights of the promoted trial (`tuner/trial_id`) and trains only epochs
`tuner/initial_epoch` to `tuner/epochs`. archsearch keeps no weights, so a
promoted trial retrains from scratch for all of its `tuner/epochs` (same
hyperparameters and seed, so the same start), and a round costs its full
steps; its record holds the whole curve.

Example:
    >>> budget, hparams = trial_budget({"steps": 90, "seconds": None, "eval_every": 22},
    ...     {"learning_rate": 0.1, "tuner/epochs": 3, "tuner/max_epochs": 9,
    ...      "tuner/initial_epoch": 0, "tuner/bracket": 1, "tuner/round": 0})
    >>> budget["steps"], budget["eval_every"], hparams
    (30, 7, {'learning_rate': 0.1})
"""

from __future__ import annotations

import math

import keras_tuner

from archsearch.compat.keras_tuner import set_project_dir
from archsearch.search.oracles.base import space_hyperparameters
from archsearch.search.oracles.cells import CellState

__all__ = ["HyperbandCellOracle", "TUNER_PREFIX", "planned_trials", "trial_budget"]

#: Where the oracle's KerasTuner state lives in the run directory (as for any KerasTuner oracle).
STATE_DIR = "keras_tuner"
#: Prefix of KerasTuner's Hyperband values (`tuner/epochs`, ...); not hyperparameters.
TUNER_PREFIX = "tuner/"


def trial_budget(budget: dict, hparams: dict) -> tuple[dict, dict]:
    """A trial's budget and its hyperparameters without KerasTuner's `tuner/*` values.

    Steps (and seconds) are scaled by `tuner/epochs / tuner/max_epochs`,
    rounded up, at least 1; `eval_every` becomes a quarter of the steps as in
    `task_plan`. Without `tuner/*` values both come back unchanged.

    Args:
        budget: The task's budget in the worker's plan (`steps`, `seconds`,
            `eval_every`).
        hparams: The trial's hyperparameters, maybe with `tuner/*` values.

    Raises:
        ValueError: `tuner/epochs` without a positive `tuner/max_epochs`.
    """
    tuner = {k: v for k, v in hparams.items() if str(k).startswith(TUNER_PREFIX)}
    if not tuner:
        return budget, hparams
    rest = {k: v for k, v in hparams.items() if k not in tuner}
    if "tuner/epochs" not in tuner:
        return budget, rest
    epochs, max_epochs = tuner["tuner/epochs"], tuner.get("tuner/max_epochs")
    if not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"expected tuner/max_epochs, a positive integer, with tuner/epochs. "
                         f"Received: tuner/max_epochs={max_epochs!r}")
    fraction = min(1.0, epochs / max_epochs)
    scaled = dict(budget)
    if budget.get("steps"):
        scaled["steps"] = max(1, math.ceil(budget["steps"] * fraction))
        scaled["eval_every"] = max(1, scaled["steps"] // 4)
    if budget.get("seconds"):
        scaled["seconds"] = budget["seconds"] * fraction
    return scaled, rest


def planned_trials(oracle: keras_tuner.oracles.HyperbandOracle) -> int:
    """Trials of a complete Hyperband run of `oracle`: every round of every bracket."""
    per_iteration = sum(oracle._get_size(bracket, rnd)
                        for bracket in range(oracle._get_num_brackets())
                        for rnd in range(oracle._get_num_rounds(bracket)))
    return per_iteration * oracle.hyperband_iterations


def _search_task(space):
    for task in space.tasks:
        if task.role == "search":
            return task
    raise ValueError(f"expected a task with role 'search' for strategy 'hyperband'. Received: "
                     f"tasks={[(t.name, t.role) for t in space.tasks]}")


class HyperbandCellOracle(keras_tuner.oracles.HyperbandOracle):
    r"""KerasTuner's `HyperbandOracle` on the space's hyperparameters for one cell.

    Args:
        space: A loaded `SearchSpace` whose strategy is `hyperband`.
        max_trials: Overrides `space.max_trials` (at most the planned trials).
        seed: Overrides `space.seed`.
        max_in_flight: Unused (Ray bounds concurrency); the executor's signature.

    Example:
        >>> from archsearch.space import parse_search_space
        >>> space = parse_search_space(
        ...     "max_trials: 100\n"
        ...     "strategy: {name: hyperband, cell: lstm, max_epochs: 9}\n"
        ...     "tasks: [{name: arithmetic, budget: {steps: 90}}]\n")
        >>> oracle = HyperbandCellOracle(space)
        >>> oracle.planned, oracle.max_trials
        (23, 23)
        >>> values = oracle.populate_space("0")["values"]
        >>> values["tuner/epochs"], values["tuner/max_epochs"], values["task"]
        (1, 9, 'arithmetic')
    """

    strategy = "hyperband"

    def __init__(self, space, max_trials=None, seed=None, max_in_flight=2):
        params = space.strategy
        seed = space.seed if seed is None else seed
        genome = params.cell.genome
        fp = genome.fingerprint()
        hp = space_hyperparameters(space)
        hp.Fixed("cell", fp)
        hp.Fixed("task", _search_task(space).name)
        hp.Fixed("stage", "search")
        hp.Fixed("seed", seed)
        super().__init__(objective=keras_tuner.Objective("score", "max"),
                         max_epochs=params.max_epochs, factor=params.factor,
                         hyperband_iterations=params.hyperband_iterations, seed=seed + 1,
                         hyperparameters=hp, max_consecutive_failed_trials=10**9)
        self.verbose = 0
        self.space = space
        self.planned = planned_trials(self)
        # Trial ids are padded to the width of `max_trials`: the plan keeps them stable
        # whatever limit a resumed search sets.
        self.max_trials = self.planned
        self.limit = min(max_trials or space.max_trials, self.planned)
        self.genomes = {fp: genome.to_dict()}
        self.cells = {fp: CellState(fp, genome.name, None, "fixed")}
        self.exhausted = False
        self.storage = None  # set by a caller that reloads from a run directory (the CLI)
        self._was_ongoing: dict = {}

    def populate_space(self, trial_id):
        if len(self.trials) >= self.limit:
            return {"status": "STOPPED", "values": None}
        response = super().populate_space(trial_id)
        if response.get("values"):
            response["values"]["tuner/max_epochs"] = self.max_epochs
        elif response["status"] == "STOPPED":
            self.exhausted = True
        return response

    def _compute_values_hash(self, values):
        # KerasTuner leaves its per-round values out of the hash that tells
        # repeated configurations apart; the constant `tuner/max_epochs` too.
        return super()._compute_values_hash(
            {k: v for k, v in values.items() if k != "tuner/max_epochs"})

    def end_trial(self, trial):
        """Ends `trial` once, and saves after it left `ongoing_trials`.

        KerasTuner saves before it drops the trial from `ongoing_trials`, so a
        driver stopped after the last trial ended would find it still running.
        """
        if trial.trial_id in self.end_order:  # ended already; a restarted driver's reconcile
            for tuner_id, ongoing in list(self.ongoing_trials.items()):
                if ongoing.trial_id == trial.trial_id:
                    del self.ongoing_trials[tuner_id]
            return
        super().end_trial(trial)
        self.save()

    def remaining_trials(self):
        """Trials still to create: 0 once Hyperband has run every bracket."""
        return 0 if self.exhausted else max(0, self.limit - len(self.trials))

    def get_state(self):
        return {**super().get_state(), "exhausted": self.exhausted}

    def set_state(self, state):
        super().set_state(state)
        self.exhausted = bool(state.get("exhausted", False))
        self._was_ongoing = dict(self.ongoing_trials)

    def reload(self) -> bool:
        """Reloads the state, keeping the trials that were running as ongoing.

        KerasTuner queues them all to run again; the executor's `reconcile`
        instead ends those whose record exists (they finished while the
        driver was away) and queues only the others. With `storage` set (a
        run directory), the state is read from its `keras_tuner/`.

        Returns:
            Whether a saved state was found.
        """
        if self.storage is not None:
            if not self.storage.exists(f"{STATE_DIR}/oracle.json"):
                return False
            set_project_dir(self, self.storage.path(), STATE_DIR)
        super().reload()
        ids = {trial.trial_id for trial in self._was_ongoing.values()}
        self._retry_queue = [i for i in self._retry_queue if i not in ids]
        self.ongoing_trials = dict(self._was_ongoing)
        return True

    @property
    def queue(self) -> list:
        """Trials known to be still wanted: `[None]` until Hyperband is done, else `[]`.

        Hyperband creates its trials one at a time, so there is no queue of
        values; what callers ask (`archsearch search` on a finished run) is
        whether any are left.
        """
        return [] if self.remaining_trials() == 0 else [None]

    def in_flight(self) -> int:
        """Trials running now."""
        return len(self.ongoing_trials)
