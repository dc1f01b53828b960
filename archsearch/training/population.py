"""`run_population`: K samples of one cell trained together as one batched model.

Members share the cell, task, budget, units, layers and optimizer and may
differ in learning rate, clip norm, init scale, forget bias and seed. Each
member is built by `build_model` with its own seed, so it starts from the
weights a solo `run_trial` would, and reads the data a solo trial with its
seed reads, in the same order; `StackedModel` then trains all of them in one
graph. Per member: learning rate and the paper's halving schedule, clipping,
early stop, best-weights restore, and divergence (a diverging member fails
with `run_trial`'s reason and stops updating; the others go on). Each member
comes back as its own `TrialResult`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from archsearch.training.budget import Budget
from archsearch.training.compiled import release
from archsearch.training.compiled_population import compiled_population
from archsearch.training.hparams import resolve
from archsearch.training.model import build_model, configure_devices, with_forget_bias
from archsearch.training.population_loop import PopulationLoop
from archsearch.training.result import FAILED, TrialResult, failure_text

__all__ = ["SHARED_KEYS", "run_population", "check_compatible"]

# Hyperparameters every member of a population must share (they set shapes
# or the optimizer); the others (learning_rate, clip_norm, init_scale,
# forget_bias) may differ per member.
SHARED_KEYS = ("units", "param_budget", "num_layers", "optimizer", "dropout")


def check_compatible(hparams_list: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Resolves each member's hyperparameters; raises ValueError naming a differing key.

    Example:
        >>> check_compatible([{"units": 8, "learning_rate": 0.1}, {"units": 16}])
        Traceback (most recent call last):
        ...
        ValueError: Expected every population member to share 'units'. Received: units=[8, 16]
    """
    hps = [resolve(h) for h in hparams_list]
    if not hps:
        raise ValueError("Expected at least one population member. Received: hparams_list=[]")
    for key in SHARED_KEYS:
        values = [hp[key] for hp in hps]
        if key == "param_budget" and hps[0]["units"]:
            continue  # units set directly: the budget is not used
        if any(v != values[0] for v in values):
            raise ValueError(f"Expected every population member to share {key!r}. "
                             f"Received: {key}={values}")
    if hps[0]["dropout"]:
        raise ValueError("population trials do not support dropout. "
                         f"Received: dropout={hps[0]['dropout']}")
    return hps


def _data_by_seed(task, seeds, data, task_options) -> dict:
    """Each member seed's data: `data` for all when given, else loaded per seed."""
    import keras

    from archsearch import tasks

    by_seed = {}
    for seed in dict.fromkeys(seeds):
        if data is not None:
            by_seed[seed] = data
        else:
            keras.utils.set_random_seed(seed)
            task_obj = tasks.get(task) if isinstance(task, str) else task
            by_seed[seed] = task_obj.load(seed=seed, **dict(task_options or {}))
    return by_seed


def _build_members(base, seeds, hps, results, by_seed) -> list:
    """One Keras model per member, from its seed, hyperparameters and data.

    Python's and NumPy's seeds are set per member; TensorFlow's global seed is
    not (setting it clears TensorFlow's kernel cache, ~0.2-0.5 s on a CPU), as
    in `run_trial`: every weight initializer takes its own seed.
    """
    from archsearch.compat.keras import set_random_seed_except_tf

    models = []
    for seed, hp, result in zip(seeds, hps, results, strict=True):
        set_random_seed_except_tf(seed)
        data = by_seed[seed]
        model, result.units = build_model(with_forget_bias(base, hp["forget_bias"]), hp,
                                          data, seed)
        result.params = int(model.count_params())
        result.score_metric, result.score_mode = data.score_metric, data.score_mode
        models.append(model)
    return models


def _fail_unfinished(results, err: Exception) -> None:
    """Every member that neither finished nor failed on its own fails with `err`."""
    reason = failure_text(err)
    for result in results:
        if result.failure is None and result.status == FAILED:
            result.failure = reason


