"""Continual streams: state carried across chunks, and past the evaluations in between."""

import numpy as np

from archsearch import tasks
from archsearch.layers import GenomeRNN
from archsearch.training import Budget, build_model, resolve, run_trial
from archsearch.training.evaluate import evaluate
from archsearch.training.trainer import _carried_states, _reset_states, _restore_states

OPTIONS = {"num_chunks": 4, "eval_chunks": 2, "batch_size": 4, "seq_len": 10}


def _states(model):
    layer = next(layer for layer in model.layers if isinstance(layer, GenomeRNN))
    return [v.numpy().copy() for v in layer.states]


def test_state_flows_from_one_chunk_into_the_next():
    data = tasks.get("reber").load(seed=0, **OPTIONS)
    model, _ = build_model("lstm", resolve({"units": 5}), data, seed=0)
    x = data.arrays["train"][0]
    model(x[0])
    carried = model(x[1]).numpy()
    _reset_states(model)
    fresh = model(x[1]).numpy()
    assert not np.allclose(carried, fresh)  # chunk 1 starts from chunk 0's final state


def test_an_evaluation_leaves_the_training_stream_where_it_was():
    data = tasks.get("reber").load(seed=0, **OPTIONS)
    model, _ = build_model("lstm", resolve({"units": 5}), data, seed=0)
    model(data.arrays["train"][0][0])
    before = _states(model)
    carried = _carried_states(model)
    _reset_states(model)
    evaluate(model, data, "valid")
    assert not all(np.allclose(a, b) for a, b in zip(before, _states(model), strict=True))
    _restore_states(carried)
    for a, b in zip(before, _states(model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stateless_models_carry_nothing():
    data = tasks.get("copy").load(seed=0, num_examples=16, delay=3, length=2)
    model, _ = build_model("lstm", resolve({"units": 3}), data)
    assert _carried_states(model) == []


def test_evaluating_more_often_does_not_change_what_a_continual_trial_trains_on():
    budget = {"steps": 8, "patience": 100}
    hp = {"units": 6, "optimizer": "adam", "learning_rate": 0.01}
    often = run_trial("lstm", hp, "reber", Budget(eval_every=2, **budget), task_options=OPTIONS)
    rarely = run_trial("lstm", hp, "reber", Budget(eval_every=8, **budget), task_options=OPTIONS)
    assert often.status == rarely.status == "completed"
    # The last evaluation sees the same weights, whatever was evaluated before it.
    assert often.curve[-1]["valid_loss"] == rarely.curve[-1]["valid_loss"]
