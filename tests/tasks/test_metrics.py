import math

import numpy as np
import pytest

import archsearch.tasks as tasks


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
