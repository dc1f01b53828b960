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
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from archsearch.tasks.metrics import MetricSums
from archsearch.training.budget import Budget
from archsearch.training.compiled import release
from archsearch.training.compiled_population import compiled_population, member_chunks
from archsearch.training.hparams import resolve
from archsearch.training.trainer import (
    COMPLETED,
    FAILED,
    STOPPED,
    TrialResult,
    _configure_devices,
    build_model,
    with_forget_bias,
)

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
        import keras

        from archsearch import tasks
        from archsearch.layers import as_genome

        base = as_genome(genome)
        _configure_devices(False)
        t = time.perf_counter()
        by_seed = {}
        for seed in dict.fromkeys(seeds):
            if data is not None:
                by_seed[seed] = data
            else:
                keras.utils.set_random_seed(seed)
                task_obj = tasks.get(task) if isinstance(task, str) else task
                by_seed[seed] = task_obj.load(seed=seed, **dict(task_options or {}))
        timings["data"] = time.perf_counter() - t
        first = by_seed[seeds[0]]
        if first.stateful or first.info.get("pooling", "last") == "attention":
            raise ValueError("population trials support stateless tasks without attention "
                             f"pooling. Received: stateful={first.stateful}, "
                             f"pooling={first.info.get('pooling')!r}")
        t = time.perf_counter()
        models = []
        for seed, hp, result in zip(seeds, hps, results, strict=True):
            keras.utils.set_random_seed(seed)
            model, result.units = build_model(with_forget_bias(base, hp["forget_bias"]), hp,
                                              by_seed[seed], seed)
            result.params = int(model.count_params())
            result.score_metric, result.score_mode = first.score_metric, first.score_mode
            models.append(model)
        compiled, kept = compiled_population(models, first, hps, base, jit_compile)
        stacked = compiled.stacked
        del models
        timings["build"] = time.perf_counter() - t
        _Loop(compiled, [by_seed[s] for s in seeds], budget, results, hps, timings,
              on_eval).run()
    except KeyboardInterrupt:
        raise
    except Exception as err:  # a population never crashes the search
        message = str(err).strip().splitlines()
        reason = f"{type(err).__name__}: {message[0] if message else ''}"[:500]
        for result in results:
            if result.failure is None and result.status == FAILED:
                result.failure = reason
    finally:
        del stacked
        try:
            release(kept)
        except Exception:  # pragma: no cover
            gc.collect()
    timings["total"] = time.perf_counter() - start
    for result in results:
        result.timings = {**{k: round(v, 4) for k, v in timings.items()},
                          "population_size": len(results)}
    return results


