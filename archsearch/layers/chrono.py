"""Forget-gate bias initialisers: `ChronoInitializer` and how a cell reads its option."""

from __future__ import annotations

import math

import keras
from keras import ops

__all__ = ["CHRONO", "ChronoInitializer", "forget_bias_initializer"]

CHRONO = "chrono"


@keras.saving.register_keras_serializable(package="archsearch")
class ChronoInitializer(keras.initializers.Initializer):
    """Chrono initialisation of a forget gate's bias: `log(U[1, t_max - 1])` per unit.

    Tallec & Ollivier 2018 ("Can recurrent neural networks warp time?"): a
    gate whose bias is `log(T)` keeps about `T` steps of memory, so drawing
    `T` up to the task's longest dependency `t_max` spreads the units over
    the time scales the task needs. A `GenomeCell` given this initializer for
    its forget gate also starts its input gate (node `i_pre`, if any) at
    minus the same values, as the paper does.

    Args:
        t_max: The longest dependency in steps, a number > 2.
        seed: Seed of the uniform draw (an int, or `None` for a fresh draw).

    Example:
        >>> import numpy as np
        >>> values = ChronoInitializer(t_max=100, seed=0)((1000,))
        >>> bool(np.all((values >= 0) & (values <= np.log(99) + 1e-6)))
        True
        >>> ChronoInitializer.from_config(ChronoInitializer(30, seed=1).get_config()).t_max
        30.0
    """

    def __init__(self, t_max, seed=None):
        if isinstance(t_max, bool) or not isinstance(t_max, int | float) \
                or not math.isfinite(t_max) or t_max <= 2:
            raise ValueError(f"Expected t_max to be a number > 2 (the biases are "
                             f"log U[1, t_max - 1]). Received: t_max={t_max!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected seed to be an integer or None. Received: seed={seed!r}")
        self.t_max, self.seed = float(t_max), seed
        self._uniform = keras.initializers.RandomUniform(1.0, self.t_max - 1.0, seed=seed)

    def __call__(self, shape, dtype=None):
        return ops.log(self._uniform(shape, dtype=dtype))

    def get_config(self):
        return {"t_max": self.t_max, "seed": self.seed}


def forget_bias_initializer(value, chrono_tmax=None, seed=None):
    """The initializer a cell's `forget_bias_initializer` argument names, or `None`.

    Args:
        value: `None`, `"chrono"` (needs `chrono_tmax`), a number (a constant
            bias), or anything `keras.initializers.get` accepts.
        chrono_tmax: T_max of `"chrono"`; only read with it (or a matching
            `ChronoInitializer`).
        seed: Seed of a `"chrono"` draw.

    Raises:
        ValueError: `"chrono"` without `chrono_tmax`, or `chrono_tmax` without chrono.

    Example:
        >>> forget_bias_initializer("chrono", chrono_tmax=50, seed=0).get_config()
        {'t_max': 50.0, 'seed': 0}
        >>> forget_bias_initializer(1.0).get_config()
        {'value': 1.0}
    """
    if isinstance(value, str) and value == CHRONO:
        if chrono_tmax is None:
            raise ValueError("forget_bias_initializer='chrono' needs chrono_tmax, the task's "
                             "longest dependency in steps. Received: chrono_tmax=None")
        return ChronoInitializer(chrono_tmax, seed=seed)
    if value is None:
        init = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        init = keras.initializers.Constant(float(value))
    else:
        init = keras.initializers.get(value)
    if chrono_tmax is not None and not (isinstance(init, ChronoInitializer)
                                        and init.t_max == float(chrono_tmax)):
        raise ValueError("chrono_tmax is only read with forget_bias_initializer='chrono'. "
                         f"Received: chrono_tmax={chrono_tmax!r}, "
                         f"forget_bias_initializer={value!r}")
    return init
