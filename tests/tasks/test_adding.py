"""The adding problem: two marked values, their sum as a regression target."""

import math

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks import adding
from archsearch.tasks.metrics import MetricSums

SMALL = {"num_examples": 300, "length": 30}


def test_targets_are_the_sum_of_the_two_marked_values():
    data = tasks.get("adding").prepare(seed=0, **SMALL)
    for split in tasks.SPLITS:
        x, y, w = data.arrays[split]
        assert x.shape[1:] == (30, 2) and y.shape[1:] == (1,) and w.shape == (len(x),)
        assert (x.dtype, y.dtype, w.dtype) == (np.float32, np.float32, np.float32)
        values, markers = x[..., 0], x[..., 1]
        assert values.min() >= 0.0 and values.max() < 1.0
        assert set(np.unique(markers)) == {0.0, 1.0}
        assert (markers.sum(axis=1) == 2).all()
        assert (markers[:, :15].sum(axis=1) == 1).all()  # one in each half
        np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-6)
        assert (w == 1.0).all()


def test_load_declares_a_regression_scored_by_mse():
    data = tasks.get("adding").load(seed=0, batch_size=16, **SMALL)
    assert (data.output, data.input_kind, data.loss) == (
        "regression", "multi_hot", "mean_squared_error")
    assert data.output in tasks.OUTPUT_KINDS
    assert (data.score_metric, data.score_mode, data.metrics) == ("mse", "min", ("mse", "solved"))
    assert data.vocab == adding.INPUTS and data.num_outputs == 1 and data.vocab_size == 2
    assert data.chrono_tmax == 30 and data.seq_len == 30
    assert data.metric_options == {"solved_below": 0.04}


def test_always_one_is_the_memoryless_mse_and_solved_counts_close_answers():
    data = tasks.get("adding").prepare(seed=0, num_examples=20_000, length=10)
    x, y, w = data.arrays["train"]
    sums = MetricSums("regression", ("mse", "solved"), **data.metric_options)
    sums.update(np.ones_like(y), y, w)
    result = sums.result()
    assert result["mse"] == pytest.approx(1 / 6, abs=0.01) and result["loss"] == result["mse"]
    assert result["solved"] == pytest.approx(np.mean(np.abs(y - 1) < 0.04))
    exact = MetricSums("regression", ("mse", "solved"), solved_below=0.04)
    exact.update(y + 0.03, y, w)
    assert exact.result() == pytest.approx({"loss": 0.0009, "mse": 0.0009, "solved": 1.0},
                                           rel=1e-4)


def test_same_seed_same_data_and_held_out_data_fixed():
    task = tasks.get("adding")
    a, b, c = (task.prepare(seed=s, **SMALL).arrays for s in (3, 3, 4))
    for split in tasks.SPLITS:
        for left, right in zip(a[split], b[split], strict=True):
            np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a["train"][0], c["train"][0])
    np.testing.assert_array_equal(a["test"][0], c["test"][0])


@pytest.mark.parametrize(("options", "match"), [
    ({"length": 1}, "option length to be an integer in \\[2, 100000\\]. Received: length=1"),
    ({"length": 2.5}, "option length"),
    ({"solved_below": 0}, "option solved_below to be a number in \\(0, 2\\]"),
    ({"solved_below": "small"}, "solved_below"),
    ({"seq_len": 50}, "sets its sequence length with option length"),
])
def test_bad_options_are_named(options, match):
    with pytest.raises(tasks.TaskError, match=match):
        tasks.get("adding").prepare(num_examples=10, **options)


def test_a_short_trial_trains_an_lstm_and_reports_mse():
    from archsearch.training import Budget, run_trial

    result = run_trial("lstm_b", {"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                       "adding", Budget(steps=10, eval_every=5), seed=0,
                       task_options={"length": 20, "num_examples": 256, "batch_size": 32})
    assert result.status == "completed", result.failure
    assert (result.score_metric, result.score_mode) == ("mse", "min")
    assert math.isfinite(result.score) and result.score == result.metrics["valid"]["mse"]
    assert set(result.metrics["test"]) == {"loss", "mse", "solved"}
