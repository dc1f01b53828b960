"""Whether a single trial trains folded: as a population of one, XLA-compiled.

A model that starts with an embedding and whose first cell reads its input
only through the input projection can fold that projection into the table:
`(table @ W + b)[x]` equals `table[x] @ W + b` row for row, and projects V
table rows instead of every token of the batch (40 rows against ~400 tokens
on the quickstart's arithmetic). Populations train folded already
(`archsearch.training.stacked.StackedModel`, whose math is tested equal to
`build_model`'s after an optimizer step); a single trial gets the fold by
training as a population of one, through `run_population`.

Measured on this project's 2-core CPU (`benchmarks/solo_fold.py`: one
thread, arithmetic, batch 32, Adam, the train step alone after its compile,
5-8 interleaved rounds of 60 steps; steps per CPU-second, median; the fold
against the solo step `xla: auto` trains, median [min-max] over rounds):

=====  =====  =========================  ==========  ==========================
cell   units  solo step (`auto`)         folded      fold / solo
=====  =====  =========================  ==========  ==========================
LSTM   64     841-875 (XLA)              792-794     0.91 [0.79-0.98], 0.94
GRU    64     825-924 (XLA)              815-851     0.99 [0.81-1.12], 0.93
LSTM   128    326-329 (XLA)              396-402     1.21 [1.06-1.32], 1.11
LSTM   256    98 (plain; XLA gains none) 133         1.34 [1.25-1.50]
LSTM   512    28 (plain)                 34          1.22 [1.15-1.35]
=====  =====  =========================  ==========  ==========================

So `auto` folds from `MIN_UNITS` units: at 64 the table is small beside the
recurrent matmuls and XLA alone does as well. Without XLA a population of
one is slower than the plain solo step (0.69-0.93x), so the fold follows
`resources.xla`: `off` keeps the plain Keras step, `on` folds wherever the
model allows, and `auto` folds on a CPU for `MIN_UNITS` units or more when
the trial runs at least `MIN_STEPS` steps (the compile costs ~1-2 s once
per worker and model shape). Trials the population path does not train
(dropout, a stateful stream, attention pooling, a dense input, mixed
precision) and tables with at least as many rows as a batch has tokens (the
classification tasks' 20,000 words) train as before. GPUs: not measured,
not folded under `auto`.

Example:
    >>> from types import SimpleNamespace
    >>> data = SimpleNamespace(input_kind="tokens", vocab_size=40, batch_size=32, seq_len=13,
    ...                        stateful=False, info={})
    >>> hp = {"units": 256, "dropout": 0.0}
    >>> folds("lstm", hp, data, xla="auto", steps=1000, device="cpu")
    True
    >>> folds("lstm", {**hp, "units": 64}, data, xla="auto", steps=1000, device="cpu")
    False
    >>> folds("lstm", hp, data, xla="off", steps=1000, device="cpu")
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archsearch.training.xla import MIN_STEPS, XLA_MODES

__all__ = ["MIN_UNITS", "folds"]

#: `auto`: the narrowest layer the fold measured faster for (1.11-1.21x at 128, 0.91-0.99x at 64).
MIN_UNITS = 128


def folds(genome, hp: Mapping[str, Any], data, xla: str, steps: int | None, device: str,
          mixed_precision: bool = False) -> bool:
    """Whether `run_trial` trains this trial as a folded population of one.

    Args:
        genome: A `Genome`, its JSON or a zoo name.
        hp: Resolved hyperparameters (`units` and `dropout` are read; units
            None, sized by a parameter budget, is not folded under `auto`).
        data: The task's `TaskData` (input kind, vocabulary, batch shape, stream).
        xla: `resources.xla`: `"auto"`, `"on"` or `"off"`.
        steps: The trial's step budget (None: a time budget only, long enough).
        device: `"cpu"` or `"gpu"`.
        mixed_precision: Mixed float16 was asked for (populations train in float32).

    Raises:
        ValueError: an unknown `xla` mode.
    """
    if xla not in XLA_MODES:
        raise ValueError(f"Expected xla to be one of {', '.join(XLA_MODES)}. "
                         f"Received: xla={xla!r}")
    units = hp.get("units")
    if xla == "off" or (xla == "auto" and (device != "cpu" or not units or units < MIN_UNITS
                                           or (steps is not None and steps < MIN_STEPS))):
        return False
    if mixed_precision and device != "cpu":
        return False
    if hp.get("dropout") or data.stateful or data.input_kind != "tokens" \
            or data.info.get("pooling", "last") == "attention":
        return False
    if data.vocab_size >= data.batch_size * data.seq_len:  # projecting the table costs more
        return False
    from archsearch.genome.layout import CellPlan
    from archsearch.layers.cell import as_genome

    plan = CellPlan(as_genome(genome), 1, 1)
    return plan.input_source is not None and not plan.x_raw
