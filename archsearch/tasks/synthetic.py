"""Helpers shared by the generated tasks (memorization, arithmetic, XML).

Training data is drawn from `seed`; validation and test data from fixed seeds,
so every trial of a search is measured on the same held-out examples.
"""

from __future__ import annotations

import numpy as np

from archsearch.tasks.base import TaskError, scaled
from archsearch.tasks.prepared import SPLITS

_EVAL_SEED = 20150706  # fixed: held-out data never depends on the trial seed


def split_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators: train from `seed`, valid/test from fixed seeds."""
    return {
        "train": np.random.default_rng([0, seed]),
        "valid": np.random.default_rng([1, _EVAL_SEED]),
        "test": np.random.default_rng([2, _EVAL_SEED]),
    }


def split_sizes(num_examples: int, fraction: float) -> dict[str, int]:
    """Train `num_examples`, valid and test a tenth of it each, all times `fraction`."""
    held_out = max(1, num_examples // 10)
    return {
        split: scaled(num_examples if split == "train" else held_out, fraction) for split in SPLITS
    }


def fit_seq_len(task: str, natural: int, seq_len: int | None) -> int:
    """The padded length: `natural` by default; a larger `seq_len` pads more."""
    if seq_len is None:
        return natural
    if seq_len < natural:
        raise TaskError(
            f"Task {task!r} needs seq_len >= {natural} with these options (its examples "
            f"are that long); shrink the examples with its options instead. "
            f"Received: seq_len={seq_len}"
        )
    return seq_len


def next_token_arrays(
    rows: list[np.ndarray], starts: list[int], seq_len: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teacher-forcing arrays from whole sequences of ids.

    Row `i` becomes inputs `row[:-1]` and targets `row[1:]`, right-padded with
    0 to `seq_len`; the weight is 1 on targets at positions `>= starts[i]`
    (index into the targets) and 0 elsewhere, padding included.
    """
    n = len(rows)
    inputs = np.zeros((n, seq_len), dtype=np.int32)
    targets = np.zeros((n, seq_len), dtype=np.int32)
    weights = np.zeros((n, seq_len), dtype=np.float32)
    for i, (row, start) in enumerate(zip(rows, starts, strict=True)):
        length = len(row) - 1
        inputs[i, :length] = row[:-1]
        targets[i, :length] = row[1:]
        weights[i, start:length] = 1.0
    return inputs, targets, weights
