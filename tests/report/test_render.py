"""Rendered output: files, figures, numbers in the tables, atomic writes, empty sections."""

import csv
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from archsearch.genome import Genome
from archsearch.report import ReportOutputError, build_report, load_runs, summarize, write_report
from archsearch.report.figures import FIGURES


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=float)


def test_every_output_exists(built_report):
    report, out = built_report
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "report.md", "leaderboard.csv", "comparisons.csv"} <= names
    assert {f"figures/{spec.file}" for spec in FIGURES} <= names
    assert {f"genomes/{c.cell.fingerprint}.json" for c in report.cards} <= names
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_figures_are_not_empty(built_report):
    _, out = built_report
    for spec in FIGURES:
        path = out / "figures" / spec.file
        assert path.stat().st_size > 1024, spec.file
        pixels = _pixels(path)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 300, spec.file
        assert pixels.reshape(-1, 3).std(axis=0).max() > 10, f"{spec.file} is one colour"
        colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
        assert len(colours) > 20, f"{spec.file} has almost no content"


def test_exported_genomes_load(built_report):
    report, out = built_report
    assert len(report.cards) == 5
    for card in report.cards:
        fp = card.cell.fingerprint
        genome = Genome.from_json((out / card.genome_file).read_text())
        assert genome.fingerprint() == fp
        assert genome.equations() == card.equations


def test_leaderboard_csv_equals_the_records(built_report, fixture_runs, raw_trials):
    report, out = built_report
    records = raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
    with open(out / "leaderboard.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len({r["cell"]["fingerprint"] for r in records})
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    gru_best = {}
    for task in ("arithmetic", "xml"):
        gru_best[task] = max(r["score"] for r in records if r["cell"]["name"] == "gru"
                             and r["task"] == task and r["status"] == "completed")
    for row in rows:
        mine = [r for r in records if r["cell"]["fingerprint"] == row["fingerprint"]]
        assert int(row["trials"]) == len(mine)
        assert int(row["failed"]) == sum(r["status"] == "failed" for r in mine)
        ratios = []
        for task in ("arithmetic", "xml"):
            scores = [r["score"] for r in mine if r["task"] == task
                      and r["status"] == "completed" and r["stage"] != "prefilter"]
            assert int(row[f"{task}_n"]) == len(scores)
            assert float(row[f"{task}_best"]) == pytest.approx(max(scores))
            ratios.append(max(scores) / gru_best[task])
        assert float(row["score"]) == pytest.approx(min(ratios))
        exported = row["genome_file"]
        assert (exported == f"genomes/{row['fingerprint']}.json") == (int(row["rank"]) <= 5)
    # rank ranges and tied groups: groups never go back up the board
    groups = [int(r["group"]) for r in rows if r["group"]]
    assert groups == sorted(groups) and groups[0] == 1
    for row in rows:
        assert 1 <= int(row["rank_low"]) <= int(row["rank_high"]) <= len(rows)
        assert row["verdict"] in {"better", "worse", "tied", "baseline"}
        assert float(row["score_low"]) <= float(row["score_high"])
        for task in ("arithmetic", "xml"):
            assert row[f"{task}_verdict"] in {"better", "worse", "tied", "baseline"}
    by_cell = {r["cell"]: r for r in rows}
    assert by_cell["gru"]["verdict"] == "baseline" and by_cell["lstm_f"]["verdict"] == "worse"


def test_html_is_self_contained_and_shows_the_numbers(built_report):
    report, out = built_report
    html = (out / "index.html").read_text()
    assert "<style>" in html and "<link" not in html
    sources = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert sources and not [s for s in sources if "://" in s or s.startswith("//")]
    for src in sources:
        assert (out / src).is_file(), src
    for cell in report.cells:
        assert cell.label in html
        for stats in cell.tasks.values():
            assert f"{stats.best:.3f}" in html
    gru = report.cell("gru")
    assert f"×{gru.tasks['xml'].ratio:.3f}" in html
    for group in report.failures:
        assert f"<td class=\"num\">{group.count}</td>" in html
    assert "training loss became nan at step N" in html
    for card in report.cards:
        assert card.cell.fingerprint in html
        assert f'open(&#34;genomes/{card.cell.fingerprint}.json&#34;)' in html
    assert html.count("<img ") == len(FIGURES)


def test_markdown_report(built_report):
    report, out = built_report
    md = (out / "report.md").read_text()
    assert md.startswith(f"# {report.title}")
    for spec in FIGURES:
        assert f"](figures/{spec.file})" in md
    n_failed = int((report.trials.status == "failed").sum())
    assert f"{n_failed} of {len(report.trials)} trials failed" in md
    for group in report.failures:
        assert f"| `{group.reason}` | {group.count} |" in md
    lstm_b = report.cell("lstm_b")
    assert f"{lstm_b.tasks['arithmetic'].best:.3f}" in md
    assert md.count("```python") == len(report.cards)


def test_sections_without_data_say_so(tmp_path, make_run):
    run = make_run(tmp_path / "gru_only", cells=("gru",), samples=2, seeds=1, extra_failures=0)
    report = build_report([run], tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "LSTM ablations: no ablation data: needs at least two of" in html
    assert "Forget-gate bias: no forget-bias data" in html
    assert "no mutants: every cell in these runs is a named" in html
    assert "No failed trials." in html
    drawn = {p.name for p in (tmp_path / "out" / "figures").iterdir()}
    assert "ablation.png" not in drawn and "mutants.png" not in drawn
    # A fixed study has no search progress: one line instead of a figure (issue 27).
    assert "progress.png" not in drawn and "every run is a fixed study" in html
    assert len(report.cells) == 1 and report.failures == ()


def test_a_run_with_nothing_finished(tmp_path):
    run = tmp_path / "fresh"
    (run / "trials").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"format": "archsearch.run", "version": 1,
                                              "name": "fresh", "strategy": "evolution"}))
    report = build_report([run], tmp_path / "out")
    assert report.cells == () and len(report.trials) == 0
    html = (tmp_path / "out" / "index.html").read_text()
    assert "No completed task trials yet." in html and "No cells yet." in html
    assert list((tmp_path / "out" / "figures").iterdir()) == []


