"""Keras `LSTM` / `GRU` -> the equivalent `GenomeRNN`, weights included."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from archsearch.genome import zoo

__all__ = ["from_keras"]

_SEQUENCE_OPTIONS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                     "zero_output_for_mask")
_CELL_OPTIONS = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
                 "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                 "kernel_constraint", "recurrent_constraint", "bias_constraint")


def _check_activations(cell) -> None:
    act = keras.activations.serialize(cell.activation)
    rec = keras.activations.serialize(cell.recurrent_activation)
    if act != "tanh" or rec != "sigmoid":
        raise ValueError(
            "from_keras converts layers with activation='tanh' and "
            f"recurrent_activation='sigmoid'. Received: activation={act!r}, "
            f"recurrent_activation={rec!r}")


def _options(layer) -> dict:
    """Every constructor option of `layer` that GenomeRNN takes, as fresh copies."""
    cell, config = layer.cell, layer.cell.get_config()
    options = {k: getattr(layer, k) for k in _SEQUENCE_OPTIONS}
    options.update({k: config[k] for k in _CELL_OPTIONS})  # serialized: no shared objects
    options.update(use_bias=cell.use_bias, dropout=cell.dropout, seed=cell.seed,
                   recurrent_dropout=cell.recurrent_dropout, trainable=layer.trainable,
                   activity_regularizer=layer.get_config().get("activity_regularizer"))
    return options


def _batch_size(layer):
    """The static batch size a stateful layer was built with, else None."""
    if not layer.stateful:
        return None
    return int(layer.states[0].shape[0])


def _split(weight, n):
    return np.split(ops.convert_to_numpy(weight), n, axis=-1)


def from_keras(cls, layer):
    """See `GenomeRNN.from_keras`."""
    if not isinstance(layer, keras.layers.LSTM | keras.layers.GRU):
        raise TypeError(f"from_keras expects a keras.layers.LSTM or GRU. Received: "
                        f"{type(layer).__name__}")
    if not layer.built:
        raise ValueError(f"layer {layer.name!r} is not built: call it on data (or build it) "
                         "first so it has weights to convert")
    cell = layer.cell
    _check_activations(cell)
    units, input_dim = cell.units, int(cell.kernel.shape[0])
    bias = ops.convert_to_numpy(cell.bias) if cell.use_bias else None
    if isinstance(layer, keras.layers.LSTM):
        genome = zoo.get("lstm_b" if cell.unit_forget_bias else "lstm")
        kernels = dict(zip("ifgo", _split(cell.kernel, 4), strict=True))
        recurrent = dict(zip("ifgo", _split(cell.recurrent_kernel, 4), strict=True))
        biases = dict(zip("ifgo", np.split(bias, 4), strict=True)) if bias is not None else {}
        assignments = [(f"{g}_pre", {"x": kernels[g], "h": recurrent[g]}, biases.get(g))
                       for g in "ifgo"]
    else:
        kz, kr, kh = _split(cell.kernel, 3)
        rz, rr, rh = _split(cell.recurrent_kernel, 3)
        if cell.reset_after:
            genome = zoo.get("gru_reset_after")
            b_in, b_rec = (np.split(b, 3) for b in bias) if bias is not None else ({}, {})
            bz = b_in[0] + b_rec[0] if bias is not None else None
            br = b_in[1] + b_rec[1] if bias is not None else None
            assignments = [("z_pre", {"x": kz, "h": rz}, bz), ("r_pre", {"x": kr, "h": rr}, br),
                           ("gx", {"x": kh}, b_in[2] if bias is not None else None),
                           ("gh", {"h": rh}, b_rec[2] if bias is not None else None)]
        else:
            genome = zoo.get("gru")
            bz, br, bh = np.split(bias, 3) if bias is not None else (None, None, None)
            assignments = [("z_pre", {"x": kz, "h": rz}, bz), ("r_pre", {"x": kr, "h": rr}, br),
                           ("g_pre", {"x": kh, "rh": rh}, bh)]
    converted = cls(genome, units, dtype=layer.dtype_policy, name=f"genome_{layer.name}",
                    **_options(layer))
    converted.build((_batch_size(layer), None, input_dim))
    target = converted.cell
    for node_id, projections, node_bias in assignments:
        for source, value in projections.items():
            target.set_projection(node_id, source, value)
        if cell.use_bias:
            target.set_bias(node_id, node_bias)
    if layer.stateful:  # carry the running state too; Keras orders LSTM states (h, c)
        for mine, theirs in zip(converted.states, layer.states, strict=True):
            mine.assign(ops.convert_to_numpy(theirs))
    return converted
