"""A search's driver loads Keras without TensorFlow; its Ray workers still train with it.

Each test runs a fresh interpreter: this one has Keras loaded (with TensorFlow).
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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


@pytest.mark.slow
def test_archsearch_search_trains_through_ray_with_no_tensorflow_in_the_driver(tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(textwrap.dedent("""\
        name: driver_no_tf
        seed: 0
        max_trials: 2
        baseline: gru
        strategy: {name: fixed, cells: [gru, lstm], hyperparameter_samples: 1}
        hyperparameters: {units: [8], layers: [1], optimizer: [adam], learning_rate: [0.01]}
        tasks:
          - {name: memorization, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}
        resources: {cpus: 1, gpu: 0}
        """))
    code = textwrap.dedent(f"""
        import json, sys
        from archsearch.cli import main
        rc = main(["search", {str(space)!r}, "--run-dir", {str(tmp_path / "run")!r},
                   "--no-progress", "--workers", "1"])
        print(json.dumps({{"rc": rc, "tf": "tensorflow" in sys.modules}}))
    """)
    ray_tmp = tempfile.mkdtemp(prefix="asr", dir="/tmp")  # short: Ray's socket paths
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "RAY_ADDRESS")}
    env.update(RAY_TMPDIR=ray_tmp, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # its Ray, if anything outlived it
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert proc.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1]) == {"rc": 0, "tf": False}
    records = [json.loads(p.read_text()) for p in (tmp_path / "run" / "trials").glob("*.json")]
    # The workers trained (TensorFlow): real scores, not simulated ones.
    assert len(records) == 2
    assert all(r["status"] == "completed" and not r.get("simulated") for r in records)
    assert all(0.0 <= r["score"] <= 1.0 for r in records)
