"""The copy task: read a few symbols, wait `delay` steps, then write them back."""

from __future__ import annotations

import string

import numpy as np

from archsearch.tasks.base import Task, TaskError, check_option_int
from archsearch.tasks.prepared import PAD, Prepared
from archsearch.tasks.synthetic import split_rngs, split_sizes

BLANK, GO = "_", ":"
VOCAB = (PAD, BLANK, GO, *string.ascii_lowercase)
_FIRST_LETTER = VOCAB.index("a")
MAX_DELAY = 100_000


def generate(rng: np.random.Generator, count: int, delay: int, length: int = 10,
             alphabet_size: int = 8):
    """`count` examples as `(inputs, targets)` ids, each `delay + 2 * length` steps.

    Inputs: `length` random letters, `delay - 1` blanks, the `:` cue, then
    `length` blanks. Targets: blanks until the cue's step has passed, then the
    letters (Arjovsky, Shah & Bengio 2016).

    Example:
        >>> x, y = generate(np.random.default_rng(0), 1, delay=3, length=2, alphabet_size=4)
        >>> "".join(VOCAB[i] for i in x[0]), "".join(VOCAB[i] for i in y[0])
        ('dc__:__', '_____dc')
    """
    letters = rng.integers(0, alphabet_size, size=(count, length)) + _FIRST_LETTER
    steps = delay + 2 * length
    inputs = np.full((count, steps), VOCAB.index(BLANK), np.int32)
    targets = np.full((count, steps), VOCAB.index(BLANK), np.int32)
    inputs[:, :length] = letters
    inputs[:, length + delay - 1] = VOCAB.index(GO)
    targets[:, -length:] = letters
    return inputs, targets


class Copy(Task):
    """Copy `length` symbols from an alphabet of `alphabet_size` after `delay` steps.

    Arjovsky et al. 2016's copy task, with Tallec & Ollivier 2018's chrono
    T_max of 3 `delay` / 2. The model outputs a symbol at every step; only the
    `length` copied symbols are weighted (in training too), so `accuracy` is
    on the copied symbols (chance: 1 / `alphabet_size`) and `exact_match` on
    whole copies.

    Options:
        delay: steps between the last symbol read and the cue (T, default 100).
        length: symbols to copy (default 10).
        alphabet_size: letters `a`.. to draw from, at most 26 (default 8).
        num_examples: training sequences (default 10,000); validation and
            test have a tenth of it each.

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("copy").load(num_examples=40, batch_size=8, delay=5, length=3)
    >>> data.seq_len, data.chrono_tmax, data.arrays["train"][2][0].tolist()[-4:]
    (11, 7, [0.0, 1.0, 1.0, 1.0])
    """

    name = "copy"
    kind = "synthetic"
    source = "generated (Arjovsky, Shah & Bengio 2016)"
    size = "10,000 / 1,000 / 1,000 copies of 10 symbols after 100 steps"
    metrics = ("accuracy", "exact_match")
    options = {"delay": 100, "length": 10, "alphabet_size": 8, "num_examples": 10_000}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        delay = check_option_int(self.name, "delay", options["delay"], 1, MAX_DELAY)
        length = check_option_int(self.name, "length", options["length"], 1, MAX_DELAY // 4)
        alphabet = check_option_int(self.name, "alphabet_size", options["alphabet_size"], 1, 26)
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        natural = delay + 2 * length
        if seq_len is not None and seq_len != natural:
            raise TaskError(f"Task {self.name!r} sets its sequence length with options delay "
                            f"and length (delay + 2 * length = {natural}). "
                            f"Received: seq_len={seq_len}")
        rngs = split_rngs(seed)
        arrays = {}
        for split, count in split_sizes(num_examples, fraction).items():
            x, y = generate(rngs[split], count, delay, length, alphabet)
            weights = np.zeros(x.shape, np.float32)
            weights[:, -length:] = 1.0
            arrays[split] = (x, y, weights)
        return Prepared(arrays=arrays, vocab=VOCAB, seq_len=natural, batch_size=batch_size,
                        chrono_tmax=max(3, 3 * delay // 2),
                        info={"delay": delay, "length": length, "alphabet_size": alphabet,
                              "num_examples": num_examples})

