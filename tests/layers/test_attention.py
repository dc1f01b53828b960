"""AttentionPooling: additive attention over the unmasked steps, known answers."""

import keras
import numpy as np
import pytest

from archsearch.layers import AttentionPooling


def _np(value):
    return keras.ops.convert_to_numpy(value)


def test_zero_kernel_gives_the_mean_of_the_unmasked_steps():
    # tanh(0 @ x + 0) = 0, so every score is 0 and the weights are uniform.
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 1, 0, 1, 0]], bool)
    pool = AttentionPooling(6, kernel_initializer="zeros")
    got = _np(pool(x, mask=mask))
    expected = np.stack([x[i][mask[i]].mean(axis=0) for i in range(3)])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(_np(pool(x)), x.mean(axis=1), atol=1e-6)


def test_scores_follow_v_tanh_w_h():
    # One feature, W = 1, v = 1: the step with the largest tanh(h) gets the most weight,
    # and the weights are exactly softmax(tanh(h)) over the unmasked steps.
    h = np.array([[[0.1], [2.0], [-1.0], [5.0]]], "float32")
    mask = np.array([[True, True, True, False]])
    pool = AttentionPooling(1, kernel_initializer="ones")
    pool.build(h.shape)
    weights = _np(pool.attention_weights(h, mask))
    scores = np.tanh(h[0, :3, 0])
    expected = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(weights[0], [*expected, 0.0], atol=1e-6)
    np.testing.assert_allclose(_np(pool(h, mask=mask))[0, 0], expected @ h[0, :3, 0], atol=1e-6)


def test_fully_masked_row_pools_to_zero_and_gradients_stay_finite():
    x = np.ones((2, 3, 2), "float32")
    mask = np.array([[0, 0, 0], [1, 0, 1]], bool)
    pool = AttentionPooling(4)
    np.testing.assert_array_equal(_np(pool(x, mask=mask))[0], [0.0, 0.0])
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.Masking(0.5), pool])
    model.compile("sgd", "mse")
    model.fit(np.concatenate([np.full((1, 3, 2), 0.5), x[1:]]).astype("float32"),
              np.ones((2, 2)), epochs=1, verbose=0)
    assert all(np.isfinite(_np(w)).all() for w in pool.weights)


def test_saved_model_reloads_in_safe_mode(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    outputs = AttentionPooling(3, name="pool")(x)
    model = keras.Model(inputs, outputs)
    tokens = np.array([[1, 2, 3, 0], [4, 0, 0, 0]], "int32")
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(_np(again(tokens)), _np(model(tokens)), atol=1e-6)
    assert again.get_layer("pool").get_config()["units"] == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        AttentionPooling(0)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\)"):
        AttentionPooling(2)(np.zeros((2, 3), "float32"))
