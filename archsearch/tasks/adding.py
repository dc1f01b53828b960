"""The adding problem: sum the two marked numbers of a long sequence (a regression)."""

from __future__ import annotations

import numpy as np

from archsearch.tasks.base import Task, TaskError, check_option_int
from archsearch.tasks.metrics import SOLVED_BELOW
from archsearch.tasks.prepared import Prepared
from archsearch.tasks.synthetic import split_rngs, split_sizes

INPUTS = ("value", "marker")
MAX_LENGTH = 100_000


def generate(rng: np.random.Generator, count: int, length: int):
    """`count` sequences of `length` steps: `(inputs, targets)`.

    Each step holds a value drawn from U[0, 1] and a marker; exactly two
    steps are marked, one in each half of the sequence (Arjovsky, Shah &
    Bengio 2016). The target is the sum of the two marked values.

    Example:
        >>> x, y = generate(np.random.default_rng(0), count=1, length=4)
        >>> x[0, :, 1].tolist(), bool(np.isclose(y[0, 0], x[0, :, 0] @ x[0, :, 1]))
        ([1.0, 0.0, 1.0, 0.0], True)
    """
    values = rng.random((count, length), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, size=count)
    second = rng.integers(half, length, size=count)
    markers = np.zeros((count, length), np.float32)
    rows = np.arange(count)
    markers[rows, first] = markers[rows, second] = 1.0
    targets = (values[rows, first] + values[rows, second])[:, None]
    return np.stack([values, markers], axis=-1), targets.astype(np.float32)


class Adding(Task):
    """Read `length` (value, marker) pairs, then output the sum of the two marked values.

    Hochreiter & Schmidhuber 1997 (experiment 4) and Arjovsky et al. 2016:
    the two marked steps are far apart, so the first marked value must be
    kept for up to `length` steps. The model reads each step as a vector of
    width 2 (a dense projection, `input_kind="multi_hot"`) and predicts one
    real value at the last step; the loss and the score are the mean squared
    error (`mse`, lower is better). Always predicting 1 gives 1/6 (0.167).
    `solved` is the fraction of sequences answered within `solved_below`.

    Options:
        length: time steps T, the delay (default 100).
        num_examples: training sequences (default 10,000); validation and
            test have a tenth of it each.
        solved_below: absolute error that counts as solved (default 0.04,
            Hochreiter & Schmidhuber's criterion).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("adding").load(num_examples=64, batch_size=16, length=10)
    >>> x, y, w = next(iter(data.train))
    >>> tuple(x.shape), tuple(y.shape), data.score_metric, data.score_mode
    ((16, 10, 2), (16, 1), 'mse', 'min')
    """

    name = "adding"
    kind = "synthetic"
    source = "generated (Hochreiter & Schmidhuber 1997)"
    size = "10,000 / 1,000 / 1,000 sequences of 100 steps"
    output = "regression"
    input_kind = "multi_hot"
    loss = "mean_squared_error"
    metrics = ("mse", "solved")
    score_metric = "mse"
    score_mode = "min"
    options = {"length": 100, "num_examples": 10_000, "solved_below": SOLVED_BELOW}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        length = check_option_int(self.name, "length", options["length"], 2, MAX_LENGTH)
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        solved = options["solved_below"]
        if isinstance(solved, bool) or not isinstance(solved, int | float) or not 0 < solved <= 2:
            raise TaskError(f"Task {self.name!r} expects option solved_below to be a number in "
                            f"(0, 2]. Received: solved_below={solved!r}")
        if seq_len is not None and seq_len != length:
            raise TaskError(f"Task {self.name!r} sets its sequence length with option length "
                            f"({length}); padding would change the problem. "
                            f"Received: seq_len={seq_len}")
        rngs = split_rngs(seed)
        arrays = {}
        for split, count in split_sizes(num_examples, fraction).items():
            x, y = generate(rngs[split], count, length)
            arrays[split] = (x, y, np.ones(count, np.float32))
        return Prepared(arrays=arrays, vocab=INPUTS, labels=("sum",), seq_len=length,
                        batch_size=batch_size, chrono_tmax=max(3, length),
                        metric_options={"solved_below": float(solved)},
                        info={"length": length, "num_examples": num_examples,
                              "solved_below": float(solved)})
