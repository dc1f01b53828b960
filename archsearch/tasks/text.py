"""Text helpers shared by the tasks: tokens, vocabularies, splits, streams.

Everything here is numpy-only and deterministic: the same inputs and seed give
the same arrays on every machine.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Sequence

import numpy as np

from archsearch.tasks.base import TaskError
from archsearch.tasks.prepared import PAD, SPLITS, Arrays

UNK = "<unk>"
EOS = "<eos>"
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lowercases and splits into words and single punctuation marks.

    Contractions stay one word; every other non-space, non-alphanumeric
    character is its own token.

    Example:
    >>> tokenize("You're asking me out. That's so cute?!")
    ["you're", 'asking', 'me', 'out', '.', "that's", 'so', 'cute', '?', '!']
    """
    return _WORD.findall(text.lower())


class Vocabulary:
    """Token strings <-> int ids; id 0 is `"<pad>"`, unknown tokens map to `"<unk>"`.

    Args:
        tokens: the tokens in id order, starting with `"<pad>"`.

    Example:
    >>> vocab = Vocabulary.from_counts({"a": 3, "b": 1, "c": 2}, max_size=3)
    >>> vocab.tokens
    ('<pad>', '<unk>', 'a', 'c')
    >>> vocab.encode(["a", "b"]).tolist()
    [2, 1]
    """

    def __init__(self, tokens: Sequence[str]):
        self.tokens = tuple(tokens)
        if not self.tokens or self.tokens[0] != PAD:
            raise TaskError(
                f"Expected a vocabulary starting with {PAD!r}. Received: {self.tokens[:3]}"
            )
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.unk_id = self.index.get(UNK)

    @classmethod
    def from_counts(
        cls,
        counts: collections.Counter | dict[str, int],
        max_size: int | None = None,
        specials: Sequence[str] = (UNK,),
    ) -> Vocabulary:
        """The `specials` plus the most frequent tokens (ties by string order).

        `max_size` counts the specials but not `"<pad>"`.
        """
        ranked = sorted((t for t in counts if t not in specials), key=lambda t: (-counts[t], t))
        room = None if max_size is None else max(0, max_size - len(specials))
        return cls([PAD, *specials, *ranked[:room]])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token strings -> int32 ids (unknown ones -> `"<unk>"`)."""
        index, unk = self.index, self.unk_id
        ids = [index[t] for t in tokens] if unk is None else [index.get(t, unk) for t in tokens]
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Int ids -> token strings."""
        return [self.tokens[int(i)] for i in ids]


def split_indices(labels: Sequence | np.ndarray, seed: int, fraction: float = 1.0) -> dict:
    """Fixed-seed stratified 80/10/10 split of example indices.

    Each class is permuted with `seed` and cut 80/10/10; with `fraction` < 1
    only the first `ceil(fraction * n)` of each class's share is kept, so
    smaller splits stay stratified and nested in the full ones.

    Returns:
        split name -> sorted int64 indices.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n = len(members)
        n_train = round(n * SPLIT_FRACTIONS[0])
        n_valid = round(n * SPLIT_FRACTIONS[1])
        cuts = {
            "train": members[:n_train],
            "valid": members[n_train : n_train + n_valid],
            "test": members[n_train + n_valid :],
        }
        for split, chunk in cuts.items():
            keep = int(np.ceil(len(chunk) * fraction))
            parts[split].append(chunk[:keep])
    return {split: np.sort(np.concatenate(chunks)) for split, chunks in parts.items()}


def pad_rows(rows: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Right-pads (with 0) or truncates int sequences to `length`."""
    out = np.zeros((len(rows), length), dtype=np.int32)
    for i, row in enumerate(rows):
        row = row[:length]
        out[i, : len(row)] = row
    return out


def stream_arrays(
    ids: np.ndarray, seq_len: int, batch_size: int, stateful: bool, what: str = "stream"
) -> Arrays:
    """Cuts a token stream into next-token windows.

    Stateful (the PTB reader's layout): the stream is split into `batch_size`
    contiguous rows and batch `i` holds columns `[i*seq_len, (i+1)*seq_len)`
    of every row, so row `r` of batch `i+1` continues row `r` of batch `i`.
    Returns arrays of shape `(num_batches, batch_size, seq_len)`.

    Stateless: non-overlapping windows of `seq_len`, shape `(num_windows,
    seq_len)`. Targets are the inputs shifted by one token; weights are 1.
    """
    ids = np.asarray(ids, dtype=np.int32)
    if stateful:
        row_len = len(ids) // batch_size
        n = (row_len - 1) // seq_len
        if n < 1:
            raise TaskError(
                f"The {what} of {len(ids)} tokens is too short for batch_size={batch_size} "
                f"and seq_len={seq_len}; use a larger fraction or smaller sizes."
            )
        rows = ids[: batch_size * row_len].reshape(batch_size, row_len)
        x = rows[:, : n * seq_len].reshape(batch_size, n, seq_len).transpose(1, 0, 2)
        y = rows[:, 1 : n * seq_len + 1].reshape(batch_size, n, seq_len).transpose(1, 0, 2)
    else:
        n = (len(ids) - 1) // seq_len
        if n < 1:
            raise TaskError(
                f"The {what} of {len(ids)} tokens is too short for seq_len={seq_len}; "
                "use a larger fraction or a smaller seq_len."
            )
        x = ids[: n * seq_len].reshape(n, seq_len)
        y = ids[1 : n * seq_len + 1].reshape(n, seq_len)
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    return x, y, np.ones(x.shape, dtype=np.float32)
