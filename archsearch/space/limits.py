"""Upper bounds on every size a search space can ask for.

A typo such as `steps: 1000000000000` or `units: 9999999` should fail when the
file is checked, not hours later as an out-of-memory worker. The bounds are
far above anything the paper or a GPU cluster needs; each error message names
the limit. Integers are strict (`true` is not 1), floats finite.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Size(MAX_UNITS)).validate_python(256)
    256
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

__all__ = ["MAX_BATCH_SIZE", "MAX_CELLS", "MAX_CHOICES", "MAX_CPUS", "MAX_EXAMPLES",
           "MAX_LAYERS", "MAX_PARAM_BUDGET", "MAX_POPULATION", "MAX_SAMPLES", "MAX_SECONDS",
           "MAX_SEED", "MAX_SEEDS", "MAX_SEQ_LEN", "MAX_STEPS", "MAX_TRIALS", "MAX_UNITS",
           "MAX_VALUE", "Size"]

#: Trials of one search (the paper ran ~230,000).
MAX_TRIALS = 10_000_000
#: Largest seed (numpy seeds are 32-bit).
MAX_SEED = 2**32 - 1
#: Training steps of one trial.
MAX_STEPS = 100_000_000
#: Wall-clock seconds of one trial (one week).
MAX_SECONDS = 7 * 24 * 3600
#: Examples per batch.
MAX_BATCH_SIZE = 65_536
#: Time steps per example.
MAX_SEQ_LEN = 100_000
#: Examples a task generates (`num_examples` options).
MAX_EXAMPLES = 10_000_000
#: Hidden units of a layer.
MAX_UNITS = 65_536
#: Stacked recurrent layers.
MAX_LAYERS = 64
#: Parameters of a model (`param_budget`).
MAX_PARAM_BUDGET = 10_000_000_000
#: Hyperparameter samples per cell and task; also top-N, mutations, attempts.
MAX_SAMPLES = 100_000
#: Seeds each hyperparameter sample is trained with.
MAX_SEEDS = 100
#: Population / tournament of regularized evolution; nodes of a mutated cell.
MAX_POPULATION = 1_000_000
#: CPUs reserved per trial.
MAX_CPUS = 4096
#: Values in one hyperparameter choice list.
MAX_CHOICES = 1_000
#: Cells listed in `seed_cells` or a `fixed` strategy.
MAX_CELLS = 1_000
#: Magnitude of learning rates, init scales, clip norms and biases.
MAX_VALUE = 1e6


def Size(maximum: int, minimum: int = 1):  # noqa: N802 - reads like a type in the models
    """A strict integer in [minimum, maximum]."""
    return Annotated[StrictInt, Field(ge=minimum, le=maximum)]
