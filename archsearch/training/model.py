"""The trial model: embedding -> stacked `GenomeRNN` -> output layer, and its devices.

`build_model` is what `run_trial` and population trials train; TensorFlow and
Keras are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from archsearch.space.hyperparameters import CHRONO
from archsearch.training.hparams import units_for_budget

__all__ = ["build_model", "chrono_tmax", "configure_devices", "with_forget_bias"]

#: Output kinds whose head reads only the last step.
LAST_STEP = ("last", "regression")


def with_forget_bias(genome, value: float | str | None):
    """Returns `genome` with its forget-gate bias init set (the zoo's `f_pre` node).

    A number sets the bias of `f_pre` and leaves cells without one as they
    are. `"chrono"` leaves the genome as it is (`build_model` draws the
    biases per unit) but needs its forget gate.

    Raises:
        ValueError: `"chrono"` for a cell without an identifiable forget gate.
    """
    if value == CHRONO:
        from archsearch.layers.cell import check_forget_gate

        check_forget_gate(genome, "forget_bias='chrono'")
        return genome
    if value is None or not any(n.id == "f_pre" for n in genome.nodes):
        return genome
    from archsearch.genome import Genome, Node

    nodes = [Node(n.id, n.op, n.inputs, {**n.params, "bias": float(value)})
             if n.id == "f_pre" else n for n in genome.nodes]
    return Genome(nodes, dict(zip(genome.states, genome.next_state, strict=True)),
                  genome.states, genome.output, genome.name, genome.description)


def configure_devices(mixed_precision: bool) -> str:
    """Memory growth on every GPU (trials share one); mixed float16 if asked and a GPU is there.

    Args:
        mixed_precision: Set Keras' `mixed_float16` policy when a GPU is present.

    Returns:
        `"gpu"` or `"cpu"`: where this process trains.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:  # several trials share one GPU
        with contextlib.suppress(RuntimeError):  # already initialised in this process
            tf.config.experimental.set_memory_growth(gpu, True)
    if mixed_precision and gpus:
        import keras
        keras.mixed_precision.set_dtype_policy("mixed_float16")
    return "gpu" if gpus else "cpu"


def chrono_tmax(hp: Mapping[str, Any], data) -> float:
    """T_max of `forget_bias="chrono"`: the `chrono_tmax` hyperparameter, else the task's.

    Raises:
        ValueError: neither is set.
    """
    value = hp.get("chrono_tmax") or getattr(data, "chrono_tmax", None)
    if value is None:
        raise ValueError(f"forget_bias='chrono' needs T_max: task "
                         f"{getattr(data, 'name', None)!r} names no dependency length, so set "
                         "the chrono_tmax hyperparameter. Received: chrono_tmax=None")
    return float(value)


def _chrono(genome, hp: Mapping[str, Any], data):
    """`(genome, T_max)`: the genome parsed; T_max if its forget gate starts chrono, else None."""
    from archsearch.layers.cell import as_genome, wants_chrono

    genome = as_genome(genome)
    chrono = hp.get("forget_bias") == CHRONO or wants_chrono(genome)
    return genome, (chrono_tmax(hp, data) if chrono else None)


def build_model(genome, hp: Mapping[str, Any], data, seed: int = 0):
    """Embedding (or a dense projection) -> stacked GenomeRNN -> output layer.

    A `"regression"` task gets one linear output read at the last step and a
    mean-squared-error loss. With `hp["forget_bias"] == "chrono"`, or a genome
    whose forget-gate node sets `chrono: 1`, every layer's forget gate starts
    chrono-initialised (`ChronoInitializer`, T_max from `chrono_tmax`). With
    the task option `pooling="attention"` (`data.info["pooling"]`, the
    classification tasks), every layer is a `keras.layers.Bidirectional`
    GenomeRNN returning sequences, pooled by `AttentionPooling` over the
    unmasked steps before the output layer.

    Args:
        genome: A `Genome`, its JSON or a zoo name.
        hp: Resolved hyperparameters (`archsearch.training.resolve`).
        data: The task's `TaskData` (input kind, vocabulary, outputs, loss).
        seed: Seeds the weight initializers and dropout.

    Returns:
        `(model, units)`: the compiled Keras model and its hidden size
        (`hp["units"]`, or the size that meets `hp["param_budget"]`).

    Example:
        >>> from archsearch import tasks
        >>> from archsearch.training import resolve
        >>> data = tasks.get("memorization").load(seed=0, num_examples=64)
        >>> model, units = build_model("gru", resolve({"units": 8}), data)
        >>> units, model.output_shape[-1] == data.num_outputs
        (8, True)
    """
    import keras

    from archsearch.compat.keras import set_gradient_clipper
    from archsearch.layers import AttentionPooling, ChronoInitializer, GenomeRNN

    units = hp["units"] or units_for_budget(genome, hp["param_budget"], hp["num_layers"])
    scale = float(hp["init_scale"])
    # The paper's U[-s/sqrt(n), s/sqrt(n)]: VarianceScaling's limit is sqrt(3*scale/n).

    def init(k):
        return keras.initializers.VarianceScaling(scale * scale / 3.0, "fan_in", "uniform",
                                                  seed=seed * 1000 + k)

    batch = data.batch_size if data.stateful else None
    if data.input_kind == "multi_hot":
        inputs = keras.Input(batch_shape=(batch, None, data.vocab_size), dtype="float32")
        x = keras.layers.Dense(units, kernel_initializer=init(0))(inputs)
    else:
        inputs = keras.Input(batch_shape=(batch, None), dtype="int32")
        x = keras.layers.Embedding(data.vocab_size, units, embeddings_initializer=init(0),
                                   mask_zero=data.output == "last")(inputs)
    attention = data.info.get("pooling", "last") == "attention"
    genome, tmax = _chrono(genome, hp, data)
    for layer in range(hp["num_layers"]):
        last = layer == hp["num_layers"] - 1
        forget = {} if tmax is None else {
            "forget_bias_initializer": ChronoInitializer(tmax, seed=seed * 1000 + 50 + layer)}
        rnn = GenomeRNN(genome, units,
                        return_sequences=attention or not (last and data.output in LAST_STEP),
                        stateful=data.stateful, kernel_initializer=init(2 * layer + 1),
                        recurrent_initializer=init(2 * layer + 2), seed=seed, **forget)
        x = (keras.layers.Bidirectional(rnn) if attention else rnn)(x)
        if hp["dropout"]:
            x = keras.layers.Dropout(hp["dropout"], seed=seed)(x)
    if attention:
        x = AttentionPooling(units, kernel_initializer=init(98))(x)
    outputs = keras.layers.Dense(data.num_outputs, kernel_initializer=init(99))(x)
    model = keras.Model(inputs, outputs)
    optimizer = (keras.optimizers.SGD if hp["optimizer"] == "sgd" else keras.optimizers.Adam)(
        learning_rate=hp["learning_rate"])
    # Clip by the global norm as the paper does, with TensorFlow's op: Keras'
    # own global_clipnorm leaks ~12 MiB per trained model in a long-lived
    # worker (measured by benchmarks/search_throughput.py).
    set_gradient_clipper(optimizer, _global_norm_clipper(float(hp["clip_norm"])))
    losses = {"binary_crossentropy": lambda: keras.losses.BinaryCrossentropy(from_logits=True),
              "mean_squared_error": keras.losses.MeanSquaredError}
    loss = losses.get(data.loss, lambda: keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))()
    model.compile(optimizer=optimizer, loss=loss, jit_compile=False)
    return model, units


def _global_norm_clipper(clip_norm: float):
    def clip(grads):
        import tensorflow as tf

        # Dense (duplicate rows summed), as in `compiled`: the true gradient.
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
                 for g in grads]
        present = [k for k, g in enumerate(grads) if g is not None]
        clipped, _ = tf.clip_by_global_norm([grads[k] for k in present], clip_norm)
        out = list(grads)
        for k, g in zip(present, clipped, strict=True):
            out[k] = g
        return out

    return clip
