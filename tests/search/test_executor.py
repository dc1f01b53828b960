"""The Ray Tune executor end to end: records, resume, run-dir checks, KerasTuner oracles.

Searches here run on the session's shared local Ray (`ray_session`) with
trials of a few steps of an 8-unit cell on 64 memorization examples.
"""

import json
import math
import os
import time

import pytest

import archsearch
from archsearch.rundir import Lease, RunStore, write_trial
from archsearch.search import RunDirError
from archsearch.search.executor import OracleSearcher, run_search
from archsearch.search.trial_records import failed_record, trial_record


def _snapshot(run_dir):
    return {p.relative_to(run_dir).as_posix(): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and "ray" not in p.parts}


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_search_records_every_trial_then_resumes_without_rerunning(
        tmp_path, ray_session, write_space, space_yaml, read_records):
    space = archsearch.load_search_space(write_space(space_yaml(cells=("gru", "lstm"))))
    run_dir = tmp_path / "run"

    summary = run_search(space, str(run_dir), progress=False)

    assert summary.finished and not summary.resumed
    assert (summary.trials, summary.failed) == (2, 0)
    assert {"run.json", "oracle.json", "trials"} <= {p.name for p in run_dir.iterdir()}
    recs = read_records(run_dir)
    assert sorted(recs) == ["0", "1"]
    assert {r["cell"]["name"] for r in recs.values()} == {"gru", "lstm"}
    assert not (run_dir / "lease.json").exists()  # released when the search ended
    # the trial index, compacted at the end: one file a report or resume reads
    assert [p.suffix for p in (run_dir / "index").iterdir()] == [".parquet"]
    for trial_id, rec in recs.items():
        assert rec["format"] == "archsearch.trial" and rec["trial_id"] == trial_id
        assert rec["version"] == 2 and "sequence" not in rec  # written once, by its worker
        assert rec["status"] == "completed", rec["failure"]
        assert rec["failure"] is None and rec["strategy"] == "fixed"
        assert rec["task"] == "memorization" and rec["steps"] == 4 and rec["units"] == 8
        genome = archsearch.Genome.from_dict(rec["cell"]["genome"])
        assert genome.fingerprint() == rec["cell"]["fingerprint"]
        assert 0.0 <= rec["score"] <= 1.0
        assert rec["score"] == rec["metrics"]["valid"]["accuracy"]
        assert set(rec["metrics"]) == {"valid", "test"}
        assert len(rec["curve"]) >= 1 and rec["curve"][-1]["step"] == 4
        timings = rec["timings"]
        assert set(timings) >= {"data", "build", "train", "eval", "total"}
        assert 0 < timings["train"] <= timings["total"]
        worker = rec["worker"]
        assert worker["node"] and worker["node_id"] and worker["hostname"]
        assert isinstance(worker["pid"], int) and worker["pid"] != os.getpid()
        assert rec["started_at"] <= rec["finished_at"]
    oracle_state = json.loads((run_dir / "oracle.json").read_text())  # a snapshot
    assert oracle_state["ended"] == 2
    assert not oracle_state["ongoing"] and not oracle_state["pending"]

    # The same call again: resumes, runs nothing, rewrites no record.
    before = _snapshot(run_dir)
    again = run_search(space, str(run_dir), progress=False)
    assert again.resumed and again.finished
    assert (again.trials, again.failed) == (2, 0)
    after = _snapshot(run_dir)
    assert {k: v for k, v in after.items() if k.startswith("trials/")} == \
        {k: v for k, v in before.items() if k.startswith("trials/")}
    assert json.loads(after["oracle.json"])["ended"] == 2

    # Another space on the same run dir: refused, naming the key, nothing written.
    other = archsearch.load_search_space(
        write_space(space_yaml(cells=("gru", "lstm"), learning_rate="[0.02]"), "other.yaml"))
    with pytest.raises(RunDirError, match=r"hyperparameters\.learning_rate"):
        run_search(other, str(run_dir), progress=False)
    assert _snapshot(run_dir) == after


def test_a_directory_that_is_not_a_run_is_refused_and_left_alone(tmp_path, write_space,
                                                                  space_yaml):
    space = archsearch.load_search_space(write_space(space_yaml()))
    target = tmp_path / "notes"
    target.mkdir()
    (target / "thesis.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not an archsearch run directory"):
        run_search(space, str(target), progress=False)
    assert [p.name for p in target.iterdir()] == ["thesis.txt"]
    assert (target / "thesis.txt").read_text() == "mine"


