"""Compiled training steps reused across trials of the same shapes in one process.

A Ray worker runs trial after trial, often of the same cell and sizes. Keras
traces a new train function for every new model (seconds on a CPU, a fifth of
a short trial). Here the first model built for a *signature* (the cell's
graph, shapes, optimizer, task output) is kept with its compiled step;
a later trial with that signature builds its model as usual (so its initial
weights are exactly what `build_model` gives for its seed), copies those
weights into the kept model, resets the optimizer, and trains through the
already-traced step. The learning rate is a variable and the clip norm a
tensor argument, so neither retraces.

The step is Keras' own `train_step` math (model call, `compute_loss`,
gradients, `optimizer.apply`) with the global-norm clip taken out of the
optimizer and applied with the same TensorFlow op on a tensor clip norm.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any

__all__ = ["CompiledModel", "KeptModels", "compiled_model", "cache_clear", "cache_size",
           "is_kept", "release"]


class KeptModels:
    """Entries kept by key, at most `limit`; the least recently used goes first.

    Example:
        >>> kept = KeptModels(limit=1)
        >>> kept.put("a", 1)
        >>> kept.put("b", 2)
        >>> kept.get("a"), kept.get("b"), len(kept)
        (None, 2, 1)
    """

    def __init__(self, limit: int):
        self.limit, self._entries = limit, collections.OrderedDict()

    def get(self, key):
        """The entry of `key` (now the most recently used), or None."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key, entry) -> None:
        """Keeps `entry` under `key`, dropping the least recently used beyond `limit`."""
        self._entries[key] = entry
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def values(self) -> list:
        """The entries, least recently used first."""
        return list(self._entries.values())

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


MAX_ENTRIES = 4
_CACHE = KeptModels(MAX_ENTRIES)
# Keras' `clear_session` also clears TensorFlow's kernel cache, which costs
# the next step ~0.2 s, and its full garbage collection ~0.3-1 s with
# TensorFlow loaded: after a trial whose model is kept, only the young
# generations are collected, and the full cleanup runs every this many trials.
FULL_CLEANUP_EVERY = 8
_since_cleanup = [0]


class CompiledModel:
    """A built Keras model with a traced train step `step(x, y, w, clip_norm) -> loss`.

    With `jit_compile=True` the step is XLA-compiled (`archsearch.training.xla`);
    `plain()` switches to the step without XLA (for a model XLA cannot compile).

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> from archsearch.training import build_model, resolve
        >>> data = SimpleNamespace(batch_size=2, stateful=False, input_kind="tokens",
        ...     vocab_size=7, output="sequence", num_outputs=7, info={},
        ...     loss="sparse_categorical_crossentropy")
        >>> model, _ = build_model("gru", resolve({"units": 4}), data, seed=0)
        >>> x = np.ones((2, 3), "int32")
        >>> loss = CompiledModel(model).step(x, x, np.ones((2, 3), "float32"), 5.0)
        >>> bool(loss > 0)
        True
    """

    def __init__(self, model, jit_compile: bool = False):
        import tensorflow as tf

        from archsearch.compat.keras import set_gradient_clipper

        self.model = model
        set_gradient_clipper(model.optimizer, lambda grads: grads)  # clipped in `step`
        variables = model.trainable_variables
        model.optimizer.build(variables)  # slot variables exist before tracing

        def step(x, y, w, clip_norm):
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=w,
                                          training=True)
            # An embedding's gradient comes as IndexedSlices with one row per
            # token occurrence; summed into the table first, as the true
            # gradient is, so that the global norm and Adam's second moment
            # see the square of the sum, not the sum of the squares (which let
            # a frequent token's row move several times the learning rate).
            grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
                     for g in tape.gradient(loss, variables)]
            present = [k for k, g in enumerate(grads) if g is not None]
            clipped, _ = tf.clip_by_global_norm([grads[k] for k in present], clip_norm)
            grads = list(grads)
            for k, g in zip(present, clipped, strict=True):
                grads[k] = g
            model.optimizer.apply(grads, variables)
            return loss

        self._step_fn, self.jit_compile = step, bool(jit_compile)
        self.step = tf.function(step, reduce_retracing=True, jit_compile=self.jit_compile)

    def plain(self) -> None:
        """Uses the train step without XLA from now on."""
        import tensorflow as tf

        self.jit_compile = False
        self.step = tf.function(self._step_fn, reduce_retracing=True)

    def load(self, fresh) -> None:
        """Takes `fresh`'s weights (same architecture) and a reset optimizer."""
        import numpy as np

        mine, theirs = self.model.weights, fresh.weights
        if [tuple(v.shape) for v in mine] != [tuple(v.shape) for v in theirs]:
            raise ValueError("Expected a model with the cached model's weight shapes. Received: "
                             f"{[tuple(v.shape) for v in theirs]}")
        for dst, src in zip(mine, theirs, strict=True):
            dst.assign(src.value)
        for var in self.model.optimizer.variables:
            var.assign(np.zeros(var.shape, var.dtype))
        self.model.optimizer.learning_rate.assign(float(fresh.optimizer.learning_rate.numpy()))


