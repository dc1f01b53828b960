"""Runs a search on Ray Tune: the oracle proposes, Ray schedules, workers train.

Ray is the engine: each trial is `tune.with_resources(trainable, {"cpu": c,
"gpu": g})` (fractional GPUs allowed) and a Ray Tune `Searcher` adapter
(`archsearch.search.searcher.OracleSearcher`) feeds Tune from the KerasTuner
oracle, so concurrency is bounded by the cluster. The same call runs on a
laptop (a local Ray started here, the default) or joins a cluster (`address`,
or `RAY_ADDRESS` as set by `ray job submit`). With `--simulate` or
`resources.population`, one Tune trial runs a batch of oracle trials, each
recorded and ended in the oracle as if alone (`archsearch.search.batches`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import math
import os
import time

from ray import tune
from ray.tune.search import ConcurrencyLimiter

from archsearch.compat.keras_tuner import set_project_dir
from archsearch.rundir import Lease, LeaseLost, RunDirError, compact
from archsearch.search.batches import Batcher, batch_limit, batch_trainable
from archsearch.search.oracles import ORACLES, ArchitectureOracle
from archsearch.search.oracles.base import COMPLETED
from archsearch.search.oracles.cells import CellState
from archsearch.search.preflight import ResourceError, preflight
from archsearch.search.progress import SearchProgress
from archsearch.search.run_setup import open_run
from archsearch.search.schedulers import baseline_curves, make_scheduler
from archsearch.search.searcher import OracleSearcher
from archsearch.search.simulate import trainable as simulated_trainable
from archsearch.search.worker import task_plan
from archsearch.search.worker import trainable as worker_trainable
from archsearch.space.schema import Confirm

__all__ = ["OracleSearcher", "ResourceError", "SearchSummary", "StorageError", "make_oracle",
           "run_confirm", "run_search", "storage_message", "with_overrides"]

log = logging.getLogger("archsearch.search")

#: Tune trials per Tune run (`Tuner.fit`) before the next run takes over (no scheduler).
TUNE_TRIALS_PER_RUN = 2000
#: Keep each Tune run's experiment folder under `ray/` (for debugging Tune itself).
#: Off: archsearch never reads it, and Tune's experiment state is ~20 kB a trial.
KEEP_TUNE_STATE = False


@dataclasses.dataclass
class SearchSummary:
    """How a search call ended."""

    run_dir: str
    strategy: str
    trials: int
    failed: int
    seconds: float
    finished: bool
    resumed: bool
    best: list[dict]
    confirmed: int = 0


def make_oracle(space, max_trials=None, seed=None, workers=1) -> ArchitectureOracle:
    """The strategy's oracle for `space`."""
    cls = ORACLES[space.strategy.name]
    return cls(space, max_trials=max_trials, seed=seed, max_in_flight=max(2, workers or 1))


