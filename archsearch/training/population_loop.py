"""`PopulationLoop`: the training loop of one population trial (see `population.py`)."""

from __future__ import annotations

import math
import time

import numpy as np

from archsearch.tasks.metrics import MetricSums
from archsearch.training.compiled_population import member_chunks
from archsearch.training.evaluate import UNREDUCED
from archsearch.training.result import COMPLETED, FAILED, STOPPED

__all__ = ["PopulationLoop"]


class PopulationLoop:
    """The training loop of one population; per-member bookkeeping in numpy.

    Per member: the paper's learning-rate halving on a plateau, early stop,
    divergence (the member fails and stops updating), `on_eval` stops, and
    best-weights restore; results are written into `results` in place.
    `run_population` builds the models and calls `run()`.

    Args:
        compiled: The worker's `CompiledPopulation` (stacked model and traced steps).
        datas: One `TaskData` per member (the same object where members share data).
        budget: The `Budget` every member trains under.
        results: One `TrialResult` per member, filled in place.
        hps: One resolved hyperparameter dict per member.
        timings: The population's timings dict, updated in place.
        on_eval: `on_eval(member, point)` after each evaluation, or None.
    """

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
        self.pick_fn, self.pick_stacked_fn = compiled.pick_fn, compiled.pick_stacked_fn

    def _stack(self, batches):
        import tensorflow as tf

        return tuple(tf.stack([batches[i][j] for i in self.index]) for j in range(3))

    def metrics(self, split: str, members, max_batches=None) -> dict[int, dict]:
        """`{member: {metric: value}}` on `split` for `members` (up to `max_batches`)."""
        data = self.datas[0]
        sums = {k: MetricSums.for_data(data) for k in members}
        if len(self.distinct) == 1:  # every member reads the same data (a search's case)
            import tensorflow as tf

            for x, y, w in member_chunks(data, split, max_batches, self.k):
                if data.output in UNREDUCED:
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
            y, w = y.numpy(), w.numpy()
            if data.output in UNREDUCED:
                logits = self.logits_fn(x).numpy()
                for k in members:
                    sums[k].update(logits[k], y[k], w[k])
                continue
            # The targets' log-probabilities picked in the graph, as above:
            # no (K, B, T, outputs) logits copied out for a softmax in NumPy.
            log_prob, ids = (t.numpy() for t in self.pick_stacked_fn(x, y))
            for k in members:
                sums[k].update_picked(log_prob[k], ids[k], y[k], w[k])
        return {k: s.result() for k, s in sums.items()}

    def run(self) -> None:
        """Trains until the budget ends or no member is active, then fills the results."""
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
