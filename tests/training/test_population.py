"""run_population: members train as if alone, fail alone, and stop alone."""

import json

import numpy as np
import pytest

from archsearch import GenomeBuilder
from archsearch.training import Budget, run_trial
from archsearch.training.population import check_compatible, run_population

SMALL = {"num_examples": 256, "batch_size": 32}
CURVE_KEYS = ("train_loss", "valid_loss", "valid_accuracy", "valid_exact_match")


def _relu_cell():
    b = GenomeBuilder(("h",))
    return b.build({"h": b.relu(b.add(b.relu(b.linear("x", "h")), "h"))}, name="relu_everywhere")


def test_members_match_solo_trials_with_the_same_seed():
    hps = [{"units": 16, "optimizer": "adam", "learning_rate": 0.01, "clip_norm": 5.0},
           {"units": 16, "optimizer": "adam", "learning_rate": 0.03, "clip_norm": 0.5,
            "init_scale": 0.7, "forget_bias": 1.0}]
    seeds, budget = [1, 2], Budget(steps=30, eval_every=10)
    members = run_population("lstm", hps, "arithmetic", budget, seeds=seeds, task_options=SMALL)
    for hp, seed, member in zip(hps, seeds, members, strict=True):
        solo = run_trial("lstm", hp, "arithmetic", budget, seed=seed, task_options=SMALL,
                         fold=False)  # the plain Keras step
        assert member.status == solo.status == "completed", member.failure
        assert (member.steps, member.units, member.params) == (solo.steps, solo.units,
                                                               solo.params)
        assert member.hparams == solo.hparams and member.seed == seed
        assert [p["step"] for p in member.curve] == [p["step"] for p in solo.curve] == [10, 20, 30]
        for got, want in zip(member.curve, solo.curve, strict=True):
            for key in CURVE_KEYS:
                assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), key
        for split in ("valid", "test"):
            assert member.metrics[split] == pytest.approx(solo.metrics[split], rel=1e-4)
        json.dumps(member.to_dict())
    # Different hyperparameters really trained differently.
    assert members[0].curve[-1]["train_loss"] != members[1].curve[-1]["train_loss"]


def test_a_diverging_member_fails_like_alone_and_the_others_go_on():
    wild = {"units": 32, "learning_rate": 5.0, "init_scale": 2.8, "clip_norm": 20.0}
    tame = {"units": 32, "learning_rate": 0.05, "init_scale": 1.0, "clip_norm": 1.0}
    budget = Budget(steps=60, eval_every=20)
    bad, good = run_population(_relu_cell(), [wild, tame], "arithmetic", budget, seeds=[0, 0],
                               task_options=SMALL)
    solo = run_trial(_relu_cell(), wild, "arithmetic", budget, task_options=SMALL)
    assert solo.status == bad.status == "failed"
    assert bad.failure == solo.failure and bad.failure.startswith("diverged")
    assert good.status == "completed" and good.steps == 60, good.failure
    assert np.isfinite(good.score)


def test_on_eval_stops_one_member():
    def stop_first(member, point):
        return "hopeless" if member == 0 and point["step"] == 5 else None

    first, second = run_population("gru", [{"units": 8}, {"units": 8, "learning_rate": 0.5}],
                                   "memorization", Budget(steps=15, eval_every=5), seeds=[0, 1],
                                   task_options={"num_examples": 64}, on_eval=stop_first)
    assert (first.status, first.failure, first.steps) == ("stopped", "hopeless", 5)
    assert first.metrics["test"] and second.status == "completed" and second.steps == 15


def test_incompatible_members_are_refused_naming_the_key():
    with pytest.raises(ValueError, match="'num_layers'.*Received: num_layers=\\[1, 2\\]"):
        check_compatible([{"units": 8}, {"units": 8, "num_layers": 2}])
    with pytest.raises(ValueError, match="'optimizer'"):
        run_population("gru", [{"units": 8}, {"units": 8, "optimizer": "adam"}])
    with pytest.raises(ValueError, match="dropout"):
        check_compatible([{"units": 8, "dropout": 0.1}])
    with pytest.raises(ValueError, match="one seed per member"):
        run_population("gru", [{"units": 8}], seeds=[1, 2])
    # Per-member learning rate, clipping, init and forget bias are fine.
    assert len(check_compatible([{"learning_rate": 0.1, "clip_norm": 1.0},
                                 {"init_scale": 2.0, "forget_bias": 1.0}])) == 2
