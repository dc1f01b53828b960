"""Design-aware rank tests on synthetic scores with a known answer: level, power, exact p."""

import doctest
import itertools

import numpy as np
import pytest

from archsearch.report import stats, strata

REPS = 200
N = 8
MEAN, SD = 0.8, 0.04  # noise: sd 5% of the mean


def _verdict(cell, base, mode="max"):
    p, effect = strata.rank_test(cell, base, mode)
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


def test_three_against_three_can_never_be_significant():
    p, effect = strata.rank_test([0.1, 0.2, 0.3], [0.7, 0.8, 0.9], "max")
    assert effect == 0.0 and p == pytest.approx(0.1)


# --- hyperparameter samples: stratified and cluster-level tests ---
SIMS = 400


def _design(rng, settings, seeds, shift, matched, setting_sd=10.0):
    """Scores = setting effect + shift (cell only) + seed noise N(0, 1), per side."""
    effect = rng.normal(0, setting_sd, settings)
    other = effect if matched else rng.normal(0, setting_sd, settings)
    cell_labels = np.repeat([f"s{k}" for k in range(settings)], seeds)
    base_labels = cell_labels if matched else np.repeat([f"t{k}" for k in range(settings)], seeds)
    cell = np.repeat(effect, seeds) + shift + rng.normal(0, 1, settings * seeds)
    base = np.repeat(other, seeds) + rng.normal(0, 1, settings * seeds)
    return cell, cell_labels, base, base_labels


def _rejections(seed, settings, seeds, shift, matched):
    rng = np.random.default_rng(seed)
    hits = {"trial": 0, "cluster": 0, "stratified": 0}
    for _ in range(SIMS):
        cell, cl, base, bl = _design(rng, settings, seeds, shift, matched)
        hits["trial"] += strata.rank_test(cell, base, "max")[0] < stats.ALPHA
        hits["cluster"] += strata.compare(cell, base, "max", cell_clusters=cl,
                                         baseline_clusters=bl).p_value < stats.ALPHA
        if matched:
            t = strata.compare(cell, base, "max", cell_strata=cl, baseline_strata=bl)
            assert t.test == "stratified" and t.n == t.baseline_n == settings * seeds
            hits["stratified"] += t.p_value < stats.ALPHA
    return {k: v / SIMS for k, v in hits.items()}


def test_seeds_of_one_sample_are_not_independent_trials():
    # unmatched samples (each side its own 6 settings x 4 seeds), no cell effect: the trial
    # test counts 24 trials where there are 6 samples (measured 0.35 in 2000 sims)
    rate = _rejections(21, settings=6, seeds=4, shift=0.0, matched=False)
    assert rate["trial"] >= 0.2
    assert rate["cluster"] <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / SIMS)  # measured 0.042


def test_stratified_test_holds_its_level_on_matched_samples():
    rate = _rejections(22, settings=3, seeds=4, shift=0.0, matched=True)
    assert rate["stratified"] <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / SIMS)  # measured 0.035


def test_stratified_test_finds_a_one_seed_sd_effect_the_others_miss():
    # 3 settings x 4 seeds, both sides the same settings, the cell 1 seed-sd better
    rate = _rejections(23, settings=3, seeds=4, shift=1.0, matched=True)
    assert rate["stratified"] >= 0.4      # measured 0.51 (2000 sims)
    assert rate["cluster"] == 0.0         # 3 vs 3 means: p >= 0.1
    assert rate["trial"] <= 0.05          # drowned by the settings' spread (measured 0.016)


def test_stratified_exact_p_by_hand():
    # one stratum, cell {3, 4} vs baseline {1, 2}: 2 of the C(4,2) = 6 splits are as extreme
    assert strata.stratified_test([3, 4], "aa", [1, 2], "aa", "max") == (pytest.approx(1 / 3), 1)
    # two such strata: only (+2, +2) and (-2, -2) of 36 arrangements reach |T| = 4/5
    p, effect = strata.stratified_test([3, 4, 13, 14], "aabb", [1, 2, 11, 12], "aabb", "max")
    assert p == pytest.approx(1 / 18) and effect == 1.0
    p, effect = strata.stratified_test([3, 4, 13, 14], "aabb", [1, 2, 11, 12], "aabb", "min")
    assert p == pytest.approx(1 / 18) and effect == 0.0
    # ties count half in the effect; an all-tied stratum carries no evidence
    assert strata.stratified_test([1, 1], "ab", [1, 1], "ab", "max") == (1.0, 0.5)


def test_one_stratum_is_the_exact_mann_whitney_test():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(24)
    cell, base = rng.normal(0.5, 1, 5), rng.normal(0, 1, 6)
    p, effect = strata.stratified_test(cell, ["x"] * 5, base, ["x"] * 6, "max")
    exact = mannwhitneyu(cell, base, method="exact")
    assert p == pytest.approx(exact.pvalue) and effect == pytest.approx(exact.statistic / 30)


