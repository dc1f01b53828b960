"""`LeanTrials`: KerasTuner's trial life cycle at a constant cost per trial.

KerasTuner's base `Oracle` keeps every `Trial` (each with a copy of the whole
hyperparameter space), rescans every ended trial for consecutive failures at
each `end_trial`, and persists all of them. At paper scale (100k trials) that
is quadratic time and a state file of hundreds of megabytes. `LeanTrials`
keeps the same public surface the executor and KerasTuner callers use
(`create_trial`, `update_trial`, `end_trial`, `trials`, `ongoing_trials`,
`end_order`, `remaining_trials()`), but:

- trial ids come from a counter (never reused, even when the oracle's state
  is rebuilt from the trial records);
- an ended trial shrinks to an `EndedTrial` (id, status, score);
- counters (ended, failed, consecutive failures) are kept incrementally.

The trial records in the run directory are the source of truth for ended
trials; the oracle's saved state only holds the trials not yet ended.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import keras_tuner
from keras_tuner.engine import trial as trial_module

__all__ = ["EndedTrial", "LeanTrials", "RUNNING", "IDLE", "STOPPED", "COMPLETED", "FAILED"]

_Status = trial_module.TrialStatus
RUNNING, IDLE, STOPPED = _Status.RUNNING, _Status.IDLE, _Status.STOPPED
COMPLETED, FAILED = _Status.COMPLETED, _Status.FAILED


class EndedTrial(NamedTuple):
    """What the oracle keeps of an ended trial (the record holds the rest).

    Example:
        >>> EndedTrial("7", "COMPLETED", 0.5).status
        'COMPLETED'
    """

    trial_id: str
    status: str
    score: float | None


def new_trial(trial_id: str, values: dict, status: str = RUNNING) -> trial_module.Trial:
    """A KerasTuner `Trial` holding `values` only (no copy of the search space)."""
    hp = keras_tuner.HyperParameters()
    hp.values = dict(values)
    return trial_module.Trial(hyperparameters=hp, trial_id=trial_id, status=status)


class LeanTrials:
    """Mixin for a `keras_tuner.Oracle`: constant-cost trial bookkeeping.

    Subclasses call `_init_trials()` from `__init__` and implement
    `populate_space(trial_id)` and `on_trial_end(trial_id, values, objective)`.
    """

    def _init_trials(self) -> None:
        self.trials: dict[str, object] = {}
        self.ongoing_trials: dict[str, trial_module.Trial] = {}
        self.end_order: list[str] = []
        self._retry_queue: list[str] = []
        self.next_trial = 0       # ids are str(next_trial), never reused
        self.taken_ids: set[str] = set()  # files in trials/ that no readable record explains
        self.failed_count = 0
        self.consecutive_failed = 0

    # -- KerasTuner's public surface ------------------------------------------
    def create_trial(self, tuner_id):
        """Next trial for `tuner_id`: a retry, a new one, IDLE (wait) or STOPPED."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop()]
            trial.status = RUNNING
            self.ongoing_trials[tuner_id] = trial
            self.save()
            return trial
        while str(self.next_trial) in self.taken_ids:  # never collide with a file on disk
            self.next_trial += 1
        trial_id = str(self.next_trial)
        if self.max_trials and self.next_trial >= self.max_trials:
            response = {"status": STOPPED, "values": None}
        else:
            response = self.populate_space(trial_id)
        if response["status"] != RUNNING:
            return new_trial(trial_id, {}, response["status"])
        trial = new_trial(trial_id, response["values"])
        self.next_trial += 1
        self.trials[trial_id] = trial
        self.ongoing_trials[tuner_id] = trial
        self.save()
        return trial

    def update_trial(self, trial_id, metrics, step=0):
        """Records `metrics` (must include the objective) for an ongoing trial."""
        trial = self.trials[trial_id]
        if self.objective.name not in metrics:
            raise ValueError(f"Expected the objective {self.objective.name!r} in the metrics. "
                             f"Received: metrics={sorted(metrics)}")
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                trial.metrics.register(name, direction="max")
            trial.metrics.update(name, value, step=step)
        return trial

    def end_trial(self, trial):
        """Ends `trial` (COMPLETED with a finite score, else FAILED), then saves.

        The trial leaves `ongoing_trials` before the state is saved, so a
        restarted driver never reruns it.
        """
        kept = self.trials[trial.trial_id]
        if isinstance(kept, EndedTrial):
            return  # already ended (a duplicate report)
        values = dict(kept.hyperparameters.values)
        objective = None
        if trial.status == COMPLETED:
            best = kept.metrics.get_best_value(self.objective.name) \
                if kept.metrics.exists(self.objective.name) else None
            if best is not None and math.isfinite(best):
                objective = float(best)
        status = COMPLETED if objective is not None else FAILED
        self.trials[trial.trial_id] = EndedTrial(trial.trial_id, status, objective)
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial.trial_id:
                del self.ongoing_trials[tuner_id]
                break
        self._count_end(trial.trial_id, status)
        self.on_trial_end(trial.trial_id, values, objective)
        self.save()

    def remaining_trials(self):
        """Trials that may still be created (None without a limit)."""
        return self.max_trials - self.next_trial if self.max_trials else None

    def get_best_trials(self, num_trials=1):
        """The best ended trials by objective (completed first)."""
        ended = [t for t in self.trials.values() if isinstance(t, EndedTrial)]
        ended.sort(key=lambda t: (t.score is None, -(t.score or 0.0)))
        return ended[:num_trials]

    # -- helpers -----------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        """(ended trials, failed trials), kept incrementally."""
        return len(self.end_order), self.failed_count

    def _count_end(self, trial_id: str, status: str) -> None:
        self.end_order.append(trial_id)
        if status == FAILED:
            self.failed_count += 1
            self.consecutive_failed += 1
        else:
            self.consecutive_failed = 0

    def pending_trials(self) -> dict[str, dict]:
        """Trial id -> values of every trial created and not yet ended (running or to retry)."""
        pending = {t.trial_id: dict(t.hyperparameters.values)
                   for t in self.ongoing_trials.values()}
        for trial_id in self._retry_queue:
            pending[trial_id] = dict(self.trials[trial_id].hyperparameters.values)
        return pending

    def on_trial_end(self, trial_id: str, values: dict, objective: float | None) -> None:
        """Called once per ended trial with its values and objective (None: failed)."""
        raise NotImplementedError

    def _save_trial(self, trial):
        """Ended trials live in the run directory's records, not in oracle files."""
