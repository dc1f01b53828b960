"""run_trial: trains, reports metrics and timings, and fails softly."""

import json
import math

import pytest

from archsearch import GenomeBuilder, zoo
from archsearch.training import Budget, TrialResult, run_trial, with_forget_bias

SMALL = {"num_examples": 256, "batch_size": 32}


def test_trial_completes_with_metrics_curve_and_timings():
    result = run_trial("gru", {"units": 16}, "arithmetic", Budget(steps=20, eval_every=10),
                       seed=1, task_options=SMALL)
    assert result.status == "completed", result.failure
    assert result.steps == 20
    assert [point["step"] for point in result.curve] == [10, 20]
    assert set(result.metrics) == {"valid", "test"}
    assert {"accuracy", "exact_match", "loss"} <= set(result.metrics["test"])
    assert 0.0 <= result.score <= 1.0
    assert result.score == result.metrics["valid"]["accuracy"]
    assert result.params > 0 and result.units == 16
    assert set(result.timings) == {"data", "build", "trace", "train", "eval", "total"}
    json.dumps(result.to_dict())  # records are JSON


def test_same_seed_same_result_different_seed_differs():
    kwargs = dict(hparams={"units": 8}, task="memorization",
                  budget=Budget(steps=10, eval_every=5), task_options={"num_examples": 64})
    a, b = run_trial("lstm", seed=3, **kwargs), run_trial("lstm", seed=3, **kwargs)
    c = run_trial("lstm", seed=4, **kwargs)
    assert a.metrics == b.metrics and a.curve[-1]["train_loss"] == b.curve[-1]["train_loss"]
    assert a.curve[-1]["train_loss"] != c.curve[-1]["train_loss"]


def test_diverging_relu_cell_is_a_failed_trial_with_reason():
    b = GenomeBuilder(("h",))
    relu = b.build({"h": b.relu(b.add(b.relu(b.linear("x", "h")), "h"))}, name="relu_everywhere")
    result = run_trial(relu, {"units": 32, "learning_rate": 5.0, "init_scale": 2.8,
                              "clip_norm": 20.0}, "arithmetic",
                       Budget(steps=60, eval_every=20), task_options=SMALL)
    assert result.status == "failed"
    assert "diverged" in result.failure or "nan" in result.failure.lower() or \
        "inf" in result.failure.lower() or "no finite" in result.failure


def test_errors_never_escape():
    result = run_trial("lstm", {"no_such_hparam": 1}, "memorization", Budget(steps=2))
    assert result.status == "failed" and "no_such_hparam" in result.failure
    result = run_trial("lstm", {"units": 4}, "no_such_task", Budget(steps=2))
    assert result.status == "failed" and "no_such_task" in result.failure
    assert isinstance(result, TrialResult)


def test_forget_bias_override_only_touches_the_forget_gate():
    lstm = zoo.get("lstm")
    assert with_forget_bias(lstm, 1.0).fingerprint() == zoo.get("lstm_b").fingerprint()
    assert with_forget_bias(zoo.get("gru"), 1.0) == zoo.get("gru")


def test_budget_validation():
    with pytest.raises(ValueError, match="steps or seconds"):
        Budget(steps=None, seconds=None)
    with pytest.raises(ValueError, match="eval_every"):
        Budget(eval_every=0)
    assert Budget(steps=None, seconds=1.0).exhausted(10**9, 0.5) is False
    assert math.isclose(Budget.coerce({"seconds": 2.0, "steps": None}).seconds, 2.0)


def _classification_data(pooling):
    from types import SimpleNamespace

    return SimpleNamespace(batch_size=4, stateful=False, input_kind="tokens", vocab_size=20,
                           output="last", num_outputs=3, loss="sparse_categorical_crossentropy",
                           info={"pooling": pooling})


def test_attention_pooling_builds_a_masked_bidirectional_attention_head():
    import keras
    import numpy as np

    from archsearch.training import build_model
    from archsearch.training.hparams import resolve

    hp = resolve({"units": 6, "num_layers": 2})
    model, _ = build_model("gru", hp, _classification_data("attention"), seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Bidirectional") == 2 and "AttentionPooling" in kinds
    tokens = np.array([[3, 4, 5, 0, 0], [7, 0, 0, 0, 0]], "int32")
    padded = np.concatenate([tokens, np.zeros((2, 4), "int32")], axis=1)
    # Padding is masked out of both directions and of the attention weights.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(padded)),
                               keras.ops.convert_to_numpy(model(tokens)), atol=1e-5)
    model.fit(tokens, np.array([0, 2]), epochs=1, verbose=0)
    last, _ = build_model("gru", hp, _classification_data("last"), seed=0)
    assert "AttentionPooling" not in [type(layer).__name__ for layer in last.layers]
