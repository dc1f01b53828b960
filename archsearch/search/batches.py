"""Batches: one Ray Tune trial runs several oracle trials.

Ray Tune costs the driver a fixed amount per Tune trial (hundreds of
milliseconds here), far more than a simulated trial and more than a tiny
real one. A `Batcher` lets the executor's `OracleSearcher` hand up to B
oracle trials to one Tune trial; the worker (`run_batch`) runs them and
writes each member's record exactly as a trial run alone would (same trial
id, same content, created once); the driver then ends each member in the
oracle, one by one in creation order, so the oracle sees every result
individually.

Which trials join a batch: the first comes from `oracle.create_trial` as
without batching (it may make the oracle propose new cells); the others
only while the oracle already holds queued trials (or retries) — a batch
never waits and never makes the oracle propose early. A search driven one
trial at a time therefore makes the same decisions, and gets the same trial
ids, batched or not. Resume is unchanged: a member with a record is ended
from it; one without is retried (a worker retried by Ray skips the members
already recorded).

Batch sizes (`batch_limit`):

* `--simulate`: `SIMULATED_BATCH` members (instant trials).
* real training with `resources.population: K` or `auto`: members that
  `archsearch.training.population_groups` finds compatible (same cell, task,
  budget and shapes), at most K (`auto`: `auto_k(units)`, the measured CPU
  crossover, 1 from 256 units; the worker, which loads the task, may train
  them in smaller groups: `auto_k` for its table), are trained together by
  `archsearch.training.run_population`; the rest are held for the next
  Tune trials.
* otherwise, or with a scheduler other than `none` (they stop single trials
  from their Tune reports), one trial per Tune trial, as before.

A task whose batch came back trained one by one (a stream, attention
pooling, a table too large to fold) gets one trial per Tune trial from then
on (`Batcher.observe`), so the other workers share its trials.
"""

from __future__ import annotations

import math

__all__ = ["SIMULATED_BATCH", "Batcher", "batch_limit", "batch_trainable", "run_batch"]

#: Oracle trials per Tune trial with `--simulate` (each costs ~2-5 ms to record).
SIMULATED_BATCH = 32


def batch_limit(space, simulate: bool = False) -> int | str:
    """Most oracle trials per Tune trial: an integer, or `"auto"` (see the module doc).

    Example:
        >>> import archsearch
        >>> space = archsearch.load_search_space("search_spaces/lstm_ablations.yaml")
        >>> batch_limit(space), batch_limit(space, simulate=True)
        (1, 32)
    """
    if space.scheduler.name != "none":
        return 1
    if simulate:
        return SIMULATED_BATCH
    population = space.resources.population
    return 1 if population == "none" else population


