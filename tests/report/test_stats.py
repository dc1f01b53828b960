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


# --- hyperparameter samples: stratified and cluster-level tests, cluster bootstrap ---
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
        hits["trial"] += stats.rank_test(cell, base, "max")[0] < stats.ALPHA
        hits["cluster"] += stats.compare(cell, base, "max", cell_clusters=cl,
                                         baseline_clusters=bl).p_value < stats.ALPHA
        if matched:
            t = stats.compare(cell, base, "max", cell_strata=cl, baseline_strata=bl)
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
    assert stats.stratified_test([3, 4], "aa", [1, 2], "aa", "max") == (pytest.approx(1 / 3), 1)
    # two such strata: only (+2, +2) and (-2, -2) of 36 arrangements reach |T| = 4/5
    p, effect = stats.stratified_test([3, 4, 13, 14], "aabb", [1, 2, 11, 12], "aabb", "max")
    assert p == pytest.approx(1 / 18) and effect == 1.0
    p, effect = stats.stratified_test([3, 4, 13, 14], "aabb", [1, 2, 11, 12], "aabb", "min")
    assert p == pytest.approx(1 / 18) and effect == 0.0
    # ties count half in the effect; an all-tied stratum carries no evidence
    assert stats.stratified_test([1, 1], "ab", [1, 1], "ab", "max") == (1.0, 0.5)


def test_one_stratum_is_the_exact_mann_whitney_test():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(24)
    cell, base = rng.normal(0.5, 1, 5), rng.normal(0, 1, 6)
    p, effect = stats.stratified_test(cell, ["x"] * 5, base, ["x"] * 6, "max")
    exact = mannwhitneyu(cell, base, method="exact")
    assert p == pytest.approx(exact.pvalue) and effect == pytest.approx(exact.statistic / 30)


def test_large_strata_use_seeded_monte_carlo():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(25)
    cell, base = rng.normal(0.6, 1, 15), rng.normal(0, 1, 15)  # C(30, 15) splits: too many
    p = stats.stratified_test(cell, ["x"] * 15, base, ["x"] * 15, "max", key=("k",))[0]
    assert p == stats.stratified_test(cell, ["x"] * 15, base, ["x"] * 15, "max", key=("k",))[0]
    assert p == pytest.approx(mannwhitneyu(cell, base, method="exact").pvalue, abs=0.01)
    assert (p * (1 + stats.N_PERM)) % 1 == pytest.approx(0, abs=1e-6)  # (1 + b) / (1 + B)


def test_compare_chooses_the_test_by_the_design():
    scores, base = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.15, 0.25, 0.35, 0.45, 0.55, 0.65]
    singles = list("abcdef")
    # one seed per sample: exactly today's trial test
    same = stats.compare(scores, base, "max", cell_strata=singles, baseline_strata=singles,
                         cell_clusters=singles, baseline_clusters=singles)
    assert (same.p_value, same.effect) == stats.rank_test(scores, base, "max")
    assert same.test == "trial"
    # own samples with 2 seeds each: the means of 3 vs 3 samples
    t = stats.compare(scores, base, "max", cell_clusters="aabbcc", baseline_clusters="ddeeff")
    assert (t.test, t.n, t.baseline_n) == ("cluster", 6, 6)
    assert t.p_value == stats.rank_test([0.15, 0.35, 0.55], [0.2, 0.4, 0.6], "max")[0]
    # shared settings with seeds; a setting only the cell has is left out of the test
    t = stats.compare(scores + [0.9], base, "max", cell_strata="aabbccz",
                      baseline_strata="aabbcc")
    assert (t.test, t.n, t.baseline_n) == ("stratified", 6, 6)
    with pytest.raises(ValueError, match="Expected cell_strata to have one label per score"):
        stats.compare(scores, base, "max", cell_strata="ab", baseline_strata="ab")


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
    few = stats.ratio_interval(2 * base[:6], base[:6], "max", cell_clusters=labels[:6],
                               baseline_clusters=labels[:6])
    assert not few.reliable  # 6 trials but 3 settings


def test_exact_null_matches_brute_force_enumeration():
    # four strata of mixed sizes, with ties: every one of the 20*10*20*6 arrangements
    strata = [([0.3, 0.5, 0.5], [0.4, 0.5, 0.1]), ([0.2, 0.9], [0.1, 0.3, 0.9]),
              ([0.7, 0.6, 0.8], [0.65, 0.1, 0.2]), ([0.4, 0.3], [0.35, 0.45])]
    cell = [v for c, _ in strata for v in c]
    base = [v for _, b in strata for v in b]
    cs = [k for k, (c, _) in enumerate(strata) for _ in c]
    bs = [k for k, (_, b) in enumerate(strata) for _ in b]
    p, _ = stats.stratified_test(cell, cs, base, bs, "max")
    from scipy.stats import rankdata

    per_stratum, observed = [], 0.0
    for c, b in strata:
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
    p, _ = stats.stratified_test(cell, labels, base, labels, "max")
    ranks = [rankdata(np.r_[cell[labels == k], base[labels == k]]) for k in range(10)]
    observed = sum((r[:3].sum() - 10.5) / 7 for r in ranks)
    draws = sum(((rng.random((200_000, 6)).argsort(axis=1)[:, :3] + 1).sum(axis=1) - 10.5) / 7
                for _ in ranks)
    assert p == pytest.approx(np.mean(np.abs(draws) >= abs(observed) - 1e-7), abs=0.006)
