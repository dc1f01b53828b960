"""Bootstrap replicates of best-of-n, and the rank ranges and tied groups drawn from them."""

import itertools

import numpy as np
import pytest

from archsearch import scoring
from archsearch.report import ranking
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


def test_replicates_are_bests_of_resamples():
    values = [0.1, 0.5, 0.9]
    reps = ranking.replicates(values, "max", "k", n_boot=3000)
    # P(best of 3 resampled = 0.9) = 1 - (2/3)^3
    assert np.mean(reps == 0.9) == pytest.approx(1 - (2 / 3) ** 3, abs=0.03)
    assert set(np.unique(reps)) <= set(values)
    assert list(itertools.islice(ranking.replicates([], "max", "k"), 1)) == []


@pytest.mark.parametrize("mode", ["max", "min"])
def test_ratio_replicates_are_scoring_ratio_elementwise(mode):
    rng = np.random.default_rng(17)
    cell = rng.choice([0.0, 0.2, 0.5, 0.9, -0.1], 300)
    base = rng.choice([0.0, 0.3, 0.8, 1.2], 300)
    got = ranking.ratio_replicates(cell, base, mode)
    for c, b, r in zip(cell, base, got, strict=True):
        expected = scoring.ratio(float(c), float(b), mode)
        assert (np.isnan(r) if expected is None else r == pytest.approx(expected))


def test_bad_mode_says_what_was_expected():
    with pytest.raises(ValueError, match=r"Expected mode 'max' or 'min'\. Received: mode='up'"):
        ranking.replicates([0.5], "up")


# --- hyperparameter samples: the two-stage cluster bootstrap, paired on shared settings ---
def test_cluster_bootstrap_resamples_samples_then_seeds():
    # three samples, each with two equal seeds: the best is 0.9 iff sample A is drawn
    values, labels = [0.9, 0.9, 0.1, 0.1, 0.5, 0.5], list("AABBCC")
    reps = ranking.replicates(values, "max", "k", clusters=labels, n_boot=4000)
    assert np.mean(reps == 0.9) == pytest.approx(1 - (2 / 3) ** 3, abs=0.03)
    trials = ranking.replicates(values, "max", "k", n_boot=4000)  # 6 "independent" trials
    assert np.mean(trials == 0.9) == pytest.approx(1 - (4 / 6) ** 6, abs=0.03)


def test_shared_settings_are_resampled_jointly():
    # the cell is the baseline doubled, setting by setting: every paired replicate's ratio is 2
    rng = np.random.default_rng(26)
    base = np.repeat(rng.uniform(0.1, 0.4, 6), 2)
    labels = np.repeat(list("abcdef"), 2)

    def ratios(cell_labels):
        return ranking.ratio_replicates(
            ranking.replicates(2 * base, "max", "cell", "t", clusters=cell_labels,
                               pair_key=("t",)),
            ranking.replicates(base, "max", "gru", "t", clusters=labels, pair_key=("t",)), "max")

    assert ratios(labels) == pytest.approx(np.full(ranking.N_BOOT, 2.0))
    unpaired = ratios(np.char.add(labels, "'"))
    assert np.quantile(unpaired, 0.975) - np.quantile(unpaired, 0.025) > 0.5
