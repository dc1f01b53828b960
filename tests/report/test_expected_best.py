"""Expected best after k samples: exact formula against brute-force enumeration."""

import itertools

import numpy as np
import pytest

from archsearch.report.expected_best import expected_best


@pytest.mark.parametrize("mode", ["max", "min"])
def test_with_replacement_equals_brute_force(mode):
    scores = [0.31, 0.74, 0.5, 0.74, 0.12]
    pick = max if mode == "max" else min
    curve = expected_best(scores, mode)
    for k in range(1, len(scores) + 1):
        draws = list(itertools.product(scores, repeat=k))
        assert curve[k - 1] == pytest.approx(np.mean([pick(d) for d in draws]))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_without_replacement_equals_brute_force(mode):
    scores = [0.31, 0.74, 0.5, 0.9, 0.12, 0.6]
    pick = max if mode == "max" else min
    curve = expected_best(scores, mode, replace=False)
    for k in range(1, len(scores) + 1):
        subsets = list(itertools.combinations(scores, k))
        assert curve[k - 1] == pytest.approx(np.mean([pick(s) for s in subsets]))
    assert curve[-1] == pick(scores)


def test_curve_starts_at_the_mean_and_rises():
    scores = np.random.default_rng(0).normal(0.8, 0.05, 12)
    curve = expected_best(scores, "max")
    assert curve[0] == pytest.approx(scores.mean())
    assert np.all(np.diff(curve) >= 0) and curve[-1] < scores.max()


def test_bad_mode_and_empty():
    with pytest.raises(ValueError, match="Received: mode='up'"):
        expected_best([1.0], "up")
    assert expected_best([float("nan")], "max").size == 0
