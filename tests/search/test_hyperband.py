"""The `hyperband` strategy: KerasTuner's brackets, epochs as steps, end to end on Ray.

Bracket sizes and epochs below are KerasTuner's for `max_epochs=9, factor=3`
(three brackets: 9 -> 3 -> 1 trials at 1, 3, 9 epochs; 5 -> 2 at 3, 9;
3 at 9): 23 trials in all. The fake score is the learning rate, so which
trials a round promotes is known.
"""

import doctest
import importlib
import json
import sys
from collections import Counter

import pytest

from archsearch.compat.keras_tuner import set_project_dir
from archsearch.search.oracles.hyperband import HyperbandCellOracle, trial_budget
from archsearch.space import SearchSpaceError, parse_search_space

LEARNING_RATES = [round(0.05 * k, 2) for k in range(1, 41)]
SPACE = """
seed: 3
max_trials: {max_trials}
strategy: {{name: hyperband, cell: lstm, max_epochs: {max_epochs}, factor: 3}}
hyperparameters: {{units: [8], num_layers: [1], learning_rate: {lrs}, init_scale: [1.0],
                  clip_norm: [5.0], optimizer: [adam]}}
tasks: [{{name: memorization, budget: {{steps: 90, batch_size: 16}},
         options: {{num_examples: 64}}}}]
"""


def _space(max_epochs=9, max_trials=1000):
    return parse_search_space(SPACE.format(max_epochs=max_epochs, max_trials=max_trials,
                                           lrs=LEARNING_RATES))


def _drive(oracle, limit=1000):
    """Runs up to `limit` trials in a row, score = learning rate; returns (id, values) in order."""
    order = []
    while len(order) < limit:
        trial = oracle.create_trial(f"w{len(order)}")
        if trial.status != "RUNNING":
            assert trial.status == "STOPPED", "a sequential driver never waits"
            break
        order.append((trial.trial_id, dict(trial.hyperparameters.values)))
        oracle.update_trial(trial.trial_id, {"score": order[-1][1]["learning_rate"]})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return order


def test_brackets_have_keras_tuners_sizes_and_epochs_and_promote_the_best(tmp_path):
    oracle = HyperbandCellOracle(_space())
    set_project_dir(oracle, tmp_path, "kt")
    order = _drive(oracle)

    rounds = Counter((v["tuner/bracket"], v["tuner/round"]) for _, v in order)
    assert rounds == {(2, 0): 9, (2, 1): 3, (2, 2): 1, (1, 0): 5, (1, 1): 2, (0, 0): 3}
    epochs = {(v["tuner/bracket"], v["tuner/round"]): v["tuner/epochs"] for _, v in order}
    assert epochs == {(2, 0): 1, (2, 1): 3, (2, 2): 9, (1, 0): 3, (1, 1): 9, (0, 0): 9}
    assert len(order) == oracle.planned == 23 and oracle.remaining_trials() == 0
    lstm = _space().strategy.cell.genome.fingerprint()
    for _, values in order:
        assert (values["cell"], values["task"], values["stage"], values["seed"]) == \
            (lstm, "memorization", "search", 3)
        assert values["tuner/max_epochs"] == 9
    by_id = dict(order)
    first = [v["learning_rate"] for _, v in order if v["tuner/bracket"] == 2
             and v["tuner/round"] == 0]
    promoted = [v for _, v in order if v["tuner/bracket"] == 2 and v["tuner/round"] == 1]
    assert sorted(v["learning_rate"] for v in promoted) == sorted(first)[-3:]
    for values in promoted:  # same hyperparameters as the trial it continues
        parent = by_id[values["tuner/trial_id"]]
        assert parent["learning_rate"] == values["learning_rate"]
        assert parent["tuner/round"] == 0 and values["tuner/initial_epoch"] == 1
    # New configurations never repeat one tried before.
    fresh = [frozenset((k, v) for k, v in values.items() if not k.startswith("tuner/"))
             for _, values in order if values["tuner/round"] == 0]
    assert len(set(fresh)) == len(fresh) == 17


def test_max_trials_caps_the_plan_and_trial_ids_stay_stable(tmp_path):
    oracle = HyperbandCellOracle(_space(max_trials=5))
    set_project_dir(oracle, tmp_path, "kt")
    assert [i for i, _ in _drive(oracle)] == ["00", "01", "02", "03", "04"]
    assert oracle.remaining_trials() == 0 and not oracle.exhausted


def test_reload_keeps_running_trials_ongoing_for_the_executor_to_reconcile(tmp_path):
    first = HyperbandCellOracle(_space())
    set_project_dir(first, tmp_path, "kt")
    running = [first.create_trial(f"w{k}").trial_id for k in range(2)]
    again = HyperbandCellOracle(_space())
    set_project_dir(again, tmp_path, "kt")
    again.reload()
    assert sorted(t.trial_id for t in again.ongoing_trials.values()) == sorted(running)
    assert again._retry_queue == []
    assert again.create_trial("w9").trial_id == "02"  # the bracket goes on


def test_an_ended_trial_is_not_ongoing_after_a_reload_nor_ended_twice(tmp_path):
    first = HyperbandCellOracle(_space())
    set_project_dir(first, tmp_path, "kt")
    trial = first.create_trial("w0")
    first.update_trial(trial.trial_id, {"score": 0.5})
    trial.status = "COMPLETED"
    first.end_trial(trial)  # KerasTuner alone saves it as still running
    again = HyperbandCellOracle(_space())
    set_project_dir(again, tmp_path, "kt")
    again.reload()
    assert again.ongoing_trials == {} and again.end_order == ["00"]
    trial = again.trials["00"]
    again.end_trial(trial)  # a duplicate end changes nothing
    assert again.end_order == ["00"]


