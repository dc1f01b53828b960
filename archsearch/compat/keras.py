"""Keras' private names used by archsearch, in one place (keras 3.15, < 3.16).

- `DropoutRNNCell`: the mixin that gives a cell Keras' per-sequence dropout
  masks (`get_dropout_mask`, `get_recurrent_dropout_mask`), as `LSTMCell` uses.
- `backend`: `keras.src.backend`, whose `rnn(step_fn, inputs, states, ...)` is
  the backend's own time loop (what `keras.layers.RNN` runs).
- `testing` (loaded on first use): Keras' `TestCase`, whose `run_layer_test`
  is the conformance suite Keras' own layers pass.
- `set_gradient_clipper(optimizer, clip)`: replaces the optimizer's private
  `_clip_gradients` hook, which `BaseOptimizer.apply` calls on the gradients
  before applying them.
- `set_random_seed_except_tf(seed)`: `keras.utils.set_random_seed` (Python,
  NumPy, Keras' global seed and a fresh global `SeedGenerator`) without
  seeding TensorFlow, whose `tf.random.set_seed` is slow once graphs exist.

Example:
    >>> import keras
    >>> opt = keras.optimizers.SGD(learning_rate=1.0)
    >>> set_gradient_clipper(opt, lambda grads: [g * 0 for g in grads])
    >>> v = keras.Variable([1.0, 2.0])
    >>> opt.apply([keras.ops.ones((2,))], [v])
    >>> keras.ops.convert_to_numpy(v).tolist()  # the clipper zeroed the step
    [1.0, 2.0]
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from archsearch import _keras_hook

# Importing Keras runs archsearch's import hook, which loads archsearch.layers,
# which imports the names below from this module: bind them with the hook off,
# then put it back (it loads the layers at once, Keras being loaded).
_keras_hook.remove()
from keras.src import backend  # noqa: E402
from keras.src.backend.common import global_state  # noqa: E402
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # noqa: E402
from keras.src.random import seed_generator  # noqa: E402
from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED  # noqa: E402

# `testing` is also exported, loaded on first use (module `__getattr__`).
__all__ = ["DropoutRNNCell", "backend", "set_gradient_clipper", "set_random_seed_except_tf"]


def set_gradient_clipper(optimizer, clip: Callable[[list], list]) -> None:
    """Makes `optimizer` transform its gradients with `clip` instead of its own clipping.

    Keras' `BaseOptimizer.apply` passes the list of gradients (entries may be
    `None`) through `self._clip_gradients` before the update; `clip` takes and
    returns such a list. The optimizer's `clipnorm`, `global_clipnorm` and
    `clipvalue` are then ignored.

    Args:
        optimizer: A `keras.optimizers.Optimizer`.
        clip: Function from the list of gradients to the list to apply.

    Raises:
        TypeError: `optimizer` has no `_clip_gradients` hook (not a Keras 3
            optimizer, or a Keras that renamed the hook).
    """
    if not callable(getattr(optimizer, "_clip_gradients", None)):
        raise TypeError("expected a Keras 3 optimizer with a `_clip_gradients` hook. "
                        f"Received: optimizer={optimizer!r}")
    optimizer._clip_gradients = clip


def set_random_seed_except_tf(seed: int) -> None:
    """`keras.utils.set_random_seed(seed)` without `tf.random.set_seed`.

    Seeds Python's `random`, NumPy's global generator and Keras' global seed,
    and drops Keras' global `SeedGenerator`, so that unseeded `keras.random`
    ops draw from a new one started from Python's (now seeded) `random`.

    Args:
        seed: The integer seed.

    Raises:
        TypeError: `seed` is not an integer.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"expected an integer seed. Received: seed={seed!r}")
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)


def __getattr__(name):
    if name == "testing":  # loaded on first use: test utilities, not needed at run time
        from keras.src import testing

        return testing
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_keras_hook.install()
