"""XLA for single trials: the rule, the same scores with and without, the fallback, the key."""

import doctest
import logging

import pytest

from archsearch.training import Budget, run_trial, xla
from archsearch.training.compiled import CompiledModel, cache_clear
from archsearch.training.xla import use_xla

SMALL = {"task_options": {"max_digits": 2, "max_distractors": 1, "num_examples": 256,
                          "batch_size": 16}, "budget": Budget(steps=30, eval_every=15)}
HP = {"units": 16, "optimizer": "adam", "learning_rate": 0.01}


def test_doctests():
    assert doctest.testmod(xla).failed == 0


@pytest.mark.parametrize(("mode", "units", "steps", "device", "expected"), [
    ("auto", 64, 1000, "cpu", True),
    ("auto", 128, 200, "cpu", True),
    ("auto", 129, 1000, "cpu", False),   # wide: the matmuls dominate (0.99x at 256)
    ("auto", 64, 199, "cpu", False),     # too short to pay for the compile
    ("auto", 64, None, "cpu", True),     # a time budget: long enough
    ("auto", 64, 1000, "gpu", False),    # not measured on a GPU
    ("auto", None, 1000, "cpu", False),
    ("on", 512, 1, "gpu", True),
    ("off", 64, 1000, "cpu", False),
])
def test_the_rule(mode, units, steps, device, expected):
    assert use_xla(mode, units, steps, device) is expected


def test_an_unknown_mode_is_named():
    with pytest.raises(ValueError, match="Expected xla to be one of auto, on, off. "
                                         "Received: xla='yes'"):
        use_xla("yes", 64, 1000, "cpu")


def test_scores_are_the_same_with_and_without_xla():
    on = run_trial("gru", HP, "arithmetic", seed=3, xla="on", fold=False, **SMALL)
    off = run_trial("gru", HP, "arithmetic", seed=3, xla="off", **SMALL)
    assert on.status == off.status == "completed", (on.failure, off.failure)
    for split in ("valid", "test"):
        assert on.metrics[split]["loss"] == pytest.approx(off.metrics[split]["loss"], rel=1e-4)
    assert [p["train_loss"] for p in on.curve] == pytest.approx(
        [p["train_loss"] for p in off.curve], rel=1e-4)


def test_a_step_xla_cannot_compile_falls_back_to_the_plain_step(monkeypatch, caplog):
    import tensorflow as tf

    made = []
    original = CompiledModel.__init__

    def init(self, model, jit_compile=False):
        original(self, model, jit_compile)
        made.append(self)
        if jit_compile:
            def refuse(*args):
                raise tf.errors.InvalidArgumentError(None, None, "Detected unsupported "
                                                     "operations when trying to compile graph")
            self.step = refuse

    monkeypatch.setattr(CompiledModel, "__init__", init)
    cache_clear()  # no step kept from an earlier test
    with caplog.at_level(logging.WARNING, logger="archsearch.training.trainer"):
        result = run_trial("lstm", HP, "arithmetic", seed=1, xla="on", fold=False, **SMALL)
    assert result.status == "completed", result.failure
    assert made and not made[-1].jit_compile  # switched to the plain step
    assert "XLA could not compile this model's train step (Detected unsupported" in caplog.text


def test_the_space_key_and_the_worker_plan(tmp_path):
    import archsearch
    from archsearch.search.worker import task_plan
    from archsearch.space.schema import Resources

    assert Resources().xla == "auto"
    with pytest.raises(ValueError, match="xla"):
        Resources.model_validate({"xla": "yes"})
    space = archsearch.load_search_space("search_spaces/quickstart.yaml")
    assert "xla" not in space.model_dump()["resources"]  # the default: old run.json files match
    assert {entry["xla"] for entry in task_plan(space).values()} == {"auto"}
    off = space.model_copy(update={"resources": space.resources.model_copy(update={"xla": "off"})})
    assert off.model_dump()["resources"]["xla"] == "off"
    assert {entry["xla"] for entry in task_plan(off).values()} == {"off"}
