"""GenomeRNN.from_keras: the compiler's correctness anchor against Keras' LSTM/GRU."""

import keras
import numpy as np
import pytest

from archsearch.layers import GenomeRNN

MAKERS = {
    "lstm": lambda units, **kw: keras.layers.LSTM(units, **kw),
    "gru": lambda units, **kw: keras.layers.GRU(units, reset_after=False, **kw),
    "gru_reset_after": lambda units, **kw: keras.layers.GRU(units, reset_after=True, **kw),
}


def _randomized(layer, x, rng):
    layer(x)  # build
    for weight in layer.weights:  # non-trivial biases too, so bias mapping is tested
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("steps", [1, 7, 50])
@pytest.mark.parametrize("masked", [False, True])
def test_from_keras_matches_keras(kind, steps, masked):
    rng = np.random.default_rng(steps)
    x = rng.normal(size=(3, steps, 9)).astype("float32")
    keras_layer = _randomized(MAKERS[kind](7, return_sequences=True), x, rng)
    converted = GenomeRNN.from_keras(keras_layer)
    mask = None
    if masked:
        mask = np.ones((3, steps), bool)
        mask[1, steps // 2 + 1:] = False
        mask[2, :] = np.arange(steps) < max(1, steps - 3)
    expected = keras.ops.convert_to_numpy(keras_layer(x, mask=mask))
    got = keras.ops.convert_to_numpy(converted(x, mask=mask))
    # Keras' LSTM defaults to unit_forget_bias=True, i.e. it is initialised as LSTM-b.
    assert converted.genome.name == {"lstm": "lstm_b"}.get(kind, kind)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_from_keras_keeps_sequence_options(kind):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 5)).astype("float32")
    keras_layer = _randomized(
        MAKERS[kind](4, return_state=True, go_backwards=True), x, rng)
    converted = GenomeRNN.from_keras(keras_layer)
    expected = keras_layer(x)
    got = converted(x)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b),
                                   atol=1e-5)


def test_from_keras_lstm_without_unit_forget_bias_is_plain_lstm():
    layer = keras.layers.LSTM(3, unit_forget_bias=False)
    layer(np.zeros((1, 2, 4), "float32"))
    assert GenomeRNN.from_keras(layer).genome.name == "lstm"


def test_from_keras_rejects_unbuilt_and_foreign_layers():
    with pytest.raises(ValueError, match="not built"):
        GenomeRNN.from_keras(keras.layers.LSTM(3))
    with pytest.raises(TypeError, match="LSTM or GRU"):
        GenomeRNN.from_keras(keras.layers.SimpleRNN(3))
    relu = keras.layers.GRU(3, activation="relu")
    relu(np.zeros((1, 2, 4), "float32"))
    with pytest.raises(ValueError, match="activation='tanh'"):
        GenomeRNN.from_keras(relu)
