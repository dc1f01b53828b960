"""Turns a task's numpy arrays into deterministic `tf.data` pipelines.

TensorFlow is imported here, inside functions, so that listing tasks and
preparing arrays stay fast and TensorFlow-free.
"""

from __future__ import annotations

import math
from typing import Any

from archsearch.tasks.base import SPLITS, Prepared


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
            drop = split == "train" and len(inputs) >= prepared.batch_size
            ds = ds.batch(prepared.batch_size, drop_remainder=drop)
        options = tf.data.Options()
        options.deterministic = True
        datasets[split] = ds.with_options(options).prefetch(2)
    return datasets
