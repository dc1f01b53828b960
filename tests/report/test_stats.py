"""Intervals, Holm and verdicts on synthetic scores with a known answer (tests: test_strata)."""

import doctest
import itertools

import numpy as np
import pytest

from archsearch import scoring
from archsearch.report import stats

REPS = 200
N = 8
MEAN, SD = 0.8, 0.04  # noise: sd 5% of the mean


def test_lower_is_better_metrics_are_oriented():
    rng = np.random.default_rng(14)
    base = rng.normal(100.0, 5.0, N)          # perplexity of the baseline
    cell = rng.normal(140.0, 5.0, N)          # clearly higher perplexity: worse
    assert stats.verdict(*stats.rank_test(cell, base, "min")) == "worse"
    assert stats.verdict(*stats.rank_test(base, cell, "min")) == "better"
    iv = stats.ratio_interval(cell, base, "min")
    assert iv.estimate == pytest.approx(scoring.ratio(cell.min(), base.min(), "min"))
    assert iv.high < 1


def test_holm_on_a_known_vector():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    # sorted: 0.005*4, 0.01*3, 0.03*2, 0.04*1 -> 0.02, 0.03, 0.06, max(0.06, 0.04)
    assert stats.holm(p)[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(stats.holm(p)[4])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_overall_verdict_rule():
    assert stats.overall_verdict(["better", "worse"]) == "worse"
    assert stats.overall_verdict(["better", "better"]) == "better"
    assert stats.overall_verdict(["better", "tied"]) == "tied"
    assert stats.overall_verdict(["baseline", "baseline"]) == "baseline"
    assert stats.verdict(0.049, 0.2) == "worse" and stats.verdict(0.05, 0.2) == "tied"
    assert stats.verdict(0.01, 0.9) == "better"


def test_bootstrap_interval_coverage_on_a_known_case():
    # truth: ratio of the expected best of 8 trials, N(0.72, 0.04) vs N(0.8, 0.04)
    rng = np.random.default_rng(15)
    truth = (rng.normal(0.72, SD, (100_000, N)).max(1).mean()
             / rng.normal(MEAN, SD, (100_000, N)).max(1).mean())
    covered = 0
    for k in range(REPS):
        cell, base = rng.normal(0.72, SD, N), rng.normal(MEAN, SD, N)
        iv = stats.ratio_interval(cell, base, "max", key=("cov", k), n_boot=500)
        covered += iv.low <= truth <= iv.high
    # nominal 95%; the percentile bootstrap of a best-of-8 is known to be narrow (~80-87%)
    assert 0.75 <= covered / REPS <= 0.99


def test_intervals_are_deterministic_and_flag_small_samples():
    a, b = [0.7, 0.75, 0.8], [0.8, 0.82, 0.85]
    first = stats.ratio_interval(a, b, "max", key=("x", "t"))
    assert first == stats.ratio_interval(a, b, "max", key=("x", "t"))
    assert not first.reliable and first.text().endswith("?")
    assert first.low <= first.estimate <= first.high
    big = stats.ratio_interval(np.linspace(0.6, 0.8, 6), np.linspace(0.7, 0.9, 6), "max")
    assert big.reliable


def test_score_interval_resamples_all_tasks():
    rng = np.random.default_rng(16)
    base = {"a": rng.normal(0.8, 0.02, 10), "b": rng.normal(0.5, 0.02, 10)}
    cell = {"a": rng.normal(0.8, 0.02, 10), "b": rng.normal(0.25, 0.02, 10)}
    iv = stats.score_interval(cell, base, {"a": "max", "b": "max"})
    # the min is decided by task b, about 0.5
    assert iv.estimate == pytest.approx(min(cell[t].max() / base[t].max() for t in base))
    assert 0.4 < iv.low <= iv.estimate <= iv.high < 0.6


def test_replicates_are_bests_of_resamples():
    values = [0.1, 0.5, 0.9]
    reps = stats.replicates(values, "max", "k", n_boot=3000)
    # P(best of 3 resampled = 0.9) = 1 - (2/3)^3
    assert np.mean(reps == 0.9) == pytest.approx(1 - (2 / 3) ** 3, abs=0.03)
    assert set(np.unique(reps)) <= set(values)
    assert list(itertools.islice(stats.replicates([], "max", "k"), 1)) == []


@pytest.mark.parametrize("mode", ["max", "min"])
def test_ratio_replicates_are_scoring_ratio_elementwise(mode):
    rng = np.random.default_rng(17)
    cell = rng.choice([0.0, 0.2, 0.5, 0.9, -0.1], 300)
    base = rng.choice([0.0, 0.3, 0.8, 1.2], 300)
    got = stats.ratio_replicates(cell, base, mode)
    for c, b, r in zip(cell, base, got, strict=True):
        expected = scoring.ratio(float(c), float(b), mode)
        assert (np.isnan(r) if expected is None else r == pytest.approx(expected))


def test_bad_mode_says_what_was_expected():
    with pytest.raises(ValueError, match=r"Expected mode 'max' or 'min'\. Received: mode='up'"):
        stats.replicates([0.5], "up")


# --- hyperparameter samples: the two-stage cluster bootstrap, paired on shared settings ---
def test_cluster_bootstrap_resamples_samples_then_seeds():
    # three samples, each with two equal seeds: the best is 0.9 iff sample A is drawn
    values, labels = [0.9, 0.9, 0.1, 0.1, 0.5, 0.5], list("AABBCC")
    reps = stats.replicates(values, "max", "k", clusters=labels, n_boot=4000)
    assert np.mean(reps == 0.9) == pytest.approx(1 - (2 / 3) ** 3, abs=0.03)
    trials = stats.replicates(values, "max", "k", n_boot=4000)  # 6 "independent" trials
    assert np.mean(trials == 0.9) == pytest.approx(1 - (4 / 6) ** 6, abs=0.03)


def test_shared_settings_are_resampled_jointly():
    # the cell is the baseline doubled, setting by setting: every paired replicate's ratio is 2
    rng = np.random.default_rng(26)
    base = np.repeat(rng.uniform(0.1, 0.4, 6), 2)
    labels = np.repeat(list("abcdef"), 2)
    iv = stats.ratio_interval(2 * base, base, "max", cell_clusters=labels,
                              baseline_clusters=labels)
    assert iv.low == pytest.approx(2.0) and iv.high == pytest.approx(2.0)
    assert iv.reliable  # 6 settings
    unpaired = stats.ratio_interval(2 * base, base, "max", cell_clusters=labels,
                                    baseline_clusters=np.char.add(labels, "'"))
    assert unpaired.high - unpaired.low > 0.5
    few = stats.ratio_interval(2 * base[:4], base[:4], "max", cell_clusters=labels[:4],
                               baseline_clusters=labels[:4])
    assert not few.reliable  # 4 trials a side


def test_reliability_counts_trials_in_matched_designs_and_settings_otherwise():
    base = np.linspace(0.5, 0.6, 10)
    one_setting = ["s"] * 10  # forget_bias_cpu: one setting x 10 seeds for every cell
    assert stats.is_reliable(base, base + 0.01, one_setting, one_setting)
    six = np.repeat(list("abc"), 2)  # 3 shared settings x 2 seeds: 6 trials a side
    assert stats.is_reliable(base[:6], base[:6], six, six)
    other = np.repeat(list("xyz"), 2)  # 3 settings of its own: 3 independent samples
    assert not stats.is_reliable(base[:6], base[:6], six, other)
    assert stats.is_reliable(base[:6], base[:6])  # no settings: 6 trials


def test_docstring_examples():
    result = doctest.testmod(stats, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
