"""Learning curves re-read for the speed table: from indexed runs, bounded, damage reported."""

import dataclasses
import doctest

import pandas as pd

from archsearch.report import build_report, curves, load_runs
from archsearch.rundir import index
from archsearch.rundir.store import RunStore
from tests.report.report_synthetic import write_scores

N = 8


def _curve(reached):
    """Validation accuracy 0.5 until step `reached` (None: never), then 0.97; steps 25..100."""
    return [{"step": s, "valid_accuracy": 0.97 if reached is not None and s >= reached else 0.5}
            for s in (25, 50, 75, 100)]


def _run(path, *, lstm_reached=None, compacted=True):
    """GRU trials reach 0.95 at step 25; LSTM trials at `lstm_reached` (None: never)."""
    scores = {"gru": {"t": [0.97] * N}, "lstm": {"t": [0.9] * N}, "lstm_b": {"t": [0.9]}}
    shapes = {"gru": {"t": [_curve(25)] * N}, "lstm": {"t": [_curve(lstm_reached)] * N},
              "lstm_b": {"t": [_curve(50)]}}
    root = write_scores(path, scores, curves=shapes, seeds_per_setting=N)
    if compacted:
        assert index.compact(RunStore(root)) is not None
    return root


def test_doctests():
    assert doctest.testmod(curves).failed == 0


def test_indexed_run_gets_curves_of_comparable_trials_only(tmp_path):
    assert all(not t.curve for t in load_runs([_run(tmp_path / "plain")]).trials)  # default
    runs = load_runs([_run(tmp_path / "run")], curves=True)
    by_cell = {}
    for t in runs.trials:
        by_cell.setdefault(t.cell_name, []).append(len(t.curve))
    assert by_cell["gru"] == [4] * N and by_cell["lstm"] == [4] * N
    assert by_cell["lstm_b"] == [0]  # one trial: nothing to test, its file is not read again
    assert not runs.warnings


def test_report_shows_speed_verdict_csv_and_findings(tmp_path):
    report = build_report([_run(tmp_path / "run")], tmp_path / "out", figures=False)
    rows = {r.cell: r for r in report.speed}
    assert set(rows) == {"gru", "lstm"}  # lstm_b has one trial
    assert rows["gru"].verdict == "baseline" and rows["lstm"].verdict == "worse"
    assert rows["lstm"].censored == N and rows["lstm"].median_steps is None
    csv = pd.read_csv(tmp_path / "out" / "speed.csv")
    assert list(csv.cell) == ["gru", "lstm"] and list(csv.verdict) == ["baseline", "worse"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Learning speed" in md and "| lstm | t | accuracy >= 0.95 | 8 | 8 | > 100 |" in md
    assert "lstm learns slower than gru on t" in md
    assert 'id="speed"' in (tmp_path / "out" / "index.html").read_text()


def test_equal_speed_is_tied_and_no_finding(tmp_path):
    report = build_report([_run(tmp_path / "run", lstm_reached=25)], tmp_path / "out",
                          figures=False)
    assert {r.cell: r.verdict for r in report.speed}["lstm"] == "tied"
    assert report.findings.speed == ()


def test_files_read_are_capped_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(curves, "MAX_FILES", 5)
    runs = load_runs([_run(tmp_path / "run")], curves=True)
    assert sum(bool(t.curve) for t in runs.trials) == 5
    assert any("first 5 of 16 trials" in w for w in runs.warnings)


def test_unreadable_record_is_left_out_and_reported(tmp_path):
    runs = load_runs([_run(tmp_path / "run")], curves=True)
    trials = [dataclasses.replace(t, curve=()) for t in runs.trials]

    class Flaky:
        """A store whose first read fails, the second gives no curve, the rest work."""

        source, calls = "flaky://run", 0

        def read_text(self, rel):
            self.calls += 1
            if self.calls == 1:
                raise OSError("connection reset")
            if self.calls == 2:
                return '{"curve": "no"}'
            return (tmp_path / "run" / rel).read_text()

    problems = []
    out = curves.with_curves(Flaky(), trials, problems)
    assert sum(not t.curve for t in out if t.cell_name != "lstm_b") == 2
    assert problems == ["flaky://run: 2 trial record(s) could not be read again for their "
                        "learning curve; left out of the learning-speed table"]
    assert all(not t.curve for t in trials)  # the input is not changed


def test_unindexed_run_reads_curves_once(tmp_path):
    runs = load_runs([_run(tmp_path / "run", compacted=False)], curves=True)
    assert all(len(t.curve) == 4 for t in runs.trials)


def test_a_long_speed_table_shows_the_most_significant_rows(tmp_path, monkeypatch):
    from archsearch.report import render

    monkeypatch.setattr(render, "MAX_SPEED_ROWS", 1)
    report = build_report([_run(tmp_path / "run")], tmp_path / "out", figures=False)
    md = (tmp_path / "out" / "report.md").read_text()
    assert len(report.speed) == 2 and "| gru | t | accuracy >= 0.95 |" in md
    assert "| lstm | t | accuracy >= 0.95 |" not in md
    assert "1 more rows (the least significant) are in `speed.csv`" in md
    assert len(pd.read_csv(tmp_path / "out" / "speed.csv")) == 2  # the file has every row
