"""The layers on other Keras backends: train, save and reload under `KERAS_BACKEND=jax`.

Each step runs in a fresh Python process, because Keras picks its backend once
at import and the test session runs on TensorFlow.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

GENOMES = ("lstm_b", "gru", "peephole_lstm")

TRAIN = """
import json, sys
import keras, numpy as np
import archsearch.layers as L
assert keras.backend.backend() == "jax", keras.backend.backend()
math_needs_tf = "tensorflow" in sys.modules  # before any Keras fit or save
rng = np.random.default_rng(0)
x = rng.normal(size=(16, 6, 3)).astype("float32")
y = rng.normal(size=(16, 2)).astype("float32")
losses = {}
for name in sys.argv[2].split(","):
    inputs = keras.Input((None, 3))
    h = L.GenomeRNN(name, 5, return_sequences=True, kernel_regularizer="l2")(inputs)
    h = keras.layers.Bidirectional(L.GenomeRNN(name, 4))(h)
    model = keras.Model(inputs, keras.layers.Dense(2)(h))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    losses[name] = history
    model.save(f"{sys.argv[1]}/{name}.keras")
    np.save(f"{sys.argv[1]}/{name}.npy", model.predict(x, verbose=0))
print(json.dumps({"losses": losses, "math_needs_tf": math_needs_tf}))
"""

LOAD = """
import sys
import keras, numpy as np
import archsearch  # registers the layers
assert keras.backend.backend() == "jax"
x = np.random.default_rng(0).normal(size=(16, 6, 3)).astype("float32")
for name in sys.argv[2].split(","):
    model = keras.saving.load_model(f"{sys.argv[1]}/{name}.keras", safe_mode=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.load(f"{sys.argv[1]}/{name}.npy"),
                               atol=1e-6)
print("reloaded")
"""


def _run(script, *args):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax (test extra)")
def test_jax_backend_trains_saves_and_reloads_in_safe_mode(tmp_path):
    report = json.loads(_run(TRAIN, str(tmp_path), ",".join(GENOMES)))
    assert not report["math_needs_tf"], "archsearch.layers imported TensorFlow under JAX"
    for name, losses in report["losses"].items():
        assert np.isfinite(losses).all() and losses[-1] < losses[0], (name, losses)
    assert _run(LOAD, str(tmp_path), ",".join(GENOMES)) == "reloaded"