def test_a_corrupt_run_file_is_refused(tmp_path, write_space, space_yaml):
    space = archsearch.load_search_space(write_space(space_yaml()))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{not json")
    with pytest.raises(RunDirError, match="run.json"):
        run_search(space, str(run_dir), progress=False)
    assert (run_dir / "run.json").read_text() == "{not json"


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_keras_tuner_random_search_oracle_runs_through_the_executor(
        tmp_path, ray_session, write_space, space_yaml, read_records):
    import keras_tuner

    from archsearch.search.oracles import space_hyperparameters

    space = archsearch.load_search_space(
        write_space(space_yaml(cells=("gru",), learning_rate="[0.01, 0.02]")))
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("score", "max"), max_trials=2,
        hyperparameters=space_hyperparameters(space), seed=3)
    run_dir = tmp_path / "run"

    summary = run_search(space, str(run_dir), oracle=oracle, progress=False)

    assert summary.finished and summary.strategy == "keras_tuner:RandomSearchOracle"
    assert (summary.trials, summary.failed) == (2, 0)
    recs = read_records(run_dir)
    assert sorted(recs) == ["0", "1"]
    # RandomSearch never repeats a setting: both learning rates were tried.
    assert sorted(r["hparams"]["learning_rate"] for r in recs.values()) == [0.01, 0.02]
    for rec in recs.values():
        assert rec["status"] == "completed" and rec["cell"]["name"] == "gru"
        assert rec["strategy"] == "keras_tuner:RandomSearchOracle"
        trial = oracle.trials[rec["trial_id"]]
        assert trial.status == "COMPLETED"
        assert math.isclose(trial.score, rec["score"])
    assert oracle.remaining_trials() == 0
    assert (run_dir / "keras_tuner" / "oracle.json").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_trials_that_raise_or_produce_nan_fail_alone(tmp_path, ray_session, write_space,
                                                     space_yaml, read_records):
    # 2 cells x 2 tasks. The exploding cell's loss is NaN at step 1; the ptb
    # task's options are valid for the space (a string path) but its loader
    # raises in the worker, for both cells: the folder does not exist.
    bad_task = ("{name: ptb, budget: {steps: 4, batch_size: 16}, "
                "options: {data_dir: /nonexistent/ptb}}")
    tasks = ("{name: memorization, budget: {steps: 4, batch_size: 16}, "
             "options: {num_examples: 64}}", bad_task)
    space = archsearch.load_search_space(
        write_space(space_yaml(cells=("gru", "exploding.json"), tasks=tasks)))
    run_dir = tmp_path / "run"

    summary = run_search(space, str(run_dir), progress=False)

    assert summary.finished
    assert (summary.trials, summary.failed) == (4, 3)
    recs = read_records(run_dir)
    assert sorted(recs) == ["0", "1", "2", "3"]
    by = {(r["cell"]["name"], r["task"]): r for r in recs.values()}
    assert by["gru", "memorization"]["status"] == "completed"
    assert by["gru", "memorization"]["failure"] is None
    nan = by["exploding", "memorization"]
    assert nan["status"] == "failed" and "nan" in nan["failure"].lower()
    assert nan["score"] is None
    for cell in ("gru", "exploding"):
        raised = by[cell, "ptb"]
        assert raised["status"] == "failed"
        assert "/nonexistent/ptb" in raised["failure"], raised["failure"]
    oracle_state = json.loads((run_dir / "oracle.json").read_text())
    assert oracle_state["ended"] == 4 and not oracle_state["ongoing"]