def _start_ray(address, workers, cpus_per_trial) -> bool:
    """Joins the Ray at `address` / `RAY_ADDRESS`, or starts a local one on loopback only.

    A local Ray is started with its node IP set to 127.0.0.1, so the GCS,
    the raylet, the object manager, the runtime-env agent, every worker and
    the driver's own gRPC server listen on 127.0.0.1 only (Ray binds every
    server to the node IP when that IP is loopback, else to 0.0.0.0), and
    without the dashboard. `ray.init(_node_ip_address="127.0.0.1")` alone is
    not enough: Ray replaces a loopback address by the machine's reachable IP
    unless `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` ("no cluster") was set before
    Ray was imported, so `ray.init` runs under `archsearch.compat.ray.no_cluster()`,
    which sets that switch for the call (the processes it starts inherit it). An
    address of `local` (or `RAY_ADDRESS=local`) also means this local Ray. Returns
    whether Ray was started (or joined) here.
    """
    import ray

    from archsearch.compat.ray import no_cluster

    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    target = address or os.environ.get("RAY_ADDRESS")
    if target and target != "local":  # "local" asks for a new local Ray: started below
        ray.init(address=address, **quiet)
        return True
    with no_cluster():
        ray.init(address="local",
                 num_cpus=None if workers is None else max(1, math.ceil(workers * cpus_per_trial)),
                 include_dashboard=False, _node_ip_address="127.0.0.1",
                 runtime_env={"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}, **quiet)
    return True


def with_overrides(space, *, seed=None, max_trials=None, cpus_per_trial=None,
                   gpus_per_trial=None):
    """`space` with the command line's overrides applied (validated like the YAML's keys)."""
    update = {key: value for key, value in (("seed", seed), ("max_trials", max_trials))
              if value is not None}
    resources = {key: value for key, value in (("cpus", cpus_per_trial), ("gpu", gpus_per_trial))
                 if value is not None}
    if resources:
        merged = {**space.resources.model_dump(), **resources}
        update["resources"] = type(space.resources).model_validate(merged)
    return space.model_copy(update=update) if update else space


def run_search(space, run_dir, *, address=None, max_trials=None, workers=None, seed=None,
               progress=True, oracle=None, max_failures=2, force=False,
               simulate=False, trainer=None, cpus_per_trial=None, gpus_per_trial=None,
               pending_timeout=900.0, say=None) -> SearchSummary:
    """Runs (or resumes) a search; returns when it is done or interrupted.

    Args:
        space: A loaded `SearchSpace`.
        run_dir: Local path or storage URI of the run directory.
        address: Ray cluster address (default: `RAY_ADDRESS`, else a local Ray).
        max_trials: Overrides the space's `max_trials` (may grow on resume).
        workers: Trials at once (default: as many as Ray's resources allow).
        seed: Overrides the space's seed (must match when resuming).
        progress: Show the live progress view.
        oracle: A KerasTuner oracle to use instead of the space's strategy
            (tunes the hyperparameters of `space.cells()[0]` on the first task).
        max_failures: Times Ray retries a trial whose worker died.
        force: Take the run directory's lease even if another live driver
            holds it (see `archsearch.rundir.Lease`).
        simulate: Score trials with `archsearch.search.simulate` (deterministic,
            instant, records marked `simulated`) instead of training them;
            simulated trials ask for no GPU and at most one node's CPUs.
        trainer: Replaces `archsearch.training.run_trial` on the workers (see
            `archsearch.search.worker.execute`), e.g. a fake with known curves.
        cpus_per_trial: Overrides `resources.cpus` (recorded in `run.json`).
        gpus_per_trial: Overrides `resources.gpu` (recorded in `run.json`).
        pending_timeout: Seconds to wait for an autoscaler to add a node that
            can hold one trial (see `archsearch.search.preflight`).
        say: Where start-up lines go (default: the `archsearch.search` logger).

    Returns:
        A `SearchSummary`.

    Raises:
        RunDirError: the run directory cannot be used, or another driver is
            running on it (nothing written, nothing trained); `LeaseLost`
            when another driver took the run over while this one ran.
        ResourceError: the Ray cluster can never run one trial (nothing written).
    """
    space = with_overrides(space, seed=seed, max_trials=max_trials,
                           cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial)
    strategy, genomes = (space.strategy.name, None) if oracle is None else \
        _tuning_one_cell(oracle, space)
    storage, _ = open_run(space, run_dir, strategy, create=False)  # checks; writes nothing
    say = say or log.warning
    with _driving(space, storage, address=address, workers=workers, force=force,
                  simulate=simulate, pending_timeout=pending_timeout, say=say) as (space, lease):
        oracle = make_oracle(space, workers=workers) if oracle is None else oracle
        # The one place that tells the kinds of oracle apart: archsearch's
        # strategies, or a KerasTuner oracle behind an adapter.
        oracle = oracle if isinstance(oracle, ArchitectureOracle) else KerasTunerAdapter(oracle)
        summary = _search(space, run_dir, oracle, strategy, genomes, lease,
                          workers=workers, progress=progress, max_failures=max_failures,
                          simulate=simulate, trainer=trainer)
        if space.confirm is not None and summary.finished and not lease.lost \
                and oracle.architectures:
            summary.confirmed = _confirm(space, oracle, lease, top=space.confirm.top,
                                         seeds=space.confirm.seeds, workers=workers,
                                         progress=progress, max_failures=max_failures,
                                         simulate=simulate, trainer=trainer, say=say)
    return summary


@contextlib.contextmanager
def _driving(space, storage, *, address, workers, force, simulate, pending_timeout, say):
    """For the block: Ray up, pre-flight passed, the run directory's lease held.

    Yields the space to run (`--simulate` may change its resources) and the
    lease; gives the lease back and stops a Ray it started afterwards.

    Raises:
        LeaseLost: another driver took the run over during the block.
    """
    lease = Lease(storage, force=force)  # one driver per run directory
    lease.check_free()  # a second driver fails before Ray starts
    owns_ray = _start_ray(address, workers, space.resources.cpus)
    try:
        space = preflight(space, local=owns_ray and not _joined(address), simulate=simulate,
                          pending_timeout=pending_timeout, say=say)
        lease.acquire()
        try:
            yield space, lease
        finally:
            lease.release()
        if lease.lost:
            raise LeaseLost(lease.lost_message())
    finally:
        if owns_ray:
            import ray
            ray.shutdown()


def run_confirm(space, run_dir, *, top=None, seeds=None, address=None, workers=None,
                progress=True, max_failures=2, force=False, simulate=False, trainer=None,
                cpus_per_trial=None, gpus_per_trial=None, pending_timeout=900.0,
                say=None) -> int:
    """Confirms the best cells of an existing run (`archsearch confirm`); returns trials run.

    The run's search is not resumed: its oracle state is read to rank the
    cells. `top` and `seeds` default to the space's `confirm` settings, else
    5 and 5. See `archsearch.search.confirm`.

    Raises:
        RunDirError: the run directory cannot be used or another driver holds it.
        ResourceError: the Ray cluster can never run one trial.
    """
    space = with_overrides(space, cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial)
    defaults = space.confirm or Confirm()
    top, seeds = top or defaults.top, seeds or defaults.seeds
    storage, resumed = open_run(space, run_dir, space.strategy.name, create=False)
    if not resumed:
        raise RunDirError(f"{storage.uri}: no run to confirm (no run.json)")
    say = say or log.warning
    with _driving(space, storage, address=address, workers=workers, force=force,
                  simulate=simulate, pending_timeout=pending_timeout, say=say) as (space, lease):
        oracle = make_oracle(space, workers=workers)
        oracle.storage = storage
        if not oracle.reload():
            raise RunDirError(f"{storage.uri}: the run has no finished trials to confirm")
        ran = _confirm(space, oracle, lease, top=top, seeds=seeds, workers=workers,
                       progress=progress, max_failures=max_failures, simulate=simulate,
                       trainer=trainer, say=say)
    return ran


def _confirm(space, oracle, lease, *, top, seeds, workers, progress, max_failures,
             simulate, trainer, say) -> int:
    """The confirmation step: plan from the search, print the budget, run what has no record."""
    from archsearch.search.confirm import ConfirmOracle, plan_confirmation
    from archsearch.search.oracles.state import read_records

    storage = oracle.storage
    records = read_records(storage)
    plan = plan_confirmation(space, oracle.scored(), records, top, seeds)
    for line in plan.skipped:
        say(f"confirmation: skipped {line}")
    done = {r.trial_id for r in records if r.phase == "confirm"}
    confirm = ConfirmOracle(plan, done)
    say(plan.describe(workers) + (f" ({len(plan.trials) - len(confirm.queue)} already "
                                  f"recorded)" if len(confirm.queue) < len(plan.trials) else ""))
    if not confirm.queue:
        return 0
    searcher = OracleSearcher(confirm, storage, confirm.genomes, "confirm",
                              _batcher(space, simulate), lease=lease)
    view = SearchProgress(confirm, len(confirm.queue), enabled=progress)
    _tune(space, storage, searcher, view, None, workers=workers, max_failures=max_failures,
          simulate=simulate, trainer=trainer)
    return len(confirm.end_order)


def _tuning_one_cell(oracle, space) -> tuple[str, dict]:
    """A KerasTuner oracle tunes the first cell on the first task: fixes those values.

    Returns:
        The strategy name recorded in the trials, and the cell's genome by fingerprint.
    """
    genome = space.cells()[0]
    hp = oracle.hyperparameters
    hp.Fixed("cell", genome.fingerprint())
    hp.Fixed("task", space.tasks[0].name)
    hp.Fixed("stage", "search")
    hp.Fixed("seed", space.seed)
    return f"keras_tuner:{type(oracle).__name__}", {genome.fingerprint(): genome.to_dict()}


def _joined(address) -> bool:
    """Whether `address` / `RAY_ADDRESS` names a cluster to join (not a new local Ray)."""
    target = address or os.environ.get("RAY_ADDRESS")
    return bool(target) and target != "local"


class StorageError(RunDirError):
    """The run directory could not be written (full disk, permissions, unreachable)."""


class _Stopper(tune.Stopper):
    """Stops every Tune trial at once when the driver loses its lease or its storage."""

    def __init__(self, searcher):
        self.searcher = searcher

    def __call__(self, trial_id, result):
        return self.searcher.stopping

    def stop_all(self):
        return self.searcher.stopping


def storage_message(where: str, err: OSError) -> str:
    """One line: which path failed and why (`[Errno 28] No space left on device`)."""
    path = err.filename or where
    cause = f"{err.strerror} (errno {err.errno})" if err.strerror else (str(err) or
                                                                       type(err).__name__)
    return (f"{path}: cannot write the run directory: {cause}; finished trials are kept, fix "
            f"the cause and rerun the same command to resume")


def _search(space, run_dir, oracle, strategy, genomes, lease, *, workers, progress,
            max_failures, simulate=False, trainer=None) -> SearchSummary:
    """`run_search` once Ray is up, pre-flight passed and the run directory's lease is held."""
    storage, resumed = open_run(space, run_dir, strategy)
    oracle.attach(storage, resumed)
    searcher = OracleSearcher(oracle.searched, storage, genomes, strategy,
                              _batcher(space, simulate) if oracle.architectures else None,
                              lease=lease)
    if resumed:
        searcher.reconcile()
    start = time.monotonic()
    baseline = space.baseline_genome().fingerprint()
    scheduler = make_scheduler(space.scheduler, baseline, on_stop=searcher.record_stopped,
                               curves=baseline_curves(storage, baseline)
                               if space.scheduler.name == "curve_cut" else None)
    view = SearchProgress(oracle, oracle.max_trials, enabled=progress)
    _tune(space, storage, searcher, view, scheduler, workers=workers,
          max_failures=max_failures, simulate=simulate, trainer=trainer)
    return _summary(storage, strategy, oracle, view, start, resumed)


def _batcher(space, simulate: bool) -> Batcher | None:
    """Several oracle trials per Tune trial (simulated, or populations), or None."""
    limit = batch_limit(space, simulate)
    return Batcher(limit, populations=not simulate, plan=task_plan(space)) if limit != 1 \
        else None


def _tune(space, storage, searcher, view, scheduler, *, workers, max_failures, simulate,
          trainer) -> None:
    """Runs Tune until the searcher's oracle is done, then compacts the trial index.

    Raises:
        StorageError: the run directory could not be written (the search stopped).
    """
    plan = task_plan(space)
    extra = {} if simulate and searcher.batcher is None else {"trainer": trainer}
    if searcher.batcher is not None:
        function, extra["simulate"] = batch_trainable, simulate
    else:
        function = simulated_trainable if simulate else worker_trainable
    trainable = tune.with_resources(
        tune.with_parameters(function, plan=plan, run_dir=storage.uri,
                             data_seed=space.seed, cpus=space.resources.cpus, **extra),
        {"cpu": space.resources.cpus, "gpu": space.resources.gpu})
    storage_path = storage.path("ray") if storage.is_local else storage.uri.rstrip("/") + "/ray"
    # The run directory's records are archsearch's log; Tune's per-trial CSV,
    # JSON and TensorBoard loggers would only add files and driver time.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

    def tuner(name: str) -> tune.Tuner:
        return tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=ConcurrencyLimiter(searcher, workers) if workers else searcher,
                scheduler=scheduler, num_samples=-1, reuse_actors=True),
            run_config=tune.RunConfig(
                name=name, storage_path=storage_path, verbose=0, stop=_Stopper(searcher),
                callbacks=[view], failure_config=tune.FailureConfig(max_failures=max_failures)))

    logging.getLogger("ray.tune").setLevel(logging.WARNING)
    # Without its CSV/JSON loggers Tune's result grid warns, per trial, that it
    # found no result.json; archsearch never reads that grid (records are the log).
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    # Tune prints its own banner to stdout even when silent; archsearch
    # shows its own progress (stderr) and summary instead.
    # Successive Tune runs of at most TUNE_TRIALS_PER_RUN trials: Tune keeps
    # every trial of a run in the driver, the run directory carries the search.
    with view, contextlib.redirect_stdout(io.StringIO()):
        while True:
            searcher.new_run(TUNE_TRIALS_PER_RUN if scheduler is None else None)
            name = f"tune-{int(time.time() * 1000)}"
            tuner(name).fit()
            if not KEEP_TUNE_STATE:  # the records and oracle.json carry the search
                storage.delete_tree(f"ray/{name}")
            if not searcher.capped or searcher.stopping:
                break
    if searcher.storage_error is not None:
        raise StorageError(storage_message(storage.uri, searcher.storage_error))
    if searcher.fenced:  # the new holder owns the index and the oracle state now
        return
    try:  # one index file for the next report or resume; the records stay the truth
        compact(storage)
    except Exception as err:  # noqa: BLE001 - a cache that failed to compact costs reads only
        log.warning("trial index not compacted: %s", err)


