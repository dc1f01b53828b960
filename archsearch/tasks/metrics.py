"""The metrics tasks report, in numpy: one implementation for every trainer.

`MetricSums` streams batches of logits into weighted sums (nats, hits,
whole-answer hits) and turns them into the task's metrics; the trial trainer,
population trials and the functions below all count through it. The unit
conversions turn a mean cross-entropy into the paper's units.
"""

from __future__ import annotations

import math

import numpy as np

from archsearch.tasks.base import TaskError

LN2 = math.log(2.0)


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
        output: the task's output kind: `"sequence"`, `"last"` or
            `"multilabel_sequence"` (binary cross-entropy summed over notes).
        metrics: the metric names wanted (`TaskData.metrics`); `loss` and,
            for categorical outputs, `accuracy` are always reported.

    Example:
        >>> sums = MetricSums("sequence", ("accuracy", "exact_match"))
        >>> logits = np.log([[[0.9, 0.1], [0.2, 0.8]]])
        >>> sums.update(logits, [[0, 0]], [[1.0, 1.0]])
        >>> {k: round(v, 4) for k, v in sums.result().items()}
        {'loss': 0.8574, 'accuracy': 0.5, 'exact_match': 0.0}
    """

    def __init__(self, output: str, metrics=()):
        self.output, self.metrics = output, tuple(metrics)
        self.nll = self.correct = self.weight = 0.0
        self.exact_hits = self.exact_total = 0

    def update(self, logits, targets, sample_weight) -> None:
        """Adds one batch: logits `(..., V)`, targets and weights `(...)`."""
        logits = np.asarray(logits, dtype=np.float64)
        y, w = np.asarray(targets), np.asarray(sample_weight, dtype=np.float64)
        if self.output == "multilabel_sequence":
            bce = np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))
            self.nll += float((bce.sum(axis=-1) * w).sum())
            self.weight += float(w.sum())
            return
        picked = np.take_along_axis(_log_softmax(logits), y[..., None].astype(np.int64),
                                    axis=-1)[..., 0]
        self.nll += float((-picked * w).sum())
        self.correct += float(((logits.argmax(axis=-1) == y) * w).sum())
        self.weight += float(w.sum())
        if "exact_match" in self.metrics and y.ndim == 2:
            hits, total = exact_match_counts(logits, y, w)
            self.exact_hits += hits
            self.exact_total += total

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
        if self.output == "multilabel_sequence":
            raise TaskError("update_picked needs a categorical output; "
                            "multilabel_sequence takes update(logits, ...)")
        picked = np.asarray(log_prob, dtype=np.float64)
        ids, y = np.asarray(predicted), np.asarray(targets)
        w = np.asarray(sample_weight, dtype=np.float64)
        self.nll += float((-picked * w).sum())
        self.correct += float(((ids == y) * w).sum())
        self.weight += float(w.sum())
        if "exact_match" in self.metrics and y.ndim == 2:
            hits, total = exact_match_counts(ids, y, w)
            self.exact_hits += hits
            self.exact_total += total

    def result(self) -> dict[str, float]:
        """`loss` (mean nats per weighted position) and the wanted metrics."""
        if self.weight == 0:
            return {"loss": float("nan")}
        loss = self.nll / self.weight
        out = {"loss": loss}
        if self.output == "multilabel_sequence":
            out["nll_per_step"] = loss
            return out
        out["accuracy"] = self.correct / self.weight
        if "exact_match" in self.metrics:
            out["exact_match"] = (self.exact_hits / self.exact_total if self.exact_total
                                  else float("nan"))
        if "perplexity" in self.metrics:
            out["perplexity"] = perplexity(loss)
        if "bits_per_char" in self.metrics:
            out["bits_per_char"] = bits_per_char(loss)
        return out
