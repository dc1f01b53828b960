"""Confirmed results on synthetic searches with a known answer.

Each synthetic search: 40 mutants and the baseline, every cell's trials
drawn around its true score with a relative seed noise; the search ranks
cells by best-of-3 validation ratio to the baseline's best and picks the top
5; confirmation retrains those 5 and a seed cell on 5 fresh seeds each.
"""

import numpy as np
import pytest

from archsearch.report.confirmed import ConfirmInput, confirm_table, holm_levels

TRUE, NOISE, MUTANTS, SEARCH_N, TOP, SEEDS, RUNS = 0.8, 0.015, 40, 3, 5, 5, 400


def _search_and_confirm(rng, better_by: float = 0.0):
    """(search-phase best ratio of the winner, confirmed rows) of one synthetic search."""
    truth = np.full(MUTANTS, TRUE)
    truth[0] *= 1 + better_by
    draw = lambda mu, n: mu * (1 + NOISE * rng.standard_normal(n))  # noqa: E731
    search = np.array([draw(mu, SEARCH_N).max() for mu in truth])
    baseline_best = draw(TRUE, SEARCH_N).max()
    ratios = search / baseline_best
    top = np.argsort(-ratios)[:TOP]
    baseline = draw(TRUE, SEEDS)
    inputs = [ConfirmInput(f"m{i}", "t", "max", list(draw(truth[i], SEEDS)), list(baseline),
                           search_ratio=float(ratios[i])) for i in top]
    inputs.append(ConfirmInput("seed", "t", "max", list(draw(TRUE, SEEDS)), list(baseline),
                               role="seed"))
    return float(ratios[top[0]]), confirm_table(inputs), [f"m{i}" for i in top]


def test_under_the_null_the_search_winner_looks_better_yet_confirmation_says_so_rarely():
    rng = np.random.default_rng(0)
    looks, false_better, shrink = 0, 0, []
    for _ in range(RUNS):
        best, rows, _ = _search_and_confirm(rng)
        looks += best > 1
        false_better += any(r.verdict == "better" for r in rows)
        shrink.extend(r.shrinkage for r in rows if r.shrinkage is not None)
    rate = false_better / RUNS
    assert looks / RUNS > 0.9, f"search winner above the baseline in {looks / RUNS:.1%} of runs"
    # 5% plus three binomial standard errors at 400 runs.
    assert rate <= 0.05 + 3 * (0.05 * 0.95 / RUNS) ** 0.5, f"confirmed better in {rate:.1%}"
    assert np.mean(shrink) > 0, "the search estimate should shrink on fresh seeds"


def test_a_mutant_truly_5_percent_better_is_confirmed_in_most_runs():
    rng = np.random.default_rng(1)
    found = chosen = 0
    for _ in range(RUNS):
        _, rows, top = _search_and_confirm(rng, better_by=0.05)
        chosen += "m0" in top
        found += any(r.cell == "m0" and r.verdict == "better" for r in rows)
    assert chosen / RUNS > 0.95
    assert found / RUNS >= 0.8, f"confirmed in {found / RUNS:.1%} of runs"


def test_an_interval_never_disagrees_with_its_verdict():
    rng = np.random.default_rng(2)
    for trial in range(300):
        m = int(rng.integers(1, 8))
        effects = rng.choice([0.0, 0.0, 0.02, -0.03, 0.06], size=m)
        inputs = [ConfirmInput(f"c{k}", "t", "max" if trial % 2 else "min",
                               list(TRUE * (1 + e) * (1 + NOISE * rng.standard_normal(5))),
                               list(TRUE * (1 + NOISE * rng.standard_normal(5))))
                  for k, e in enumerate(effects)]
        for row in confirm_table(inputs):
            excludes = row.low > 1 or row.high < 1
            assert excludes == (row.verdict in ("better", "worse")), row
            if row.verdict == "better":
                assert row.low > 1
            if row.verdict == "worse":
                assert row.high < 1


def test_coverage_of_a_single_interval_is_nominal():
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(1000):
        a = TRUE * 1.03 * (1 + NOISE * rng.standard_normal(6))
        b = TRUE * (1 + NOISE * rng.standard_normal(6))
        row = confirm_table([ConfirmInput("a", "t", "max", list(a), list(b))])[0]
        covered += row.low <= 1.03 <= row.high
    assert covered / 1000 >= 0.93, f"coverage {covered / 1000:.1%}"


def test_holm_levels_and_too_few_scores():
    rejected, levels = holm_levels([0.001, 0.2, 0.004])
    assert rejected == [True, False, True] and levels[1] == pytest.approx(0.05)
    row = confirm_table([ConfirmInput("a", "t", "max", [0.5], [0.5, 0.6])])[0]
    assert row.verdict == "n/a" and row.ratio is None
