"""Fixtures for the search tests: one local Ray for the whole session, tiny spaces.

Starting Ray takes 5-20 s here, so the tests that run a search in this process
share one instance (`run_search` reuses an initialized Ray). Tests that need a
Ray of their own (a simulated multi-node cluster, a driver killed with
SIGKILL) run it in a subprocess with a private `RAY_TMPDIR`, so they neither
clash with this instance nor with Rays other people start on the machine.
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

#: Budget of every trial in these tests: a few steps of 8 units on 64 examples.
TINY_TASK = "{name: memorization, budget: {steps: 4, batch_size: 16}, options: {num_examples: 64}}"
TINY_HPARAMS = ("{units: [8], layers: [1], optimizer: [adam], learning_rate: %s, "
                "init_scale: [1.0], clip_norm: [5.0]}")

#: A cell whose state squares every step, whatever its weights: h' = (h + 2)^2.
#: It overflows to inf within the 10 steps of a memorization sequence, so the
#: loss is NaN on the first batch.
EXPLODING = {
    "format": "archsearch.genome", "version": 1, "name": "exploding",
    "states": ["h"], "output": "h",
    "nodes": [
        {"id": "z", "op": "linear", "inputs": ["x", "h"]},
        {"id": "s", "op": "sigmoid", "inputs": ["z"]},
        {"id": "t", "op": "one_minus", "inputs": ["s"]},
        {"id": "one", "op": "add", "inputs": ["s", "t"]},
        {"id": "two", "op": "add", "inputs": ["one", "one"]},
        {"id": "p", "op": "add", "inputs": ["h", "two"]},
        {"id": "h_new", "op": "mul", "inputs": ["p", "p"]},
    ],
    "next": {"h": "h_new"},
}


def tiny_space_yaml(cells=("gru", "lstm"), max_trials=None, samples=1, learning_rate="[0.01]",
                    tasks=(TINY_TASK,), resources="{cpus: 1, gpu: 0}", name="tiny") -> str:
    """A fixed-list space: `cells` x `samples` x `tasks`, trials of a few steps."""
    max_trials = max_trials or len(cells) * samples * len(tasks)
    task_lines = "\n".join(f"  - {t}" for t in tasks)
    return textwrap.dedent(f"""\
        name: {name}
        seed: 0
        max_trials: {max_trials}
        baseline: gru
        strategy: {{name: fixed, cells: [{", ".join(cells)}], hyperparameter_samples: {samples}}}
        hyperparameters: {TINY_HPARAMS % learning_rate}
        tasks:
        """) + task_lines + f"\nresources: {resources}\n"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Makes `--dist loadgroup` honour `xdist_group` again on pytest 9.

    pytest-xdist 3.8 groups tests by appending `@group` to `item._nodeid`, but
    pytest 9 keeps the node id in `item._id`, so the suffix is lost and the
    tests of one group are spread over several workers (here: two local Rays
    and the cluster subprocesses competing for the same 2 cores). Applied to
    every collected item with an `xdist_group` marker, as xdist itself would;
    a no-op where xdist already did it or where the run is not `loadgroup`.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # pytest < 9: xdist's own hook works
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture
def write_space(tmp_path):
    """Writes a space YAML (and the exploding cell's JSON) into tmp_path; returns its path."""
    (tmp_path / "exploding.json").write_text(json.dumps(EXPLODING))

    def write(text: str, name: str = "space.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray (2 CPUs) shared by every in-process search test of the session."""
    import ray

    if not ray.is_initialized():
        # address="local": never join a cluster some other process recorded in
        # /tmp/ray/ray_current_cluster on this shared machine.
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def records(run_dir) -> dict[str, dict]:
    """Trial id -> record of every trial record in `run_dir`."""
    trials = Path(run_dir) / "trials"
    return {p.stem: json.loads(p.read_text()) for p in sorted(trials.glob("*.json"))}


class Subprocess:
    """Starts Python scripts in their own session and private Ray temp dir; cleans up."""

    def __init__(self):
        self.ray_tmp = tempfile.mkdtemp(prefix="asr", dir="/tmp")  # short: socket paths
        self.procs: list[subprocess.Popen] = []

    def env(self) -> dict:
        env = dict(os.environ)
        env.pop("RAY_ADDRESS", None)
        env.update(RAY_TMPDIR=self.ray_tmp, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1",
                   RAY_DEDUP_LOGS="0", KERAS_BACKEND="tensorflow")
        return env

    def start(self, args, log: Path, cwd=REPO) -> subprocess.Popen:
        handle = open(log, "ab")  # noqa: SIM115 - closed with the process below
        proc = subprocess.Popen([sys.executable, *map(str, args)], cwd=cwd, env=self.env(),
                                stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc._log_handle = handle
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the process and everything left in its process group (its Ray)."""
        for target in (lambda: os.killpg(proc.pid, signal.SIGKILL),
                       lambda: os.kill(proc.pid, signal.SIGKILL)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                target()
        proc.wait(timeout=30)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)
            else:  # its Ray processes may outlive it in the group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc._log_handle.close()
        shutil.rmtree(self.ray_tmp, ignore_errors=True)


@pytest.fixture
def subprocesses():
    """A `Subprocess` helper whose processes (and their Rays) die with the test."""
    helper = Subprocess()
    yield helper
    helper.close()


@pytest.fixture(scope="session")
def space_yaml():
    """`tiny_space_yaml`: the text of a tiny fixed-list space."""
    return tiny_space_yaml


@pytest.fixture(scope="session")
def read_records():
    """`records`: trial id -> record of a run directory."""
    return records


@pytest.fixture(scope="module")
def module_subprocesses():
    """Like `subprocesses`, shared by the tests of one module."""
    helper = Subprocess()
    yield helper
    helper.close()


class CurveTrainer:
    """A fake `run_trial` with known learning curves: no TensorFlow, no data.

    Each cell (by genome name) has a list of validation accuracies, one per
    evaluation, spread evenly over the budget's steps; every evaluation goes
    to `on_eval` (after `pause` seconds of "training"), and a truthy answer
    stops the trial as `run_trial` does. Picklable by value, so Ray workers
    run it without importing the tests.
    """

    def __init__(self, curves: dict[str, list[float]], pause: float = 0.0):
        self.curves, self.pause = curves, pause

    def __call__(self, genome, hparams, task, budget=None, seed=0, data=None, on_eval=None):
        import time

        name = genome["name"] if isinstance(genome, dict) else genome.name
        values = self.curves[name]
        steps = budget["steps"]
        curve, status, reason = [], "completed", None
        for k, value in enumerate(values, start=1):
            time.sleep(self.pause)
            point = {"step": steps * k // len(values), "seconds": self.pause * k,
                     "train_loss": 1.0 - value, "learning_rate": 0.1,
                     "valid_accuracy": value, "valid_loss": 1.0 - value}
            curve.append(point)
            answer = on_eval(dict(point)) if on_eval is not None else None
            if answer:
                status, reason = "stopped", str(answer)
                break
        best = max(p["valid_accuracy"] for p in curve)
        return {"status": status, "failure": reason, "task": task, "score": best,
                "score_metric": "accuracy", "score_mode": "max",
                "metrics": {"valid": {"accuracy": best}, "test": {"accuracy": best}},
                "curve": curve, "params": 100, "units": 8, "steps": curve[-1]["step"],
                "hparams": dict(hparams), "seed": seed,
                "timings": {"train": self.pause * len(curve), "total": self.pause * len(curve)}}


@pytest.fixture(scope="session")
def curve_trainer():
    """`CurveTrainer`, its module registered with Ray's cloudpickle to travel by value."""
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[CurveTrainer.__module__])
    return CurveTrainer
