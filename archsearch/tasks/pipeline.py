"""Turns a task's numpy arrays into deterministic `tf.data` pipelines.

TensorFlow is imported here, inside functions, so that listing tasks and
preparing arrays stay fast and TensorFlow-free.
"""

from __future__ import annotations

import math
from typing import Any

from archsearch.tasks.prepared import SPLITS, Prepared


def num_batches(prepared: Prepared) -> dict[str, int]:
    """Batches in one pass over each split, as `build` will yield them."""
    counts = {}
    for split in SPLITS:
        rows = len(prepared.arrays[split][0])
        if prepared.stateful:
            counts[split] = rows
        elif split == "train" and rows >= prepared.batch_size:
            counts[split] = rows // prepared.batch_size
        else:
            counts[split] = math.ceil(rows / prepared.batch_size)
    return counts


def build(prepared: Prepared, seed: int) -> dict[str, Any]:
    """Returns `{"train": ds, "valid": ds, "test": ds}`.

    Stateful arrays are already batched `(num_batches, batch_size, seq_len)`
    and are yielded in order, never shuffled. Otherwise the training split is
    shuffled with `seed` (a new, seed-determined order each epoch) and
    batched dropping the last partial batch so all training batches have one
    shape; validation and test keep every example, in order.

    Args:
        prepared: the arrays and their layout.
        seed: the shuffle seed.

    Returns:
        A dict of `tf.data.Dataset`s of `(inputs, targets, sample_weight)`.
    """
    import tensorflow as tf

    datasets = {}
    for split in SPLITS:
        inputs, targets, weights = prepared.arrays[split]
        ds = tf.data.Dataset.from_tensor_slices((inputs, targets, weights))
        if not prepared.stateful:
            if split == "train":
                ds = ds.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
            ds = _batched(ds, prepared, split)
        datasets[split] = _finish(ds)
    return datasets


def epoch_orders(prepared: Prepared, seed: int):
    """Returns `epoch -> training batches` whose order depends on `(seed, epoch)` only.

    The `train` pipeline of `build` draws a new order on every pass from a
    generator it keeps, so a second trial that reuses the same `TaskData`
    (a worker caches data between trials) would see the orders after the
    first trial's. Trainers iterate `epoch_orders(...)(epoch)` instead: the
    same seed gives the same data order whatever ran before. Each call
    returns an iterator of `(inputs, targets, sample_weight)` tensors,
    gathered in the caller's thread, not in a `tf.data` pipeline.
    """
    import numpy as np
    import tensorflow as tf

    arrays = prepared.arrays["train"]
    tensors = tuple(tf.constant(a) for a in arrays)
    rows, size = len(arrays[0]), prepared.batch_size
    if prepared.stateful:  # already batched; in order, every pass
        return lambda index: (tuple(t[i] for t in tensors) for i in range(rows))

    def gather(idx):
        return tuple(tf.gather(t, idx) for t in tensors)

    def epoch(index: int):
        # The order comes from numpy, not a TF shuffle op: TF mixes its global
        # seed into an op's seed, and trainers set that seed differently.
        order = np.random.default_rng([seed, index]).permutation(rows)
        stop = rows - rows % size if rows >= size else rows  # drop a partial last batch
        # Gathered in the training thread: a tf.data pipeline's background
        # threads wait for a CPU when a worker has one, and two such workers
        # on two cores lost ~20% of their training speed to it.
        return (gather(order[start:start + size]) for start in range(0, stop, size))

    return epoch


def _batched(ds, prepared: Prepared, split: str):
    drop = split == "train" and len(prepared.arrays[split][0]) >= prepared.batch_size
    return ds.batch(prepared.batch_size, drop_remainder=drop)


def _finish(ds):
    import tensorflow as tf

    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options).prefetch(2)