def test_epochs_are_a_fraction_of_the_task_budget():
    budget = {"steps": 100, "seconds": 60.0, "eval_every": 25}
    scaled, hparams = trial_budget(budget, {"learning_rate": 0.5, "tuner/epochs": 1,
                                            "tuner/max_epochs": 3, "tuner/trial_id": "04"})
    assert scaled == {"steps": 34, "seconds": 20.0, "eval_every": 8}
    assert hparams == {"learning_rate": 0.5}
    assert trial_budget(budget, {"learning_rate": 0.5}) == (budget, {"learning_rate": 0.5})
    with pytest.raises(ValueError, match="tuner/max_epochs.*Received: tuner/max_epochs=None"):
        trial_budget(budget, {"tuner/epochs": 2})


def test_bad_parameters_name_the_field():
    for old, bad, field in (("factor: 3", "factor: 1", "factor"),
                            ("{max_epochs}", "0", "max_epochs"),
                            ("cell: lstm", "cell: nosuchcell", "cell"),
                            ("factor: 3", "top_n: 3", "top_n")):
        text = SPACE.replace(old, bad).format(max_epochs=9, max_trials=9, lrs="[0.1]")
        with pytest.raises(SearchSpaceError, match=f"strategy.*{field}"):
            parse_search_space(text)
    space = parse_search_space(SPACE.replace("budget:", "role: report, budget:").format(
        max_epochs=9, max_trials=9, lrs="[0.1]"))
    with pytest.raises(ValueError, match="expected a task with role 'search'"):
        HyperbandCellOracle(space)


def test_the_cli_tells_a_finished_hyperband_run_from_an_unfinished_one(tmp_path):
    from archsearch.cli import _already_finished
    from archsearch.rundir import RunStore

    store, space = RunStore(str(tmp_path)), _space(max_epochs=3)
    assert _already_finished(space, store, 1) is None  # nothing saved yet
    oracle = HyperbandCellOracle(space)
    set_project_dir(oracle, store.path(), "keras_tuner")
    _drive(oracle, limit=5)  # 5 of the 6 trials
    assert _already_finished(space, store, 1) is None
    trial = oracle.create_trial("last")
    oracle.update_trial(trial.trial_id, {"score": 0.1})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    assert _already_finished(space, store, 1) == 6


@pytest.mark.parametrize("name", ["archsearch.search.oracles.hyperband",
                                  "archsearch.space.hyperband"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


class CountingTrainer:
    """A fake trainer that logs each call (steps, hyperparameters); accuracy = lr x steps."""

    def __init__(self, log):
        self.log = str(log)

    def __call__(self, genome, hparams, task, budget=None, seed=0, data=None, on_eval=None):
        with open(self.log, "a") as handle:
            handle.write(json.dumps({"steps": budget["steps"], "hparams": hparams}) + "\n")
        steps, curve = budget["steps"], []
        for k in range(1, 5):
            step = steps * k // 4
            value = min(1.0, hparams["learning_rate"] * step / 180)
            point = {"step": step, "seconds": 0.01 * k, "valid_accuracy": value}
            curve.append(point)
            if on_eval is not None:
                on_eval(dict(point))
        best = curve[-1]["valid_accuracy"]
        return {"status": "completed", "failure": None, "task": task, "score": best,
                "score_metric": "accuracy", "score_mode": "max",
                "metrics": {"valid": {"accuracy": best}}, "curve": curve, "params": 100,
                "units": 8, "steps": steps, "hparams": dict(hparams), "seed": seed,
                "timings": {"train": 0.04, "total": 0.04}}


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_hyperband_search_trains_each_round_its_steps_and_resumes_without_rerunning(
        tmp_path, ray_session, read_records):
    from ray import cloudpickle

    from archsearch.search.executor import run_search

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # max_epochs 3: bracket 1 = 3 trials of 1 epoch (30 steps), the best at 3 (90);
    # bracket 0 = 2 trials of 3 epochs.
    space, log = _space(max_epochs=3), tmp_path / "calls.jsonl"
    run_dir = tmp_path / "run"
    first = run_search(space, str(run_dir), progress=False, workers=1, max_trials=4,
                       trainer=CountingTrainer(log))
    assert (first.trials, first.failed, first.strategy) == (4, 0, "hyperband")
    before = {p.name: p.read_bytes() for p in (run_dir / "trials").glob("*.json")}

    again = run_search(space, str(run_dir), progress=False, workers=1,
                       trainer=CountingTrainer(log))
    assert again.resumed and again.finished and (again.trials, again.failed) == (6, 0)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["steps"] for c in calls] == [30, 30, 30, 90, 90, 90]  # none trained twice
    assert all(not any(k.startswith("tuner/") for k in c["hparams"]) for c in calls)
    recs = read_records(run_dir)
    assert sorted(recs) == ["0", "1", "2", "3", "4", "5"]
    assert {p.name: p.read_bytes() for p in (run_dir / "trials").glob("*.json")
            if p.name in before} == before
    assert [recs[i]["steps"] for i in sorted(recs)] == [30, 30, 30, 90, 90, 90]
    for rec in recs.values():
        assert (rec["status"], rec["strategy"], rec["cell"]["name"]) == \
            ("completed", "hyperband", "lstm")
        assert [p["step"] for p in rec["curve"]] == [rec["steps"] * k // 4 for k in (1, 2, 3, 4)]
    first_round = sorted(recs[i]["hparams"]["learning_rate"] for i in ("0", "1", "2"))
    assert recs["3"]["hparams"]["learning_rate"] == first_round[-1]  # the best goes on

    from archsearch.report import build_report

    report = build_report([str(run_dir)], tmp_path / "report", figures=False)
    assert [c.label for c in report.cells] == ["lstm"]
