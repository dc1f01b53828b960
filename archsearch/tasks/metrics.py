"""The metrics tasks report, in numpy: one implementation for every trainer.

`MetricSums` streams batches of logits into weighted sums (nats, hits,
whole-answer hits, hits on long-range symbols, squared errors) and turns them
into the task's metrics; the trial trainer, population trials and the
functions below all count through it. The unit conversions turn a mean
cross-entropy into the paper's units.
"""

from __future__ import annotations

import math

import numpy as np

from archsearch.tasks.base import TaskError

LN2 = math.log(2.0)
#: Absolute error under which an adding-problem answer counts as solved
#: (Hochreiter & Schmidhuber 1997, experiment 4).
SOLVED_BELOW = 0.04


def _as_ids(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    predictions = np.asarray(predictions)
    if predictions.ndim == targets.ndim + 1:
        return predictions.argmax(axis=-1)
    if predictions.shape != targets.shape:
        raise TaskError(
            f"Expected predictions of shape {targets.shape} (ids) or {targets.shape + ('V',)} "
            f"(scores). Received: predictions.shape={predictions.shape}"
        )
    return predictions


def exact_match_counts(predictions, targets, sample_weight) -> tuple[int, int]:
    """(sequences entirely right, sequences with a weighted position); see `exact_match`."""
    targets = np.asarray(targets)
    weight = np.asarray(sample_weight) > 0
    ids = _as_ids(predictions, targets)
    if weight.shape != targets.shape:
        raise TaskError(
            f"Expected sample_weight of shape {targets.shape}. "
            f"Received: sample_weight.shape={weight.shape}"
        )
    counted = weight.any(axis=-1)
    correct = np.all((ids == targets) | ~weight, axis=-1)
    return int(correct[counted].sum()), int(counted.sum())


def exact_match(predictions, targets, sample_weight) -> float:
    """Fraction of sequences whose every weighted position is predicted right.

    Used for whole answers in `arithmetic`: the answer characters are the
    positions with non-zero weight. Sequences without any weighted position
    are ignored.

    Args:
        predictions: int ids `(N, T)` or scores/logits `(N, T, V)` (argmax).
        targets: int ids `(N, T)`.
        sample_weight: `(N, T)`; positions with weight 0 do not count.

    Returns:
        A float in [0, 1] (`nan` if no sequence has a weighted position).

    Example:
    >>> exact_match([[1, 2, 9], [1, 3, 3]], [[1, 2, 3], [1, 2, 3]], [[1, 1, 0], [1, 1, 0]])
    0.5
    """
    hits, total = exact_match_counts(predictions, targets, sample_weight)
    return hits / total if total else float("nan")


def weighted_accuracy(predictions, targets, sample_weight) -> float:
    """Weighted fraction of positions predicted right (Keras' accuracy in numpy)."""
    targets = np.asarray(targets)
    weight = np.asarray(sample_weight, dtype=np.float64)
    ids = _as_ids(predictions, targets)
    total = weight.sum()
    return float(((ids == targets) * weight).sum() / total) if total else float("nan")


def perplexity(mean_nll: float) -> float:
    """Perplexity from the weighted mean cross-entropy in nats per token."""
    return float(math.exp(min(mean_nll, 700.0)))


def bits_per_char(mean_nll: float) -> float:
    """Bits per character from the weighted mean cross-entropy in nats per character."""
    return float(mean_nll / LN2)


def nll_per_step(mean_bce: float, num_notes: int) -> float:
    """Music NLL per time step (nats) from Keras' binary cross-entropy.

    Keras' `BinaryCrossentropy` averages over the last axis (the notes); the
    NLL of a time step is the sum over notes, i.e. the mean times `num_notes`.
    """
    return float(mean_bce * num_notes)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class MetricSums:
    """Weighted sums over batches of logits, turned into a task's metrics.

    Args:
        output: the task's output kind: `"sequence"`, `"last"`,
            `"multilabel_sequence"` (binary cross-entropy summed over notes) or
            `"regression"` (squared error of one value per example).
        metrics: the metric names wanted (`TaskData.metrics`); `loss` and,
            for categorical outputs, `accuracy` are always reported.
        long_range_ids: target ids whose weighted positions make up
            `long_range_accuracy` (reber: the repeated `T`/`P`).
        solved_below: the absolute error under which a regression example
            counts as solved (`solved`, the fraction of such examples).

    Example:
        >>> sums = MetricSums("sequence", ("accuracy", "exact_match"))
        >>> logits = np.log([[[0.9, 0.1], [0.2, 0.8]]])
        >>> sums.update(logits, [[0, 0]], [[1.0, 1.0]])
        >>> {k: round(v, 4) for k, v in sums.result().items()}
        {'loss': 0.8574, 'accuracy': 0.5, 'exact_match': 0.0}
        >>> sums = MetricSums("regression", ("mse", "solved"), solved_below=0.04)
        >>> sums.update([[1.0], [0.5]], [[1.0], [0.9]], [1.0, 1.0])
        >>> {k: round(v, 4) for k, v in sums.result().items()}
        {'loss': 0.08, 'mse': 0.08, 'solved': 0.5}
    """

    def __init__(self, output: str, metrics=(), long_range_ids=(),
                 solved_below: float = SOLVED_BELOW):
        self.output, self.metrics = output, tuple(metrics)
        self.long_range_ids = np.asarray(tuple(long_range_ids), dtype=np.int64)
        self.solved_below = float(solved_below)
        self.nll = self.correct = self.weight = 0.0
        self.exact_hits = self.exact_total = 0
        self.long_correct = self.long_weight = 0.0

    @classmethod
    def for_data(cls, data) -> MetricSums:
        """The sums for `data` (a `TaskData`): its output, metrics and `metric_options`."""
        return cls(data.output, data.metrics, **dict(getattr(data, "metric_options", {}) or {}))

    def update(self, logits, targets, sample_weight) -> None:
        """Adds one batch: logits `(..., V)`, targets and weights `(...)`.

        For `"regression"`: predictions and targets `(N, 1)`, weights `(N,)`.
        """
        logits = np.asarray(logits, dtype=np.float64)
        y, w = np.asarray(targets), np.asarray(sample_weight, dtype=np.float64)
        if self.output == "regression":
            error = logits - y.astype(np.float64)
            self.nll += float(((error ** 2).mean(axis=-1) * w).sum())
            self.correct += float(((np.abs(error).max(axis=-1) < self.solved_below) * w).sum())
            self.weight += float(w.sum())
            return
        if self.output == "multilabel_sequence":
            bce = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
            self.nll += float((bce.sum(axis=-1) * w).sum())
            self.weight += float(w.sum())
            return
        picked = np.take_along_axis(_log_softmax(logits), y[..., None].astype(np.int64),
                                    axis=-1)[..., 0]
        self._add_categorical(picked, logits.argmax(axis=-1), y, w)

    def update_picked(self, log_prob, predicted, targets, sample_weight) -> None:
        """Adds one batch already reduced over the outputs (a categorical output only).

        The same sums as `update`, from each position's log-probability of its
        target (`log_prob`) and its arg-max id (`predicted`), both shaped like
        `targets`: what a compiled evaluation returns instead of every logit.

        Example:
            >>> sums = MetricSums("sequence", ("accuracy",))
            >>> sums.update_picked(np.log([[0.9, 0.2]]), [[0, 1]], [[0, 0]], [[1.0, 1.0]])
            >>> {k: round(v, 4) for k, v in sums.result().items()}
            {'loss': 0.8574, 'accuracy': 0.5}
        """
        if self.output in ("multilabel_sequence", "regression"):
            raise TaskError(f"update_picked needs a categorical output; {self.output} "
                            "takes update(logits, ...)")
        self._add_categorical(np.asarray(log_prob, dtype=np.float64), np.asarray(predicted),
                              np.asarray(targets), np.asarray(sample_weight, dtype=np.float64))

    def _add_categorical(self, picked, ids, y, w) -> None:
        self.nll += float((-picked * w).sum())
        hits = ids == y
        self.correct += float((hits * w).sum())
        self.weight += float(w.sum())
        if "exact_match" in self.metrics and y.ndim == 2:
            hit, total = exact_match_counts(ids, y, w)
            self.exact_hits += hit
            self.exact_total += total
        if "long_range_accuracy" in self.metrics:
            long = w * np.isin(y, self.long_range_ids)
            self.long_correct += float((hits * long).sum())
            self.long_weight += float(long.sum())

    def result(self) -> dict[str, float]:
        """`loss` (mean nats per weighted position, or the MSE) and the wanted metrics."""
        if self.weight == 0:
            return {"loss": float("nan")}
        loss = self.nll / self.weight
        out = {"loss": loss}
        if self.output == "regression":
            out["mse"] = loss
            if "solved" in self.metrics:
                out["solved"] = self.correct / self.weight
            return out
        if self.output == "multilabel_sequence":
            out["nll_per_step"] = loss
            return out
        if "long_range_accuracy" in self.metrics:
            out["long_range_accuracy"] = (self.long_correct / self.long_weight
                                          if self.long_weight else float("nan"))
        out["accuracy"] = self.correct / self.weight
        if "exact_match" in self.metrics:
            out["exact_match"] = (self.exact_hits / self.exact_total if self.exact_total
                                  else float("nan"))
        if "perplexity" in self.metrics:
            out["perplexity"] = perplexity(loss)
        if "bits_per_char" in self.metrics:
            out["bits_per_char"] = bits_per_char(loss)
        return out
