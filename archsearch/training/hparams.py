"""The paper's hyperparameter distribution, as KerasTuner `HyperParameters`.

`PAPER_SPACE` and `DEFAULTS` live in `archsearch.space.hyperparameters` (no
TensorFlow), the one vocabulary the search-space schema and the trainer share.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from archsearch.space.hyperparameters import DEFAULTS, PAPER_SPACE, forget_bias_value

__all__ = ["PAPER_SPACE", "DEFAULTS", "paper_hyperparameters", "sample", "resolve",
           "units_for_budget"]


def paper_hyperparameters(space: Mapping[str, list] | None = None):
    """Returns the search distribution as `keras_tuner.HyperParameters`.

    Args:
        space: name -> list of values; defaults to `PAPER_SPACE`.

    Example:
        >>> hp = paper_hyperparameters()
        >>> hp.get("learning_rate")
        0.1
    """
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for name, values in (space or PAPER_SPACE).items():
        hp.Choice(name, list(values), ordered=all(isinstance(v, int | float) for v in values))
    return hp


def sample(space: Mapping[str, list] | None = None, seed: int = 0) -> dict[str, Any]:
    """Draws one setting uniformly from `space` (deterministic by `seed`)."""
    rng = random.Random(seed)
    return {name: rng.choice(list(values)) for name, values in (space or PAPER_SPACE).items()}


def resolve(hparams: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fills defaults and checks names; raises ValueError naming an unknown key or bad value.

    `forget_bias` is `None`, a number or `"chrono"` (a number written as text
    becomes a float); `chrono_tmax` is `None` or a number > 2.

    Example:
        >>> resolve({"forget_bias": "1.0"})["forget_bias"]
        1.0
    """
    hparams = dict(hparams or {})
    unknown = sorted(set(hparams) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown hyperparameter {unknown[0]!r}; known: {sorted(DEFAULTS)}")
    resolved = {**DEFAULTS, **hparams}
    if resolved["optimizer"] not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam'. Received: "
                         f"{resolved['optimizer']!r}")
    resolved["forget_bias"] = forget_bias_value(resolved["forget_bias"])
    tmax = resolved["chrono_tmax"]
    if tmax is not None and (isinstance(tmax, bool) or not isinstance(tmax, int | float)
                             or not 2 < tmax < float("inf")):
        raise ValueError(f"expected chrono_tmax to be a number > 2 (the longest dependency "
                         f"in steps). Received: chrono_tmax={tmax!r}")
    return resolved


def units_for_budget(genome, budget: int, num_layers: int = 1, input_dim: int | None = None,
                     minimum: int = 4, maximum: int = 4096) -> int:
    """Largest hidden size whose stacked recurrent layers fit in `budget` parameters.

    The first layer reads `input_dim` (default: the embedding, sized = units,
    as in the paper so that cells using raw `x` elementwise fit); deeper layers
    read `units`.
    """
    def count(units: int) -> int:
        first = genome.parameter_count(input_dim or units, units) if not (
            genome.needs_square_input and input_dim not in (None, units)) else 0
        return first + (num_layers - 1) * genome.parameter_count(units, units)

    lo, hi = minimum, maximum
    if count(lo) > budget:
        return lo
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo
