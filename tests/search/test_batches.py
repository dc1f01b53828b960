"""Batches of oracle trials per Tune trial: same records, same decisions, exact resume."""

import json
from types import SimpleNamespace

import pytest

import archsearch
from archsearch.rundir import RunStore, read_trial
from archsearch.search import batches
from archsearch.search.batches import Batcher, batch_limit, run_batch
from archsearch.search.executor import OracleSearcher, make_oracle
from archsearch.search.run_setup import open_run
from archsearch.search.simulate import drive, execute
from archsearch.space import SearchSpaceError

SPACE = """
name: unit
seed: 0
max_trials: {max_trials}
baseline: gru
seed_cells: [lstm, gru]
strategy: {strategy}
hyperparameters: {{units: {units}, learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: memorization, role: prefilter, budget: {{steps: 5}}}}
  - {{name: arithmetic, budget: {{steps: 5}}}}
  - {{name: xml, budget: {{steps: 5}}}}
resources: {{cpus: 1, population: {population}}}
"""
FIXED = "{name: fixed, cells: [lstm, lstm_b, gru], hyperparameter_samples: 5}"
EVOLUTION = "{name: evolution, top_n: 10, hyperparameter_samples: 3, reevaluate_probability: 0.2}"
VOLATILE = ("started_at", "finished_at", "worker", "timings")


def _space(tmp_path, strategy, max_trials=120, units="[8]", population="none", name="s"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPACE.format(strategy=strategy, max_trials=max_trials, units=units,
                                 population=population))
    return archsearch.load_search_space(path)


def _searcher(space, run_dir, batcher=None, resume=False):
    oracle = make_oracle(space, workers=1)
    storage, resumed = open_run(space, str(run_dir), oracle.strategy)
    oracle.storage = storage
    if resumed:
        oracle.reload()
    searcher = OracleSearcher(oracle, storage, batcher=batcher)
    if resumed:
        searcher.reconcile()
    return searcher


def _records(run_dir) -> dict[str, dict]:
    return {p.stem: {k: v for k, v in json.loads(p.read_text()).items() if k not in VOLATILE}
            for p in sorted((run_dir / "trials").rglob("*.json"))}


def _sizes(searcher) -> list[int]:
    """Wraps `searcher.suggest` to log the size of every batch it hands out."""
    sizes, suggest = [], searcher.suggest

    def logged(tune_id):
        config = suggest(tune_id)
        if isinstance(config, dict):
            sizes.append(len(config.get("batch", [config])))
        return config

    searcher.suggest = logged
    return sizes


@pytest.mark.parametrize("strategy", [FIXED, EVOLUTION], ids=["fixed", "evolution"])
def test_batched_search_makes_the_same_trials_and_decisions(tmp_path, strategy):
    space = _space(tmp_path, strategy)
    alone = _searcher(space, tmp_path / "alone")
    batched = _searcher(space, tmp_path / "batched", Batcher(32, populations=False))
    sizes = _sizes(batched)

    trials = drive(alone)
    assert drive(batched) == trials >= 45
    assert max(sizes) > 1 and sum(sizes) == trials  # really batched
    assert len(sizes) < trials
    assert _records(tmp_path / "alone") == _records(tmp_path / "batched")
    a, b = alone.oracle, batched.oracle
    assert a.end_order == b.end_order  # ended one by one, in the same order
    assert {fp: c.score for fp, c in a.cells.items()} == \
        {fp: c.score for fp, c in b.cells.items()}
    assert getattr(a, "top", None) == getattr(b, "top", None)
    assert a.counts() == b.counts()  # ended and failed trials


