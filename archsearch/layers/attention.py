"""`AttentionPooling`: additive (Bahdanau-style) attention that pools a sequence."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["AttentionPooling"]


@keras.saving.register_keras_serializable(package="archsearch")
class AttentionPooling(keras.layers.Layer):
    """Pools `(batch, timesteps, features)` into `(batch, features)` by learned attention.

    Each step gets a score `v^T tanh(W h_t + b)`; the weights are the softmax
    of the scores over the unmasked steps, and the output is the weighted sum
    of the steps. This is the pooling of the attention BiLSTM classifiers
    (e.g. Zeng & Acuna 2020 for citation worthiness), usually placed after
    `keras.layers.Bidirectional(..., return_sequences=True)`. Masked steps get
    weight 0; a row with every step masked pools to zeros.

    Args:
        units: Width of the hidden attention projection `W`.
        kernel_initializer: Initializer of `W` and `v`.
        bias_initializer: Initializer of `b`.
        **kwargs: Other `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `(batch, timesteps, features)` tensor.
        mask: Optional `(batch, timesteps)` boolean mask (propagated by Keras
            from an `Embedding(mask_zero=True)`).

    Example:
        >>> import numpy as np
        >>> pool = AttentionPooling(8)
        >>> tuple(pool(np.ones((2, 5, 6), "float32")).shape)
        (2, 6)
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer. Received: units={units!r}")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError("AttentionPooling expects inputs of shape (batch, timesteps, "
                             f"features) with known features. Received: input_shape={input_shape}")
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(shape=(self.units,), name="bias",
                                    initializer=self.bias_initializer)
        self.score_vector = self.add_weight(shape=(self.units, 1), name="score_vector",
                                            initializer=self.kernel_initializer)

    def attention_weights(self, inputs, mask=None):
        """Returns the `(batch, timesteps)` weights; rows sum to 1 (0 if fully masked)."""
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.squeeze(ops.matmul(hidden, self.score_vector), axis=-1)
        if mask is None:
            return ops.softmax(scores, axis=-1)
        mask = ops.cast(mask, "bool")
        scores = ops.where(mask, scores, ops.full_like(scores, -1e4 if scores.dtype == "float16"
                                                       else -1e9))
        weights = ops.softmax(scores, axis=-1)
        return weights * ops.cast(mask, weights.dtype)

    def call(self, inputs, mask=None):
        weights = self.attention_weights(inputs, mask)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = {
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
        return {**super().get_config(), **config}
