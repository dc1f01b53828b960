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


# --- in a report ---------------------------------------------------------------------


def _write(run_dir, confirm_scores=None):
    """A run: gru and a mutant on arithmetic (the mutant clearly ahead in the search)."""
    from archsearch import zoo
    from archsearch.genome.mutate import Mutator
    from archsearch.rundir import CellRef, RunRecord, RunStore, TrialRecord, write_trial

    store = RunStore(str(run_dir))
    store.write_json("run.json", RunRecord(name="r", strategy="evolution", seed=0,
                                           baseline="gru", tasks=["arithmetic"],
                                           created_at="2026-01-01T00:00:00+00:00",
                                           space={}).model_dump(mode="json"))
    gru = zoo.get("gru")
    child = Mutator().run(gru, 3).child
    cells = {"gru": (gru, "gru", 0.80), "mut": (child, None, 0.90)}
    k = 0

    def trial(key, score, seed, phase, test):
        nonlocal k
        genome, name, _ = cells[key]
        write_trial(store, TrialRecord(
            trial_id=str(k) if phase == "search" else f"c{k}", strategy="evolution",
            status="completed", task="arithmetic", stage="search", seed=seed, sample=seed,
            cell=CellRef(name=name, fingerprint=genome.fingerprint(), genome=genome.to_dict(),
                         origin="seed" if name else "mutation",
                         parent=None if name else gru.fingerprint()),
            hparams={"learning_rate": 0.1}, score=score, score_metric="accuracy",
            score_mode="max", metrics={"valid": {"accuracy": score}, "test": {"accuracy": test}},
            finished_at=f"2026-01-01T00:{k // 60:02d}:{k % 60:02d}+00:00", phase=phase))
        k += 1

    for key, (_, _, mu) in cells.items():
        for s in range(6):
            trial(key, mu + 0.001 * s, s, "search", mu)
    for key, values in (confirm_scores or {}).items():
        for s, v in enumerate(values):
            trial(key, v, 1_000_000 + s, "confirm", v)
    return child.fingerprint()


def test_a_mutant_is_never_better_on_the_trials_it_was_selected_on(tmp_path):
    from archsearch.report import build_report

    fp = _write(tmp_path / "run")
    report = build_report([tmp_path / "run"], tmp_path / "out")
    cell = report.cell(fp)
    assert cell.verdict == "not confirmed" and report.confirmed == ()
    assert not any("beats gru" in line and cell.label in line
                   for line in report.findings.established)
    assert any("not confirmed" in line for line in report.findings.not_established)
    import pandas as pd

    comparisons = pd.read_csv(tmp_path / "out" / "comparisons.csv")
    assert set(comparisons.phase) == {"search"}


@pytest.mark.parametrize(("mutant", "verdict"), [
    ([0.80, 0.81, 0.79, 0.80, 0.805], "tied"),    # the search's gain was noise
    ([0.90, 0.91, 0.89, 0.905, 0.90], "better"),  # it holds on fresh seeds
])
def test_confirmation_decides_with_test_scores_on_fresh_seeds(tmp_path, mutant, verdict):
    import pandas as pd

    from archsearch.report import build_report

    fp = _write(tmp_path / "run", {"gru": [0.80, 0.79, 0.81, 0.80, 0.795], "mut": mutant})
    report = build_report([tmp_path / "run"], tmp_path / "out")
    (row,) = report.confirmed
    assert (row.fingerprint, row.task, row.verdict, row.n) == (fp, "arithmetic", verdict, 5)
    assert row.search_ratio == pytest.approx(report.cell(fp).tasks["arithmetic"].ratio)
    assert report.cell(fp).verdict == ("better" if verdict == "better" else "not confirmed")
    assert len([t for t in report.trials.itertuples()]) == 12  # search trials only
    comparisons = pd.read_csv(tmp_path / "out" / "comparisons.csv")
    confirm = comparisons[comparisons.phase == "confirm"]
    assert list(confirm.verdict) == [verdict] and list(confirm.test) == ["welch-log"]
    board = pd.read_csv(tmp_path / "out" / "leaderboard.csv")
    held = board[board.fingerprint == fp].iloc[0]
    assert held.confirmed_score == pytest.approx(row.ratio)
    assert held.confirmed_low <= held.confirmed_score <= held.confirmed_high
    html = (tmp_path / "out" / "index.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Confirmed on fresh seeds" in html and "Confirmed on fresh seeds" in md
    label = report.cell(fp).label
    assert (f"{label} is confirmed better than gru" in html) == (verdict == "better")
    assert ("No discovered cell is confirmed better" in md) == (verdict != "better")
