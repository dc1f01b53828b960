"""Statistics on synthetic trial scores with a known answer: level, power, Holm, coverage."""

import itertools

import numpy as np
import pytest

from archsearch import scoring
from archsearch.report import stats

REPS = 200
N = 8
MEAN, SD = 0.8, 0.04  # noise: sd 5% of the mean


def _verdict(cell, base, mode="max"):
    p, effect = stats.rank_test(cell, base, mode)
    return stats.verdict(p, effect)


def test_same_distribution_is_rarely_called_better_or_worse():
    rng = np.random.default_rng(11)
    calls = sum(_verdict(rng.normal(MEAN, SD, N), rng.normal(MEAN, SD, N)) != "tied"
                for _ in range(REPS))
    assert calls / REPS <= 0.10


def test_same_distribution_with_unequal_n_and_ties_holds_its_level():
    rng = np.random.default_rng(12)
    # scores rounded to 2 decimals: ties; 5 vs 12 trials
    calls = sum(_verdict(rng.normal(MEAN, SD, 5).round(2), rng.normal(MEAN, SD, 12).round(2))
                != "tied" for _ in range(REPS))
    assert calls / REPS <= 0.10


def test_ten_percent_worse_is_found():
    rng = np.random.default_rng(13)
    verdicts = [_verdict(rng.normal(0.9 * MEAN, SD, N), rng.normal(MEAN, SD, N))
                for _ in range(REPS)]
    assert verdicts.count("worse") / REPS >= 0.80
    assert "better" not in verdicts


def test_lower_is_better_metrics_are_oriented():
    rng = np.random.default_rng(14)
    base = rng.normal(100.0, 5.0, N)          # perplexity of the baseline
    cell = rng.normal(140.0, 5.0, N)          # clearly higher perplexity: worse
    assert _verdict(cell, base, "min") == "worse"
    assert _verdict(base, cell, "min") == "better"
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


def test_three_against_three_can_never_be_significant():
    p, effect = stats.rank_test([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], "max")
    assert effect == 0.0 and p == pytest.approx(0.1)


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
    with pytest.raises(ValueError, match="Received: mode='best'"):
        stats.rank_test([0.5], [0.6], "best")
