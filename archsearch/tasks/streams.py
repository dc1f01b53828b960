"""Continual streams: many examples joined with no break, the state never reset between them.

The `continual` option of `arithmetic` and `memorization` (issue: where the
forget gate matters). Each of `batch_size` streams is its examples joined
end to end (example `k` goes to stream `k mod batch_size`), cut into
consecutive chunks of `seq_len` symbols: batch `i + 1` continues batch `i`
row by row, and the trainer carries the state across chunks (truncated
backpropagation, as for the stateful language models and continual Reber),
resetting it only at the start of a pass over a split. A cell that never
forgets accumulates every problem it has seen; a cell that forgets starts
each one afresh. The weights are those of the separate examples (1 on the
answer's symbols), so the metrics keep their meaning, except that
`exact_match` counts a chunk's row (every answer symbol in it right).

Example:
    >>> import numpy as np
    >>> rows = [np.array([1, 2, 3]), np.array([4, 5, 6]), np.array([7, 8, 9])]
    >>> x, y, w = continual_arrays(rows, starts=[1, 1, 1], streams=1, seq_len=4)
    >>> x.shape, x[0, 0].tolist(), y[0, 0].tolist(), w[0, 0].tolist()
    ((2, 1, 4), [1, 2, 3, 4], [2, 3, 4, 5], [0.0, 1.0, 0.0, 0.0])
    >>> x[1, 0].tolist(), y[1, 0].tolist()  # the next chunk continues the stream
    ([5, 6, 7, 8], [6, 7, 8, 9])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archsearch.tasks.base import TaskError

__all__ = ["DEFAULT_CHUNK", "check_continual", "continual_arrays"]

#: Symbols per chunk by default (as continual Reber).
DEFAULT_CHUNK = 75


def check_continual(task: str, value) -> bool:
    """The `continual` option as a bool; a clear error for anything but true or false."""
    if not isinstance(value, bool | np.bool_):
        raise TaskError(f"Task {task!r} expects option continual to be true or false. "
                        f"Received: continual={value!r}")
    return bool(value)


def continual_arrays(rows: Sequence[np.ndarray], starts: Sequence[int], streams: int,
                     seq_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(inputs, targets, weights)` of shape `(chunks, streams, seq_len)` from whole examples.

    Args:
        rows: Each example's token ids.
        starts: Per example, the first target position scored (an index into
            the example's targets, as `next_token_arrays` reads it): target
            `j` predicts `row[j + 1]` and has weight 1 when `j >= start`.
        streams: Rows of a batch (the batch size).
        seq_len: Symbols per chunk.

    Raises:
        TaskError: the examples do not fill one chunk of every stream.
    """
    tokens, scored = [[] for _ in range(streams)], [[] for _ in range(streams)]
    for k, (row, start) in enumerate(zip(rows, starts, strict=True)):
        flag = np.zeros(len(row), dtype=np.float32)
        flag[start + 1:] = 1.0  # token i is a scored target when i - 1 >= start
        tokens[k % streams].append(np.asarray(row, dtype=np.int32))
        scored[k % streams].append(flag)
    joined = [np.concatenate(t) if t else np.zeros(0, np.int32) for t in tokens]
    shortest = min(len(t) for t in joined)
    chunks = (shortest - 1) // seq_len
    if chunks < 1:
        raise TaskError(f"{len(rows)} examples in {streams} streams do not fill one chunk of "
                        f"{seq_len} symbols per stream (the shortest has {shortest}): raise "
                        f"num_examples, or lower the batch size or seq_len")
    n = chunks * seq_len
    ids = np.stack([t[:n + 1] for t in joined])
    flags = np.stack([np.concatenate(f)[:n + 1] for f in scored])
    x, y, w = ids[:, :-1], ids[:, 1:], flags[:, 1:]
    return tuple(a.reshape(streams, chunks, seq_len).transpose(1, 0, 2).copy()
                 for a in (x, y, w))
