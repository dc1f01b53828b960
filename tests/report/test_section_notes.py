"""Sections with nothing worth a figure say so in one line, once, and draw nothing.

The Hyperparameters section when no hyperparameter varies (the quickstart),
the importance heat map when only the learning rate varies (fANOVA gives it
1.00 by construction), too few trials for fANOVA (one note, not two), and the
search progress of a study whose runs are all `fixed`.
"""

import re
import sys
import warnings
from pathlib import Path

import pytest

from archsearch.report import build_report

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import LEARNING_RATES, normal_scores, write_scores  # noqa: E402

NO_HPARAM = "No hyperparameter varies in these trials"
ONLY_LR = "learning_rate is the only hyperparameter that varies in these trials"
TOO_FEW = "too few trials for fANOVA"
FIXED = "every run is a fixed study"
SETTING = {"learning_rate": 0.01, "init_scale": 1.0, "clip_norm": 5.0, "num_layers": 1}


def _build(runs, out: Path, figures: bool = True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(runs, out, figures=figures)
    html = (out / "index.html").read_text()
    md = (out / "report.md").read_text()
    drawn = {p.name for p in (out / "figures").iterdir()}
    return report, html, md, drawn


def _html_section(html: str, key: str) -> str:
    return re.search(rf'<section id="{key}">(.*?)</section>', html, re.S).group(1)


def _md_section(md: str, title: str) -> str:
    return re.search(rf"\n## {title}\n(.*?)\n## ", md, re.S).group(1)


def _one_note(section: str, note: str, *, markdown: bool) -> None:
    assert section.count(note) == 1, section
    figure = "![" if markdown else "<img"
    assert figure not in section, section


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """Five cells, one task, one hyperparameter setting, a fixed study: the quickstart's shape."""
    root = tmp_path_factory.mktemp("quickstart")
    means = {"lstm": 0.39, "lstm_b": 0.44, "gru": 0.49, "lstm_f": 0.44, "tanh_rnn": 0.21}
    scores = {cell: {"arithmetic": normal_scores(m, 0.03, 6, k)}
              for k, (cell, m) in enumerate(means.items())}
    return write_scores(root / "run", scores, name="quickstart", hparams=[SETTING] * 6)


@pytest.mark.parametrize("figures", [True, False])
def test_no_varying_hyperparameter_is_one_line(quickstart, tmp_path, figures):
    _, html, md, drawn = _build([quickstart], tmp_path / "out", figures)
    for text, section, markdown in ((html, _html_section(html, "hparams"), False),
                                    (md, _md_section(md, "Hyperparameters"), True)):
        _one_note(section, NO_HPARAM, markdown=markdown)
        assert text.count(NO_HPARAM) == 1
        assert "Hyperparameter importance" not in section  # no line per figure either
        assert "Hyperparameter sensitivity" not in section
    assert not {"importance.png", "sensitivity.png"} & drawn


@pytest.mark.parametrize("figures", [True, False])
def test_a_fixed_study_has_no_search_progress(quickstart, tmp_path, figures):
    _, html, md, drawn = _build([quickstart], tmp_path / "out", figures)
    _one_note(_html_section(html, "progress"), FIXED, markdown=False)
    _one_note(_md_section(md, "Search progress"), FIXED, markdown=True)
    assert html.count(FIXED) == 1 and md.count(FIXED) == 1
    assert "progress.png" not in drawn
    if figures:  # the other figures are still drawn
        assert {"ratios.png", "expected_best.png", "ablation.png"} <= drawn


def test_a_search_next_to_a_fixed_study_keeps_its_progress(quickstart, tmp_path, make_run):
    evolution = make_run(tmp_path / "evolution", name="evolution", strategy="evolution",
                         cells=("gru", "lstm"), tasks=("arithmetic",), samples=2, seeds=1)
    _, html, md, drawn = _build([quickstart, evolution], tmp_path / "out")
    assert "progress.png" in drawn and FIXED not in html and FIXED not in md
    assert '<img src="figures/progress.png"' in _html_section(html, "progress")


def test_only_the_learning_rate_varies(tmp_path):
    hparams = [{**SETTING, "learning_rate": LEARNING_RATES[k % 4]} for k in range(12)]
    scores = {cell: {"arithmetic": normal_scores(0.5, 0.05, 12, k)}
              for k, cell in enumerate(("gru", "lstm"))}
    run = write_scores(tmp_path / "run", scores, hparams=hparams)
    report, html, md, drawn = _build([run], tmp_path / "out")
    # the premise: fANOVA on one varying hyperparameter gives it everything
    assert report.importance and {e.hparam for e in report.importance} == {"learning_rate"}
    assert all(e.importance == pytest.approx(1.0) for e in report.importance)
    hp_html, hp_md = _html_section(html, "hparams"), _md_section(md, "Hyperparameters")
    for text, section in ((html, hp_html), (md, hp_md)):
        assert text.count(ONLY_LR) == 1 and section.count(ONLY_LR) == 1
        assert "1.00 in every family" in section
    assert "importance.png" not in drawn and "figures/importance.png" not in html + md
    assert "<th>family</th>" not in hp_html and "| family |" not in hp_md
    # the learning rate's effect is still shown, by the sensitivity figure
    assert "sensitivity.png" in drawn
    assert hp_html.count("<img") == 1 and hp_md.count("![") == 1


def test_too_few_trials_for_fanova_is_said_once(tmp_path, make_run):
    run = make_run(tmp_path / "run", cells=("gru", "lstm"), tasks=("arithmetic",), samples=3,
                   seeds=1, extra_failures=0)
    report, html, md, drawn = _build([run], tmp_path / "out")
    assert report.importance == () and TOO_FEW in report.importance_note
    hp_html, hp_md = _html_section(html, "hparams"), _md_section(md, "Hyperparameters")
    for text, section in ((html, hp_html), (md, hp_md)):
        assert text.count(TOO_FEW) == 1 and section.count(TOO_FEW) == 1
        assert "No importance numbers" not in text
        assert "no hyperparameter importance" not in text
    assert "importance.png" not in drawn and "sensitivity.png" in drawn