class Batcher:
    """Takes the members of each Tune trial from the oracle (used by `OracleSearcher`).

    Args:
        limit: `batch_limit(space, simulate)`: an integer K or `"auto"`.
        populations: Group members with `population_groups` (real training);
            False: any trials may share a batch (simulated trials).
        plan: The worker plan (`archsearch.search.worker.task_plan`), for
            grouping by task options and budget.

    Example:
        >>> Batcher(32, populations=False).held
        []
    """

    def __init__(self, limit: int | str, populations: bool = True, plan: dict | None = None):
        if limit != "auto" and (isinstance(limit, bool) or not isinstance(limit, int)
                                or limit < 1):
            raise ValueError(f"Expected a batch limit >= 1 or 'auto'. Received: limit={limit!r}")
        self.limit, self.populations, self.plan = limit, populations, plan
        self.held: list[tuple[str, dict]] = []  # created, not yet handed to a Tune trial
        self._created = 0
        self.alone: set[tuple] = set()  # (task, units) a worker trained one by one

    @staticmethod
    def _kind(config: dict) -> tuple:
        from archsearch.training import resolve

        return config.get("task"), resolve(config.get("hparams"))["units"]

    def _size(self, config: dict) -> int:
        kind = self._kind(config)
        if self.populations and kind in self.alone:
            return 1
        if self.limit != "auto":
            return self.limit
        from archsearch.training import auto_k

        return auto_k(kind[1])

    def observe(self, configs: list[dict], records: list) -> None:
        """Learns from a finished batch whether its worker could train it as a population.

        A worker trains a batch's members one by one where the task allows no
        population (a stream, attention pooling, or under `auto` a table
        too large to fold: the driver cannot see the table). Later batches
        of that task and size then hold one trial each, so that every
        worker gets some, instead of one worker training them all in turn.

        Args:
            configs: The batch's worker configs.
            records: Their stored records (`TrialRecord`s), in the same order.
        """
        if not self.populations or len(records) < 2:
            return
        if any("total" not in (r.timings or {}) or r.simulated for r in records):
            return  # the driver recorded a member (its worker died), or none trained
        if all("population_size" not in r.timings for r in records):
            self.alone.add(self._kind(configs[0]))

    def _create(self, oracle, tune_id: str):
        self._created += 1  # every created trial gets its own tuner id
        return oracle.create_trial(tuner_id=f"{tune_id}/{self._created}")

    def take(self, oracle, tune_id: str, config_for) -> tuple[list[tuple[str, dict]], bool]:
        """The next batch as (oracle trial id, worker config) pairs, and whether the oracle stopped.

        An empty batch means: wait (the oracle is `IDLE`) or, if stopped, finished.
        """
        from archsearch.search.oracles.base import RUNNING, STOPPED  # driver only: KerasTuner

        members, self.held = self.held, []
        if not members:
            trial = self._create(oracle, tune_id)
            if trial.status != RUNNING:
                return [], trial.status == STOPPED
            members.append((trial.trial_id, config_for(trial)))
        size = self._size(members[0][1])
        while len(members) < size and (getattr(oracle, "queue", None)
                                       or getattr(oracle, "_retry_queue", None)):
            trial = self._create(oracle, tune_id)
            if trial.status != RUNNING:
                break
            members.append((trial.trial_id, config_for(trial)))
        if self.populations and len(members) > 1:
            from archsearch.training import population_groups

            first = population_groups([c for _, c in members],
                                      None if self.limit == "auto" else self.limit,
                                      self.plan)[0]
            chosen = {id(c) for c in first[:self._size(first[0])]}  # held ones: learned size
            self.held = [m for m in members if id(m[1]) not in chosen]
            members = [m for m in members if id(m[1]) in chosen]
        return members, False


def run_batch(configs: list[dict], plan: dict, run_dir: str, data_seed: int,
              cpus: float | None = None, trainer=None, simulate: bool = False) -> list[dict]:
    """Runs a batch's members on a worker; returns their stored records (JSON data).

    Members already recorded (a retried worker) are not run again. Simulated
    members are scored one by one; real ones train as one population when
    more than one is left (`execute_population`), else alone (`execute`). A
    `trainer` (tests) replaces `run_trial` and trains members one by one.
    """
    from archsearch.rundir import RunStore, read_trial
    from archsearch.search import simulate as simulated
    from archsearch.search.worker import execute, execute_population

    if simulate:  # write-once: a recorded member keeps its record
        return [simulated.execute(c, plan, run_dir, data_seed, cpus) for c in configs]
    store = RunStore(run_dir)
    stored = {c["trial_id"]: read_trial(store, c["trial_id"]) for c in configs}
    done = {k: r.model_dump(mode="json") for k, r in stored.items() if r is not None}
    todo = [c for c in configs if c["trial_id"] not in done]
    if len(todo) > 1 and trainer is None:
        records = execute_population(todo, plan, run_dir, data_seed, cpus)
    else:
        records = [execute(c, plan, run_dir, data_seed, cpus, trainer=trainer) for c in todo]
    done.update({r["trial_id"]: r for r in records})
    return [done[c["trial_id"]] for c in configs]


def batch_trainable(config, plan, run_dir, data_seed, cpus, trainer=None, simulate=False):
    """Ray Tune function trainable of a batch: `run_batch`, then one report.

    The report's `score` is the best member's (NaN if none scored); `failed`
    is true when every member failed. Members report no curves to Tune
    (batches only run without a scheduler).
    """
    from ray import tune

    records = run_batch(config["batch"], plan, run_dir, data_seed, cpus, trainer, simulate)
    scores = [r["score"] for r in records if r.get("score") is not None
              and math.isfinite(r["score"])]
    tune.report({"score": max(scores) if scores else float("nan"),
                 "failed": all(r["status"] == "failed" for r in records),
                 "members": len(records)})
