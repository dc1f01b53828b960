"""Every private library name archsearch uses still exists and still does its job.

An upgrade of Keras, KerasTuner or Ray that moves, renames or changes one of
them fails here, in one place, instead of deep inside a search.
"""

import doctest
import importlib
import os
import re
from pathlib import Path

import pytest

import archsearch

PACKAGE = Path(archsearch.__file__).parent
#: Private names of libraries; only `archsearch/compat` may use them.
PRIVATE = re.compile(r"\b(from|import)\s+(keras\.src|keras_tuner\.src|ray\._private)\b"
                     r"|\._clip_gradients\b|\._set_project_dir\b|\boracle\._retry_queue\b")



def test_keras_names_import():
    from archsearch.compat.keras import (
        DropoutRNNCell,
        backend,
        set_gradient_clipper,
        set_random_seed_except_tf,
        testing,
    )

    assert callable(backend.rnn)
    assert hasattr(DropoutRNNCell, "get_dropout_mask")
    assert hasattr(DropoutRNNCell, "get_recurrent_dropout_mask")
    assert callable(testing.TestCase.run_layer_test)
    assert callable(set_gradient_clipper) and callable(set_random_seed_except_tf)


def test_keras_tuner_names_import():
    import keras_tuner

    from archsearch.compat.keras_tuner import retry_trial, set_project_dir

    oracle = keras_tuner.Oracle(objective=keras_tuner.Objective("score", "max"), max_trials=1)
    assert isinstance(oracle._retry_queue, list)
    assert callable(oracle._set_project_dir)
    assert callable(retry_trial) and callable(set_project_dir)


def test_ray_names_import():
    from archsearch.compat.ray import CLUSTER_SWITCH, no_cluster, ray_constants

    assert isinstance(ray_constants.ENABLE_RAY_CLUSTER, bool)
    assert ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR == CLUSTER_SWITCH
    assert callable(no_cluster)


def test_unknown_attribute_is_an_attribute_error():
    from archsearch.compat import keras as compat_keras
    from archsearch.compat import ray as compat_ray

    for module in (compat_keras, compat_ray):
        with pytest.raises(AttributeError, match="no_such_name"):
            module.no_such_name  # noqa: B018


def test_gradient_clipper_replaces_keras_clipping():
    import keras
    import numpy as np

    from archsearch.compat.keras import set_gradient_clipper

    seen = []
    opt = keras.optimizers.SGD(learning_rate=0.5, global_clipnorm=1e-6)

    def halve(grads):
        seen.append(len(grads))
        return [g * 0.5 for g in grads]

    set_gradient_clipper(opt, halve)
    v = keras.Variable(np.array([1.0, 2.0], "float32"))
    opt.apply([keras.ops.convert_to_tensor(np.array([4.0, -2.0], "float32"))], [v])
    # 1 - 0.5 * (0.5 * 4) = 0, 2 - 0.5 * (0.5 * -2) = 2.5; Keras' own
    # global_clipnorm (which would leave v almost unchanged) is not applied.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(v), [0.0, 2.5])
    assert seen == [1]


def test_set_random_seed_except_tf_repeats_unseeded_draws():
    import keras
    import numpy as np

    from archsearch.compat.keras import set_random_seed_except_tf

    draws = []
    for seed in (3, 3, 4):
        set_random_seed_except_tf(seed)
        draws.append(np.concatenate([keras.ops.convert_to_numpy(keras.random.uniform((4,))),
                                     np.random.uniform(size=2)]))
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])
    with pytest.raises(TypeError, match="Received: seed=1.5"):
        set_random_seed_except_tf(1.5)


def test_gradient_clipper_refuses_a_non_optimizer():
    from archsearch.compat.keras import set_gradient_clipper

    with pytest.raises(TypeError, match="Received: optimizer="):
        set_gradient_clipper(object(), lambda grads: grads)


def test_retry_trial_and_project_dir_on_a_keras_tuner_oracle(tmp_path):
    import keras_tuner

    from archsearch.compat.keras_tuner import retry_trial, set_project_dir

    hp = keras_tuner.HyperParameters()
    hp.Int("units", 1, 100)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "max"), max_trials=5, hyperparameters=hp,
        seed=0)
    set_project_dir(oracle, tmp_path, "kt")
    first = oracle.create_trial("w0")
    oracle.ongoing_trials.pop("w0")
    retry_trial(oracle, first.trial_id)
    again = oracle.create_trial("w1")
    assert again.trial_id == first.trial_id
    assert again.hyperparameters.values == first.hyperparameters.values
    oracle.save()
    assert (tmp_path / "kt" / "oracle.json").is_file()


def test_no_cluster_sets_and_restores_the_switch(monkeypatch):
    from archsearch.compat.ray import CLUSTER_SWITCH, no_cluster, ray_constants

    monkeypatch.setenv(CLUSTER_SWITCH, "1")
    before = ray_constants.ENABLE_RAY_CLUSTER
    with pytest.raises(RuntimeError, match="inside"), no_cluster():
        assert os.environ[CLUSTER_SWITCH] == "0"
        assert ray_constants.ENABLE_RAY_CLUSTER is False
        raise RuntimeError("inside")
    assert os.environ[CLUSTER_SWITCH] == "1"
    assert ray_constants.ENABLE_RAY_CLUSTER is before
    monkeypatch.delenv(CLUSTER_SWITCH)
    with no_cluster():
        pass
    assert CLUSTER_SWITCH not in os.environ


def test_compat_keras_imported_first_still_registers_the_layers():
    import subprocess
    import sys

    code = ("import archsearch.compat.keras, keras; "
            "print(keras.saving.get_registered_object('archsearch>GenomeCell').__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "GenomeCell"


def test_compat_package_imports_no_library():
    import subprocess
    import sys

    code = ("import sys, archsearch.compat; "
            "print(sorted({'keras', 'keras_tuner', 'ray', 'tensorflow'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["archsearch.compat.keras", "archsearch.compat.keras_tuner",
                                  "archsearch.compat.ray"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def _private_uses():
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent.name == "compat":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if PRIVATE.search(code):
                hits.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    return hits


def test_private_names_only_in_compat():
    hits = _private_uses()
    assert not hits, "private library names outside archsearch/compat:\n" + "\n".join(hits)


def test_the_scan_finds_a_private_name():
    assert PRIVATE.search("from keras.src import backend")
    assert PRIVATE.search("optimizer._clip_gradients = clip")
    assert PRIVATE.search("    from ray._private import ray_constants")
    assert not PRIVATE.search("from archsearch.compat.keras import backend")
    assert not PRIVATE.search("the loop (`keras.src.backend.rnn`) in a docstring")
