"""Steps to threshold on synthetic curves with a known answer: level, power, censoring, Holm."""

import dataclasses
import doctest
import math

import numpy as np
import pytest

from archsearch.report import speed
from archsearch.report.summaries import TrialRecord

BASE, CELL, OTHER = "b" * 32, "c" * 32, "d" * 32
BUDGET = 2000


def _trial(fp, name, reached, seed, *, task="adding", every=100, budget=BUDGET,
           status="completed", stage="search", phase="search", hparams=None):
    """A trial whose validation MSE drops from 0.16 to 0.01 at step `reached` (None: never)."""
    curve = tuple({"step": s, "seconds": s / 100, "train_loss": 0.1,
                   "valid_mse": 0.01 if reached is not None and s >= reached else 0.16,
                   "valid_solved": 0.0}
                  for s in range(every, budget + 1, every))
    hp = {"learning_rate": 0.01, "seed": seed, **(hparams or {})}
    return TrialRecord(
        run="r", trial_id=f"{name}-{task}-{seed}", sequence=seed, strategy="fixed",
        status=status, failure=None, fingerprint=fp, cell_name=name, parent=None,
        origin="fixed", task=task, stage=stage, hparams=hp, seed=seed,
        score=min(p["valid_mse"] for p in curve), score_metric="mse", score_mode="min",
        metrics={}, curve=curve, params=None, units=None, steps=budget, seconds=None,
        started_at=None, finished_at=None, node=None, file="", phase=phase)


def _draw(rng, n, median, sd=0.5):
    steps = np.exp(rng.normal(math.log(median), sd, n))
    return [None if s > BUDGET else int(s) for s in steps]


def _dataset(rng, n, scale, median=1200, every=100):
    base = [_trial(BASE, "base", s, i, every=every) for i, s in enumerate(_draw(rng, n, median))]
    cell = [_trial(CELL, "cell", s, i, every=every)
            for i, s in enumerate(_draw(rng, n, median * scale))]
    return base + cell


def _cell_row(rows, fp=CELL, task="adding"):
    return next(r for r in rows if r.fingerprint == fp and r.task == task)


def test_doctests():
    assert doctest.testmod(speed).failed == 0


def test_steps_to_threshold_takes_the_first_step_in_either_direction():
    curve = [{"step": 300, "valid_accuracy": 0.97}, {"step": 100, "valid_accuracy": 0.5},
             {"step": 200, "valid_accuracy": float("nan")}, {"step": 400}]
    assert speed.steps_to_threshold(curve, "accuracy", "max", 0.95) == 300
    assert speed.steps_to_threshold(curve, "accuracy", "min", 0.6) == 100
    assert speed.steps_to_threshold(curve, "accuracy", "max", 0.99) is None
    assert speed.steps_to_threshold([], "accuracy", "max", 0.5) is None
    with pytest.raises(ValueError, match="mode"):
        speed.steps_to_threshold(curve, "accuracy", "best", 0.5)


def test_thresholds_come_from_the_argument_else_the_metric():
    assert speed.threshold_for("adding", "mse") == 0.05
    assert speed.threshold_for("reber", "long_range_accuracy") == 0.95
    assert speed.threshold_for("adding", "mse", {"adding": 0.01}) == 0.01
    assert speed.threshold_for("ptb", "perplexity") is None


def test_a_clear_slowdown_is_worse_with_an_interval_above_one():
    trials = ([_trial(BASE, "base", s, i) for i, s in enumerate([300, 400, 400, 500, 600, 700])]
              + [_trial(CELL, "cell", s, i) for i, s in enumerate([1200, 1500, 1600, 1800,
                                                                     None, None])])
    rows = speed.speed_table(trials, BASE)
    assert [r.verdict for r in rows] == ["baseline", "worse"]
    row = _cell_row(rows)
    assert (row.n, row.censored, row.budget) == (6, 2, BUDGET)
    assert row.median_steps == 1700 and row.baseline_median_steps == 450
    assert row.ratio == pytest.approx(1700 / 450)
    assert 1 < row.low <= row.ratio <= row.high
    assert row.p < 0.01 and row.p_holm == row.p and row.effect == 0.0
    assert row.test == "stratified"  # one shared setting, six seeds


def test_a_cell_that_never_gets_there_has_no_median_and_an_open_interval():
    trials = ([_trial(BASE, "base", s, i) for i, s in enumerate([300, 400, 500, 500, 600])]
              + [_trial(CELL, "cell", None, i) for i in range(5)])
    row = _cell_row(speed.speed_table(trials, BASE))
    assert row.median_steps is None and row.censored == 5
    assert row.ratio == math.inf and row.high == math.inf and row.low > 1
    assert row.verdict == "worse"


