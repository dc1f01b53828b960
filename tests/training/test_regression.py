"""Regression outputs (the adding problem): one value at the last step, mean squared error."""

import keras
import numpy as np
import pytest

from archsearch import tasks
from archsearch.layers import GenomeRNN
from archsearch.tasks.metrics import MetricSums
from archsearch.training import Budget, build_model, resolve, run_population, run_trial
from archsearch.training.evaluate import evaluate, joined_batches, predictor

OPTIONS = {"length": 12, "num_examples": 160}


@pytest.fixture(scope="module")
def data():
    return tasks.get("adding").load(seed=0, batch_size=16, **OPTIONS)


def test_the_model_reads_the_last_step_into_one_linear_output(data):
    model, units = build_model("lstm", resolve({"units": 6}), data, seed=0)
    rnn = next(layer for layer in model.layers if isinstance(layer, GenomeRNN))
    assert not rnn.return_sequences and units == 6
    assert model.output_shape == (None, 1)
    assert isinstance(model.loss, keras.losses.MeanSquaredError)


def test_evaluation_is_the_weighted_squared_error_of_the_predictions(data):
    model, _ = build_model("gru", resolve({"units": 6}), data, seed=1)
    got = evaluate(model, data, "valid")
    x, y, w = (np.concatenate(parts) for parts in zip(*joined_batches(data, "valid", None),
                                                       strict=True))
    predictions = predictor(model)(x).numpy()
    mse = float((((predictions - y) ** 2)[:, 0] * w).sum() / w.sum())
    solved = float(np.mean(np.abs(predictions - y)[:, 0] < 0.04))
    assert got == pytest.approx({"loss": mse, "mse": mse, "solved": solved}, rel=1e-5)
    reference = MetricSums.for_data(data)
    reference.update(predictions, y, w)
    assert reference.result() == pytest.approx(got)


def test_a_population_member_trains_as_its_solo_trial(data):
    hps = [{"units": 6, "optimizer": "adam", "learning_rate": lr} for lr in (0.01, 0.03)]
    budget = Budget(steps=6, eval_every=3)
    members = run_population("lstm_b", hps, "adding", budget, seeds=[0, 1], data=data,
                             jit_compile=False)
    for member, hp, seed in zip(members, hps, (0, 1), strict=True):
        solo = run_trial("lstm_b", hp, "adding", budget, seed=seed, data=data)
        assert member.status == solo.status == "completed", (member.failure, solo.failure)
        assert member.metrics["test"] == pytest.approx(solo.metrics["test"], rel=1e-4)
