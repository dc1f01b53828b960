"""A search's driver loads Keras without TensorFlow.

End to end through Ray: tests/search/test_executor.py. Each test runs a
fresh interpreter: this one has Keras loaded (with TensorFlow).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, os, sys
    from archsearch.compat.driver_keras import load_keras_for_driver
    backend = load_keras_for_driver()
    import archsearch.search.executor  # the driver's own imports: oracles, Ray Tune
    print(json.dumps({"backend": backend, "tf": "tensorflow" in sys.modules,
                      "env": os.environ.get("KERAS_BACKEND")}))
""")


def _run(code: str, env_update: dict, drop=("KERAS_BACKEND",), timeout=120) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_update)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("configured", [None, "tensorflow"])
def test_the_driver_loads_keras_without_tensorflow_and_restores_the_variable(configured):
    found = _run(PROBE, {} if configured is None else {"KERAS_BACKEND": configured})
    assert found == {"backend": "numpy", "tf": False, "env": configured}


def test_keras_already_loaded_is_left_as_it_is():
    code = "import keras\n" + PROBE
    found = _run(code, {"KERAS_BACKEND": "tensorflow"})
    assert found == {"backend": "tensorflow", "tf": True, "env": "tensorflow"}
