"""The fold for single trials: the rule, one step equal to the plain step, the routing."""

import doctest
import logging
from types import SimpleNamespace

import pytest

from archsearch.training import Budget, run_trial, solo_fold
from archsearch.training.solo_fold import folds

OPTIONS = {"max_digits": 2, "max_distractors": 1, "num_examples": 256, "batch_size": 16}
HP = {"units": 16, "optimizer": "adam", "learning_rate": 0.01}


def _data(**changes):
    base = {"input_kind": "tokens", "vocab_size": 40, "batch_size": 32, "seq_len": 13,
            "stateful": False, "info": {}}
    return SimpleNamespace(**{**base, **changes})


def test_doctests():
    assert doctest.testmod(solo_fold).failed == 0


@pytest.mark.parametrize(("cell", "hp", "data", "xla", "steps", "device", "expected"), [
    ("lstm", {}, {}, "auto", 1000, "cpu", True),
    ("lstm", {"units": 512}, {}, "auto", 1000, "cpu", True),   # 1.22x where XLA alone is not
    ("lstm", {"units": 64}, {}, "auto", 1000, "cpu", False),   # XLA alone does as well
    ("lstm", {"units": None}, {}, "auto", 1000, "cpu", False),  # sized by a parameter budget
    ("gru", {}, {}, "auto", None, "cpu", True),                 # a time budget: long enough
    ("lstm", {}, {}, "auto", 199, "cpu", False),                # too short for the compile
    ("lstm", {}, {}, "on", 1, "cpu", True),
    ("lstm", {"units": 16}, {}, "on", 1000, "cpu", True),      # `on`: wherever it can
    ("lstm", {}, {}, "off", 1000, "cpu", False),                # the plain Keras step
    ("lstm", {}, {}, "auto", 1000, "gpu", False),               # not measured on a GPU
    ("lstm", {"dropout": 0.1}, {}, "auto", 1000, "cpu", False),
    ("lstm", {}, {"stateful": True}, "auto", 1000, "cpu", False),
    ("lstm", {}, {"info": {"pooling": "attention"}}, "auto", 1000, "cpu", False),
    ("lstm", {}, {"input_kind": "multi_hot"}, "auto", 1000, "cpu", False),
    ("lstm", {}, {"vocab_size": 20000}, "auto", 1000, "cpu", False),  # table > tokens
    ("lstm", {}, {"vocab_size": 416}, "auto", 1000, "cpu", False),    # as many rows as tokens
    ("mut1", {}, {}, "auto", 1000, "cpu", False),               # reads the raw input
])
def test_the_rule(cell, hp, data, xla, steps, device, expected):
    assert folds(cell, {"units": 128, "dropout": 0.0, **hp}, _data(**data), xla, steps,
                 device) is expected


def test_mixed_precision_on_a_gpu_is_not_folded():
    assert not folds("lstm", {"units": 128, "dropout": 0.0}, _data(), "on", 1000, "gpu",
                     mixed_precision=True)


def test_an_unknown_mode_is_named():
    with pytest.raises(ValueError, match="Received: xla='yes'"):
        folds("lstm", {"units": 128, "dropout": 0.0}, _data(), "yes", 1000, "cpu")


def test_one_optimizer_step_folded_equals_the_plain_keras_step():
    # One Adam step, then the validation loss: the folded population of one
    # and the plain Keras model must be at the same weights.
    one = {"task_options": OPTIONS, "budget": Budget(steps=1, eval_every=1)}
    folded = run_trial("lstm", HP, "arithmetic", seed=2, xla="on", **one)
    plain = run_trial("lstm", HP, "arithmetic", seed=2, xla="off", **one)
    assert folded.timings.get("population_size") == 1  # it went the folded way
    assert "population_size" not in plain.timings
    assert folded.curve[0]["train_loss"] == pytest.approx(plain.curve[0]["train_loss"], rel=1e-5)
    for split in ("valid", "test"):
        assert folded.metrics[split]["loss"] == pytest.approx(plain.metrics[split]["loss"],
                                                              rel=1e-4)
        assert folded.metrics[split]["loss"] != pytest.approx(folded.curve[0]["train_loss"],
                                                              rel=1e-6)


def test_a_folded_trial_is_a_trial():
    # The record of a folded trial has what a trial's has; on_eval gets the
    # point and can stop it.
    points = []

    def on_eval(point):
        points.append(point)
        return "enough" if point["step"] >= 20 else None

    r = run_trial("gru", HP, "arithmetic", seed=1, xla="on", on_eval=on_eval,
                  task_options=OPTIONS, budget=Budget(steps=40, eval_every=10))
    assert r.timings["population_size"] == 1
    assert (r.status, r.failure, r.steps) == ("stopped", "enough", 20)
    assert [p["step"] for p in points] == [10, 20]
    assert r.units == 16 and r.params > 0 and r.seed == 1 and r.task == "arithmetic"
    assert set(r.timings) >= {"data", "build", "trace", "train", "eval", "total"}
    assert r.timings["data"] > 0


def test_a_fold_that_cannot_start_falls_back_once_per_shape(monkeypatch, caplog):
    from archsearch.training import population, trainer

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("no kernel for this op")

    monkeypatch.setattr(population, "compiled_population", broken)
    monkeypatch.setattr(trainer, "_FOLD_FAILED", set())
    kwargs = dict(xla="on", task_options=OPTIONS, budget=Budget(steps=10, eval_every=5))
    with caplog.at_level(logging.WARNING, logger="archsearch.training.trainer"):
        first = run_trial("lstm", HP, "arithmetic", seed=1, **kwargs)
        second = run_trial("lstm", HP, "arithmetic", seed=2, **kwargs)
    for r in (first, second):
        assert r.status == "completed", r.failure
        assert "population_size" not in r.timings
    assert "the folded train step failed (RuntimeError: no kernel for this op)" in caplog.text
    assert len(calls) == 1  # the second trial of these shapes did not try the fold again


def test_a_folded_trial_that_fails_after_training_is_not_rerun():
    # A failure after the first step belongs to the trial: rerunning it on
    # the plain step would report its evaluations to on_eval a second time.
    points = []

    def on_eval(point):
        points.append(point["step"])
        if point["step"] == 10:
            raise OSError("disk full")

    r = run_trial("lstm", HP, "arithmetic", seed=1, xla="on", on_eval=on_eval,
                  task_options=OPTIONS, budget=Budget(steps=20, eval_every=5))
    assert r.status == "failed" and "disk full" in r.failure
    assert r.timings["population_size"] == 1 and points == [5, 10]
