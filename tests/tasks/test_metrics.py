import math

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks.metrics import MetricSums


def test_exact_match_from_ids_and_scores():
    targets = np.array([[1, 2, 3], [1, 2, 3], [4, 4, 4]])
    weights = np.array([[0, 1, 1], [0, 1, 1], [0, 0, 0]])
    predictions = np.array([[9, 2, 3], [1, 2, 0], [0, 0, 0]])
    assert tasks.exact_match(predictions, targets, weights) == 0.5
    scores = np.eye(10)[predictions]
    assert tasks.exact_match(scores, targets, weights) == 0.5
    assert tasks.weighted_accuracy(predictions, targets, weights) == 0.75
    assert math.isnan(tasks.exact_match(targets, targets, np.zeros_like(weights)))
    with pytest.raises(tasks.TaskError, match="predictions"):
        tasks.exact_match(predictions[:, :2], targets, weights)


def test_unit_conversions():
    assert tasks.perplexity(math.log(100)) == pytest.approx(100)
    assert tasks.bits_per_char(math.log(2) * 1.5) == pytest.approx(1.5)
    assert tasks.nll_per_step(0.1, 88) == pytest.approx(8.8)


def test_metric_sums_streaming_equals_whole_and_known_values():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5, 4))
    targets = rng.integers(0, 4, size=(6, 5))
    weights = (rng.random((6, 5)) > 0.3).astype("float32")
    weights[2] = 0  # a sequence without answer positions is not counted
    whole = MetricSums("sequence", ("accuracy", "exact_match", "perplexity"))
    whole.update(logits, targets, weights)
    streamed = MetricSums("sequence", ("accuracy", "exact_match", "perplexity"))
    for k in range(0, 6, 2):
        streamed.update(logits[k:k + 2], targets[k:k + 2], weights[k:k + 2])
    assert streamed.result() == pytest.approx(whole.result())
    result = whole.result()
    assert result["accuracy"] == pytest.approx(tasks.weighted_accuracy(logits, targets, weights))
    assert result["exact_match"] == pytest.approx(tasks.exact_match(logits, targets, weights))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    assert result["loss"] == pytest.approx((nll * weights).sum() / weights.sum())
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))


def test_metric_sums_uniform_logits_give_log_vocab_and_bce_sums_over_notes():
    sums = MetricSums("last", ("accuracy", "bits_per_char"))
    sums.update(np.zeros((3, 8)), np.array([1, 2, 3]), np.ones(3))
    assert sums.result()["loss"] == pytest.approx(math.log(8))
    assert sums.result()["bits_per_char"] == pytest.approx(3.0)
    music = MetricSums("multilabel_sequence", ("nll_per_step",))
    music.update(np.zeros((2, 3, 10)), np.ones((2, 3, 10)), np.ones((2, 3)))
    assert music.result() == pytest.approx({"loss": 10 * math.log(2),
                                            "nll_per_step": 10 * math.log(2)})
    assert math.isnan(MetricSums("sequence").result()["loss"])


@pytest.mark.parametrize("output,shape", [("sequence", (6, 5, 4)), ("last", (7, 3))])
def test_update_picked_equals_update_on_logits(output, shape):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=shape)
    targets = rng.integers(0, shape[-1], size=shape[:-1])
    weights = (rng.random(shape[:-1]) > 0.3).astype("float32")
    metrics = ("accuracy", "exact_match", "perplexity")
    full, picked = MetricSums(output, metrics), MetricSums(output, metrics)
    full.update(logits, targets, weights)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked.update_picked(np.take_along_axis(logp, targets[..., None], -1)[..., 0],
                         logits.argmax(-1), targets, weights)
    assert picked.result() == pytest.approx(full.result(), nan_ok=True)
    assert set(picked.result()) == set(full.result())


def test_update_picked_refuses_multilabel_output():
    with pytest.raises(tasks.TaskError, match="categorical"):
        MetricSums("multilabel_sequence").update_picked(
            np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2)), np.ones((1, 2)))
