"""Evaluate a model on a task split in numpy: the metrics the paper reports."""

from __future__ import annotations

import numpy as np

__all__ = ["evaluate"]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def evaluate(model, data, split: str, max_batches: int | None = None) -> dict[str, float]:
    """Weighted loss and the task's metrics on `split` (first `max_batches` batches).

    Returns a dict with `loss` (mean nats per weighted position) and each of
    `data.metrics` that archsearch knows: accuracy, exact_match, perplexity,
    bits_per_char, nll_per_step.
    """
    from archsearch.tasks import metrics as task_metrics

    nll_sum = correct = weight_sum = 0.0
    exact_hits = exact_total = 0
    for k, (x, y, w) in enumerate(data.split(split)):
        if max_batches is not None and k >= max_batches:
            break
        logits = np.asarray(model.predict_on_batch(x), dtype=np.float64)
        y, w = np.asarray(y), np.asarray(w, dtype=np.float64)
        if data.output == "multilabel_sequence":
            # Binary cross-entropy on logits, summed over notes, per time step.
            nll = (np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))
            nll_sum += float((nll.sum(axis=-1) * w).sum())
            weight_sum += float(w.sum())
            continue
        logp = _log_softmax(logits)
        picked = np.take_along_axis(logp, y[..., None].astype(np.int64), axis=-1)[..., 0]
        nll_sum += float((-picked * w).sum())
        hits = logits.argmax(axis=-1) == y
        correct += float((hits * w).sum())
        weight_sum += float(w.sum())
        if "exact_match" in data.metrics and y.ndim == 2:
            counted = (w > 0).any(axis=-1)
            exact_hits += int(np.all(hits | (w <= 0), axis=-1)[counted].sum())
            exact_total += int(counted.sum())
    if weight_sum == 0:
        return {"loss": float("nan")}
    loss = nll_sum / weight_sum
    out = {"loss": loss}
    if data.output == "multilabel_sequence":
        out["nll_per_step"] = loss
        return out
    out["accuracy"] = correct / weight_sum
    if "exact_match" in data.metrics:
        out["exact_match"] = exact_hits / exact_total if exact_total else float("nan")
    if "perplexity" in data.metrics:
        out["perplexity"] = task_metrics.perplexity(loss)
    if "bits_per_char" in data.metrics:
        out["bits_per_char"] = task_metrics.bits_per_char(loss)
    return out