def test_large_strata_use_seeded_monte_carlo():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(25)
    cell, base = rng.normal(0.6, 1, 15), rng.normal(0, 1, 15)  # C(30, 15) splits: too many
    p = strata.stratified_test(cell, ["x"] * 15, base, ["x"] * 15, "max", key=("k",))[0]
    assert p == strata.stratified_test(cell, ["x"] * 15, base, ["x"] * 15, "max", key=("k",))[0]
    assert p == pytest.approx(mannwhitneyu(cell, base, method="exact").pvalue, abs=0.01)
    assert (p * (1 + strata.N_PERM)) % 1 == pytest.approx(0, abs=1e-6)  # (1 + b) / (1 + B)


def test_compare_chooses_the_test_by_the_design():
    scores, base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.15, 0.25, 0.35, 0.45, 0.55, 0.65]
    singles = list("abcdef")
    # one seed per sample: exactly today's trial test
    same = strata.compare(scores, base, "max", cell_strata=singles, baseline_strata=singles,
                         cell_clusters=singles, baseline_clusters=singles)
    assert (same.p_value, same.effect) == strata.rank_test(scores, base, "max")
    assert same.test == "trial"
    # own samples with 2 seeds each: the means of 3 vs 3 samples
    t = strata.compare(scores, base, "max", cell_clusters="aabbcc", baseline_clusters="ddeeff")
    assert (t.test, t.n, t.baseline_n) == ("cluster", 6, 6)
    assert t.p_value == strata.rank_test([0.15, 0.35, 0.55], [0.2, 0.4, 0.6], "max")[0]
    # shared settings with seeds; a setting only the cell has is left out of the test
    t = strata.compare(scores + [0.9], base, "max", cell_strata="aabbccz",
                      baseline_strata="aabbcc")
    assert (t.test, t.n, t.baseline_n) == ("stratified", 6, 6)
    with pytest.raises(ValueError, match="Expected cell_strata to have one label per score"):
        strata.compare(scores, base, "max", cell_strata="ab", baseline_strata="ab")


def test_exact_null_matches_brute_force_enumeration():
    # four strata of mixed sizes, with ties: every one of the 20*10*20*6 arrangements
    groups = [([0.3, 0.5, 0.5], [0.4, 0.5, 0.1]), ([0.2, 0.9], [0.1, 0.3, 0.9]),
              ([0.7, 0.6, 0.8], [0.65, 0.1, 0.2]), ([0.4, 0.3], [0.35, 0.45])]
    cell = [v for c, _ in groups for v in c]
    base = [v for _, b in groups for v in b]
    cs = [k for k, (c, _) in enumerate(groups) for _ in c]
    bs = [k for k, (_, b) in enumerate(groups) for _ in b]
    p, _ = strata.stratified_test(cell, cs, base, bs, "max")
    from scipy.stats import rankdata

    per_stratum, observed = [], 0.0
    for c, b in groups:
        ranks, n, m = rankdata(c + b), len(c) + len(b), len(c)
        per_stratum.append([(ranks[list(idx)].sum() - m * (n + 1) / 2) / (n + 1)
                            for idx in itertools.combinations(range(n), m)])
        observed += (ranks[:m].sum() - m * (n + 1) / 2) / (n + 1)
    totals = np.array([sum(t) for t in itertools.product(*per_stratum)])
    assert len(totals) == 24_000
    assert p == pytest.approx(np.mean(np.abs(totals) >= abs(observed) - 1e-7), abs=1e-12)


def test_exact_null_of_many_strata_matches_direct_simulation():
    # 10 settings x 3 seeds a side: 20^10 arrangements, checked by 200,000 direct draws
    from scipy.stats import rankdata

    rng = np.random.default_rng(27)
    cell, base = rng.normal(0, 1, 30), rng.normal(0, 1, 30)
    labels = np.repeat(np.arange(10), 3)
    p, _ = strata.stratified_test(cell, labels, base, labels, "max")
    ranks = [rankdata(np.r_[cell[labels == k], base[labels == k]]) for k in range(10)]
    observed = sum((r[:3].sum() - 10.5) / 7 for r in ranks)
    draws = sum(((rng.random((200_000, 6)).argsort(axis=1)[:, :3] + 1).sum(axis=1) - 10.5) / 7
                for _ in ranks)
    assert p == pytest.approx(np.mean(np.abs(draws) >= abs(observed) - 1e-7), abs=0.006)



def test_bad_mode_says_what_was_expected():
    with pytest.raises(ValueError, match="Received: mode='best'"):
        strata.rank_test([0.5], [0.6], "best")
    with pytest.raises(ValueError, match="Received: mode='up'"):
        strata.compare([0.5], [0.6], "up")
    with pytest.raises(ValueError, match="Received: mode='up'"):
        strata.stratified_test([0.5], "a", [0.6], "a", "up")


def test_stats_still_exports_the_tests():
    # callers write stats.compare(...): the names that lived in stats are the same objects
    for name in ["N_PERM", "SEED", "RankTest", "compare", "rank_test", "stratified_test"]:
        assert getattr(stats, name) is getattr(strata, name) and name in stats.__all__


def test_docstring_examples():
    result = doctest.testmod(strata, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
