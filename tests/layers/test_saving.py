"""`.keras` round trip in a fresh process with only `import archsearch`, safe mode on."""

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from archsearch.layers import GenomeCell, GenomeRNN

LOAD = textwrap.dedent("""
    import sys
    {first}
    import numpy as np
    model = keras.saving.load_model(sys.argv[1], safe_mode=True)
    np.save(sys.argv[3], keras.ops.convert_to_numpy(model(np.load(sys.argv[2]))))
""")


def _model(name, units=8):
    keras.utils.set_random_seed(7)
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(20, units, mask_zero=True)(tokens)
    x = keras.layers.Bidirectional(GenomeRNN(name, units, return_sequences=True))(x)
    x = keras.layers.Dense(units)(x)
    x = keras.layers.RNN([GenomeCell(name, units), GenomeCell("lstm_b", units)],
                         return_sequences=True)(x)
    x = GenomeRNN(name, units)(x)
    return keras.Model(tokens, keras.layers.Dense(3)(x))


@pytest.mark.slow
@pytest.mark.parametrize("name,first", [
    ("lstm", "import archsearch; import keras"),
    ("gru", "import keras; import archsearch"),
    ("mut1", "import archsearch; import keras"),
    ("fgr", "import archsearch; import keras"),
])
def test_keras_file_reloads_in_fresh_process(tmp_path, name, first):
    model = _model(name)
    tokens = np.random.default_rng(0).integers(1, 20, size=(4, 9)).astype("int32")
    tokens[0, 5:] = 0  # padding exercises the mask through every layer
    expected = keras.ops.convert_to_numpy(model(tokens))
    path = tmp_path / "model.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", tokens)
    script = tmp_path / "load.py"
    script.write_text(LOAD.format(first=first))
    result = subprocess.run([sys.executable, str(script), str(path), str(tmp_path / "x.npy"),
                             str(tmp_path / "y.npy")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)


def test_keras_file_reloads_in_process(tmp_path):
    model = _model("cifg")
    tokens = np.random.default_rng(1).integers(1, 20, size=(2, 5)).astype("int32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(tokens)),
                                  keras.ops.convert_to_numpy(model(tokens)))
    genomes = [layer.genome.name for layer in loaded.layers if isinstance(layer, GenomeRNN)]
    assert genomes == ["cifg"]
