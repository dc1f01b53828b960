"""Chrono and other forget-gate initialisers on GenomeRNN / GenomeCell, saved and reloaded."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from archsearch.layers import ChronoInitializer, GenomeCell, GenomeRNN

X = np.zeros((2, 3, 4), "float32")


def _built(layer):
    layer(X)
    return layer.cell


def test_chrono_initializer_draws_log_uniform_biases_seeded():
    values = keras.ops.convert_to_numpy(ChronoInitializer(50, seed=0)((20_000,)))
    assert values.min() >= 0.0 and values.max() <= np.log(49) + 1e-5
    expected = (49 * np.log(49) - 48) / 48  # E[log u] for u ~ U[1, 49]
    assert values.mean() == pytest.approx(expected, abs=0.02)
    again = keras.ops.convert_to_numpy(ChronoInitializer(50, seed=0)((20_000,)))
    np.testing.assert_array_equal(values, again)
    config = ChronoInitializer(50, seed=0).get_config()
    assert config == {"t_max": 50.0, "seed": 0}
    assert keras.initializers.get(keras.initializers.serialize(ChronoInitializer(7))).t_max == 7


@pytest.mark.parametrize(("t_max", "seed", "match"), [
    (2, None, "t_max to be a number > 2.*Received: t_max=2"),
    (True, None, "t_max"), (float("inf"), None, "t_max"),
    (10, 1.5, "seed to be an integer or None. Received: seed=1.5"),
])
def test_chrono_initializer_rejects_bad_arguments(t_max, seed, match):
    with pytest.raises(ValueError, match=match):
        ChronoInitializer(t_max, seed=seed)


@pytest.mark.parametrize("genome", ["lstm", "lstm_b", "peephole_lstm"])
def test_chrono_sets_the_forget_gate_and_minus_it_on_the_input_gate(genome):
    cell = _built(GenomeRNN(genome, 32, forget_bias_initializer="chrono", chrono_tmax=20,
                            bias_initializer=keras.initializers.Constant(0.25), seed=4))
    forget, inputs = cell.get_bias("f_pre"), cell.get_bias("i_pre")
    assert forget.min() >= 0.0 and forget.max() <= np.log(19) + 1e-5 and forget.std() > 0.2
    np.testing.assert_allclose(inputs, -forget)
    assert np.all(cell.get_bias("g_pre") == 0.25)  # the other biases as before
    assert isinstance(cell.forget_bias_initializer, ChronoInitializer)


def test_without_an_input_gate_chrono_sets_the_forget_gate_alone():
    cell = _built(GenomeRNN("lstm_i", 8, forget_bias_initializer="chrono", chrono_tmax=30))
    assert cell.get_bias("f_pre").max() > 0 and np.all(cell.get_bias("g_pre") == 0)


def test_a_number_or_initializer_sets_the_forget_gate_alone():
    cell = _built(GenomeRNN("lstm_b", 4, forget_bias_initializer=2.5))
    assert np.all(cell.get_bias("f_pre") == 2.5) and np.all(cell.get_bias("i_pre") == 0)
    cell = _built(GenomeRNN("lstm", 4, forget_bias_initializer="ones"))
    assert np.all(cell.get_bias("f_pre") == 1.0)
    assert np.all(_built(GenomeRNN("lstm_b", 4)).get_bias("f_pre") == 1.0)  # default: genome's


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"genome": "gru", "forget_bias_initializer": "chrono", "chrono_tmax": 10},
     "forget_bias_initializer='chrono' needs a cell whose forget gate is identifiable.*"
     "Received: cell 'gru', which has none"),
    ({"genome": "lstm_f", "forget_bias_initializer": 1.0}, "cell 'lstm_f'"),
    ({"genome": "lstm", "forget_bias_initializer": "chrono"},
     "needs chrono_tmax.*Received: chrono_tmax=None"),
    ({"genome": "lstm", "chrono_tmax": 10},
     "chrono_tmax is only read with forget_bias_initializer='chrono'"),
    ({"genome": "lstm", "forget_bias_initializer": 1.0, "unit_forget_bias": True},
     "expected unit_forget_bias=None and use_bias=True"),
    ({"genome": "lstm", "forget_bias_initializer": 1.0, "use_bias": False}, "use_bias=False"),
])
def test_bad_forget_initialisation_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GenomeRNN(units=4, **kwargs)


def test_chrono_survives_get_config():
    layer = GenomeRNN("lstm", 6, forget_bias_initializer="chrono", chrono_tmax=40, seed=2)
    config = layer.get_config()
    assert config["chrono_tmax"] == 40.0
    assert config["forget_bias_initializer"]["class_name"] == "ChronoInitializer"
    clone = GenomeRNN.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_array_equal(_built(clone).get_bias("f_pre"), _built(layer).get_bias("f_pre"))
    cell = GenomeCell.from_config(GenomeCell("lstm", 3, forget_bias_initializer=0.5).get_config())
    assert cell.forget_bias_initializer.get_config() == {"value": 0.5}


def _model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((None, 4))
    x = GenomeRNN("lstm", 6, return_sequences=True, forget_bias_initializer="chrono",
                  chrono_tmax=25, seed=1)(inputs)
    x = keras.layers.RNN(GenomeCell("peephole_lstm", 5, forget_bias_initializer=2.0))(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


LOAD = textwrap.dedent("""
    import sys
    import archsearch, keras
    import numpy as np
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    np.save(sys.argv[3], keras.ops.convert_to_numpy(model(np.load(sys.argv[2]))))
""")


def test_a_keras_file_with_chrono_reloads_in_safe_mode(tmp_path):
    model = _model()
    x = np.random.default_rng(0).normal(size=(3, 7, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    path = tmp_path / "chrono.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x)), expected)
    assert again.layers[1].cell.forget_bias_initializer.t_max == 25.0


@pytest.mark.slow
def test_a_keras_file_with_chrono_reloads_in_a_fresh_process(tmp_path):
    model = _model()
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "load.py").write_text(LOAD)
    result = subprocess.run([sys.executable, str(tmp_path / "load.py"), str(tmp_path / "m.keras"),
                             str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