def run_population(genome, hparams_list: Sequence[Mapping[str, Any]], task="arithmetic",
                   budget: Budget | Mapping | None = None, seeds: Sequence[int] | None = None,
                   task_options: Mapping[str, Any] | None = None, data=None,
                   on_eval: Callable[[int, dict], str | None] | None = None,
                   jit_compile: bool = True) -> list[TrialResult]:
    """Trains K members of one cell as one batched model; one `TrialResult` each.

    Args:
        genome: A `Genome`, its JSON or a zoo name (shared by all members).
        hparams_list: One hyperparameter dict per member (see `check_compatible`).
        task: A task name or `archsearch.tasks.Task`.
        budget: The budget of every member (`Budget` or its dict). A
            `seconds` limit counts the population's wall time.
        seeds: One seed per member (default 0 for all): weights and, unless
            `data` is given, the data each member reads.
        task_options: Passed to `Task.load`.
        data: An already loaded `TaskData` shared by all members.
        on_eval: Called as `on_eval(member, point)` after each evaluation of
            an active member; a non-empty string stops that member
            (status `"stopped"`, the string as its reason).
        jit_compile: XLA-compile the training and evaluation steps (on this
            2-core CPU 1.5-2x faster per step than without, after a longer
            first step).

    Returns:
        K `TrialResult`s in member order. Incompatible members raise
        ValueError; any other error fails every member with its message.

    Example:
        >>> rs = run_population("gru", [{"units": 8, "learning_rate": lr} for lr in (0.1, 1.0)],
        ...     "memorization", {"steps": 10, "eval_every": 5}, seeds=[0, 1],
        ...     task_options={"num_examples": 64})
        >>> [(r.status, r.steps, r.hparams["learning_rate"]) for r in rs]
        [('completed', 10, 0.1), ('completed', 10, 1.0)]
    """
    budget = Budget.coerce(budget)
    hps = check_compatible(hparams_list)
    seeds = [0] * len(hps) if seeds is None else [int(s) for s in seeds]
    if len(seeds) != len(hps):
        raise ValueError(f"Expected one seed per member ({len(hps)}). Received: seeds={seeds}")
    start = time.perf_counter()
    timings = {"data": 0.0, "build": 0.0, "trace": 0.0, "train": 0.0, "eval": 0.0}
    task_name = task if isinstance(task, str) else getattr(task, "name", str(task))
    results = [TrialResult(status=FAILED, task=task_name, seed=s, hparams=dict(hp))
               for s, hp in zip(seeds, hps, strict=True)]
    stacked, kept = None, False
    try:

        from archsearch.layers import as_genome

        base = as_genome(genome)
        configure_devices(False)
        t = time.perf_counter()
        by_seed = _data_by_seed(task, seeds, data, task_options)
        timings["data"] = time.perf_counter() - t
        first = by_seed[seeds[0]]
        if first.stateful or first.info.get("pooling", "last") == "attention":
            raise ValueError("population trials support stateless tasks without attention "
                             f"pooling. Received: stateful={first.stateful}, "
                             f"pooling={first.info.get('pooling')!r}")
        t = time.perf_counter()
        models = _build_members(base, seeds, hps, results, by_seed)
        compiled, kept = compiled_population(models, first, hps, base, jit_compile)
        stacked = compiled.stacked
        del models
        timings["build"] = time.perf_counter() - t
        PopulationLoop(compiled, [by_seed[s] for s in seeds], budget, results, hps, timings,
                       on_eval).run()
    except KeyboardInterrupt:
        raise
    except Exception as err:  # noqa: BLE001 - a population never crashes the search
        _fail_unfinished(results, err)
    finally:
        del stacked
        try:
            release(kept)
        except Exception:  # pragma: no cover
            gc.collect()
    return _stamped(results, timings, time.perf_counter() - start)


def _stamped(results, timings: dict, total: float) -> list[TrialResult]:
    """`results`, each with the population's timings (seconds) and size."""
    timings["total"] = total
    for result in results:
        result.timings = {**{k: round(v, 4) for k, v in timings.items()},
                          "population_size": len(results)}
    return results
