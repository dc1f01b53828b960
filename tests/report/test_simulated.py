"""A run scored by `archsearch search --simulate` says so in the report's title."""

import json
import sys
from pathlib import Path

from archsearch.report import load_runs, summarize

sys.path.insert(0, str(Path(__file__).parent))
from report_synthetic import write_scores  # noqa: E402


def _run(tmp_path, simulated: bool):
    run = write_scores(tmp_path / f"run{simulated}",
                       {"gru": {"arithmetic": [0.5, 0.6]}, "lstm": {"arithmetic": [0.4, 0.5]}})
    if simulated:
        for path in (run / "trials").glob("*.json"):
            data = json.loads(path.read_text())
            path.write_text(json.dumps({**data, "simulated": True}))
    return run


def test_simulated_run_is_marked(tmp_path):
    report = summarize(load_runs([_run(tmp_path, True)]))
    assert report.title.endswith("(simulated scores, no training)")
    assert "4 of 4 trials were scored by `archsearch search --simulate`" in report.warnings[0]


def test_trained_run_is_not_marked(tmp_path):
    report = summarize(load_runs([_run(tmp_path, False)]))
    assert "simulated" not in report.title
    assert not any("--simulate" in w for w in report.warnings)
