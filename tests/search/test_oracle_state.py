"""The oracle's saved state: small, and rebuilt from the trial records when it is lost.

Searches here run without Ray: `simulate.drive` takes the executor's own path
(`OracleSearcher.suggest`, the simulated worker writing the record,
`on_trial_complete`) one trial at a time.
"""

import json
import os

import pytest

import archsearch
from archsearch.rundir import RunStore
from archsearch.search.executor import OracleSearcher
from archsearch.search.oracles import ORACLES
from archsearch.search.oracles.state import read_records
from archsearch.search.simulate import drive

SPACE = """
name: state
seed: 0
max_trials: {max_trials}
baseline: gru
seed_cells: [lstm, gru]
strategy: {strategy}
hyperparameters: {{units: [8], learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: memorization, role: prefilter, budget: {{steps: 5}}, min_score: 0.8}}
  - {{name: arithmetic, budget: {{steps: 5}}{seeds}}}
  - {{name: xml, budget: {{steps: 5}}}}
"""
EVOLUTION = "{name: evolution, top_n: 4, hyperparameter_samples: 2, reevaluate_probability: 0.2}"
FIXED = "{name: fixed, cells: [lstm, lstm_b, gru], hyperparameter_samples: 2}"


def _space(tmp_path, strategy=EVOLUTION, max_trials=60, seeds=""):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE.format(strategy=strategy, max_trials=max_trials, seeds=seeds))
    return archsearch.load_search_space(path)


def _searcher(space, run_dir, max_trials=None):
    store = RunStore(run_dir)
    store.makedirs("trials")
    oracle = ORACLES[space.strategy.name](space, max_trials=max_trials)
    oracle.storage = store
    return OracleSearcher(oracle, store)


def _resume(space, run_dir, max_trials=None):
    searcher = _searcher(space, run_dir, max_trials)
    assert searcher.oracle.reload()
    searcher.reconcile()
    return searcher


def _trials(run_dir):
    """Trial id -> what identifies the trial: (cell, task, seed, hyperparameters)."""
    return {r.trial_id: (r.fingerprint, r.task, r.seed, json.dumps(r.hparams, sort_keys=True))
            for r in read_records(RunStore(run_dir))}


def _files(run_dir):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted((run_dir / "trials").glob("*.json"))}


def test_resuming_from_the_snapshot_runs_what_an_uninterrupted_search_runs(tmp_path):
    space = _space(tmp_path)
    first = tmp_path / "first"
    assert drive(_searcher(space, first), limit=25) == 25
    assert drive(_resume(space, first)) == 35
    reference = tmp_path / "reference"
    assert drive(_searcher(space, reference)) == 60
    assert _trials(first) == _trials(reference)


@pytest.mark.parametrize("damage", ["deleted", "empty", "{}", "[1,2]", "{not json",
                                    '{"format": "archsearch.oracle", "version": 2}'])
def test_a_lost_oracle_state_is_rebuilt_and_no_finished_trial_reruns(tmp_path, damage):
    space = _space(tmp_path)
    run_dir = tmp_path / "run"
    assert drive(_searcher(space, run_dir, max_trials=30)) == 30
    before = _files(run_dir)
    state = run_dir / "oracle.json"
    if damage == "deleted":
        state.unlink()
    else:
        state.write_text("" if damage == "empty" else damage)

    with pytest.warns(RuntimeWarning, match="rebuilding the oracle's state from 30 trial"):
        searcher = _resume(space, run_dir, max_trials=60)
    assert drive(searcher) == 30

    after = _files(run_dir)
    assert {k: after[k] for k in before} == before  # not one finished record rewritten
    trials = _trials(run_dir)
    assert sorted(trials, key=int) == [str(k) for k in range(60)]  # ids continue, none reused
    assert len(set(trials.values())) == 60  # no trial ran twice
    assert json.loads(state.read_text())["next_trial"] == 60


