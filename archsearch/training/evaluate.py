"""Evaluate a model on a task split: the metrics the paper reports.

The counting is `archsearch.tasks.metrics.MetricSums` (one implementation for
solo and population trials); this module only runs the model over batches.
"""

from __future__ import annotations

import numpy as np

from archsearch.tasks.metrics import MetricSums

__all__ = ["UNREDUCED", "evaluate", "joined_batches", "pick_targets", "picker", "predictor"]

#: Output kinds evaluated from every output value, not reduced to the target's
#: log-probability in the graph (not categorical).
UNREDUCED = ("multilabel_sequence", "regression")

# Most logits one joined forward pass may produce (rows x steps x outputs).
MAX_CHUNK_LOGITS = 1 << 22
_CHUNKS: dict = {}


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


def picker(model):
    """A compiled `(x, y) -> (log-probability of y, arg-max id)` per position of `model`.

    The categorical outputs' evaluation reduced inside the graph: numpy then
    sums two arrays shaped like `y` instead of a log-softmax over every logit.
    """
    import tensorflow as tf

    fn = getattr(model, "_archsearch_pick", None)
    if fn is None:
        def pick(x, y):
            return pick_targets(model(x, training=False), y)

        fn = tf.function(pick, reduce_retracing=True)
        model._archsearch_pick = fn
    return fn


def pick_targets(logits, targets):
    """`(log-probability of each target, arg-max id)`, both shaped like `targets`.

    `logits` has the shape of `targets` plus the outputs axis; TensorFlow ops.
    """
    import tensorflow as tf

    logits = tf.cast(logits, tf.float32)
    log_prob = tf.nn.log_softmax(logits, axis=-1)
    picked = tf.gather(log_prob, tf.cast(targets, tf.int32), axis=-1,
                       batch_dims=len(targets.shape))
    return picked, tf.argmax(logits, axis=-1, output_type=tf.int32)


def joined_batches(data, split: str, max_batches: int | None):
    """The split's batches as numpy, consecutive same-shape batches joined (kept per data)."""
    key = (id(data), split, max_batches)
    hit = _CHUNKS.get(key)
    if hit is not None and hit[0] is data:
        return hit[1]
    chunks: list[list] = []
    for k, batch in enumerate(data.split(split)):
        if max_batches is not None and k >= max_batches:
            break
        x, y, w = (np.asarray(t) for t in batch)
        last = chunks[-1] if chunks else None
        rows = len(x) + (sum(len(b[0]) for b in last) if last else 0)
        steps = x.shape[1] if x.ndim > 1 else 1
        if (last is not None and not data.stateful and last[0][0].shape[1:] == x.shape[1:]
                and rows * steps * data.num_outputs <= MAX_CHUNK_LOGITS):
            last.append((x, y, w))
        else:
            chunks.append([(x, y, w)])
    joined = [tuple(np.concatenate([b[j] for b in c]) for j in range(3)) for c in chunks]
    if len(_CHUNKS) >= 8:
        _CHUNKS.pop(next(iter(_CHUNKS)))
    _CHUNKS[key] = (data, joined)
    return joined


def evaluate(model, data, split: str, max_batches: int | None = None) -> dict[str, float]:
    """Weighted loss and the task's metrics on `split` (first `max_batches` batches).

    Consecutive batches of the same shape run as one forward pass (a stateful
    task's batches run one by one, in order), through one compiled function.

    Returns a dict with `loss` (mean nats per weighted position, or the mean
    squared error of a regression) and each of `data.metrics` that archsearch
    knows: accuracy, exact_match, perplexity, bits_per_char, nll_per_step,
    long_range_accuracy, mse, solved.
    """
    sums = MetricSums.for_data(data)
    if data.output in UNREDUCED:
        predict = predictor(model)
        for x, y, w in joined_batches(data, split, max_batches):
            sums.update(predict(x).numpy(), y, w)
        return sums.result()
    pick = picker(model)
    for x, y, w in joined_batches(data, split, max_batches):
        log_prob, ids = pick(x, y)
        sums.update_picked(log_prob.numpy(), ids.numpy(), y, w)
    return sums.result()
