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


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_from_keras_stateful_keeps_batch_size_and_state(kind):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    keras_layer = _randomized(MAKERS[kind](6, stateful=True), x, rng)
    keras_layer(x)  # a running state that the conversion must carry over
    converted = GenomeRNN.from_keras(keras_layer)
    assert converted.stateful and converted.states[0].shape == (4, 6)
    for _ in range(2):  # the state keeps evolving the same way
        np.testing.assert_allclose(keras.ops.convert_to_numpy(converted(x)),
                                   keras.ops.convert_to_numpy(keras_layer(x)), atol=1e-5)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_from_keras_keeps_zero_output_for_mask(kind):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    keras_layer = _randomized(
        MAKERS[kind](4, return_sequences=True, zero_output_for_mask=True), x, rng)
    converted = GenomeRNN.from_keras(keras_layer)
    got = keras.ops.convert_to_numpy(converted(x, mask=mask))
    assert converted.zero_output_for_mask
    assert np.all(got[0, 3:] == 0) and np.all(got[1] != 0)
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(keras_layer(x, mask=mask)),
                               atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_from_keras_without_bias_has_no_bias_after_training(kind):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 4, 3)).astype("float32")
    keras_layer = _randomized(MAKERS[kind](5, use_bias=False), x, rng)
    converted = GenomeRNN.from_keras(keras_layer)
    assert converted.cell.bias is None
    assert converted.count_params() == keras_layer.count_params()
    model = keras.Sequential([keras.Input((4, 3)), converted])
    model.compile("sgd", "mse")
    model.fit(x, rng.normal(size=(8, 5)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="use_bias=False"):
        converted.cell.set_bias("z_pre" if kind == "gru" else "f_pre", np.zeros(5))


def test_from_keras_carries_regularizers_constraints_and_their_losses():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    keras_layer = _randomized(keras.layers.LSTM(
        5, kernel_regularizer=keras.regularizers.L2(0.1), recurrent_regularizer="l1",
        bias_regularizer=keras.regularizers.L1(0.2), activity_regularizer="l2",
        kernel_constraint=keras.constraints.MaxNorm(2.0), recurrent_constraint="non_neg",
        bias_constraint=keras.constraints.UnitNorm(), bias_initializer="ones"), x, rng)
    converted = GenomeRNN.from_keras(keras_layer)
    config = converted.get_config()
    for name in ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                 "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                 "bias_constraint", "bias_initializer"):
        assert config[name] == keras_layer.get_config()[name], name
    assert converted.cell.kernel_regularizer is not keras_layer.cell.kernel_regularizer
    keras_layer(x)
    converted(x)  # weight losses of the same weights, plus the activity loss of equal outputs
    np.testing.assert_allclose(sum(_np(v) for v in converted.losses),
                               sum(_np(v) for v in keras_layer.losses), rtol=1e-5)
    assert converted.cell.kernels["x"].constraint is not None


def _np(value):
    return keras.ops.convert_to_numpy(value)
