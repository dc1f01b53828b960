"""Early stopping: ASHA, median stopping and the paper's cut on known learning curves.

The unit tests drive `EarlyStopping` the way Ray Tune does (trials added,
one result per evaluation, round robin) with curves whose answer is known:
the hopeless cells stop at their first rung, the good ones and the baseline
run to the end. The end-to-end test runs a search on Ray with a fake trainer
(`CurveTrainer`, no TensorFlow) and checks the stopped records and resume.
"""

import json
from types import SimpleNamespace

import pytest

import archsearch
from archsearch.search.schedulers import (
    STOP,
    CurveCut,
    EarlyStopping,
    make_scheduler,
    stopped_result,
)
from archsearch.space.schema import Scheduler

#: Validation accuracy at 25, 50, 75 and 100% of the budget.
CURVES = {
    "gru": [0.30, 0.50, 0.70, 0.90],     # the baseline
    "good1": [0.35, 0.55, 0.75, 0.92],
    "good2": [0.40, 0.60, 0.72, 0.88],
    "bad1": [0.05, 0.05, 0.06, 0.05],
    "bad2": [0.10, 0.10, 0.12, 0.10],
}
HOPELESS = {"bad1", "bad2"}
STEPS = 100


def _fp(name):
    return name.encode().hex().ljust(32, "0")[:32]


class _Trial:
    """What a scheduler reads of a Tune trial (hashable, as Tune's are)."""

    def __init__(self, name, task):
        self.trial_id, self.status = f"t-{name}", "RUNNING"
        self.config = {"fingerprint": _fp(name), "task": task, "name": name}


def _trial(name, task="xml"):
    return _Trial(name, task)


