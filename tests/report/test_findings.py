"""Findings, comparisons.csv, rank groups and seed noise on synthetic runs with a known answer."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from archsearch.report import load_runs, summarize, write_report
from archsearch.report.tables import COMPARISON_COLUMNS

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import normal_scores, write_scores  # noqa: E402

N = 8
TASKS = ("arithmetic", "xml")
# gru and lstm_b: one distribution; lstm 10% worse; tanh_rnn half as good (sd ~2.5% of the mean)
MEANS = {"gru": 0.9, "lstm_b": 0.9, "lstm": 0.81, "tanh_rnn": 0.45}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    scores = {cell: {task: normal_scores(mean, 0.02, N, seed=10 * k + j)
                     for j, task in enumerate(TASKS)}
              for k, (cell, mean) in enumerate(MEANS.items())}
    run = write_scores(tmp_path_factory.mktemp("known") / "run", scores)
    return summarize(load_runs([run])), scores


def test_established_differences_are_stated_with_numbers(known):
    report, scores = known
    text = "\n".join(report.findings.established)
    for task in TASKS:
        ratio = max(scores["tanh_rnn"][task]) / max(scores["gru"][task])
        assert f"gru beats tanh_rnn on {task}: tanh_rnn/gru ratio {ratio:.2f} [" in text
        assert f"gru beats lstm on {task}" in text
    assert f"{N} vs {N} trials" in text and "(Holm)" in text
    assert "lstm_b" not in text  # same distribution as the baseline: never established


def test_ties_are_shown_as_ties(known):
    report, _ = known
    ties = "\n".join(report.findings.not_established)
    assert "lstm_b vs gru: tied on the score (min over tasks) at this budget" in ties
    lstm_b, gru, lstm, tanh = (report.cell(n) for n in ("lstm_b", "gru", "lstm", "tanh_rnn"))
    assert lstm_b.verdict == "tied" and gru.verdict == "baseline"
    assert lstm.verdict == "worse" and tanh.verdict == "worse"
    assert lstm_b.group == gru.group == 1
    assert lstm.group == 2 and tanh.group == 3 and tanh.rank_range == "4"
    assert lstm_b.rank_low == 1 and lstm_b.rank_high == 2


def test_paper_claims(known):
    report, _ = known
    claims = {c.claim: c.verdict for c in report.findings.claims}
    assert claims["The tanh RNN is last"] == "reproduced"
    assert claims["LSTM-b (forget bias 1) is at least as good as the LSTM"] == "reproduced"
    assert claims["The GRU beats the LSTM except on language modelling"] == "reproduced"
    # no lstm_f/i/o, mut1-3 in this report: those claims are not mentioned
    assert len(claims) == 3


def test_a_contradicted_claim(tmp_path):
    scores = {"gru": {"xml": normal_scores(0.9, 0.02, N, 1)},
              "lstm": {"xml": normal_scores(0.9, 0.02, N, 2)},
              "lstm_b": {"xml": normal_scores(0.6, 0.02, N, 3)}}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    claims = {c.claim: c for c in report.findings.claims}
    check = claims["LSTM-b (forget bias 1) is at least as good as the LSTM"]
    assert check.verdict == "contradicted"
    assert "lstm beats lstm_b on xml" in check.evidence
    assert claims["The GRU beats the LSTM except on language modelling"].verdict == "inconclusive"


def test_comparisons_csv(known, tmp_path):
    report, scores = known
    out = write_report(report, tmp_path / "out", figures=False)
    with open(out / "comparisons.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(COMPARISON_COLUMNS) <= set(rows[0])
    assert {"cell", "fingerprint", "task", "n", "baseline_n", "ratio", "ratio_low",
            "ratio_high", "p_value", "verdict"} <= set(rows[0])
    # one row per (cell, task), the baseline's included, plus one score row per cell
    assert len(rows) == len(MEANS) * len(TASKS) + len(MEANS)
    by_key = {(r["cell"], r["task"]): r for r in rows}
    row = by_key[("lstm", "xml")]
    assert float(row["ratio"]) == pytest.approx(max(scores["lstm"]["xml"])
                                                / max(scores["gru"]["xml"]))
    assert float(row["ratio_low"]) <= float(row["ratio"]) <= float(row["ratio_high"])
    assert row["verdict"] == "worse" and int(row["n"]) == int(row["baseline_n"]) == N
    assert by_key[("gru", "score")]["verdict"] == "baseline"
    assert by_key[("lstm_b", "score")]["verdict"] == "tied"
    assert by_key[("tanh_rnn", "score")]["verdict"] == "worse"
    p_holm = [float(r["p_holm"]) for r in rows if r["p_value"]]
    p_raw = [float(r["p_value"]) for r in rows if r["p_value"]]
    assert all(h >= p for h, p in zip(p_holm, p_raw, strict=True))


def test_findings_come_first_in_the_report(known, tmp_path):
    report, _ = known
    out = write_report(report, tmp_path / "out", figures=False)
    md = (out / "report.md").read_text()
    assert md.index("## Findings") < md.index("## Runs") < md.index("## Leaderboard")
    assert "gru beats tanh_rnn on arithmetic" in md and "**reproduced**" in md
    html = (out / "index.html").read_text()
    assert html.index('id="findings"') < html.index('id="summary"')
    assert "lstm_b vs gru: tied" in html
    assert '<span class="verdict worse">worse</span>' in html


def test_seed_noise_is_split_from_hyperparameter_spread(tmp_path):
    # 4 settings x 3 seeds: settings 0.1 apart, seeds with sd ~0.005
    rng = np.random.default_rng(3)
    values = [0.5 + 0.1 * s + rng.normal(0, 0.005) for s in range(4) for _ in range(3)]
    scores = {"gru": {"xml": values}, "lstm": {"xml": values[::-1]}}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores,
                                               seeds_per_setting=3)]))
    split = next(n for n in report.noise if n.cell == "gru")
    groups = np.array(values).reshape(4, 3)
    assert (split.settings, split.repeated) == (4, 4)
    assert split.seed_sd == pytest.approx(np.sqrt(groups.var(axis=1, ddof=1).mean()))
    assert split.hparam_sd == pytest.approx(groups.mean(axis=1).std(ddof=1))
    assert split.seed_sd < 0.01 < 0.1 < split.hparam_sd
    md = write_report(report, tmp_path / "out", figures=False) / "report.md"
    assert "## Seeds and hyperparameter samples" in md.read_text()
    assert "| gru | xml | 4 | 4 |" in md.read_text()


def test_no_baseline_means_no_comparisons(tmp_path):
    scores = {"lstm": {"xml": normal_scores(0.8, 0.02, 4, 1)},
              "tanh_rnn": {"xml": normal_scores(0.5, 0.02, 4, 2)}}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    assert report.comparisons == () and report.findings.established == ()
    assert "baseline 'gru' has no completed trials" in report.findings.notes[0]
    assert any("baseline 'gru' has no completed trials" in w for w in report.warnings)


def test_one_cell_is_a_tuning_study_not_a_missing_baseline(tmp_path):
    scores = {"lstm": {"xml": normal_scores(0.8, 0.02, 4, 1)}}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    assert report.comparisons == () and report.findings.established == ()
    assert report.findings.notes[0].startswith("No comparisons: these runs hold one cell (lstm)")
    assert not any("baseline" in w for w in report.warnings)


def test_one_trial_per_cell_ranks_nothing(tmp_path):
    # the README's quickstart: one sample per cell and task; the raw bests differ a lot
    bests = {"gru": 0.9, "lstm_f": 0.87, "lstm": 0.72, "lstm_b": 0.71, "tanh_rnn": 0.5}
    scores = {cell: {"arithmetic": [b], "xml": [b / 2]} for cell, b in bests.items()}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    assert report.findings.established == ()
    assert {c.verdict for c in report.cells} == {"tied", "baseline"}
    assert {c.group for c in report.cells} == {1}
    assert {c.rank_range for c in report.cells} == {"1-5"}
    assert all(not c.score_reliable for c in report.cells)
    claims = {c.claim: c.verdict for c in report.findings.claims}
    assert set(claims.values()) == {"inconclusive"}
    md = write_report(report, tmp_path / "out", figures=False) / "report.md"
    assert "No difference from gru is established at this budget" in md.read_text()
    # no interval from a single trial: the ratio says so instead of a zero-width interval
    assert "×0.800 [?]" in md.read_text() and "[0.80, 0.80]" not in md.read_text()
    assert all(c.ratio_low is None for c in report.comparisons if c.verdict != "baseline")


def test_reports_are_deterministic(known, tmp_path):
    report, scores = known
    again = summarize(load_runs([write_scores(tmp_path / "again", scores)]))
    assert again.comparisons == report.comparisons
    assert again.findings == report.findings
    assert [(c.rank_low, c.rank_high, c.group) for c in again.cells] == \
        [(c.rank_low, c.rank_high, c.group) for c in report.cells]


def test_claim_checks_do_not_dilute_the_verdicts(tmp_path):
    # Ten cells, 6 trials each, two tasks: the paper-claim pairs (dozens of tests)
    # are their own Holm family, so a perfectly separated cell still gets its verdict.
    cells = ["gru", "lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "mut1", "mut2", "mut3",
             "tanh_rnn"]
    scores = {cell: {task: normal_scores(0.2 if cell == "tanh_rnn" else 0.5, 0.01, 6,
                                         seed=10 * k + j)
                     for j, task in enumerate(TASKS)} for k, cell in enumerate(cells)}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    verdicts = {(c.cell, c.task): c.verdict for c in report.comparisons}
    assert verdicts[("tanh_rnn", "score")] == "worse"
    assert verdicts[("tanh_rnn", "arithmetic")] == "worse"
    assert len(report.pairs) > 20  # many claim checks, corrected among themselves
    assert all(v in ("tied", "baseline") for (cell, _), v in verdicts.items()
               if cell != "tanh_rnn")


def test_the_language_modelling_exception_is_its_own_claim(tmp_path):
    # GRU ahead of the LSTM everywhere, char_lm included: the general claim is
    # reproduced on trec, the paper's LM exception is contradicted on char_lm.
    scores = {"gru": {"trec": normal_scores(0.9, 0.005, 9, 1),
                      "char_lm": normal_scores(0.5, 0.005, 9, 2)},
              "lstm": {"trec": normal_scores(0.8, 0.005, 9, 3),
                       "char_lm": normal_scores(0.4, 0.005, 9, 4)}}
    report = summarize(load_runs([write_scores(tmp_path / "run", scores)]))
    text = {c.claim: c for c in report.findings.claims}
    general = text["The GRU beats the LSTM except on language modelling"]
    exception = text["On language modelling the LSTM beats the GRU (the paper's one exception)"]
    assert general.verdict == "reproduced" and "char_lm" not in general.evidence
    assert exception.verdict == "contradicted" and "char_lm" in exception.evidence


def test_findings_docstring_examples_run():
    import doctest

    from archsearch.report import confirmed, findings

    for module in (findings, confirmed):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, (module.__name__, result)
