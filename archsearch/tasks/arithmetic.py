"""Arithmetic: add or subtract two numbers read among distractor symbols."""

from __future__ import annotations

import string

import numpy as np

from archsearch.tasks.base import Task, check_option_int
from archsearch.tasks.prepared import PAD, Prepared
from archsearch.tasks.streams import DEFAULT_CHUNK, check_continual, continual_arrays
from archsearch.tasks.synthetic import fit_seq_len, next_token_arrays, split_rngs, split_sizes

DISTRACTORS = string.ascii_lowercase
VOCAB = (PAD, *string.digits, "+", "-", "=", *DISTRACTORS)


def _number(rng: np.random.Generator, max_digits: int) -> int:
    digits = int(rng.integers(1, max_digits + 1))
    low = 0 if digits == 1 else 10 ** (digits - 1)
    return int(rng.integers(low, 10**digits))


def generate(rng: np.random.Generator, max_digits: int = 8, max_distractors: int = 3) -> str:
    """One example as text: question with distractors, `=`, the answer.

    Each operand has 1..`max_digits` digits (uniformly), the operator is `+`
    or `-`, and 0..`max_distractors` random lowercase letters are inserted
    between successive characters of the question (up to and including `=`).
    The answer may be negative.

    Example:
    >>> generate(np.random.default_rng(38))
    '5q3-ebo3smw2s4s=-271'
    """
    a, b = _number(rng, max_digits), _number(rng, max_digits)
    op = "+" if rng.random() < 0.5 else "-"
    question = f"{a}{op}{b}="
    pieces = [question[0]]
    for char in question[1:]:
        count = int(rng.integers(0, max_distractors + 1))
        pieces.extend(DISTRACTORS[i] for i in rng.integers(0, len(DISTRACTORS), size=count))
        pieces.append(char)
    answer = a + b if op == "+" else a - b
    return "".join(pieces) + str(answer)


def max_length(max_digits: int, max_distractors: int) -> int:
    """Longest possible example text, answer included."""
    question = 2 * max_digits + 2  # a, op, b, "="
    return question + (question - 1) * max_distractors + max_digits + 1


class Arithmetic(Task):
    """The paper's arithmetic task, e.g. `3e36d9-h1h39f94eeh43keg3c=-13991064`.

    Characters are fed one at a time with teacher forcing: inputs are the
    text without its last character, targets the text shifted by one; only
    targets after `=` (the answer characters, sign included) have weight 1.
    Rows are right-padded with 0 to the longest possible example.
    `archsearch.tasks.exact_match` scores whole answers from predictions.

    Options:
        max_digits: digits per operand, at most (default 8).
        max_distractors: letters between successive characters (default 3).
        num_examples: training sequences (default 20,000); validation and
            test have a tenth of it each.
        continual: many problems in one stream per batch row, the state
            never reset between them, in chunks of `seq_len` (default 75)
            symbols (`archsearch.tasks.streams`; default false).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("arithmetic").load(num_examples=40, batch_size=8, max_digits=2)
    >>> data.seq_len, data.metrics
    (23, ('accuracy', 'exact_match'))
    >>> data = tasks.get("arithmetic").load(num_examples=400, batch_size=8, max_digits=2,
    ...                                     continual=True, seq_len=20)
    >>> data.stateful, data.seq_len
    (True, 20)
    """

    name = "arithmetic"
    kind = "synthetic"
    source = "generated"
    size = "20,000 / 2,000 / 2,000 sums of up to 8 digits"
    metrics = ("accuracy", "exact_match")
    options = {"max_digits": 8, "max_distractors": 3, "num_examples": 20_000, "continual": False}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        digits = check_option_int(self.name, "max_digits", options["max_digits"], 1, 18)
        noise = check_option_int(self.name, "max_distractors", options["max_distractors"], 0)
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        continual = check_continual(self.name, options["continual"])
        steps = (seq_len or DEFAULT_CHUNK) if continual else \
            fit_seq_len(self.name, max_length(digits, noise) - 1, seq_len)
        index = {token: i for i, token in enumerate(VOCAB)}
        rngs = split_rngs(seed)
        arrays = {}
        for split, count in split_sizes(num_examples, fraction).items():
            texts = [generate(rngs[split], digits, noise) for _ in range(count)]
            rows = [np.array([index[c] for c in text], dtype=np.int32) for text in texts]
            starts = [text.index("=") for text in texts]
            arrays[split] = continual_arrays(rows, starts, batch_size, steps) if continual \
                else next_token_arrays(rows, starts, steps)
        return Prepared(
            arrays=arrays,
            vocab=VOCAB,
            seq_len=steps,
            batch_size=batch_size,
            stateful=continual,
            info={"max_digits": digits, "max_distractors": noise, "num_examples": num_examples,
                  "continual": continual},
        )