def graph_key(genome) -> str:
    """The genome as its traced step sees it: nodes in order, without their params.

    Every node parameter (`bias`, `chrono`, `linear_a`'s `a`) sets only
    initial weights, which `CompiledModel.load` copies from the trial's own
    model, so LSTM and LSTM-b (forget bias 1) share one compiled step. The
    node order and ids stay in the key: weights are copied by position, and
    two isomorphic genomes (one fingerprint) listing their nodes in another
    order lay out their weights differently.

    Example:
        >>> from archsearch import zoo
        >>> graph_key(zoo.get("lstm")) == graph_key(zoo.get("lstm_b"))
        True
        >>> graph_key(zoo.get("lstm")) == graph_key(zoo.get("gru"))
        False
    """
    nodes = [(n.id, n.op, tuple(n.inputs)) for n in genome.nodes]
    return repr((nodes, tuple(genome.states), tuple(genome.next_state), genome.output))


def signature(genome, hp: Mapping[str, Any], data, jit_compile: bool = False) -> tuple | None:
    """What a compiled step depends on; `None` for models that are never shared."""
    import keras

    if hp["dropout"] or data.stateful:  # seeded dropout masks / carried state
        return None
    return (graph_key(genome), hp["units"], hp["param_budget"] if not hp["units"] else None,
            hp["num_layers"], hp["optimizer"], data.vocab_size, data.num_outputs, data.output,
            data.input_kind, data.loss, data.info.get("pooling", "last"),
            keras.config.dtype_policy().name, bool(jit_compile))


def compiled_model(genome, hp: Mapping[str, Any], data, fresh,
                   jit_compile: bool = False) -> CompiledModel:
    """The cached `CompiledModel` for this signature loaded with `fresh`, or a new one."""
    key = signature(genome, hp, data, jit_compile)
    entry = _CACHE.get(key) if key is not None else None
    if entry is not None:
        entry.load(fresh)
        return entry
    entry = CompiledModel(fresh, jit_compile)
    if key is not None:
        _CACHE.put(key, entry)
    return entry


def release(kept: bool) -> None:
    """Frees a finished trial's garbage; cheaply if its model was `kept` in the cache."""
    import gc

    import keras

    _since_cleanup[0] += 1
    if kept and _since_cleanup[0] < FULL_CLEANUP_EVERY:
        gc.collect(1)
        return
    _since_cleanup[0] = 0
    keras.utils.clear_session(free_memory=True)


def is_kept(model) -> bool:
    """Whether `model` is one of the compiled models kept in this process."""
    return any(entry is model for entry in _CACHE.values())


def cache_size() -> int:
    """Number of compiled models kept in this process."""
    return len(_CACHE)


def cache_clear() -> None:
    """Drops every kept model (e.g. before measuring memory)."""
    _CACHE.clear()
