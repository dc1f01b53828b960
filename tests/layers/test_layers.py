"""GenomeCell and GenomeRNN: the Keras cell contract and the fast path agree."""

import keras
import numpy as np
import pytest

from archsearch import GenomeError, zoo
from archsearch.layers import GenomeCell, GenomeRNN

CELLS = ["tanh_rnn", "lstm", "gru", "gru_reset_after", "mut1", "mut2", "peephole_lstm", "fgr",
         "cifg", "mgu"]


def _pair(name, units=6, **kwargs):
    """A GenomeRNN and a keras.layers.RNN(GenomeCell) with the same weights."""
    fast = GenomeRNN(name, units, **kwargs)
    slow = keras.layers.RNN(GenomeCell(name, units), **kwargs)
    return fast, slow


def _np(t):
    return keras.ops.convert_to_numpy(t)


@pytest.mark.parametrize("name", CELLS)
def test_fast_path_equals_cell_in_keras_rnn(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 9, 6)).astype("float32")
    mask = np.ones((3, 9), bool)
    mask[0, 5:] = False
    fast, slow = _pair(name, return_sequences=True, return_state=True)
    fast(x)
    slow(x)
    slow.set_weights(fast.get_weights())
    for m in (None, mask):
        got, want = fast(x, mask=m), slow(x, mask=m)
        assert len(got) == 1 + len(zoo.get(name).states)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)


@pytest.mark.parametrize("name", ["lstm_b", "gru"])
def test_go_backwards_and_bidirectional(name):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    fwd = GenomeRNN(name, 3, return_sequences=True)
    bwd = GenomeRNN(name, 3, return_sequences=True, go_backwards=True)
    fwd(x)
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    # Backwards over x == forwards over reversed x.
    np.testing.assert_allclose(_np(bwd(x)), _np(fwd(x[:, ::-1])), atol=1e-6)
    bi = keras.layers.Bidirectional(GenomeRNN(name, 3, return_sequences=True))
    assert bi(x).shape == (2, 5, 6)


def test_stacked_cells_and_initial_state():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    stacked = keras.layers.RNN([GenomeCell("lstm", 4), GenomeCell("gru", 3)])
    assert stacked(x).shape == (2, 3)
    layer = GenomeRNN("lstm", 4)
    zeros = [np.zeros((2, 4), "float32")] * 2
    ones = [np.ones((2, 4), "float32")] * 2
    np.testing.assert_allclose(_np(layer(x, initial_state=zeros)), _np(layer(x)), atol=1e-6)
    assert not np.allclose(_np(layer(x, initial_state=ones)), _np(layer(x)))


@pytest.mark.parametrize("layer_type", ["fast", "cell"])
def test_dropout_only_in_training_and_seeded(layer_type):
    x = np.ones((4, 6, 8), "float32")
    kwargs = dict(dropout=0.5, recurrent_dropout=0.3, seed=3)
    layer = (GenomeRNN("lstm", 8, **kwargs) if layer_type == "fast"
             else keras.layers.RNN(GenomeCell("lstm", 8, **kwargs)))
    inference = _np(layer(x))
    np.testing.assert_allclose(inference, _np(layer(x)))
    trained = _np(layer(x, training=True))
    assert not np.allclose(trained, inference)
    assert np.isfinite(trained).all()


def test_width_mismatch_is_a_genome_error():
    with pytest.raises(GenomeError, match="input width == units"):
        GenomeRNN("mut1", 8)(np.zeros((1, 2, 5), "float32"))
    assert GenomeRNN("mut1", 5)(np.zeros((1, 2, 5), "float32")).shape == (1, 5)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="units must be a positive integer"):
        GenomeCell("lstm", 0)
    with pytest.raises(GenomeError, match="unknown zoo cell"):
        GenomeRNN("not_a_cell", 4)


def test_linear_a_initialised_near_a_times_identity():
    from archsearch import GenomeBuilder

    b = GenomeBuilder(("h",))
    genome = b.build({"h": b.linear_a(0.9, b.tanh(b.linear("x", "h")), name="lin")})
    layer = GenomeRNN(genome, 16)
    layer(np.zeros((1, 1, 4), "float32"))
    block = layer.cell.get_projection("lin", "n1")
    assert np.abs(np.diag(block) - 0.9).max() < 0.2
    off_diagonal = block - np.diag(np.diag(block))
    assert np.abs(off_diagonal).max() < 0.2


def test_get_config_round_trip_and_weight_count():
    layer = GenomeRNN("peephole_lstm", 5, return_sequences=True, dropout=0.1, seed=4)
    x = np.random.default_rng(5).normal(size=(2, 3, 7)).astype("float32")
    layer(x)
    config = layer.get_config()
    assert config["genome"]["name"] == "peephole_lstm"
    clone = GenomeRNN.from_config(config)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(x)), _np(layer(x)), atol=1e-6)
    assert layer.count_params() == zoo.get("peephole_lstm").parameter_count(7, 5)


@pytest.mark.parametrize("jit", [False, True])
def test_trains_under_fit_with_and_without_xla(jit):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(10, 8),
                              GenomeRNN("gru_reset_after", 8), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    x = np.random.default_rng(0).integers(0, 10, size=(32, 6))
    y = (x[:, 0] > 4).astype("int32")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
