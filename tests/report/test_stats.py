"""Intervals, Holm and verdicts on synthetic scores with a known answer.

The tests behind the verdicts are in test_strata; coverage of the intervals and
their agreement with the verdicts in test_interval_agreement.
"""

import doctest
import math

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


def test_intervals_are_deterministic_and_flag_small_samples():
    a, b = [0.7, 0.75, 0.8], [0.8, 0.82, 0.85]
    first = stats.ratio_interval(a, b, "max", key=("x", "t"))
    assert first == stats.ratio_interval(a, b, "max", key=("x", "t"))
    assert not first.reliable and first.text().endswith("?")
    # 3 vs 3 trials: the U test's smallest p is 0.1, so no ratio is ruled out
    assert (first.low, first.high) == (0.0, math.inf) and first.text(2) == "0.94 [0.00, ∞)?"
    big = stats.ratio_interval(np.linspace(0.6, 0.8, 6), np.linspace(0.7, 0.9, 6), "max")
    assert big.reliable and 0 < big.low < big.estimate < 1 < big.high < math.inf


def test_the_interval_is_the_test_inverted():
    # no ties: the U test keeps r iff U(r) lies within its critical values, so the ends are
    # pairwise ratios cell_i / base_j (Moses' interval for a log-scale shift)
    rng = np.random.default_rng(18)
    cell, base = rng.normal(0.7, 0.04, 8), rng.normal(0.8, 0.04, 8)
    iv = stats.ratio_interval(cell, base, "max")
    ratios = np.sort((cell[:, None] / base[None, :]).ravel())
    assert iv.low in ratios and iv.high in ratios
    for r, kept in ((iv.low * 0.999, False), (iv.low * 1.001, True), (iv.high * 0.999, True),
                    (iv.high * 1.001, False)):
        assert (stats.rank_test(cell / r, base, "max")[0] >= stats.ALPHA) == kept
    # a lower-is-better metric: the cell's losses are multiplied by r
    loss = stats.ratio_interval(1 / cell, 1 / base, "min")
    assert loss.low == pytest.approx(iv.low) and loss.high == pytest.approx(iv.high)


def test_holm_factors_reproduce_holm_decisions():
    rng = np.random.default_rng(19)
    for _ in range(200):
        p = rng.choice([rng.uniform(0, 0.02), rng.uniform(0, 1), 0.0125, 0.025], 8)
        p[rng.random(8) < 0.1] = np.nan
        factors = stats.holm_factors(p)
        kept = np.isnan(p) | ~(factors * p < stats.ALPHA)
        assert (kept == ~(stats.holm(p) < stats.ALPHA)).all()
        assert (factors >= 1).all() and (factors <= max(1, np.isfinite(p).sum())).all()


def test_more_comparisons_widen_a_tied_interval():
    rng = np.random.default_rng(20)
    cell, base = rng.normal(0.78, 0.04, 10), rng.normal(0.8, 0.04, 10)
    one, many = (stats.ratio_interval(cell, base, "max", factor=f) for f in (1, 10))
    assert many.low < one.low <= 1 <= one.high < many.high


def test_score_interval_takes_the_min_of_the_tasks_ends():
    a, b = stats.Interval(1.2, 1.1, 1.3, True), stats.Interval(0.95, 0.9, 1.02, True)
    iv = stats.score_interval(0.95, [a, b])
    assert (iv.low, iv.high, iv.reliable) == (0.9, 1.02, True)
    assert stats.score_interval(0.95, [a, stats.Interval(0.95, None, None, False)]).low is None


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
