"""`run_trial`: train one (cell, hyperparameters, task) and report what happened.

No exception escapes a trial: divergence, NaN and errors come back as a
`TrialResult` with `status="failed"` and a reason, so a search never crashes
because one cell was bad.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from archsearch.training.budget import Budget
from archsearch.training.compiled import compiled_model, is_kept, release, signature
from archsearch.training.compiled_population import cache_clear as population_cache_clear
from archsearch.training.evaluate import evaluate
from archsearch.training.hparams import resolve
from archsearch.training.model import build_model, configure_devices, with_forget_bias
from archsearch.training.result import COMPLETED, FAILED, STOPPED, TrialResult, failure_text
from archsearch.training.solo_fold import folds
from archsearch.training.xla import use_xla

log = logging.getLogger(__name__)

#: Signatures (`compiled.signature`) whose folded step failed in this process.
_FOLD_FAILED: set = set()

__all__ = ["run_trial"]


def _set_seed(seed: int, tensorflow_too: bool) -> None:
    """`keras.utils.set_random_seed`, optionally without TensorFlow's global seed.

    Setting TensorFlow's global seed clears its kernel cache (the next step
    pays ~0.2-0.5 s on a CPU). It only matters for ops created without their
    own seed; with the data already loaded, a trial creates none (weights,
    dropout and shuffling all take explicit seeds), so it is skipped then.
    """
    import keras

    from archsearch.compat.keras import set_random_seed_except_tf

    if tensorflow_too:
        keras.utils.set_random_seed(seed)
    else:
        set_random_seed_except_tf(seed)


def _reset_states(model) -> None:
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


def _carried_states(model) -> list:
    """The stateful layers' current states (numpy), to put back after an evaluation."""
    return [(layer, [v.numpy() for v in layer.states]) for layer in model.layers
            if getattr(layer, "stateful", False) and getattr(layer, "states", None)]


def _restore_states(carried: list) -> None:
    for layer, values in carried:
        for variable, value in zip(layer.states, values, strict=True):
            variable.assign(value)


