"""Evaluate a model on a task split: the metrics the paper reports.

The counting is `archsearch.tasks.metrics.MetricSums` (one implementation for
solo and population trials); this module only runs the model over batches.
"""

from __future__ import annotations

from archsearch.tasks.metrics import MetricSums

__all__ = ["evaluate", "predictor"]


def predictor(model):
    """A compiled `x -> logits` function of `model` (traced once per input signature).

    Keras' `predict_on_batch` builds a predict function that returns numpy
    through its own data-handling layer; this calls the model once per batch
    under one `tf.function` with `reduce_retracing`, which is cheaper for the
    many small evaluations of a trial.
    """
    import tensorflow as tf

    fn = getattr(model, "_archsearch_predict", None)
    if fn is None:
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        model._archsearch_predict = fn
    return fn


def evaluate(model, data, split: str, max_batches: int | None = None) -> dict[str, float]:
    """Weighted loss and the task's metrics on `split` (first `max_batches` batches).

    Returns a dict with `loss` (mean nats per weighted position) and each of
    `data.metrics` that archsearch knows: accuracy, exact_match, perplexity,
    bits_per_char, nll_per_step.
    """
    sums = MetricSums(data.output, data.metrics)
    predict = predictor(model)
    for k, (x, y, w) in enumerate(data.split(split)):
        if max_batches is not None and k >= max_batches:
            break
        sums.update(predict(x).numpy(), y, w)
    return sums.result()