class _Loop:
    """The training loop of one population (per-member bookkeeping in numpy)."""

    def __init__(self, compiled, datas, budget, results, hps, timings, on_eval):
        stacked = compiled.stacked
        self.m, self.datas, self.budget, self.results = stacked, datas, budget, results
        self.timings, self.on_eval, self.k = timings, on_eval, len(results)
        self.distinct = list({id(d): d for d in datas}.values())
        self.index = [next(i for i, d in enumerate(self.distinct) if d is x) for x in datas]
        self.lr = np.array([float(hp["learning_rate"]) for hp in hps], "float32")
        self.active = np.ones(self.k, bool)
        self.has_best = np.zeros(self.k, bool)
        self.best = [None] * self.k
        self.since_best, self.decays = [0] * self.k, [0] * self.k
        self.first_loss, self.losses = [None] * self.k, [[] for _ in range(self.k)]
        self.stop_reason = [None] * self.k
        data = datas[0]
        self.better = (lambda a, b: a > b) if data.score_mode == "max" else (lambda a, b: a < b)
        self.train_fn, self.logits_fn = compiled.train_fn, compiled.logits_fn
        self.pick_fn = compiled.pick_fn

    def _stack(self, batches):
        import tensorflow as tf

        return tuple(tf.stack([batches[i][j] for i in self.index]) for j in range(3))

    def metrics(self, split: str, members, max_batches=None) -> dict[int, dict]:
        data = self.datas[0]
        sums = {k: MetricSums(data.output, data.metrics) for k in members}
        if len(self.distinct) == 1:  # every member reads the same data (a search's case)
            import tensorflow as tf

            for x, y, w in member_chunks(data, split, max_batches, self.k):
                if data.output == "multilabel_sequence":
                    logits = self.logits_fn(tf.stack([x] * self.k)).numpy()
                    for k in members:
                        sums[k].update(logits[k], y, w)
                    continue
                log_prob, ids = (t.numpy() for t in self.pick_fn(x, y))
                for k in members:
                    sums[k].update_picked(log_prob[k], ids[k], y, w)
            return {k: s.result() for k, s in sums.items()}
        iterators = zip(*(d.split(split) for d in self.distinct), strict=False)
        for n, batches in enumerate(iterators):
            if max_batches is not None and n >= max_batches:
                break
            x, y, w = self._stack(batches)
            logits = self.logits_fn(x).numpy()
            for k in members:
                sums[k].update(logits[k], y[k].numpy(), w[k].numpy())
        return {k: s.result() for k, s in sums.items()}

    def run(self) -> None:
        import tensorflow as tf

        budget, timings = self.budget, self.timings
        t_train, step, epoch = time.perf_counter(), 0, -1

        def elapsed():
            return time.perf_counter() - t_train - timings["eval"] - timings["trace"]

        while self.active.any() and not budget.exhausted(step, elapsed()):
            epoch += 1
            for batches in zip(*(d.train_epoch(epoch) for d in self.distinct), strict=False):
                t_step = time.perf_counter()
                x, y, w = self._stack(batches)
                losses = self.train_fn(x, y, w, tf.constant(self.lr),
                                       tf.constant(self.active)).numpy()
                step += 1
                if step == 1:
                    timings["trace"] = time.perf_counter() - t_step
                self._check_losses(losses, step)
                done = budget.exhausted(step, elapsed())
                if self.active.any() and (step % budget.eval_every == 0 or done):
                    self._evaluate(step, elapsed())
                if done or not self.active.any():
                    break
            else:
                continue
            break
        timings["train"] = elapsed()
        self._finish(step)

    def _check_losses(self, losses, step) -> None:
        for k in np.flatnonzero(self.active):
            loss, result = float(losses[k]), self.results[k]
            self.first_loss[k] = loss if self.first_loss[k] is None else self.first_loss[k]
            result.steps = step
            first = self.first_loss[k]
            if not math.isfinite(loss):
                self._fail(k, f"diverged: training loss became {loss} at step {step}")
            elif loss > self.budget.divergence_factor * max(first, 1.0):
                self._fail(k, f"diverged: training loss diverged to {loss:.3g} at step {step} "
                              f"(started at {first:.3g})")
            else:
                self.losses[k].append(loss)

    def _fail(self, k, reason) -> None:
        self.results[k].status, self.results[k].failure = FAILED, reason
        self.active[k] = False

    def _evaluate(self, step, seconds) -> None:
        t = time.perf_counter()
        members = [int(k) for k in np.flatnonzero(self.active)]
        valid = self.metrics("valid", members, self.budget.eval_batches)
        self.timings["eval"] += time.perf_counter() - t
        improved = np.zeros(self.k, bool)
        metric, budget = self.datas[0].score_metric, self.budget
        for k in members:
            score = valid[k].get(metric)
            point = {"step": step, "seconds": round(seconds, 3),
                     "train_loss": float(np.mean(self.losses[k][-budget.eval_every:])),
                     "learning_rate": float(self.lr[k]),
                     **{f"valid_{name}": v for name, v in valid[k].items()}}
            self.results[k].curve.append(point)
            if score is not None and math.isfinite(score) and (
                    self.best[k] is None or self.better(score, self.best[k])):
                self.best[k], self.since_best[k], improved[k] = score, 0, True
            else:
                self.since_best[k] += 1
            if self.since_best[k] >= budget.patience:  # the paper's schedule, per member
                if self.decays[k] >= budget.decays:
                    self.active[k] = False
                else:
                    self.lr[k] /= 2.0
                    self.decays[k] += 1
            if self.on_eval is not None and self.active[k]:
                reason = self.on_eval(k, dict(point))
                if reason:
                    self.stop_reason[k], self.active[k] = str(reason)[:500], False
        if improved.any():
            self.m.keep_best(improved)
            self.has_best |= improved

    def _finish(self, step) -> None:
        alive = [k for k in range(self.k) if self.results[k].failure is None]
        late = [k for k in alive if not self.has_best[k] and self.results[k].steps and (
            not self.results[k].curve or self.results[k].curve[-1]["step"] != step)]
        if late:  # the budget ran out between epochs, before any evaluation
            valid = self.metrics("valid", late, self.budget.eval_batches)
            found = np.zeros(self.k, bool)
            for k in late:
                score = valid[k].get(self.datas[0].score_metric)
                found[k] = score is not None and math.isfinite(score)
            self.m.keep_best(found)
            self.has_best |= found
        for k in alive:
            if not self.has_best[k]:
                self._fail(k, "diverged: no finite validation score was reached")
        done = [k for k in alive if self.has_best[k]]
        if not done:
            return
        self.m.restore_best(self.has_best)
        t = time.perf_counter()
        final = {split: self.metrics(split, done) for split in ("valid", "test")}
        self.timings["eval"] += time.perf_counter() - t
        for k in done:
            result = self.results[k]
            result.metrics = {split: final[split][k] for split in ("valid", "test")}
            result.score = result.metrics["valid"].get(self.datas[0].score_metric)
            result.status = STOPPED if self.stop_reason[k] else COMPLETED
            result.failure = self.stop_reason[k]