@pytest.mark.parametrize("text, expected", [
    ("name: broken\ntasks: [\n", "malformed YAML"),
    ("name: x\nmax_trials: 1\nstrategy: {name: fixed, cells: [gru]}\ntasks:\n"
     "  - {name: nope, budget: {steps: 1}}\n", "tasks[0].name"),
])
def test_cli_search_on_a_bad_space_exits_2_with_one_line(tmp_path, capsys, text, expected):
    from archsearch.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(text)
    run_dir = tmp_path / "run"
    code = main(["search", str(path), "--run-dir", str(run_dir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err and expected in err
    assert not run_dir.exists()


def test_cli_search_on_a_foreign_directory_exits_2_with_one_line(tmp_path, capsys, write_space,
                                                                 space_yaml):
    from archsearch.cli import main

    path = write_space(space_yaml())
    target = tmp_path / "photos"
    target.mkdir()
    (target / "cat.jpg").write_bytes(b"\xff\xd8")
    code = main(["search", str(path), "--run-dir", str(target), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    # The space's summary may come first; the error is one line, the last.
    errors = [line for line in err.splitlines() if line.startswith("archsearch: error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert str(target) in errors[0] and "not an archsearch run directory" in errors[0]
    assert [p.name for p in target.iterdir()] == ["cat.jpg"]


def test_a_second_driver_on_a_run_directory_fails_fast_before_training(tmp_path, write_space,
                                                                         space_yaml):
    space = archsearch.load_search_space(write_space(space_yaml()))
    run_dir = tmp_path / "run"
    with Lease(RunStore(run_dir), owner="first-driver"):
        start = time.monotonic()
        with pytest.raises(RunDirError, match=r"another search is running on this run "
                                              r"directory \(owner 'first-driver'"):
            run_search(space, str(run_dir), progress=False)
        assert time.monotonic() - start < 30  # no Ray started, nothing trained
        assert [p.name for p in run_dir.iterdir()] == ["lease.json"]  # nothing else written


def test_cli_second_driver_exits_2_naming_the_holder(tmp_path, capsys, write_space, space_yaml):
    from archsearch.cli import main
    from archsearch.search.run_setup import open_run

    path = write_space(space_yaml())
    run_dir = tmp_path / "run"
    space = archsearch.load_search_space(path)
    store, _ = open_run(space, str(run_dir), "fixed")  # what the first driver wrote at start
    with Lease(store, owner="first-driver"):
        code = main(["search", str(path), "--run-dir", str(run_dir), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    error = err.strip().splitlines()[-1]
    assert error.startswith("archsearch: error:") and "'first-driver'" in error
    assert str(os.getpid()) in error and list((run_dir / "trials").iterdir()) == []


class _Oracle:
    """The slice of an oracle `OracleSearcher.finish` touches."""

    def __init__(self):
        import keras_tuner

        self.trials = {"0": keras_tuner.engine.trial.Trial(None, trial_id="0")}
        self.ended, self.updates = [], []
        self.genomes = {}

    def update_trial(self, trial_id, metrics):
        self.updates.append((trial_id, metrics))

    def end_trial(self, trial):
        self.ended.append((trial.trial_id, trial.status))


def _config(trial_id="0", task="memorization"):
    gru = archsearch.zoo.get("gru")
    return {"trial_id": trial_id, "task": task, "stage": "search", "seed": 0,
            "fingerprint": gru.fingerprint(), "genome": gru.to_dict(), "name": "gru",
            "parent": None, "origin": "fixed", "strategy": "fixed",
            "hparams": {"learning_rate": 0.01}}


def test_the_driver_never_rewrites_a_record_the_worker_wrote(tmp_path):
    store = RunStore(tmp_path)
    config = _config()
    result = {"status": "completed", "score": 0.75, "score_mode": "max",
              "hparams": {"learning_rate": 0.01, "units": 8}}
    worker = trial_record(config, result, "fixed", "2026-01-01T00:00:00+00:00",
                          worker={"node": "n", "pid": 1})
    write_trial(store, worker)
    before = (tmp_path / "trials" / "0.json").read_bytes()
    oracle = _Oracle()
    searcher = OracleSearcher(oracle, store, genomes={}, strategy="fixed")
    searcher.running["tune-0"] = ("0", config)
    searcher.on_trial_complete("tune-0", error=True)  # Tune says error: the record wins
    assert (tmp_path / "trials" / "0.json").read_bytes() == before
    assert oracle.updates == [("0", {"score": 0.75})] and oracle.ended == [("0", "COMPLETED")]


def test_the_driver_records_a_lost_worker_once(tmp_path):
    store = RunStore(tmp_path)
    oracle = _Oracle()
    searcher = OracleSearcher(oracle, store, genomes={}, strategy="fixed")
    searcher.running["tune-0"] = ("0", _config())
    searcher.on_trial_complete("tune-0", error=True)
    rec = json.loads((tmp_path / "trials" / "0.json").read_text())
    assert rec["status"] == "failed" and "died" in rec["failure"]
    assert oracle.ended == [("0", "FAILED")]
    # The same id later holding another trial (a lost oracle state, say): an error.
    with pytest.raises(RunDirError, match="never reused"):
        write_trial(store, failed_record(_config(task="arithmetic"), "fixed", "x"))


def test_the_driver_refuses_a_record_of_another_trial_under_the_same_id(tmp_path):
    store = RunStore(tmp_path)
    write_trial(store, failed_record(_config(task="arithmetic"), "fixed", "earlier trial"))
    before = (tmp_path / "trials" / "0.json").read_bytes()
    oracle = _Oracle()
    searcher = OracleSearcher(oracle, store, genomes={}, strategy="fixed")
    searcher.running["tune-0"] = ("0", _config(task="memorization"))
    with pytest.raises(RunDirError, match="never reused"):
        searcher.on_trial_complete("tune-0")
    assert oracle.ended == [] and (tmp_path / "trials" / "0.json").read_bytes() == before


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_archsearch_search_trains_through_ray_with_no_tensorflow_in_the_driver(
        tmp_path, subprocesses, space_yaml, read_records):
    space = tmp_path / "space.yaml"
    space.write_text(space_yaml(cells=("gru", "lstm")))
    code = (
        "import json, sys\n"
        "from archsearch.cli import main\n"
        f"rc = main(['search', {str(space)!r}, '--run-dir', {str(tmp_path / 'run')!r}, "
        "'--no-progress', '--workers', '1'])\n"
        "print(json.dumps({'rc': rc, 'tf': 'tensorflow' in sys.modules}))\n")
    log = tmp_path / "driver.log"
    proc = subprocesses.start(["-c", code], log)
    assert proc.wait(timeout=300) == 0, log.read_text()[-2000:]
    assert json.loads(log.read_text().strip().splitlines()[-1]) == {"rc": 0, "tf": False}
    records = list(read_records(tmp_path / "run").values())
    # The workers trained (TensorFlow): real scores, not simulated ones.
    assert len(records) == 2
    assert all(r["status"] == "completed" and not r.get("simulated") for r in records)
    assert all(0.0 <= r["score"] <= 1.0 for r in records)