def test_neither_getting_there_is_a_tie_with_an_unbounded_interval():
    trials = ([_trial(BASE, "base", None, i) for i in range(5)]
              + [_trial(CELL, "cell", None, i) for i in range(5)]
              + [_trial(OTHER, "other", 500, i) for i in range(5)])  # the task is reachable
    row = _cell_row(speed.speed_table(trials, BASE))
    assert row.verdict == "tied" and row.ratio is None and row.p == 1.0
    assert (row.low, row.high) == (0.0, math.inf)


def test_same_distribution_holds_its_level():
    rng = np.random.default_rng(3)
    reps = 300
    calls = sum(_cell_row(speed.speed_table(_dataset(rng, 6, 1.0), BASE)).verdict != "tied"
                for _ in range(reps))
    assert calls / reps <= 0.07  # measured 0.032 in 2000 data sets (module docstring)


def test_twice_as_slow_is_found_and_never_called_faster():
    rng = np.random.default_rng(4)
    reps = 150
    verdicts = [_cell_row(speed.speed_table(_dataset(rng, 10, 2.0, every=500), BASE)).verdict
                for _ in range(reps)]
    assert verdicts.count("worse") / reps >= 0.6  # measured 0.74 in 500
    assert "better" not in verdicts


def test_the_interval_covers_the_true_ratio_and_agrees_with_the_verdict():
    rng = np.random.default_rng(5)
    reps, covered = 60, 0
    for k in range(reps):
        scale = (0.5, 1.0, 2.0)[k % 3]
        row = _cell_row(speed.speed_table(_dataset(rng, 8, scale, median=600), BASE))
        covered += row.low <= scale <= row.high
        assert (row.low <= 1 <= row.high) == (row.verdict == "tied")
        assert row.verdict != ("better" if scale > 1 else "worse" if scale < 1 else "")
    assert covered / reps >= 0.88


def test_holm_runs_over_the_whole_table():
    trials = ([_trial(BASE, "base", s, i) for i, s in enumerate([300, 400, 400, 500, 600, 700])]
              + [_trial(CELL, "cell", s, i) for i, s in enumerate([1200, 1500, 1600, 1800,
                                                                     None, None])]
              + [_trial(OTHER, "other", s, i) for i, s in enumerate([300, 500, 400, 600, 700,
                                                                      400])])
    rows = speed.speed_table(trials, BASE)
    cell, other = _cell_row(rows), _cell_row(rows, OTHER)
    assert cell.p_holm == pytest.approx(2 * cell.p)  # the smaller of two p-values
    assert other.verdict == "tied" and other.p_holm == pytest.approx(max(other.p, cell.p_holm))


def test_only_completed_search_trials_count_and_tasks_without_a_baseline_are_skipped():
    trials = [_trial(BASE, "base", 500, i) for i in range(4)] + [
        _trial(CELL, "cell", 500, 0), _trial(CELL, "cell", None, 1, status="failed"),
        _trial(CELL, "cell", None, 2, status="stopped"), _trial(CELL, "cell", None, 3,
                                                                   stage="prefilter"),
        _trial(CELL, "cell", None, 4, phase="confirm"), _trial(CELL, "cell", 500, 5, task="copy"),
        dataclasses.replace(_trial(CELL, "cell", None, 6), curve=())]  # read without its curve
    rows = speed.speed_table(trials, BASE)
    assert [(r.cell, r.task, r.n) for r in rows] == [("base", "adding", 4), ("cell", "adding", 1)]


def test_budgets_and_thresholds_can_be_given_per_task():
    trials = ([_trial(BASE, "base", s, i) for i, s in enumerate([300, 400, 500])]
              + [_trial(CELL, "cell", s, i) for i, s in enumerate([900, 1000, 1500])])
    row = _cell_row(speed.speed_table(trials, BASE, budgets={"adding": 1000}))
    assert (row.budget, row.censored, row.median_steps) == (1000, 1, 1000)
    loose = speed.speed_table(trials, BASE, thresholds={"adding": 0.2})  # every step qualifies
    assert {r.median_steps for r in loose} == {100} and _cell_row(loose).threshold == 0.2


def test_hyperparameter_settings_are_strata():
    trials = []
    for lr, shift in ((0.01, 0), (0.003, 600)):
        hp = {"learning_rate": lr}
        trials += [_trial(BASE, "base", 300 + shift + 100 * i, i, hparams=hp) for i in range(3)]
        trials += [_trial(CELL, "cell", 400 + shift + 100 * i, i, hparams=hp) for i in range(3)]
    row = _cell_row(speed.speed_table(trials, BASE))
    assert row.test == "stratified" and 0 < row.effect < 0.5


def test_a_task_no_trial_reached_has_no_rows():
    never = [_trial(BASE, "gru", None, s) for s in range(5)] + \
        [_trial(CELL, "lstm", None, s) for s in range(5)] + \
        [_trial(BASE, "gru", 500, s, task="copy") for s in range(5)] + \
        [_trial(CELL, "lstm", None, s, task="copy") for s in range(5)]
    rows = speed.speed_table(never, BASE)
    assert {r.task for r in rows} == {"copy"}
