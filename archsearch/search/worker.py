"""What runs on a Ray worker: one trial, its record created once (the trial's one writer)."""

from __future__ import annotations

import json
import time

from archsearch.rundir import RunStore, write_trial
from archsearch.search.records import now, trial_record

__all__ = ["execute", "task_plan"]

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


def execute(config: dict, plan: dict, run_dir: str, data_seed: int,
            cpus: float | None = None) -> dict:
    """Trains the trial described by `config`; records it and returns the stored record (JSON data).

    The record is created exclusively: if the trial was recorded already (Ray
    retried it after its record was written), the stored record is kept and
    returned.

    Raises:
        RunDirError: the trial id already records a different trial.
    """
    from archsearch.training import run_trial

    if cpus:
        limit_threads(cpus)

    started = now()
    task = plan[config["task"]]
    data, failure = None, None
    t = time.perf_counter()
    try:
        data = _load(config["task"], task["options"], data_seed)
    except Exception as err:  # noqa: BLE001 - reported as the trial's failure
        failure = f"{type(err).__name__}: {err}"
    load_seconds = time.perf_counter() - t
    if data is None:
        result = {"status": "failed", "failure": failure, "hparams": config["hparams"]}
    else:
        result = run_trial(config["genome"], config["hparams"], config["task"],
                           budget=task["budget"], seed=config["seed"], data=data).to_dict()
        # Loading is cached per worker; count what this trial actually waited for.
        result["timings"]["data"] = round(load_seconds, 4)
        result["timings"]["total"] = round(result["timings"]["total"] + load_seconds, 4)
    record = trial_record(config, result, config["strategy"], started)
    return write_trial(RunStore(run_dir), record).model_dump(mode="json")
