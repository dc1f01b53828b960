"""Memorization: read a few symbols, then reproduce them (the paper's pre-filter)."""

from __future__ import annotations

import string

import numpy as np

from archsearch.tasks.base import Task, check_option_int
from archsearch.tasks.prepared import PAD, Prepared
from archsearch.tasks.streams import DEFAULT_CHUNK, check_continual, continual_arrays
from archsearch.tasks.synthetic import fit_seq_len, next_token_arrays, split_rngs, split_sizes

GO = "="
VOCAB = (PAD, GO, *string.ascii_lowercase)


def generate(rng: np.random.Generator, length: int = 5, alphabet_size: int = 26) -> str:
    """One example as text: `length` random letters, `=`, the same letters.

    Example:
    >>> generate(np.random.default_rng(0))
    'wqnhi=wqnhi'
    """
    letters = string.ascii_lowercase[:alphabet_size]
    symbols = "".join(letters[i] for i in rng.integers(0, alphabet_size, size=length))
    return f"{symbols}{GO}{symbols}"


class Memorization(Task):
    """Read `length` symbols from an alphabet of `alphabet_size`, then reproduce them.

    Example `sppfe=sppfe` is fed with teacher forcing: inputs `sppfe=sppf`,
    targets `ppfe=sppfe`, and only the five targets after `=` count
    (`sample_weight` 1), so accuracy is on the reproduced symbols. The paper
    drops mutants below 95% accuracy here before any real training.

    Options:
        length: symbols to memorize (default 5).
        alphabet_size: letters `a`.. to draw from, at most 26 (default 26).
        num_examples: training sequences (default 10,000); validation and
            test have a tenth of it each.
        continual: many examples in one stream per batch row, the state
            never reset between them, in chunks of `seq_len` (default 75)
            symbols (`archsearch.tasks.streams`; default false).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("memorization").load(num_examples=100, batch_size=10)
    >>> x, y, w = next(iter(data.train))
    >>> x.shape, w.numpy()[0].tolist()
    (TensorShape([10, 10]), [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    """

    name = "memorization"
    kind = "synthetic"
    source = "generated"
    size = "10,000 / 1,000 / 1,000 sequences of 5 symbols"
    metrics = ("accuracy",)
    options = {"length": 5, "alphabet_size": 26, "num_examples": 10_000, "continual": False}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        length = check_option_int(self.name, "length", options["length"], 1)
        alphabet = check_option_int(self.name, "alphabet_size", options["alphabet_size"], 1, 26)
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        continual = check_continual(self.name, options["continual"])
        steps = (seq_len or DEFAULT_CHUNK) if continual else \
            fit_seq_len(self.name, 2 * length, seq_len)
        index = {token: i for i, token in enumerate(VOCAB)}
        rngs = split_rngs(seed)
        arrays = {}
        for split, count in split_sizes(num_examples, fraction).items():
            texts = [generate(rngs[split], length, alphabet) for _ in range(count)]
            rows = [np.array([index[c] for c in text], dtype=np.int32) for text in texts]
            starts = [length] * count
            arrays[split] = continual_arrays(rows, starts, batch_size, steps) if continual \
                else next_token_arrays(rows, starts, steps)
        return Prepared(
            arrays=arrays,
            vocab=VOCAB,
            seq_len=steps,
            batch_size=batch_size,
            stateful=continual,
            info={"length": length, "alphabet_size": alphabet, "num_examples": num_examples,
                  "continual": continual},
        )