def _drive(scheduler, curves, task="xml"):
    """Round robin over evaluations, as concurrent trials would report; name -> evaluations run."""
    trials = {name: _trial(name, task) for name in curves}
    for trial in trials.values():
        scheduler.on_trial_add(None, trial)
    ran, best, ended = dict.fromkeys(curves, 0), {}, set()
    n = len(next(iter(curves.values())))
    for k in range(1, n + 1):
        for name, trial in trials.items():
            if name in ended:
                continue
            value = curves[name][k - 1]
            best[name] = max(best.get(name, value), value)
            point = {"step": STEPS * k // n, "seconds": float(k), "valid_accuracy": value}
            result = {"progress": k / n, "score": best[name], "step": point["step"],
                      "score_metric": "accuracy", "score_mode": "max",
                      **{f"point/{key}": v for key, v in point.items()},  # as Tune flattens
                      "hostname": "h", "node_ip": "127.0.0.1", "pid": 7, "time_total_s": k}
            ran[name] = k
            if scheduler.on_trial_result(None, trial, result) == STOP or k == n:
                scheduler.on_trial_complete(None, trial, result)
                ended.add(name)
    return ran


SPECS = {
    "asha": {"name": "asha", "grace_period": 0.25, "reduction_factor": 2.0},
    "median": {"name": "median", "grace_period": 0.25, "min_samples_required": 2},
    "curve_cut": {"name": "curve_cut", "grace_period": 0.25, "min_ratio": 0.9},
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hopeless_trials_stop_at_their_first_rung_and_good_ones_run_to_the_end(name):
    stops = []
    scheduler = make_scheduler(Scheduler.model_validate(SPECS[name]), _fp("gru"),
                               on_stop=lambda *args: stops.append(args))
    ran = _drive(scheduler, CURVES)
    assert ran == {"gru": 4, "good1": 4, "good2": 4, "bad1": 1, "bad2": 1}, ran
    assert sorted(tid for tid, _, _ in stops) == ["t-bad1", "t-bad2"]
    for tid, points, reason in stops:
        assert reason.startswith(f"stopped early by {name}: ") and len(points) == 1
        assert scheduler.stopped[tid] == reason
    assert not scheduler.points  # forgotten when the trials ended


def test_a_stopped_trial_records_its_best_evaluation_so_far_as_a_partial_score():
    stops = []
    scheduler = make_scheduler(Scheduler(name="curve_cut", grace_period=0.5), _fp("gru"),
                               on_stop=lambda *args: stops.append(args))
    # Hopeless from the second evaluation on: stopped there, with its first as its best.
    _drive(scheduler, {"gru": [0.3, 0.5, 0.7, 0.9], "fading": [0.4, 0.2, 0.2, 0.2]})
    (tid, points, reason), = stops
    result = stopped_result(points, reason)
    assert result["status"] == "stopped" and result["failure"] == reason
    assert result["score"] == 0.4 and result["metrics"] == {"valid": {"accuracy": 0.4}}
    assert [p["step"] for p in result["curve"]] == [25, 50] and result["steps"] == 50
    assert "best 0.4 at step 50 is 0.800 x the baseline's 0.5" in reason, reason


def test_the_baseline_is_never_stopped_even_when_it_is_the_worst():
    scheduler = make_scheduler(Scheduler(name="asha"), _fp("gru"))
    curves = {"good1": CURVES["good1"], "good2": CURVES["good2"], "gru": [0.01] * 4}
    assert _drive(scheduler, curves) == {"good1": 4, "good2": 4, "gru": 4}


def test_tasks_are_judged_separately():
    # bad1's curve would be hopeless next to the others, but it is alone on its task.
    scheduler = make_scheduler(Scheduler(name="median", min_samples_required=1), _fp("gru"))
    assert _drive(scheduler, {"bad1": CURVES["bad1"]}, task="arithmetic") == {"bad1": 4}
    assert _drive(scheduler, {k: CURVES[k] for k in ("gru", "good1", "bad2")}) == \
        {"gru": 4, "good1": 4, "bad2": 1}


def test_curve_cut_uses_recorded_baseline_curves_and_the_best_baseline_so_far():
    recorded = {"xml": [[(25, 0.2), (50, 0.4), (75, 0.6), (100, 0.8)],
                        [(25, 0.3), (50, 0.3), (75, 0.3), (100, 0.3)]]}
    cut = CurveCut(_fp("gru"), min_ratio=0.9, grace_period=0.25, curves=recorded)
    assert cut.reference("xml", 25) == 0.3 and cut.reference("xml", 60) == 0.4
    assert cut.reference("xml", 10) == 0.3  # before a curve starts: its first value
    assert cut.reference("arithmetic", 50) is None
    scheduler = EarlyStopping(lambda: cut, "curve_cut", _fp("gru"))
    ran = _drive(scheduler, {"slow": [0.28, 0.30, 0.62, 0.9], "good1": CURVES["good1"]})
    assert ran == {"slow": 2, "good1": 4}  # 0.30 < 0.9 x 0.4 at step 50


def test_curve_cut_inverts_the_ratio_for_metrics_where_lower_is_better():
    cut = CurveCut(_fp("gru"), min_ratio=0.9, grace_period=0.25,
                   curves={"ptb": [[(50, -100.0)]]})  # perplexity 100: objective -100
    result = {"progress": 0.5, "step": 50, "score_mode": "min"}
    assert cut.on_trial_result(None, _trial("a", "ptb"), {**result, "score": -105.0}) == \
        "CONTINUE"  # 100 / 105 = 0.95
    assert cut.on_trial_result(None, _trial("b", "ptb"), {**result, "score": -120.0}) == STOP


def test_waiting_baseline_trials_run_first():
    from ray.tune.experiment import Trial

    pending = [SimpleNamespace(status=Trial.PENDING, config={"fingerprint": _fp(n)})
               for n in ("good1", "gru", "bad1")]
    controller = SimpleNamespace(get_trials=lambda: pending)
    scheduler = make_scheduler(Scheduler(name="median"), _fp("gru"))
    assert scheduler.choose_trial_to_run(controller) is pending[1]
    pending[1].status = Trial.RUNNING
    assert scheduler.choose_trial_to_run(controller) is pending[0]


def test_none_makes_no_scheduler():
    assert make_scheduler(Scheduler(), _fp("gru")) is None


SEARCH_CURVES = {"gru": [0.3, 0.5, 0.7, 0.9], "lstm": [0.35, 0.55, 0.75, 0.92],
                 "tanh_rnn": [0.05, 0.05, 0.06, 0.05]}


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_search_with_curve_cut_records_stopped_trials_and_resumes_without_rerunning(
        tmp_path, ray_session, write_space, space_yaml, read_records, curve_trainer):
    from archsearch.search.executor import run_search

    text = space_yaml(cells=("gru", "lstm", "tanh_rnn"),
                      tasks=("{name: memorization, budget: {steps: 100}}",))
    space = archsearch.load_search_space(write_space(text + "scheduler: curve_cut\n"))
    run_dir = tmp_path / "run"
    trainer = curve_trainer(SEARCH_CURVES, pause=0.05)

    summary = run_search(space, str(run_dir), progress=False, workers=1, trainer=trainer)

    assert summary.finished and (summary.trials, summary.failed) == (3, 0)
    recs = {r["cell"]["name"]: r for r in read_records(run_dir).values()}
    assert {k: r["status"] for k, r in recs.items()} == \
        {"gru": "completed", "lstm": "completed", "tanh_rnn": "stopped"}
    stopped = recs["tanh_rnn"]
    assert stopped["failure"].startswith("stopped early by curve_cut: best 0.05 at step 25")
    assert stopped["score"] == 0.05 and [p["step"] for p in stopped["curve"]] == [25]
    assert stopped["worker"]["pid"] and stopped["trial_id"] == "2"
    for name in ("gru", "lstm"):
        assert [p["valid_accuracy"] for p in recs[name]["curve"]] == SEARCH_CURVES[name]
        timings = recs[name]["timings"]
        assert timings["report"] >= 0  # curve file and Tune reports, per trial
    assert not list((run_dir / "curves").glob("*.json"))  # records hold the curves now
    state = json.loads((run_dir / "oracle.json").read_text())
    assert state["ended"] == 3 and not state["ongoing"] and not state["pending"]

    # The report counts the stopped trial and keeps its partial score out of every best,
    # and shows a trial still training (its live curve, as a worker writes it).
    from archsearch.report import build_report
    from archsearch.rundir import RunStore
    from archsearch.search.worker import LiveCurve

    config = {"trial_id": "9", "task": "memorization", "name": "lstm_b",
              "fingerprint": archsearch.zoo.get("lstm_b").fingerprint()}
    live = LiveCurve(RunStore(str(run_dir)), config, {"steps": 100}, "accuracy", "max")
    for step, value in ((25, 0.4), (50, 0.3)):
        live({"step": step, "seconds": 0.1, "valid_accuracy": value})
    report = build_report([str(run_dir)], tmp_path / "report", figures=False)
    (running,) = report.running
    assert (running.trial_id, running.cell_name, running.best) == ("9", "lstm_b", 0.4)
    assert [p["step"] for p in running.curve] == [25, 50]
    cells = {c.label: c for c in report.cells}
    assert (cells["tanh_rnn"].stopped, cells["tanh_rnn"].failed) == (1, 0)
    assert cells["tanh_rnn"].score is None and cells["lstm"].stopped == 0
    assert cells["lstm"].score == pytest.approx(0.92 / 0.9)
    text = (tmp_path / "report" / "report.md").read_text()
    assert "1 stopped early by the scheduler" in text and "0 (+1 stopped)" in text
    assert "## Running trials" in text and "lstm_b on memorization: 2 evaluations" in text
    assert "curve 0.4, 0.3" in text
    live.remove()

    before = {p.name: p.read_bytes() for p in (run_dir / "trials").glob("*.json")}
    again = run_search(space, str(run_dir), progress=False, workers=1, trainer=trainer)
    assert again.resumed and again.finished and again.failed == 0
    assert {p.name: p.read_bytes() for p in (run_dir / "trials").glob("*.json")} == before


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_asha_in_a_real_tune_run_stops_the_hopeless_cell_at_its_first_rung(
        tmp_path, ray_session, write_space, space_yaml, read_records, curve_trainer):
    from archsearch.search.executor import run_search

    curves = {**SEARCH_CURVES, "lstm_b": [0.3, 0.6, 0.8, 0.95]}
    text = space_yaml(cells=("gru", "lstm", "tanh_rnn", "lstm_b"),
                      tasks=("{name: memorization, budget: {steps: 100}}",))
    space = archsearch.load_search_space(write_space(text + "scheduler: asha\n"))
    # One at a time, so the rung's cutoff is known: the median of those before.
    summary = run_search(space, str(tmp_path / "run"), progress=False, workers=1,
                         trainer=curve_trainer(curves, pause=0.05))
    assert summary.finished and (summary.trials, summary.failed) == (4, 0)
    recs = {r["cell"]["name"]: r for r in read_records(tmp_path / "run").values()}
    assert {k: (r["status"], len(r["curve"])) for k, r in recs.items()} == {
        "gru": ("completed", 4), "lstm": ("completed", 4), "tanh_rnn": ("stopped", 1),
        "lstm_b": ("completed", 4)}
    assert recs["tanh_rnn"]["failure"].startswith("stopped early by asha: best accuracy 0.05 "
                                                  "at step 25 (25% of the budget)")


DRIVER = '''\
import json, sys
from ray import cloudpickle
sys.path.insert(0, {tests!r})
import conftest
import archsearch
from archsearch.search.executor import run_search

cloudpickle.register_pickle_by_value(conftest)
space = archsearch.load_search_space({space!r})
trainer = conftest.CurveTrainer({curves!r}, pause=0.4)
summary = run_search(space, {run_dir!r}, progress=False, workers=2, trainer=trainer)
print("SUMMARY", json.dumps({{"trials": summary.trials, "failed": summary.failed,
                             "finished": summary.finished, "resumed": summary.resumed}}))
'''


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_a_driver_killed_mid_search_with_a_scheduler_loses_and_reruns_no_trial(
        tmp_path, subprocesses, space_yaml, read_records):
    import signal
    import time
    from pathlib import Path

    curves = {**SEARCH_CURVES, "lstm_b": [0.3, 0.6, 0.8, 0.95]}
    text = space_yaml(cells=("gru", "lstm", "tanh_rnn", "lstm_b"), samples=2,
                      learning_rate="[0.01, 0.02]",
                      tasks=("{name: memorization, budget: {steps: 100}}",), name="kill")
    space = tmp_path / "space.yaml"
    space.write_text(text + "scheduler: curve_cut\n")
    run_dir, total = tmp_path / "run", 8
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(tests=str(Path(__file__).parent), space=str(space),
                                    curves=curves, run_dir=str(run_dir)))
    trials = run_dir / "trials"

    first = subprocesses.start([script], tmp_path / "first.log")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and first.poll() is None:
        if trials.exists() and len(list(trials.glob("*.json"))) >= 3:
            break
        time.sleep(0.05)
    assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
    before = {p.name: p.read_bytes() for p in trials.glob("*.json")}
    subprocesses.kill(first)
    assert first.returncode == -signal.SIGKILL and 3 <= len(before) < total, sorted(before)

    second = subprocesses.start([script], tmp_path / "second.log")
    second.wait(timeout=240)
    output = (tmp_path / "second.log").read_text(errors="replace")
    assert second.returncode == 0, output[-4000:]
    summary = json.loads(output.split("SUMMARY ", 1)[1].splitlines()[0])
    assert summary == {"trials": total, "failed": 0, "finished": True, "resumed": True}

    recs = read_records(run_dir)
    assert sorted(recs, key=int) == [str(k) for k in range(total)]  # none lost
    for rec in recs.values():
        expected = "stopped" if rec["cell"]["name"] == "tanh_rnn" else "completed"
        assert rec["status"] == expected, rec
    for name, data in before.items():  # none rerun, none rewritten
        assert (trials / name).read_bytes() == data, name
    state = json.loads((run_dir / "oracle.json").read_text())
    assert state["ended"] == total and not state["ongoing"] and not state["pending"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_deciding_costs_microseconds_per_report_and_keeps_nothing_per_ended_trial(name):
    import time

    scheduler = make_scheduler(Scheduler.model_validate(SPECS[name]), _fp("gru"))
    curves = {"gru": CURVES["gru"], **{f"c{k}": [0.3 + k / 1000] * 4 for k in range(300)}}
    t = time.process_time()  # CPU time: a busy machine must not fail this test
    _drive(scheduler, curves)
    per_report = (time.process_time() - t) / (4 * len(curves))
    # A trial reports once per evaluation, seconds apart: < 2 ms of CPU is < 1% of any
    # real trial (measured ~0.2-1 ms wall on a loaded 2-core machine).
    assert per_report < 2e-3, per_report
    assert not scheduler.points and not scheduler.last
    for inner in scheduler.inner.values():
        assert not getattr(inner, "_trial_info", {})  # ASHA forgot every ended trial


def test_baseline_curves_read_only_the_baselines_records(tmp_path, monkeypatch):
    from archsearch.rundir import CellRef, RunStore, TrialRecord, write_trial
    from archsearch.search.schedulers import baseline_curves

    store = RunStore(str(tmp_path / "run"))
    genome = archsearch.zoo.get("gru").to_dict()
    for k in range(12):
        fp = _fp("gru") if k % 4 == 0 else _fp(f"other{k}")
        write_trial(store, TrialRecord(
            trial_id=str(k), strategy="fixed", status="failed" if k == 8 else "completed",
            task="xml", cell=CellRef(name="c", fingerprint=fp, genome=genome, parent=None,
                                     origin="fixed"),
            stage="search", hparams={}, seed=k, score=0.5, score_metric="accuracy",
            score_mode="max", metrics={"valid": {"accuracy": 0.5}},
            curve=[{"step": 10, "valid_accuracy": 0.1 * k}], steps=10))
    reads = []
    original = RunStore.read_json
    monkeypatch.setattr(RunStore, "read_json",
                        lambda self, rel: reads.append(rel) or original(self, rel))
    curves = baseline_curves(store, _fp("gru"))
    assert curves == {"xml": [[(10, 0.0)], [(10, pytest.approx(0.4))]]}  # trial 8 failed
    assert sorted(reads) == ["trials/0.json", "trials/4.json"]
