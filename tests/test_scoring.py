import doctest
import math

import pytest

from archsearch import scoring


def test_doctests():
    assert doctest.testmod(scoring).failed == 0


@pytest.mark.parametrize(("value", "base", "mode", "expected"), [
    (0.9, 0.9, "max", 1.0),
    (0.45, 0.9, "max", 0.5),
    (200.0, 100.0, "min", 0.5),
    (50.0, 100.0, "min", 2.0),
    (None, 1.0, "max", None),
    (1.0, None, "max", None),
    (1.0, 0.0, "max", None),
    (0.0, 1.0, "min", None),
    (math.nan, 1.0, "max", None),
    (math.inf, 1.0, "max", None),
])
def test_ratio(value, base, mode, expected):
    assert scoring.ratio(value, base, mode) == expected


def test_best_and_min_ratio():
    assert scoring.best([1.0, math.nan, None, 3.0], "min") == 1.0
    assert scoring.best([None, math.nan]) is None
    assert scoring.min_ratio([]) is None
    assert scoring.min_ratio([1.2, math.nan]) is None
    assert scoring.min_ratio([1.2, 0.7, 0.9]) == 0.7
    assert scoring.objective(3.0, "min") == -3.0
    assert scoring.objective(None) is None


def test_bad_mode():
    with pytest.raises(ValueError, match="Received: mode='up'"):
        scoring.ratio(1.0, 1.0, "up")
