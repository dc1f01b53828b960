"""Population models kept per worker with their traced functions.

As `archsearch.training.compiled` does for single trials: the first
population built for a signature (cell, shapes, optimizer, task output,
population size, XLA) keeps its `StackedModel` and its traced train and
evaluation functions; a later population of that signature loads its member
models' weights into it (`StackedModel.load`) and trains without tracing or
compiling again.
"""

from __future__ import annotations

import functools

from archsearch.training.compiled import KeptModels, signature

__all__ = ["CompiledPopulation", "cache_clear", "cached", "compiled_population",
           "member_chunks"]

MAX_ENTRIES = 2
_CACHE = KeptModels(MAX_ENTRIES)


def member_chunks(data, split: str, max_batches, k: int) -> list[tuple]:
    """The split as `evaluate` joins it, cut so that K members' logits stay bounded."""
    from archsearch.training.evaluate import MAX_CHUNK_LOGITS, joined_batches

    out = []
    for x, y, w in joined_batches(data, split, max_batches):
        steps = x.shape[1] if x.ndim > 1 else 1
        rows = max(1, MAX_CHUNK_LOGITS // (k * steps * data.num_outputs))
        out.extend((x[i:i + rows], y[i:i + rows], w[i:i + rows]) for i in range(0, len(x), rows))
    return out


class CompiledPopulation:
    """A `StackedModel` with its traced train, logits and evaluation functions.

    Args:
        stacked: The `StackedModel`.
        jit_compile: XLA-compile the train step.

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> from archsearch.training import build_model, resolve
        >>> from archsearch.training.stacked import StackedModel
        >>> data = SimpleNamespace(batch_size=2, stateful=False, input_kind="tokens",
        ...     vocab_size=7, output="sequence", num_outputs=7, info={},
        ...     loss="sparse_categorical_crossentropy")
        >>> models = [build_model("gru", resolve({"units": 4}), data, seed=s)[0] for s in (0, 1)]
        >>> entry = CompiledPopulation(StackedModel(models, data, "sgd", [5.0, 5.0]), False)
        >>> log_prob, ids = entry.pick_fn(np.ones((2, 3), "int32"), np.ones((2, 3), "int32"))
        >>> tuple(log_prob.shape), tuple(ids.shape)
        ((2, 2, 3), (2, 2, 3))
    """

    def __init__(self, stacked, jit_compile: bool):
        import tensorflow as tf

        self.stacked = stacked
        # No AutoGraph: the loops are tf.while_loop already, and converting
        # every function they call took ~6 s of a population's first step.
        # Evaluation (a forward pass over a few shapes of joined batches) runs
        # without XLA: its compiles cost a cold population more than they save.
        compile_ = functools.partial(tf.function, autograph=False)
        self.train_fn = compile_(stacked.train_step, jit_compile=jit_compile)
        self.logits_fn = compile_(stacked.logits)

        def pick(x, y):  # as `evaluate.picker`, every member on the same (x, y)
            from archsearch.training.evaluate import pick_targets

            logits = stacked.logits(tf.stack([x] * stacked.k))
            return pick_targets(logits, tf.stack([y] * stacked.k))

        self.pick_fn = compile_(pick)

        def pick_stacked(x, y):  # each member on its own (x, y): (K, B, T) each
            from archsearch.training.evaluate import pick_targets

            return pick_targets(stacked.logits(x), y)

        self.pick_stacked_fn = compile_(pick_stacked)


def compiled_population(models, data, hps, genome, jit_compile: bool
                        ) -> tuple[CompiledPopulation, bool]:
    """The worker's kept population of this signature loaded with `models`, or a new one.

    As `archsearch.training.compiled` does for single trials: a later
    population of the same cell, shapes and size trains through the already
    traced (and XLA-compiled) functions. Returns (entry, whether it is kept).
    """
    from archsearch.training.stacked import StackedModel

    clip = [float(hp["clip_norm"]) for hp in hps]
    key = signature(genome, hps[0], data)
    if key is not None:
        key = (key, len(models), jit_compile,
               tuple(tuple(w.shape) for w in models[0].trainable_weights))
        entry = _CACHE.get(key)
        if entry is not None:
            entry.stacked.load(models, clip)
            return entry, True
    entry = CompiledPopulation(StackedModel(models, data, hps[0]["optimizer"], clip), jit_compile)
    if key is not None:
        _CACHE.put(key, entry)
    return entry, key is not None


def cached() -> list[CompiledPopulation]:
    """The populations kept in this process, oldest first."""
    return _CACHE.values()


def cache_clear() -> None:
    """Drops every kept population."""
    _CACHE.clear()