def run_trial(genome, hparams: Mapping[str, Any] | None = None, task="arithmetic",
              budget: Budget | Mapping | None = None, seed: int = 0,
              task_options: Mapping[str, Any] | None = None, data=None,
              mixed_precision: bool = False, on_eval=None, xla: str = "auto",
              fold: bool = True) -> TrialResult:
    """Trains `genome` on `task` within `budget` and returns a `TrialResult`.

    Args:
        genome: A `Genome`, its JSON or a zoo name.
        hparams: Hyperparameter values (see `archsearch.training.DEFAULTS`).
        task: A task name or `archsearch.tasks.Task`.
        budget: A `Budget` (or its dict): steps and/or seconds, eval interval.
        seed: Seeds weights, dropout, data generation and shuffling.
        task_options: Passed to `Task.load` (fraction, seq_len, batch_size, ...).
        data: Already loaded `TaskData` to reuse (skips loading).
        mixed_precision: Use mixed float16 on GPUs.
        on_eval: Called after every evaluation with that curve point (a dict:
            step, seconds, train_loss, learning_rate, valid_* metrics), e.g.
            to report to Ray Tune or update a live curve. If it returns a
            non-empty string, training stops: the trial ends with status
            `"stopped"` and that string as its reason, its metrics taken at the
            best evaluation so far.
        xla: XLA-compile the train step: `"auto"` (where measured faster:
            `archsearch.training.xla.use_xla`), `"on"` or `"off"`. Where
            it compiles and the model starts with an embedding it can fold
            into (`archsearch.training.solo_fold.folds`), the trial trains
            as a population of one (`run_population`; its timings then
            say `population_size: 1`).
        fold: False: never train as a population of one (the solo step
            alone, as before the fold; for comparisons).

    Returns:
        A `TrialResult`; never raises for a bad cell or diverging training.

    Example:
        >>> r = run_trial("gru", {"units": 16, "learning_rate": 1.0}, "memorization",
        ...               Budget(steps=20, eval_every=10), task_options={"num_examples": 64})
        >>> r.status, r.steps
        ('completed', 20)
    """
    budget = Budget.coerce(budget)
    start = time.perf_counter()
    timings = {"data": 0.0, "build": 0.0, "trace": 0.0, "train": 0.0, "eval": 0.0}
    task_name = task if isinstance(task, str) else getattr(task, "name", str(task))
    result = TrialResult(status=FAILED, task=task_name, seed=seed)
    model = compiled = folded = None
    try:

        from archsearch import tasks
        from archsearch.layers import as_genome

        hp = resolve(hparams)
        result.hparams = dict(hp)
        genome = with_forget_bias(as_genome(genome), hp["forget_bias"])
        device = configure_devices(mixed_precision)
        _set_seed(seed, tensorflow_too=data is None)
        t = time.perf_counter()
        if data is None:
            task_obj = tasks.get(task) if isinstance(task, str) else task
            data = task_obj.load(seed=seed, **dict(task_options or {}))
        timings["data"] = time.perf_counter() - t
        result.score_metric, result.score_mode = data.score_metric, data.score_mode
        if fold and folds(genome, hp, data, xla, budget.steps, device, mixed_precision) \
                and (fold_key := signature(genome, hp, data, jit_compile=True)) \
                not in _FOLD_FAILED:
            folded = _folded(genome, hp, task, budget, seed, data, on_eval, timings["data"])
            if folded.status != FAILED or folded.steps or folded.curve:
                return folded  # trained (a failure after its first step is the trial's own)
            # The folded model never took a step (a compile or build error):
            # train without the fold, and never try it again for these shapes.
            log.warning("the folded train step failed (%s); training without the fold",
                        folded.failure)
            _FOLD_FAILED.add(fold_key)
            population_cache_clear()  # its broken entry would hold a slot
            _set_seed(seed, tensorflow_too=False)
            folded = None
        t = time.perf_counter()
        model, result.units = build_model(genome, hp, data, seed)
        result.params = int(model.count_params())
        # Train a kept model of the same shapes (its step is traced already),
        # loaded with this trial's initial weights.
        jit = use_xla(xla, result.units, budget.steps, device)
        compiled = compiled_model(genome, hp, data, model, jit_compile=jit)
        model = compiled.model
        timings["build"] = time.perf_counter() - t
        _train(compiled, data, budget, result, timings, on_eval, float(hp["clip_norm"]))
    except KeyboardInterrupt:
        raise
    except _Diverged as err:
        result.status, result.failure = FAILED, f"diverged: {err}"
    except Exception as err:  # a trial never crashes the search
        result.status, result.failure = FAILED, failure_text(err)
    finally:
        if folded is None:  # run_population released its own
            kept = compiled is not None and is_kept(compiled)
            del model, compiled
            try:
                release(kept)
            except Exception:  # pragma: no cover
                gc.collect()
    timings["total"] = time.perf_counter() - start
    result.timings = {k: round(v, 4) for k, v in timings.items()}
    return result


class _Diverged(Exception):
    pass


def _folded(genome, hp, task, budget, seed, data, on_eval, data_seconds) -> TrialResult:
    """The trial trained as a folded population of one (`solo_fold`), timed as a trial."""
    from archsearch.training.population import run_population

    def member_eval(member, point):
        return on_eval(point)

    result = run_population(genome, [hp], task, budget, seeds=[seed], data=data,
                            on_eval=None if on_eval is None else member_eval)[0]
    result.timings["data"] = round(data_seconds, 4)
    result.timings["total"] = round(result.timings["total"] + data_seconds, 4)
    return result


def _first_step(compiled, x, y, w, clip):
    """The first train step; an XLA step that cannot compile falls back to the plain one."""
    import tensorflow as tf

    try:
        return compiled.step(x, y, w, clip)
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError,
            tf.errors.NotFoundError) as err:
        if not compiled.jit_compile:
            raise
        log.warning("XLA could not compile this model's train step (%s); training without XLA",
                    str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err))
        compiled.plain()
        return compiled.step(x, y, w, clip)


