"""The Ray Tune `Searcher` adapter: feeds Tune from a KerasTuner oracle.

`OracleSearcher` asks the oracle for trials (`suggest`), ends them in the
oracle from the records the workers wrote (`on_trial_complete`, `finish`),
writes the `stopped` record of a trial a scheduler stops (`record_stopped`)
and, after a driver restart, ends or retries the trials left running
(`reconcile`). `archsearch.search.executor.run_search` runs it.
"""

from __future__ import annotations

from ray.tune.search import Searcher

from archsearch.compat.keras_tuner import retry_trial
from archsearch.rundir import TrialRecord, read_trial, write_trial
from archsearch.scoring import objective
from archsearch.search.oracles.base import COMPLETED, FAILED, RUNNING, STOPPED
from archsearch.search.schedulers import stopped_result
from archsearch.search.trial_records import failed_record, trial_record
from archsearch.search.worker import curve_path
from archsearch.space.hyperparameters import current_names

__all__ = ["OracleSearcher"]


class OracleSearcher(Searcher):
    """Ray Tune `Searcher` that asks a KerasTuner oracle for trials.

    `suggest` returns the next trial's config, `None` while the oracle waits
    for results, or `FINISHED`; `on_trial_complete` reads the record the
    worker wrote (or, if there is none, creates a failed one) and ends the
    trial in the oracle, which then saves its state. The driver never
    rewrites a record; the finishing order is the oracle's `end_order`.

    Args:
        oracle: An `ArchitectureOracle` (or a KerasTuner oracle whose
            hyperparameters hold `cell`, `task`, `stage` and `seed` values).
        storage: The run's `archsearch.rundir.RunStore`.
        genomes: Fingerprint -> genome dict, for oracles that do not hold them.
        strategy: Name written in the records.
        batcher: A `archsearch.search.batches.Batcher`: each Tune trial then
            runs a batch of oracle trials (config `{"batch": [configs]}`),
            ended one by one in the oracle. None: one trial per Tune trial.
        lease: The driver's `archsearch.rundir.Lease`. Once it is lost the
            searcher proposes nothing more, and neither records nor ends
            trials in the oracle (the new holder does); workers write no
            record under it (its token travels in each config).
    """

    def __init__(self, oracle, storage, genomes=None, strategy=None, batcher=None, lease=None):
        super().__init__(metric="score", mode="max")
        self.oracle, self.storage, self.batcher, self.lease = oracle, storage, batcher, lease
        self.genomes = genomes if genomes is not None else oracle.genomes
        self.strategy = strategy or getattr(oracle, "strategy", type(oracle).__name__)
        # Tune id -> (oracle trial id, config), or a list of them for a batch.
        self.running: dict[str, tuple[str, dict] | list[tuple[str, dict]]] = {}
        self.limit: int | None = None  # Tune trials this Tune run may start (None: any)
        self.started = 0
        self.capped = False  # the last Tune run ended at `limit`, not with the search
        self.storage_error: OSError | None = None  # the run directory could not be written

    @property
    def fenced(self) -> bool:
        """Whether the driver lost its lease: it must not touch the run any more."""
        return self.lease is not None and not self.lease.held()

    def new_run(self, limit: int | None) -> None:
        """Starts counting the Tune trials of one Tune run (`tune.Tuner.fit`)."""
        self.limit, self.started, self.capped = limit, 0, False

    def config_for(self, trial) -> dict:
        """The worker's config of a KerasTuner trial."""
        values = dict(trial.hyperparameters.values)
        fp = values.pop("cell")
        cell = getattr(self.oracle, "cells", {}).get(fp)  # a CellState, if it keeps one
        genome = self.genomes[fp]
        return {"trial_id": trial.trial_id, "task": values.pop("task"),
                "stage": values.pop("stage", "search"), "seed": values.pop("seed", 0),
                "sample": values.pop("sample", None), "phase": values.pop("phase", "search"),
                "fingerprint": fp, "genome": genome,
                "name": genome.get("name"),
                "parent": cell and cell.parent, "origin": cell.origin if cell else "fixed",
                "strategy": self.strategy, "lease": self.lease and self.lease.token,
                "hparams": current_names(values)}  # names of old oracle snapshots too

    @property
    def stopping(self) -> bool:
        """Whether the search must stop now: the lease is lost or storage failed."""
        return self.storage_error is not None or self.fenced

    def suggest(self, trial_id):
        if self.stopping:
            return Searcher.FINISHED
        if self.limit is not None and self.started >= self.limit:
            self.capped = True
            return Searcher.FINISHED
        try:
            config = self._suggest(trial_id)
        except OSError as err:  # oracle.json could not be saved: stop, say so once
            self.storage_error = err
            return Searcher.FINISHED
        if isinstance(config, dict):
            self.started += 1
        return config

    def _suggest(self, trial_id):
        if self.batcher is not None:
            members, stopped = self.batcher.take(self.oracle, trial_id, self.config_for)
            if members:
                self.running[trial_id] = members
                return {"batch": [config for _, config in members]}
            return Searcher.FINISHED if stopped else None
        trial = self.oracle.create_trial(tuner_id=trial_id)
        if trial.status == RUNNING:
            config = self.config_for(trial)
            self.running[trial_id] = (trial.trial_id, config)
            return config
        if trial.status == STOPPED:
            return Searcher.FINISHED
        return None

    def save(self, checkpoint_path):
        """The search state lives in the run directory (oracle.json), not in Tune's."""

    def restore(self, checkpoint_path):
        """See `save`: resuming reads the run directory."""

    def on_trial_complete(self, trial_id, result=None, error=False):
        if trial_id not in self.running or self.stopping:
            return
        reason = "the worker running this trial died or raised" if error else \
            "the trial reported no result"
        members = self.running.pop(trial_id)  # a batch: ended in creation order
        records = []
        try:
            for kt_id, config in members if isinstance(members, list) else [members]:
                # Creates a failed record only if the worker wrote none; returns the
                # worker's if it did, and raises RunDirError if the id holds another trial.
                record = write_trial(self.storage, failed_record(config, self.strategy, reason))
                self.finish(kt_id, record)
                records.append(record)
        except OSError as err:  # full disk, permissions: the search stops, records kept
            self.storage_error = err
            return
        if self.batcher is not None and isinstance(members, list) and not error:
            self.batcher.observe([config for _, config in members], records)

    def record_stopped(self, trial_id, points: list[dict], reason: str) -> None:
        """Writes the `stopped` record of Tune trial `trial_id` (a scheduler's `on_stop`).

        Called before Tune stops the trial, while its worker waits in
        `tune.report`: the record exists before the trial ends, so a driver
        killed from here on finds it when it resumes.
        """
        if trial_id not in self.running or self.fenced:
            return
        entry = self.running[trial_id]  # with a scheduler, never a batch
        _, config = entry[0] if isinstance(entry, list) else entry
        last = points[-1]
        worker = {"node": last.get("node_ip"), "node_id": None,
                  "hostname": last.get("hostname"), "pid": last.get("pid")}
        record = trial_record(config, stopped_result(points, reason), self.strategy,
                              started_at=None, worker=worker)
        write_trial(self.storage, record)
        self.storage.delete(curve_path(record.trial_id))

    def finish(self, kt_id: str, record: TrialRecord) -> None:
        """Ends the trial in the oracle with the result its record holds.

        A `stopped` trial is evaluated, with the partial score of its best
        evaluation before it was stopped; only a `failed` one is a failure.
        """
        oracle = self.oracle
        trial = oracle.trials[kt_id]
        value = objective(record.score, record.score_mode or "max")  # the paper's rule, once
        if record.status in ("completed", "stopped") and value is not None:
            oracle.update_trial(kt_id, {"score": value})
            trial.status = COMPLETED
        else:
            trial.status = FAILED
            trial.message = record.failure
        oracle.end_trial(trial)

    def reconcile(self) -> int:
        """After a driver restart: end trials whose workers finished, retry the rest."""
        oracle, resumed = self.oracle, 0
        for tuner_id, trial in list(oracle.ongoing_trials.items()):
            record = read_trial(self.storage, trial.trial_id)
            if record is not None:  # written once, when the trial finished
                self.finish(trial.trial_id, record)
                resumed += 1
            else:
                oracle.ongoing_trials.pop(tuner_id, None)
                retry_trial(oracle, trial.trial_id)
        oracle.save()
        return resumed
