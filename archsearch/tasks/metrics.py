"""Numpy helpers for the metrics tasks report beyond Keras' built-ins.

Keras computes the weighted loss and `SparseCategoricalAccuracy` (pass the
batches' `sample_weight`, e.g. via `weighted_metrics`); these turn them into
the paper's units or add whole-answer scores.
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
    targets = np.asarray(targets)
    weight = np.asarray(sample_weight) > 0
    ids = _as_ids(predictions, targets)
    if weight.shape != targets.shape:
        raise TaskError(
            f"Expected sample_weight of shape {targets.shape}. Received: {weight.shape}"
        )
    counted = weight.any(axis=-1)
    if not counted.any():
        return float("nan")
    correct = np.all((ids == targets) | ~weight, axis=-1)
    return float(correct[counted].mean())


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
