"""What runs on a Ray worker: one trial, its live curve, its record created once.

While a trial trains, every evaluation goes to `curves/<trial_id>.json` (the
curve so far, rewritten atomically, so a report on a running search shows
it) and to the `report` callback (Ray Tune's `tune.report`, where the
schedulers of `archsearch.search.schedulers` decide). The record is created
once when the trial ends; its curve file is then removed.
"""

from __future__ import annotations

import contextlib
import json
import time

from archsearch import scoring
from archsearch.rundir import RunStore, check_token, write_trial
from archsearch.search.trial_records import now, trial_record

__all__ = ["CURVES_DIR", "LiveCurve", "curve_path", "execute", "execute_population",
           "task_plan", "trainable"]

#: Where running trials' curves are kept, relative to the run directory.
CURVES_DIR = "curves"

_DATA_CACHE: dict[str, object] = {}
_CACHE_SIZE = 4


def task_plan(space) -> dict:
    """Per task, the plain data a worker needs: load options and budget."""
    plan = {}
    for spec in space.tasks:
        b = spec.budget
        options = {"fraction": b.data_fraction, "seq_len": spec.seq_len,
                   "batch_size": b.batch_size, **spec.options}
        steps = b.steps
        plan[spec.name] = {
            "options": {k: v for k, v in options.items() if v is not None},
            "budget": {"steps": steps, "seconds": b.seconds,
                       "eval_every": max(1, steps // 4) if steps else 50},
            "xla": space.resources.xla,
            "population": space.resources.population,
        }
    return plan


def _load(task: str, options: dict, data_seed: int):
    """Task data, cached per worker process (workers are reused across trials)."""
    from archsearch import tasks

    key = json.dumps([task, options, data_seed], sort_keys=True)
    if key not in _DATA_CACHE:
        if len(_DATA_CACHE) >= _CACHE_SIZE:
            _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
        _DATA_CACHE[key] = tasks.get(task).load(seed=data_seed, **options)
    return _DATA_CACHE[key]


def limit_threads(cpus: float) -> None:
    """Keeps TensorFlow to the CPUs Ray reserved for the trial (once per process).

    TensorFlow otherwise sizes its thread pools to the whole machine, and
    trials running side by side fight over every core.
    """
    import tensorflow as tf

    threads = max(1, round(cpus))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already started in this process: keep its pools


def curve_path(trial_id: str) -> str:
    """The live curve file of trial `trial_id`, relative to the run directory."""
    from archsearch.rundir import trial_path

    return CURVES_DIR + trial_path(trial_id)[len("trials"):]


def progress(point: dict, budget: dict) -> float:
    """The fraction of `budget` (steps and/or seconds) spent at curve `point`, at most 1."""
    parts = [point.get("step", 0) / budget["steps"] if budget.get("steps") else 0.0,
             point.get("seconds", 0.0) / budget["seconds"] if budget.get("seconds") else 0.0]
    return min(1.0, max(parts))


class LiveCurve:
    """The `on_eval` callback of a trial: keeps its curve file and reports to Ray Tune.

    Each call rewrites `curves/<trial_id>.json` with the curve so far, then
    calls `report` with `progress` (fraction of the budget spent), `score`
    (the objective, higher is better, of the best evaluation so far),
    `step`, `score_metric`, `score_mode` and the curve `point`. Time spent
    here is `seconds`. If Tune stops the trial, `report` does not return
    (it raises `SystemExit` in the trial's thread); the driver has written
    the stopped record by then.

    Example:
        >>> import tempfile
        >>> seen = []
        >>> live = LiveCurve(RunStore(tempfile.mkdtemp()), {"trial_id": "3", "task": "xml"},
        ...                  {"steps": 100}, "accuracy", "max", report=seen.append)
        >>> live({"step": 50, "seconds": 1.0, "valid_accuracy": 0.5})
        >>> live({"step": 100, "seconds": 2.0, "valid_accuracy": 0.25})
        >>> [(r["progress"], r["score"]) for r in seen]
        [(0.5, 0.5), (1.0, 0.5)]
    """

    def __init__(self, store: RunStore, config: dict, budget: dict, metric: str, mode: str,
                 report=None):
        self.store, self.config, self.budget, self.report = store, config, budget, report
        self.metric, self.mode = metric, mode
        self.curve: list[dict] = []
        self.best: float | None = None
        self.seconds = 0.0
        self.path = curve_path(str(config["trial_id"]))

    def __call__(self, point: dict):
        t = time.perf_counter()
        self.curve.append(point)
        value = scoring.objective(point.get(f"valid_{self.metric}"), self.mode)
        if value is not None and (self.best is None or value > self.best):
            self.best = value
        config = self.config
        self.store.write_json(self.path, {
            "trial_id": str(config["trial_id"]), "task": config.get("task"),
            "fingerprint": config.get("fingerprint"), "name": config.get("name"),
            "stage": config.get("stage"), "seed": config.get("seed"),
            "score_metric": self.metric, "score_mode": self.mode,
            "updated_at": now(), "curve": self.curve})
        self.seconds += time.perf_counter() - t
        if self.report is not None:
            t = time.perf_counter()
            try:
                self.report({"progress": progress(point, self.budget),
                             "score": float("nan") if self.best is None else self.best,
                             "step": point.get("step", 0), "score_metric": self.metric,
                             "score_mode": self.mode, "point": point})
            finally:
                self.seconds += time.perf_counter() - t

    def remove(self) -> None:
        """Deletes the curve file (the record now holds the curve)."""
        with contextlib.suppress(Exception):
            self.store.delete(self.path)


def execute(config: dict, plan: dict, run_dir: str, data_seed: int,
            cpus: float | None = None, report=None, trainer=None) -> dict:
    """Trains the trial described by `config`; records it and returns the stored record (JSON data).

    The record is created exclusively: if the trial was recorded already (Ray
    retried it after its record was written, or the driver recorded it as
    stopped), the stored record is kept and returned.

    Args:
        config: The trial (see `OracleSearcher.config_for`).
        plan: `task_plan(space)`.
        run_dir: The run directory's URI.
        data_seed: Seed of the task data.
        cpus: CPUs reserved for the trial (TensorFlow's thread pools).
        report: Called with each evaluation (see `LiveCurve`), e.g. `tune.report`.
        trainer: Replaces `archsearch.training.run_trial` (same signature;
            returns a `TrialResult` or its dict), e.g. a fake with known
            curves in tests. The task data is then not loaded here.

    Raises:
        RunDirError: the trial id already records a different trial.
    """
    from archsearch import tasks
    from archsearch.search.oracles.hyperband import trial_budget

    if trainer is None:
        from archsearch.training import run_trial
    if cpus and trainer is None:
        limit_threads(cpus)

    started = now()
    store = RunStore(run_dir)
    task = plan[config["task"]]
    budget, hparams = trial_budget(task["budget"], config["hparams"])  # Hyperband's tuner/*
    data, failure = None, None
    t = time.perf_counter()
    try:
        data = _load(config["task"], task["options"], data_seed) if trainer is None else None
        kind = data if data is not None else tasks.get(config["task"])
    except Exception as err:  # noqa: BLE001 - reported as the trial's failure
        failure = f"{type(err).__name__}: {err}"
    load_seconds = time.perf_counter() - t
    live = None
    if failure is not None:
        result = {"status": "failed", "failure": failure, "hparams": config["hparams"]}
    else:
        live = LiveCurve(store, config, budget, kind.score_metric, kind.score_mode,
                         report)
        # A replacement trainer (a test's) takes run_trial's arguments without xla.
        xla = {} if trainer is not None else {"xla": task.get("xla", "auto")}
        result = (trainer or run_trial)(config["genome"], hparams, config["task"],
                                        budget=budget, seed=config["seed"], data=data,
                                        on_eval=live, **xla)
        result = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        # Loading is cached per worker; count what this trial actually waited for.
        timings = result.setdefault("timings", {})
        timings["data"] = round(load_seconds, 4)
        timings["total"] = round(timings.get("total", 0.0) + load_seconds, 4)
        timings["report"] = round(live.seconds, 4)  # curve file and Tune reports
    record = trial_record(config, result, config["strategy"], started)
    check_token(store, config.get("lease"))  # a driver that lost its lease records nothing
    stored = write_trial(store, record).model_dump(mode="json")
    if live is not None:
        live.remove()
    return stored


def trainable(config, plan, run_dir, data_seed, cpus, trainer=None):
    """Ray Tune function trainable of one trial: `execute`, then report the score.

    Each evaluation goes to `tune.report`, where the space's scheduler decides.
    """
    from ray import tune

    record = execute(config, plan, run_dir, data_seed, cpus, report=tune.report,
                     trainer=trainer)  # JSON data of the stored record
    score = record.get("score")
    tune.report({"score": float("nan") if score is None else float(score),
                 "failed": record["status"] == "failed"})


def _auto_size(config: dict, data) -> int:
    """`population: auto`'s K for this trial's task (`archsearch.training.auto_k`)."""
    from archsearch.training import auto_k, resolve

    table = data.vocab_size if data.input_kind == "tokens" else None
    tokens = data.batch_size * data.seq_len
    if table is None:  # a dense input: nothing folds, one by one (not measured faster)
        return 1
    return auto_k(resolve(config.get("hparams"))["units"], table, tokens)


def execute_population(configs: list[dict], plan: dict, run_dir: str, data_seed: int,
                       cpus: float | None = None) -> list[dict]:
    """Trains compatible trials together (`run_population`); records each as if alone.

    `configs` share cell, task and shapes (`archsearch.training.population_groups`).
    Each member keeps its own hyperparameters, seed, live curve file and
    record (created once, as `execute` would); a diverging member fails
    alone. Tasks a population cannot train (stateful, attention pooling)
    fall back to `execute`, one member after another. Under
    `population: auto` (the plan's `population`), the members train in
    groups of `auto_k` for the task's table and batch, known only here
    (a group of one trains as `execute` trains a trial).

    Returns:
        The stored records (JSON data), in `configs` order.
    """
    if cpus:
        limit_threads(cpus)
    started, store = now(), RunStore(run_dir)
    first = configs[0]
    task = plan[first["task"]]
    t = time.perf_counter()
    try:
        data = _load(first["task"], task["options"], data_seed)
    except Exception:  # noqa: BLE001 - each member reports it, as when trained alone
        data = None
    if data is None or data.stateful or data.info.get("pooling", "last") == "attention":
        return [execute(c, plan, run_dir, data_seed, cpus) for c in configs]
    load_seconds = time.perf_counter() - t
    size = _auto_size(first, data) if task.get("population") == "auto" else len(configs)
    stored = []
    for i in range(0, len(configs), size):  # `auto`: groups for the table known here
        group = configs[i:i + size]
        if len(group) == 1:
            stored.append(execute(group[0], plan, run_dir, data_seed, cpus))
        else:  # the data was loaded once, for the first group
            stored += _population_records(group, task, store, data,
                                          load_seconds if i == 0 else 0.0, started)
    return stored


def _population_records(configs, task, store, data, load_seconds, started) -> list[dict]:
    """Trains `configs` as one population on loaded `data`; writes and returns their records."""
    from archsearch.training import run_population

    first = configs[0]
    lives = [LiveCurve(store, c, task["budget"], data.score_metric, data.score_mode)
             for c in configs]
    results = run_population(first["genome"], [c["hparams"] for c in configs], first["task"],
                             budget=task["budget"], seeds=[c["seed"] for c in configs],
                             data=data, on_eval=lambda k, point: lives[k](point))
    stored = []
    for config, result, live in zip(configs, results, lives, strict=True):
        result = result.to_dict()
        timings = result.setdefault("timings", {})
        timings["data"] = round(load_seconds, 4)
        timings["total"] = round(timings.get("total", 0.0) + load_seconds, 4)
        timings["report"] = round(live.seconds, 4)
        record = trial_record(config, result, config["strategy"], started)
        check_token(store, config.get("lease"))
        stored.append(write_trial(store, record).model_dump(mode="json"))
        live.remove()
    return stored
