"""The hyperparameter vocabulary: one set of names from the YAML file to the trainer.

A search space's `hyperparameters` keys, the values the oracles sample and the
trainer's arguments (`archsearch.training.resolve`) use the same names, the
keys of `DEFAULTS`. `PAPER_SPACE` is the paper's distribution (Jozefowicz et
al. 2015) and the schema's default. Plain Python, no TensorFlow, so that both
the search-space schema and the trainer import it.

Renamed keys are still read: `RENAMED` maps an old name to its current one
(`layers` became `num_layers`). A space file that uses an old name loads, and
`SearchSpace.summary()` (printed by `archsearch spaces check` and
`archsearch search`) says which name to write instead; run directories and
oracle snapshots written with the old name resume (`current_names`).

Example:
    >>> current_names({"layers": 2, "learning_rate": 0.1})
    {'num_layers': 2, 'learning_rate': 0.1}
    >>> set(PAPER_SPACE) <= set(DEFAULTS)
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULTS", "PAPER_SPACE", "RENAMED", "current_names"]

# Jozefowicz et al. 2015, "Hyperparameter distribution" (see shared/reference).
PAPER_SPACE: dict[str, list] = {
    "init_scale": [0.3, 0.7, 1.0, 1.4, 2.0, 2.8],
    "learning_rate": [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0],
    "clip_norm": [1.0, 2.5, 5.0, 10.0, 20.0],
    "num_layers": [1, 2, 3, 4],
    "param_budget": [250_000, 1_000_000],
}

# Values a trial uses for anything the sampled hyperparameters leave out.
DEFAULTS: dict[str, Any] = {
    "init_scale": 1.0,
    "learning_rate": 1.0,
    "clip_norm": 5.0,
    "num_layers": 1,
    "param_budget": 250_000,
    "units": None,          # set directly to bypass the parameter budget
    "forget_bias": None,    # None: the genome's own initialiser (lstm 0, lstm_b 1)
    "dropout": 0.0,
    "optimizer": "sgd",     # the paper's; "adam" is an option
}

#: Deprecated name -> current name. Old names are read, never written.
RENAMED: dict[str, str] = {"layers": "num_layers"}


def current_names(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with every deprecated hyperparameter name replaced by its current one.

    For data written before a rename (a run directory's `run.json`, an oracle
    snapshot's queued trials); new data already uses the current names.

    Raises:
        ValueError: a name is given both under its old and its current name.
    """
    for old, new in RENAMED.items():
        if old in values and new in values:
            raise ValueError(f"expected {new!r} or its deprecated name {old!r}, not both. "
                             f"Received: {old}={values[old]!r}, {new}={values[new]!r}")
    return {RENAMED.get(name, name): value for name, value in values.items()}
