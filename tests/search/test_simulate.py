"""The simulated scorer: deterministic, plausible, recorded as simulated, run through Ray."""

import os
import statistics
import subprocess
import sys

import pytest

import archsearch
from archsearch.rundir import RunStore, read_trial
from archsearch.search.simulate import FAILURE_RATE, execute, simulated_result

GRU = archsearch.zoo.get("gru").fingerprint()


def _config(fp=GRU, task="xml", lr=0.1, seed=1, trial_id="0"):
    return {"trial_id": trial_id, "fingerprint": fp, "task": task, "seed": seed,
            "hparams": {"learning_rate": lr, "units": 8}, "strategy": "fixed",
            "genome": archsearch.zoo.get("gru").to_dict(), "name": "gru", "origin": "fixed"}


def test_the_same_trial_always_gets_the_same_score_and_seeds_move_it_a_little():
    first = simulated_result(_config())
    assert simulated_result(_config()) == first
    scores = [simulated_result(_config(seed=s))["score"] for s in range(40)]
    scores = [s for s in scores if s is not None]
    assert len(set(scores)) == len(scores)  # every seed differs
    assert max(scores) - min(scores) <= 0.02  # by at most the seed term


def test_cells_differ_around_their_own_mean():
    fps = [f"{k:032x}" for k in range(30)]
    means = {}
    for fp in fps:
        scores = [simulated_result(_config(fp=fp, lr=lr, seed=s))["score"]
                  for lr in (0.1, 0.5, 1.0) for s in range(5)]
        scores = [s for s in scores if s is not None]
        assert max(scores) - min(scores) <= 0.1  # hyperparameters + seed: +-0.05
        means[fp] = statistics.mean(scores)
    assert max(means.values()) - min(means.values()) > 0.15  # cells: 0.6 .. 0.98
    assert all(0.55 <= m <= 1.0 for m in means.values())


def test_about_two_percent_of_trials_fail():
    results = [simulated_result(_config(fp=f"{k:032x}", seed=k)) for k in range(5000)]
    failed = sum(r["status"] == "failed" for r in results)
    # Binomial(5000, 0.02): mean 100, sd 9.9; +-4 sd.
    assert abs(failed - 5000 * FAILURE_RATE) <= 40
    assert all(r["failure"] and r["score"] is None for r in results if r["status"] == "failed")


def test_the_worker_records_the_trial_once_marked_simulated(tmp_path):
    record = execute(_config(trial_id="3"), None, str(tmp_path))
    stored = read_trial(RunStore(tmp_path), "3")
    assert stored.simulated and record["simulated"] is True
    assert stored.score == simulated_result(_config(trial_id="3"))["score"]
    again = execute(_config(trial_id="3"), None, str(tmp_path))  # a retry keeps the first
    assert again["finished_at"] == record["finished_at"]


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_run_search_simulates_through_the_executor(tmp_path, ray_session, write_space,
                                                   space_yaml, read_records):
    from archsearch.search.executor import run_search

    space = archsearch.load_search_space(write_space(space_yaml(cells=("gru", "lstm"),
                                                                samples=2)))
    summary = run_search(space, str(tmp_path / "run"), progress=False, simulate=True)
    assert summary.finished and summary.trials == 4
    recs = read_records(tmp_path / "run")
    assert len(recs) == 4 and all(r["simulated"] for r in recs.values())
    for rec in recs.values():
        expected = simulated_result({"fingerprint": rec["cell"]["fingerprint"],
                                     "task": rec["task"], "hparams": rec["hparams"],
                                     "seed": rec["seed"]})
        assert rec["score"] == expected["score"]
    assert not list((tmp_path / "run" / "ray").glob("tune-*"))  # Tune's state: deleted


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_search_runs_as_successive_tune_runs(tmp_path, ray_session, write_space, space_yaml,
                                               read_records, monkeypatch):
    from archsearch.search import batches, executor

    monkeypatch.setattr(executor, "TUNE_TRIALS_PER_RUN", 2)
    monkeypatch.setattr(executor, "KEEP_TUNE_STATE", True)  # to count the runs
    monkeypatch.setattr(batches, "SIMULATED_BATCH", 2)  # 9 trials: 5 Tune trials
    space = archsearch.load_search_space(write_space(space_yaml(
        cells=("gru", "lstm", "lstm_b"), samples=3)))
    run_dir = tmp_path / "run"
    summary = executor.run_search(space, str(run_dir), progress=False, workers=1,
                                  simulate=True)
    assert summary.finished and summary.trials == 9
    assert sorted(read_records(run_dir), key=int) == [str(k) for k in range(9)]
    runs = [p for p in (run_dir / "ray").iterdir() if p.name.startswith("tune-")]
    assert len(runs) >= 2, runs  # one Tune run could not hold them all


def test_a_simulated_worker_loads_no_keras_or_tensorflow():
    # A Ray worker imports the trainable's module; simulated trials need no
    # KerasTuner, Keras or TensorFlow (seconds and ~600 MB per worker process).
    code = ("import sys\n"
            "import archsearch.search.batches, archsearch.search.simulate\n"
            "import archsearch.search.worker\n"
            "print(sorted(m for m in ('keras_tuner', 'keras', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in os.environ.items()
                                           if k != "KERAS_BACKEND"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
