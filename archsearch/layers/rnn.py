"""`GenomeRNN`: the fast recurrent layer for any genome."""

from __future__ import annotations

import keras
from keras import ops
from keras.layers import InputSpec

from archsearch.compat.keras import backend
from archsearch.layers.cell import GenomeCell
from archsearch.layers.fused import check_fused_option, fused_inner_loop, uses_fused

__all__ = ["GenomeRNN"]

_CELL_ARGS = ("kernel_initializer", "recurrent_initializer", "peephole_initializer", "use_bias",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer",
              "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
              "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "seed",
              "forget_bias_initializer", "chrono_tmax")


@keras.saving.register_keras_serializable(package="archsearch")
class GenomeRNN(keras.layers.RNN):
    """A recurrent layer running a genome, with the input projection out of the loop.

    All projections of `x` are fused into one matmul over the whole sequence
    before the time loop; inside the loop each previous state is projected by
    one fused matmul per step. Like Keras' `LSTM` (an `RNN` over `LSTMCell` with
    a fused `inner_loop`), this is a `keras.layers.RNN` over a `GenomeCell`, so
    masking, `return_state`, `go_backwards`, `stateful`, `unroll` and
    `Bidirectional` behave as for any Keras RNN, and the weights are the cell's.

    Args:
        genome: A `Genome`, its JSON text or dict, or a zoo cell name.
        units: Width of the state slots and the output.
        kernel_initializer: Initializer of the projections of the input.
        recurrent_initializer: Initializer of the other projections.
        peephole_initializer: Initializer of peephole (`scale`) vectors.
        use_bias: Whether linear nodes have biases.
        bias_initializer: Initializer of the biases the genome does not set.
        unit_forget_bias: `None` keeps the genome's forget bias; `True` / `False`
            as in Keras' `LSTM` (needs the forget-gate node `f_pre`).
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
            activity_regularizer: Regularizers, as in Keras' `LSTM`.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints,
            as in Keras' `LSTM`.
        dropout: Input dropout rate (one mask per sequence).
        recurrent_dropout: Dropout rate on states before their projections.
        seed: Seed of the dropout masks (and of a `"chrono"` draw).
        forget_bias_initializer: `None` keeps the genome's forget bias;
            `"chrono"` draws it as `log(U[1, chrono_tmax - 1])` per unit, the
            input gate starting at its negation (Tallec & Ollivier 2018,
            `archsearch.layers.ChronoInitializer`); a number or a Keras
            initializer sets the forget gate alone. Needs an `f_pre` node.
        chrono_tmax: T_max of `"chrono"`: the longest dependency in steps.
        return_sequences: Return the output at every step, not only the last.
        return_state: Also return the final value of every state slot.
        go_backwards: Process the sequence backwards.
        stateful: Carry the final states of a batch into the next batch.
        unroll: Unroll the time loop (short sequences only).
        zero_output_for_mask: Output zeros (not the last output) at masked
            steps when `return_sequences=True`.
        fused: `"auto"` trains through the hand-written backward pass of
            `archsearch.layers.fused` on TensorFlow (autodiff elsewhere or
            with `unroll`); `True` insists on it, `"xla"` also XLA-compiles
            its loops, `False` always runs the autodiff loop.
        **kwargs: Other `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        sequences: `(batch, timesteps, input_dim)` tensor.
        initial_state: List of `(batch, units)` tensors, one per state slot.
        mask: `(batch, timesteps)` boolean mask.
        training: Whether dropout is active.

    Example:
        >>> import numpy as np
        >>> layer = GenomeRNN("lstm_b", units=16, return_sequences=True)
        >>> tuple(layer(np.zeros((4, 10, 8), "float32")).shape)
        (4, 10, 16)
        >>> chrono = GenomeRNN("lstm", 16, forget_bias_initializer="chrono", chrono_tmax=100)
        >>> _ = chrono(np.zeros((4, 10, 8), "float32"))
        >>> forget = chrono.cell.get_bias("f_pre")
        >>> bool(forget.min() >= 0.0 and forget.max() <= np.log(99) + 1e-6)
        True
        >>> bool(np.allclose(chrono.cell.get_bias("i_pre"), -forget))
        True
    """

    def __init__(self, genome, units, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", peephole_initializer=None, use_bias=True,
                 bias_initializer="zeros", unit_forget_bias=None, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, fused="auto", forget_bias_initializer=None,
                 chrono_tmax=None, **kwargs):
        cell = GenomeCell(genome, units, kernel_initializer=kernel_initializer,
                          recurrent_initializer=recurrent_initializer,
                          peephole_initializer=peephole_initializer, use_bias=use_bias,
                          bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                          kernel_regularizer=kernel_regularizer,
                          recurrent_regularizer=recurrent_regularizer,
                          bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                          recurrent_constraint=recurrent_constraint,
                          bias_constraint=bias_constraint, dropout=dropout,
                          recurrent_dropout=recurrent_dropout, seed=seed,
                          forget_bias_initializer=forget_bias_initializer,
                          chrono_tmax=chrono_tmax, dtype=kwargs.get("dtype"),
                          trainable=kwargs.get("trainable", True),
                          name="genome_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        self.fused = check_fused_option(fused)

    @property
    def genome(self):
        """The layer's `Genome`."""
        return self.cell.genome

    @property
    def units(self):
        """Width of the output and of every state slot."""
        return self.cell.units

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if uses_fused(self):
            return fused_inner_loop(self, sequences, initial_state, mask, training)
        cell = self.cell
        if isinstance(mask, list | tuple):
            mask = mask[0]
        sequences, rec_mask = cell.sequence_dropout(sequences, initial_state, training)
        # Time-major from here: transpose the narrow input once, so the wide
        # projected sequence (k * units per step) is never transposed.
        x = ops.transpose(sequences, (1, 0, 2))
        projected = cell.project_input(x)
        width = cell.n_x * cell.units
        if projected is None:
            loop_inputs = x
        elif cell.plan.x_raw:
            loop_inputs = ops.concatenate([projected, x], axis=-1)
        else:
            loop_inputs = projected

        def step(inputs, states):
            if projected is None:
                xp, x_t = None, inputs
            elif cell.plan.x_raw:
                xp, x_t = inputs[:, :width], inputs[:, width:]
            else:
                xp, x_t = inputs, None
            return cell.step(xp, x_t, list(states), rec_mask)

        # Keras' TF loop reads a missing `input_length` from axis 1 of the
        # inputs, the batch when time-major: with a length unknown at trace
        # time, hand it batch-major inputs instead (axis 1 is then time).
        time_major = loop_inputs.shape[0] is not None
        if not time_major:
            loop_inputs = ops.transpose(loop_inputs, (1, 0, 2))
        elif mask is not None:
            mask = ops.transpose(mask, (1, 0))
        last, outputs, states = backend.rnn(
            step, loop_inputs, list(initial_state), go_backwards=self.go_backwards, mask=mask,
            unroll=self.unroll, input_length=loop_inputs.shape[0 if time_major else 1],
            time_major=time_major, zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences)
        if self.return_sequences and time_major:
            outputs = ops.transpose(outputs, (1, 0, 2))
        return last, outputs, states

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {"genome": cell_config["genome"], "units": self.units, "fused": self.fused,
                  **{k: cell_config[k] for k in _CELL_ARGS}}
        base = super().get_config()
        del base["cell"]
        return {**base, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_keras(cls, layer) -> GenomeRNN:
        """Converts a built `keras.layers.LSTM` or `GRU` into the same function.

        The returned layer has the zoo genome of the Keras layer (`lstm_b` or
        `lstm` by `unit_forget_bias`, `gru` or `gru_reset_after`), the same
        weights, and the same sequence options; its outputs match to float32
        rounding.

        Args:
            layer: A built `keras.layers.LSTM` or `keras.layers.GRU`.

        Returns:
            A built `GenomeRNN`.

        Example:
            >>> import keras, numpy as np
            >>> lstm = keras.layers.LSTM(8, return_sequences=True)
            >>> x = np.random.rand(2, 5, 3).astype("float32")
            >>> same = GenomeRNN.from_keras(lstm) if lstm(x) is not None else None
            >>> bool(np.allclose(same(x), lstm(x), atol=1e-5))
            True
        """
        from archsearch.layers.convert import from_keras

        return from_keras(cls, layer)
