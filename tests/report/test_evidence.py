"""Verdicts vs the baseline when hyperparameter samples have several seeds (a known answer)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from archsearch.report import load_runs, stats, summarize, write_report

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import write_scores  # noqa: E402

SETTINGS, SEEDS = 3, 4
RATES = [0.1, 0.5, 1.0, 2.0, 5.0, 0.2]
SETTING_EFFECT = {0.1: 0.0, 0.5: 0.3, 1.0: 0.15, 2.0: 0.05, 5.0: 0.25, 0.2: 0.2}
SEED_SD = 0.01


def _hparams(rates):
    return [{"learning_rate": lr, "init_scale": 1.0} for lr in rates for _ in range(SEEDS)]


def _scores(rng, rates, shift=0.0):
    return [0.5 + SETTING_EFFECT[lr] + shift + rng.normal(0, SEED_SD)
            for lr in rates for _ in range(SEEDS)]


def _comparisons(report):
    return {(c.cell, c.task): c for c in report.comparisons}


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    """Every cell trained on the same 3 settings x 4 seeds; lstm 2 seed-sd worse."""
    rng = np.random.default_rng(5)
    rates = RATES[:SETTINGS]
    scores = {"gru": {"xml": _scores(rng, rates)}, "lstm_b": {"xml": _scores(rng, rates)},
              "lstm": {"xml": _scores(rng, rates, shift=-2 * SEED_SD)}}
    run = write_scores(tmp_path_factory.mktemp("matched") / "run", scores,
                       seeds_per_setting=SEEDS, hparams=_hparams(rates))
    return summarize(load_runs([run]))


def test_matched_samples_find_the_worse_cell_and_tie_the_same_one(matched):
    rows = _comparisons(matched)
    worse, same = rows[("lstm", "xml")], rows[("lstm_b", "xml")]
    assert worse.test == same.test == "stratified"
    assert (worse.n, worse.reference_n) == (SETTINGS * SEEDS, SETTINGS * SEEDS)
    assert worse.verdict == "worse" and worse.effect < 0.2
    assert same.verdict == "tied"
    # 3 shared settings x 4 seeds: matched, so the 12 trials a side count
    assert worse.reliable and worse.ratio_low <= worse.ratio <= worse.ratio_high


def test_comparisons_csv_names_the_test(matched, tmp_path):
    import csv

    out = write_report(matched, tmp_path / "out", figures=False)
    with (out / "comparisons.csv").open() as f:
        rows = {(r["cell"], r["task"]): r for r in csv.DictReader(f)}
    assert rows[("lstm", "xml")]["test"] == "stratified"
    assert rows[("lstm", "xml")]["n"] == str(SETTINGS * SEEDS)


def test_unlucky_samples_are_not_a_worse_cell(tmp_path):
    # lstm_b is the gru given its setting, but drew the 3 settings with the smallest effect,
    # each trained with 4 seeds; the gru drew the best ones
    rng = np.random.default_rng(6)
    good, bad = [0.5, 5.0, 0.2], [0.1, 2.0, 1.0]
    scores = {"gru": {"xml": _scores(rng, good)}, "lstm_b": {"xml": _scores(rng, bad)}}
    hparams = _hparams(good) + _hparams(bad)
    run = write_scores(tmp_path / "run", {"gru": scores["gru"]}, seeds_per_setting=SEEDS,
                       hparams=hparams[:12])
    write_scores(tmp_path / "run2", {"lstm_b": scores["lstm_b"]}, seeds_per_setting=SEEDS,
                 hparams=hparams[12:])
    report = summarize(load_runs([run, tmp_path / "run2"]))
    row = _comparisons(report)[("lstm_b", "xml")]
    assert row.test == "cluster" and row.verdict == "tied" and row.n == 12
    # the trial-level test treats the 12 seeds as 12 samples and calls it worse
    p, effect = stats.rank_test(scores["lstm_b"]["xml"], scores["gru"]["xml"], "max")
    assert p < 0.001 and effect == 0.0
