"""Rank ranges and tied groups from bootstrap replicates."""

import numpy as np

from archsearch.report.ranking import rank_ranges, tied_groups


def test_separated_cells_get_strict_ranks_and_overlapping_ones_share_a_group():
    rng = np.random.default_rng(1)
    reps = {"a": rng.normal(1.0, 0.01, 1000), "b": rng.normal(1.0, 0.01, 1000),
            "c": rng.normal(0.7, 0.01, 1000), "d": rng.normal(0.4, 0.01, 1000)}
    ranges = rank_ranges(reps)
    assert ranges["a"] == (1, 2) and ranges["b"] == (1, 2)
    assert ranges["c"] == (3, 3) and ranges["d"] == (4, 4)
    assert tied_groups(["a", "b", "c", "d"], ranges) == {"a": 1, "b": 1, "c": 2, "d": 3}


def test_missing_scores_rank_last_and_unranked_cells_are_skipped():
    reps = {"a": np.full(100, 0.9), "b": np.full(100, np.nan)}
    ranges = rank_ranges(reps)
    assert ranges == {"a": (1, 1), "b": (2, 2)}
    assert tied_groups(["x", "a", "b"], ranges) == {"a": 1, "b": 2}