def test_an_interrupted_batch_reruns_only_its_unrecorded_members(tmp_path):
    space = _space(tmp_path, FIXED, max_trials=45)
    run_dir = tmp_path / "run"
    first = _searcher(space, run_dir, Batcher(8, populations=False))
    batch = first.suggest("t0")["batch"]
    assert len(batch) == 8
    for config in batch[:3]:  # the worker dies after three members
        execute(config, None, first.storage.uri)
    written = {c["trial_id"]: (run_dir / "trials" / f"{c['trial_id']}.json").read_bytes()
               for c in batch[:3]}
    del first  # the driver dies too

    again = _searcher(space, run_dir, Batcher(8, populations=False))
    assert again.oracle.counts()[0] == 3  # reconcile ended the recorded members
    retried = again.suggest("t1")["batch"]
    ids = {c["trial_id"] for c in retried}
    assert {c["trial_id"] for c in batch[3:]} <= ids and not ids & set(written)
    for config in retried:
        execute(config, None, again.storage.uri)
    again.on_trial_complete("t1")
    drive(again)
    for trial_id, text in written.items():  # never rewritten
        assert (run_dir / "trials" / f"{trial_id}.json").read_bytes() == text

    whole = _searcher(space, tmp_path / "whole", Batcher(8, populations=False))
    drive(whole)
    assert _records(run_dir) == _records(tmp_path / "whole")


def test_a_retried_worker_runs_only_members_without_a_record(tmp_path):
    space = _space(tmp_path, FIXED, max_trials=45)
    searcher = _searcher(space, tmp_path / "run", Batcher(4, populations=False))
    configs = searcher.suggest("t0")["batch"]
    calls = []

    def trainer(genome, hparams, task, budget, seed, data, on_eval):
        calls.append(seed)
        on_eval({"step": 5, "seconds": 0.1, "valid_accuracy": 0.5})
        return {"status": "completed", "score": 0.5, "score_metric": "accuracy",
                "score_mode": "max", "hparams": hparams, "steps": 5, "curve": []}

    uri = searcher.storage.uri
    execute(configs[1], None, uri)  # recorded (simulated) before the worker died
    from archsearch.search.worker import task_plan
    records = run_batch(configs, task_plan(space), uri, 0, trainer=trainer)
    assert [r["trial_id"] for r in records] == [c["trial_id"] for c in configs]
    assert sorted(calls) == sorted(c["seed"] for k, c in enumerate(configs) if k != 1)
    assert records[1]["simulated"] and not records[0]["simulated"]
    assert read_trial(RunStore(uri), configs[0]["trial_id"]).score == 0.5


@pytest.mark.parametrize(("population", "most"), [(3, 3), ("auto", 8)])
def test_population_batches_hold_only_compatible_trials_and_lose_none(tmp_path, population,
                                                                      most):
    space = _space(tmp_path, "{name: fixed, cells: [lstm, gru], hyperparameter_samples: 6}",
                   max_trials=60, units="[8, 16]", population=population)
    from archsearch.search.worker import task_plan
    searcher = _searcher(space, tmp_path / "run",
                         Batcher(batch_limit(space), plan=task_plan(space)))
    seen, sizes, tune_id = [], [], 0
    while True:
        config = searcher.suggest(f"t{tune_id}")
        if config is None or config == "FINISHED":
            break
        members = config["batch"]
        assert 1 <= len(members) <= most
        sizes.append(len(members))
        keys = {(c["fingerprint"], c["task"], c["hparams"]["units"]) for c in members}
        assert len(keys) == 1, members  # one cell, task and shape per population
        for c in members:
            execute(c, None, searcher.storage.uri)
        searcher.on_trial_complete(f"t{tune_id}")
        seen += [c["trial_id"] for c in members]
        tune_id += 1
    # 2 cells x 6 samples x 3 tasks, each handed out once, none lost.
    assert sorted(seen, key=int) == [str(k) for k in range(36)]
    assert config == "FINISHED" and tune_id < 36 and max(sizes) > 1


def test_batch_limits_follow_the_space(tmp_path):
    assert batch_limit(_space(tmp_path, FIXED)) == 1
    assert batch_limit(_space(tmp_path, FIXED), simulate=True) == batches.SIMULATED_BATCH
    assert batch_limit(_space(tmp_path, FIXED, population=8)) == 8
    assert batch_limit(_space(tmp_path, FIXED, population="auto")) == "auto"
    with_scheduler = _space(tmp_path, FIXED, population=8).model_copy(
        update={"scheduler": archsearch.space.schema.Scheduler(name="asha")})
    assert batch_limit(with_scheduler) == batch_limit(with_scheduler, simulate=True) == 1
    with pytest.raises(ValueError, match="limit"):
        Batcher(0)