def test_corrupt_and_old_runs_still_give_a_report(tmp_path, make_run):
    good = make_run(tmp_path / "good", cells=("gru", "lstm"), samples=2, seeds=1)
    old = make_run(tmp_path / "old", name="old", version=0, cells=("gru", "lstm_b"),
                   samples=2, seeds=1)
    (good / "trials" / "bad.json").write_text("{truncated")
    with pytest.warns(UserWarning):
        report = build_report([good, old], tmp_path / "out", figures=False)
    html = (tmp_path / "out" / "index.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    assert "bad.json: not valid JSON" in html and "bad.json: not valid JSON" in md
    assert "run format version 0" in html
    assert {c.label for c in report.cells} == {"gru", "lstm", "lstm_b"}
    assert report.cell("lstm_b").tasks["xml"].n > 0


def test_write_is_atomic(tmp_path, built_report, monkeypatch):
    report, _ = built_report
    out = tmp_path / "reports" / "r"
    write_report(report, out, figures=False)
    before = (out / "index.html").read_text()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("archsearch.report.render.render_markdown", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(report, out, figures=False)
    assert (out / "index.html").read_text() == before  # the old report is intact
    with pytest.raises(RuntimeError):
        write_report(report, tmp_path / "reports" / "new", figures=False)
    assert not (tmp_path / "reports" / "new").exists()
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["r"]


def test_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, built_report):
    report, _ = built_report
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ReportOutputError, match="does not hold a report"):
        write_report(report, tmp_path / "mine", figures=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportOutputError, match="not a folder"):
        write_report(report, tmp_path / "file", figures=False)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_report_imports_no_tensorflow(fixture_runs, tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import matplotlib.figure, seaborn  # what the figures use
        from archsearch.report import build_report
        build_report([{str(fixture_runs["ablation"])!r}], {str(tmp_path / "o")!r},
                     figures=False)
        bad = [m for m in ("tensorflow", "keras") if m in sys.modules]
        assert not bad, bad
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=240)


@pytest.mark.slow
def test_card_snippet_runs(built_report, tmp_path):
    """The copy-paste snippet of a card builds a working Keras layer (imports TensorFlow)."""
    report, out = built_report
    card = next(c for c in report.cards if c.cell.is_mutant)
    code = card.snippet + "\nassert tuple(y.shape)[:2] == (2, 7), y.shape\nprint('ok')\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=out, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_summarize_without_rendering_is_cheap(fixture_runs):
    report = summarize(load_runs([fixture_runs["evolution"]]), top=2)
    assert len(report.cards) == 2 and set(report.genomes) == {c.cell.fingerprint
                                                              for c in report.cards}