def _summary(storage, strategy, oracle, view, start, resumed) -> SearchSummary:
    done, failed = view.counts()
    finished = oracle.remaining_trials() == 0 or (
        oracle.architectures and not oracle.queue and not oracle.in_flight()
        and not oracle.ongoing_trials)
    return SearchSummary(storage.uri, strategy, done, failed, time.monotonic() - start,
                         bool(finished), resumed, oracle.best_cells())


class KerasTunerAdapter:
    """A KerasTuner oracle (tuning one cell's hyperparameters) as the executor drives oracles.

    Its state lives in the run directory's `keras_tuner/`; its trials run one
    per Tune trial (no batches) and its summary lists no cells (it tunes one).
    Reads fall through to the oracle.
    """

    architectures = False

    def __init__(self, oracle):
        self._oracle = oracle

    def __getattr__(self, name):
        return getattr(self._oracle, name)

    @property
    def searched(self):
        """The oracle itself (what the Tune searcher asks for trials)."""
        return self._oracle

    def attach(self, storage, resumed: bool) -> None:
        """Keeps the oracle's state in `keras_tuner/`; reloads it when resuming."""
        set_project_dir(self._oracle, storage.path(), "keras_tuner")
        if resumed and storage.exists("keras_tuner/oracle.json"):
            self._oracle.reload()

    def best_cells(self, k: int = 5) -> list[dict]:
        """None: a tuning study has one cell."""
        return []

    def scored(self) -> list[CellState]:
        """Each completed trial as a scored cell (the progress line shows the best)."""
        trials = [t for t in self._oracle.trials.values() if t.status == COMPLETED]
        return [CellState(t.trial_id, name=f"trial {t.trial_id}", score=t.score)
                for t in trials]