@pytest.mark.parametrize("bad", ["'some'", "0", "true", "1.5", "1000"])
def test_a_bad_population_is_refused_naming_the_field(tmp_path, bad):
    expected = r"resources\.population.*'none', 'auto' or an integer"
    with pytest.raises(SearchSpaceError, match=expected):
        _space(tmp_path, FIXED, population=bad)


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
@pytest.mark.parametrize("strategy", [FIXED, EVOLUTION], ids=["fixed", "evolution"])
def test_the_executor_batches_simulated_trials_without_changing_the_search(
        tmp_path, ray_session, monkeypatch, strategy):
    from archsearch.search import executor
    from archsearch.search.executor import run_search

    monkeypatch.setattr(executor, "KEEP_TUNE_STATE", True)  # to count the Tune trials
    space = _space(tmp_path, strategy, max_trials=45)
    batched = run_search(space, str(tmp_path / "batched"), progress=False, workers=1,
                         simulate=True)
    tune_trials = len(list((tmp_path / "batched" / "ray").glob("tune-*/batch_trainable_*")))
    monkeypatch.setattr(batches, "SIMULATED_BATCH", 1)  # one trial per Tune trial, as before
    alone = run_search(space, str(tmp_path / "alone"), progress=False, workers=1,
                       simulate=True)
    assert not list((tmp_path / "alone" / "ray").glob("tune-*/batch_trainable_*"))
    assert 1 <= tune_trials < 45
    assert (batched.trials, batched.failed, batched.finished) == \
        (alone.trials, alone.failed, alone.finished)
    assert batched.best == alone.best
    assert _records(tmp_path / "batched") == _records(tmp_path / "alone")
    for run in ("batched", "alone"):
        state = json.loads((tmp_path / run / "oracle.json").read_text())
        assert not state["ongoing"] and not state["pending"]


def test_docstring_examples(monkeypatch):
    import doctest
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # examples name search_spaces/
    result = doctest.testmod(batches, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 3


def _trained(population_size=None, simulated=False, total=True):
    timings = {"total": 1.0} if total else {}
    if population_size:
        timings["population_size"] = population_size
    return SimpleNamespace(timings=timings, simulated=simulated)


def test_a_task_its_worker_trained_one_by_one_is_then_handed_out_alone(tmp_path):
    # The driver cannot see a task's table; the worker can, and trains a
    # batch one by one where no population pays. From then on that task's
    # trials go out one per Tune trial, so every worker gets some.
    from archsearch.search.worker import task_plan

    space = _space(tmp_path, FIXED, population="auto")
    batcher = Batcher("auto", plan=task_plan(space))
    searcher = _searcher(space, tmp_path / "run", batcher)
    first = searcher.suggest("t0")["batch"]
    assert len(first) > 1
    for ignored in ([_trained(population_size=len(first)) for _ in first],  # a population
                    [_trained(simulated=True) for _ in first],  # nothing trained
                    [_trained(total=False) for _ in first]):    # recorded by the driver
        batcher.observe(first, ignored)
        assert not batcher.alone
    batcher.observe(first, [_trained() for _ in first])
    assert batcher.alone == {(first[0]["task"], 8)}
    sizes = {}
    for k in range(1, 12):
        config = searcher.suggest(f"t{k}")
        if not isinstance(config, dict):
            break
        for member in config["batch"]:
            sizes.setdefault(member["task"], []).append(len(config["batch"]))
    assert set(sizes[first[0]["task"]]) == {1}
    assert len(sizes[first[0]["task"]]) == 10
    # Other tasks, and the same task at another size, are batched as before.
    other = [t.name for t in space.tasks if t.name != first[0]["task"]][0]
    assert batcher._size({"task": other, "hparams": {"units": 8}}) == 8
    assert batcher._size({"task": first[0]["task"], "hparams": {"units": 16}}) == 8
