"""Search vs random search: per run, the best cell against the average cell."""

import pytest

from archsearch.report import build_report
from archsearch.report.controls import control_rows


def test_a_search_beside_a_random_run_gets_the_comparison(tmp_path, make_run):
    evo = make_run(tmp_path / "evo", name="evo", strategy="evolution", cells=("gru", "lstm"),
                   samples=2, seeds=1, mutants=8, seed=1)
    rnd = make_run(tmp_path / "rnd", name="rnd", strategy="random", cells=("gru", "lstm"),
                   samples=2, seeds=1, mutants=8, seed=2)
    report = build_report([evo, rnd], tmp_path / "out")
    rows = {r.run: r for r in report.controls}
    assert set(rows) == {"evo", "rnd"} and rows["rnd"].strategy == "random"
    for row in rows.values():
        mine = [c.score for c in report.cells if row.run in c.runs and c.score is not None
                and c.fingerprint != report.baseline_fingerprint]
        assert row.cells == len(mine) and row.best == pytest.approx(max(mine))
        assert row.mean == pytest.approx(sum(mine) / len(mine))
        assert row.mean_low < row.mean < row.mean_high
        assert row.improvement == pytest.approx(row.best - row.mean) and row.improvement >= 0
        assert row.confirmed is None  # no confirmation trials in these runs
    html = (tmp_path / "out" / "index.html").read_text()
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Search vs random search" in html and "Search vs random search" in md


def test_no_comparison_without_a_random_run(tmp_path, make_run):
    evo = make_run(tmp_path / "evo", name="evo", strategy="evolution", cells=("gru", "lstm"),
                   samples=2, seeds=1, mutants=4, seed=1)
    report = build_report([evo], tmp_path / "out")
    assert report.controls == ()
    assert "Search vs random search" not in (tmp_path / "out" / "index.html").read_text()
    assert control_rows(report, type("R", (), {"runs": ()})()) == ()
