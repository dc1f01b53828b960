"""What a task prepares, before any TensorFlow: the splits' arrays and their vocabulary.

A leaf module: `archsearch.tasks.base` (the `Task` contract) and
`archsearch.tasks.pipeline` (the `tf.data` pipelines built from these arrays)
both read it, and neither imports the other's internals through it.

Example:
    >>> import numpy as np
    >>> x = np.zeros((4, 3), dtype="int32")
    >>> p = Prepared({s: (x, x, None) for s in SPLITS}, ("<pad>", "a"), seq_len=3, batch_size=2)
    >>> p.stateful, sorted(p.arrays)
    (False, ['test', 'train', 'valid'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["OUTPUT_KINDS", "PAD", "PAD_ID", "SPLITS", "Arrays", "Prepared"]

SPLITS = ("train", "valid", "test")
OUTPUT_KINDS = ("sequence", "last", "multilabel_sequence", "regression")
PAD_ID = 0
PAD = "<pad>"

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class Prepared:
    """What `Task.prepare` returns: numpy arrays and vocabulary, no TensorFlow.

    Attributes:
        arrays: split name -> `(inputs, targets, sample_weight)`. Stateful
            tasks hold ready-made batches: arrays of shape
            `(num_batches, batch_size, seq_len)`; other tasks hold one row per
            example, batched later.
        vocab: input token strings; `vocab[i]` is the token of id `i` and
            `vocab[0]` is `"<pad>"` (multi-hot inputs: the name of input `i`).
        labels: output class names; `None` means the outputs are `vocab`.
        seq_len: time steps per example (or per window).
        stateful: whether state must be carried across consecutive batches.
        batch_size: the batch size the arrays were built for.
        info: extra facts about the data (token counts, source, ...).
        chrono_tmax: the longest dependency in steps, the T_max of a chrono
            forget-gate initialisation (`None`: the task names none).
        metric_options: keyword arguments of `MetricSums` for this data
            (`long_range_ids`, `solved_below`).
    """

    arrays: Mapping[str, Arrays]
    vocab: tuple[str, ...]
    seq_len: int
    batch_size: int
    labels: tuple[str, ...] | None = None
    stateful: bool = False
    info: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    chrono_tmax: int | None = None
    metric_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