def _train(compiled, data, budget: Budget, result: TrialResult, timings: dict,
           on_eval=None, clip_norm: float = 5.0) -> None:
    import tensorflow as tf

    model, clip = compiled.model, tf.constant(clip_norm, "float32")
    better = (lambda a, b: a > b) if data.score_mode == "max" else (lambda a, b: a < b)
    best_score, best_weights, since_best, decays = None, None, 0, 0
    lr = float(model.optimizer.learning_rate.numpy())
    t_train = time.perf_counter()
    losses: list[float] = []
    step, first_loss, stop_reason, epoch = 0, None, None, -1
    while not budget.exhausted(step, time.perf_counter() - t_train - timings["eval"]
                                 - timings["trace"]):
        _reset_states(model)
        epoch += 1
        for x, y, w in data.train_epoch(epoch):
            t_step = time.perf_counter()
            loss = float(_first_step(compiled, x, y, w, clip) if step == 0
                         else compiled.step(x, y, w, clip))
            step += 1
            if step == 1:  # the first call traces and compiles the train function
                timings["trace"] = time.perf_counter() - t_step
            first_loss = loss if first_loss is None else first_loss
            if not math.isfinite(loss):
                raise _Diverged(f"training loss became {loss} at step {step}")
            if loss > budget.divergence_factor * max(first_loss, 1.0):
                raise _Diverged(f"training loss diverged to {loss:.3g} at step {step} "
                                f"(started at {first_loss:.3g})")
            losses.append(loss)
            elapsed = time.perf_counter() - t_train - timings["eval"] - timings["trace"]
            done = budget.exhausted(step, elapsed)
            if step % budget.eval_every == 0 or done:
                t = time.perf_counter()
                # A stateful stream goes on where it was after the evaluation
                # (which starts its own stream from a zero state).
                carried = _carried_states(model)
                _reset_states(model)
                valid = evaluate(model, data, "valid", max_batches=budget.eval_batches)
                _restore_states(carried)
                timings["eval"] += time.perf_counter() - t
                score = valid.get(data.score_metric)
                result.curve.append({"step": step, "seconds": round(elapsed, 3),
                                     "train_loss": float(np.mean(losses[-budget.eval_every:])),
                                     "learning_rate": lr,
                                     **{f"valid_{k}": v for k, v in valid.items()}})
                if score is not None and math.isfinite(score) and (
                        best_score is None or better(score, best_score)):
                    best_score, best_weights, since_best = score, model.get_weights(), 0
                else:
                    since_best += 1
                # The paper's schedule: after `patience` evaluations without
                # improvement, halve the learning rate at every evaluation, and
                # stop after `decays` halvings.
                if since_best >= budget.patience:
                    if decays >= budget.decays:
                        break
                    lr /= 2.0
                    decays += 1
                    model.optimizer.learning_rate.assign(lr)
                if on_eval is not None:
                    stop_reason = on_eval(dict(result.curve[-1]))
                    if stop_reason:
                        break
            if done:
                break
        else:
            continue
        break
    if step and (not result.curve or result.curve[-1]["step"] != step) and best_weights is None:
        # The budget ran out between epochs, before any evaluation.
        valid = evaluate(model, data, "valid", max_batches=budget.eval_batches)
        score = valid.get(data.score_metric)
        if score is not None and math.isfinite(score):
            best_weights = model.get_weights()
    timings["train"] = time.perf_counter() - t_train - timings["eval"] - timings["trace"]
    result.steps = step
    _final_metrics(model, data, best_weights, result, timings, stop_reason)


def _final_metrics(model, data, best_weights, result: TrialResult, timings: dict,
                   stop_reason) -> None:
    """The best weights' full valid and test metrics into `result`; its status."""
    if best_weights is None:
        raise _Diverged("no finite validation score was reached")
    model.set_weights(best_weights)
    t = time.perf_counter()
    result.metrics = {}
    for split in ("valid", "test"):
        _reset_states(model)
        result.metrics[split] = evaluate(model, data, split, max_batches=None)
    timings["eval"] += time.perf_counter() - t
    result.score = result.metrics["valid"].get(data.score_metric)
    result.status = COMPLETED
    if stop_reason:
        result.status, result.failure = STOPPED, str(stop_reason)[:500]