def test_state_rebuilt_from_the_records_equals_the_saved_state(tmp_path):
    space = _space(tmp_path, FIXED, max_trials=100)
    run_dir = tmp_path / "run"
    assert drive(_searcher(space, run_dir)) == 18  # 3 cells x 2 samples x 3 tasks
    saved = json.loads((run_dir / "oracle.json").read_text())
    reloaded = _resume(space, run_dir)
    (run_dir / "oracle.json").unlink()
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        rebuilt = _resume(space, run_dir)
    # Everything but the RNG's step counter (which the records cannot tell).
    assert {**rebuilt.oracle.get_state(), "steps": 0} == {**saved, "steps": 0}
    assert rebuilt.oracle.get_state() == json.loads((run_dir / "oracle.json").read_text())
    for fp, cell in reloaded.oracle.cells.items():
        other = rebuilt.oracle.cells[fp]
        assert (other.status, other.bests, other.score) == \
            (cell.status, cell.bests, cell.score)
        assert {t: sorted(map(str, v)) for t, v in other.results.items()} == \
            {t: sorted(map(str, v)) for t, v in cell.results.items()}


def test_evolution_rebuilt_from_records_scores_cells_as_the_snapshot_does(tmp_path):
    space = _space(tmp_path, "{name: evolution, top_n: 4, hyperparameter_samples: 1, "
                             "reevaluate_probability: 0.0}", max_trials=120)
    run_dir = tmp_path / "run"
    drive(_searcher(space, run_dir))
    from_snapshot = _resume(space, run_dir).oracle
    (run_dir / "oracle.json").unlink()
    with pytest.warns(RuntimeWarning):
        rebuilt = _resume(space, run_dir).oracle
    done = {fp for fp, c in from_snapshot.cells.items() if c.status == "done"}
    assert len(done) > 10
    cut = {fp for fp in done if from_snapshot.cells[fp].cut}
    assert cut and cut == {fp for fp in done if rebuilt.cells[fp].cut}
    assert {fp: from_snapshot.cells[fp].score for fp in done} == \
        {fp: rebuilt.cells[fp].score for fp in done}
    assert rebuilt.counts() == from_snapshot.counts() == (120, rebuilt.counts()[1])


def test_the_saved_state_does_not_grow_with_the_trials(tmp_path):
    space = _space(tmp_path, max_trials=400)
    run_dir = tmp_path / "run"
    sizes = []
    drive(_searcher(space, run_dir),
          on_trial=lambda n: sizes.append(os.path.getsize(run_dir / "oracle.json")))
    assert len(sizes) == 400
    state = json.loads((run_dir / "oracle.json").read_text())
    assert "trials" not in state and len(state["pending"]) == 0
    # The top-N and the cells in flight bound it, not the trial count.
    assert max(sizes[300:]) <= 1.5 * max(sizes[50:150])
    assert max(sizes) < 30_000


def test_each_sample_trains_with_the_tasks_seeds(tmp_path):
    space = _space(tmp_path, FIXED, max_trials=100, seeds=", seeds: 3")
    run_dir = tmp_path / "run"
    # 3 cells x 2 samples x (memorization 1 + arithmetic 3 seeds + xml 1)
    assert drive(_searcher(space, run_dir)) == 30
    trials = list(_trials(run_dir).values())
    assert len(set(trials)) == 30
    for fp in {t[0] for t in trials}:
        arithmetic = [t for t in trials if t[0] == fp and t[1] == "arithmetic"]
        assert len(arithmetic) == 6 and len({t[2] for t in arithmetic}) == 6
        by_hparams = {}
        for _, _, seed, hp in arithmetic:
            by_hparams.setdefault(hp, []).append(seed)
        # Each sample's three seeds train the same hyperparameters (2 samples may coincide).
        assert sorted(len(s) for s in by_hparams.values()) in ([3, 3], [6])
        for task in ("memorization", "xml"):
            assert len([t for t in trials if t[0] == fp and t[1] == task]) == 2


def test_an_unreadable_record_keeps_its_trial_id(tmp_path):
    space = _space(tmp_path)
    run_dir = tmp_path / "run"
    assert drive(_searcher(space, run_dir, max_trials=30)) == 30
    broken = run_dir / "trials" / "29.json"
    broken.write_text("{not json")
    (run_dir / "oracle.json").unlink()
    with pytest.warns(RuntimeWarning, match="from 29 trial records"):
        searcher = _resume(space, run_dir, max_trials=40)
    assert drive(searcher) == 10
    assert broken.read_text() == "{not json"  # left as it was, id not reused
    assert sorted(_trials(run_dir), key=int) == [str(k) for k in range(29)] + \
        [str(k) for k in range(30, 40)]
