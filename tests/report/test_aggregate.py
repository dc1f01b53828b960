"""Aggregation: table numbers equal the records they come from (computed here, independently)."""

import math
import re
import statistics
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from archsearch.genome import Genome, zoo
from archsearch.report import load_runs, summarize
from archsearch.report.analysis import normalize_reason
from archsearch.report.cards import line_distance, nearest_zoo


def expected_table(records):
    """(fingerprint, task) -> scores of completed task-stage trials, straight from the JSON."""
    scores = defaultdict(list)
    for r in records:
        if r["status"] == "completed" and r.get("stage") != "prefilter":
            scores[(r["cell"]["fingerprint"], r["task"])].append(r["score"])
    return scores


@pytest.fixture(scope="module")
def both(fixture_runs):
    return summarize(load_runs([fixture_runs["ablation"], fixture_runs["evolution"]]))


def test_paper_table_numbers_equal_the_records(both, fixture_runs, raw_trials):
    records = raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
    scores = expected_table(records)
    gru = zoo.get("gru").fingerprint()
    gru_best = {task: max(v) for (fp, task), v in scores.items() if fp == gru}
    assert set(gru_best) == {"arithmetic", "xml"}
    for (fp, task), values in scores.items():
        stats = both.cell(fp).tasks[task]
        assert stats.n == len(values)
        assert stats.best == max(values)
        assert stats.median == pytest.approx(statistics.median(values))
        q25, q75 = np.percentile(values, [25, 75])
        assert stats.iqr == pytest.approx(q75 - q25)
        assert stats.ratio == pytest.approx(max(values) / gru_best[task])
        failed = sum(1 for r in records if r["cell"]["fingerprint"] == fp and r["task"] == task
                     and r["status"] == "failed" and r.get("stage") != "prefilter")
        assert stats.failed == failed
    for cell in both.cells:
        ratios = [max(scores[(cell.fingerprint, t)]) / gru_best[t] for t in gru_best
                  if (cell.fingerprint, t) in scores]
        assert cell.score == pytest.approx(min(ratios))
        assert cell.complete == (len(ratios) == 2)
    assert both.cell("gru").score == pytest.approx(1.0)
    # leaderboard order: by score, best first
    complete = [c.score for c in both.cells if c.complete]
    assert complete == sorted(complete, reverse=True)
    assert [c.rank for c in both.cells] == list(range(1, len(both.cells) + 1))


def test_cells_are_merged_across_runs_by_fingerprint(both, fixture_runs, raw_trials):
    records = raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
    gru = both.cell("gru")
    assert gru.runs == ("ablation", "evolution")
    assert gru.trials == sum(1 for r in records if r["cell"]["name"] == "gru")
    assert len(both.cells) == len({r["cell"]["fingerprint"] for r in records})
    assert both.baseline == "gru" and both.baseline_fingerprint == gru.fingerprint


def test_mutants_lineage_and_prefilter(both, fixture_runs, raw_trials):
    records = raw_trials(fixture_runs["evolution"])
    mutants = [c for c in both.cells if c.is_mutant]
    assert len(mutants) == 6
    parents = {r["cell"]["fingerprint"]: r["cell"]["parent"] for r in records
               if r["cell"]["origin"] == "mutation"}
    zoo_names = {zoo.get(n).fingerprint(): n for n in ("gru", "lstm_b")}
    for m in mutants:
        assert m.label == f"mut-{m.fingerprint[:8]}" and m.origin == "mutation"
        assert m.parent == parents[m.fingerprint]
        assert m.family == zoo_names[m.parent]
        pre = [r["score"] for r in records if r["cell"]["fingerprint"] == m.fingerprint
               and r["stage"] == "prefilter" and r["status"] == "completed"]
        assert (m.prefilter.best if m.prefilter else None) == (max(pre) if pre else None)
        assert "memorization" not in m.tasks


def test_failure_summary_counts(both, fixture_runs, raw_trials):
    records = raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
    failed = [r for r in records if r["status"] == "failed"]
    assert failed, "the fixture has failed trials"
    expected = Counter(re.sub(r"\d+", "N", r["failure"]) for r in failed)
    assert {g.reason: g.count for g in both.failures} == dict(expected)
    assert sum(g.count for g in both.failures) == len(failed)
    counts = [g.count for g in both.failures]
    assert counts == sorted(counts, reverse=True)
    nan = next(g for g in both.failures if g.reason.startswith("training loss became nan"))
    assert nan.reason == "training loss became nan at step N"
    assert all(t.startswith(("ablation/", "evolution/")) for t in nan.trials)


@pytest.mark.parametrize("raw, normal", [
    ("training loss became nan at step 12", "training loss became nan at step N"),
    ("ZeroDivisionError: float division by zero\nTraceback ...", "ZeroDivisionError: float "
                                                                   "division by zero"),
    ("OOM at 0x7f3a2b, loss 1.5e+03 after -3 steps", "OOM at N, loss N after N steps"),
    ("cell 0123456789abcdef0123456789abcdef failed", "cell <id> failed"),
    ("layer_2 diverged", "layer_2 diverged"),
    ("worker on 10.0.0.7 died (exit 137)", "worker on N died (exit N)"),
    (None, "(no reason recorded)"),
])
def test_normalize_reason(raw, normal):
    assert normalize_reason(raw) == normal


def test_progress_has_both_strategies(both, fixture_runs, raw_trials):
    prog = both.progress
    assert set(prog.strategy) == {"fixed", "evolution"}
    assert set(prog.series) == {"ablation (fixed)", "evolution (evolution)"}
    for _, part in prog.groupby(["run", "task"]):
        assert list(part.best) == list(np.maximum.accumulate(part.score))
        assert part.trial.is_monotonic_increasing
        assert part.minutes.notna().all() and (part.minutes > 0).all()
    records = raw_trials(fixture_runs["evolution"])
    done = [r for r in records if r["status"] == "completed" and r["stage"] != "prefilter"]
    evo = prog[prog.run == "evolution"]
    assert len(evo) == len(done)
    assert evo.groupby("task").best.max().to_dict() == {
        t: max(r["score"] for r in done if r["task"] == t) for t in ("arithmetic", "xml")}


def test_hyperparameter_importance(both):
    effects = both.importance
    assert effects and all(0.0 <= e.importance <= 1.0 for e in effects)
    assert all(e.low <= e.high for e in effects)
    overall = [e for e in effects if e.family == "all cells"]
    assert {e.hparam for e in overall} >= {"learning_rate", "init_scale", "clip_norm"}
    # constant hyperparameters (param_budget, dropout, optimizer) are not "important"
    assert not {e.hparam for e in effects} & {"param_budget", "dropout", "optimizer"}
    families = {e.family for e in effects}
    assert {"gru", "lstm_b"} <= families
    # the fixture's scores depend on the learning rate most: it has the largest spread
    spread = {e.hparam: e.spread for e in overall}
    assert max(spread, key=spread.get) == "learning_rate"
    assert overall[0].hparam == "learning_rate"  # ordered by importance
    assert overall[0].importance > 0.5 and overall[0].low > overall[1].high
    assert next(e for e in overall if e.hparam == "learning_rate").best_level in {"0.3", "0.5",
                                                                                   "1"}


def test_importance_is_fanova_of_the_relative_scores(both, fixture_runs, raw_trials):
    from archsearch.report.importance import fanova

    records = [r for r in raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
               if r["status"] == "completed" and r.get("stage") != "prefilter"]
    best = defaultdict(float)
    for r in records:
        key = (r["cell"]["fingerprint"], r["task"])
        best[key] = max(best[key], r["score"])
    y = np.array([r["score"] / best[(r["cell"]["fingerprint"], r["task"])] for r in records])
    frame = pd.DataFrame({f"hp.{k}": [r["hparams"][k] for r in records]
                          for k in ("init_scale", "learning_rate", "clip_norm", "num_layers")})
    expected = fanova(frame, y)
    effect = next(e for e in both.importance if e.family == "all cells"
                  and e.hparam == "learning_rate")
    assert effect.n == len(records)
    # same trials, same forest seed: the same number (up to the order the trials come in)
    assert effect.importance == pytest.approx(expected["hp.learning_rate"], abs=0.05)


def test_forget_bias_is_read_from_the_genome_and_the_hparam(both):
    df = both.trials
    bias = df.groupby("label").forget_bias.first()
    assert bias["lstm"] == 0.0 and bias["lstm_b"] == 1.0
    assert math.isnan(bias["gru"]) and math.isnan(bias["lstm_f"])


def test_cards_equations_nearest_zoo_and_snippet(both):
    assert len(both.cards) == 5
    assert [c.cell.rank for c in both.cards] == [1, 2, 3, 4, 5]
    for card in both.cards:
        fp = card.cell.fingerprint
        genome = Genome.from_json(both.genomes[fp])
        assert genome.fingerprint() == fp
        assert card.equations == genome.equations()
        assert card.genome_file == f"genomes/{fp}.json"
        assert f'open("genomes/{fp}.json")' in card.snippet
        assert "archsearch.layers.GenomeRNN(g, units=32, return_sequences=True)" in card.snippet
        if card.cell.zoo_name:
            assert card.nearest_zoo == card.cell.zoo_name and card.diff == ""
        else:
            assert card.distance > 0 and card.diff.startswith(f"--- zoo/{card.nearest_zoo}")


def test_nearest_zoo_of_a_small_change():
    lstm = zoo.get("lstm")
    data = lstm.to_dict()
    data["nodes"] = [{**n, "op": "relu"} if n["id"] == "g" else n for n in data["nodes"]]
    data.pop("name"), data.pop("description")
    name, dist, diff = nearest_zoo(Genome.from_dict(data))
    assert name == "lstm" and 0 < dist < 1
    assert "-g = tanh(" in diff and "+g = relu(" in diff
    assert nearest_zoo(zoo.get("gru")) == ("gru", 0.0, "")
    assert line_distance(["a", "b"], ["a", "b"]) == 0
    assert line_distance([], ["a", "b"]) == 2


def test_other_baseline_and_missing_baseline(fixture_runs):
    runs = load_runs([fixture_runs["ablation"]])
    report = summarize(runs, baseline="lstm")
    assert report.cell("lstm").score == pytest.approx(1.0)
    assert report.cell("gru").tasks["xml"].ratio == pytest.approx(
        report.cell("gru").tasks["xml"].best / report.cell("lstm").tasks["xml"].best)
    report = summarize(runs, baseline="mut1")
    assert all(c.score is None for c in report.cells)
    assert any("baseline 'mut1' has no completed trials" in w for w in report.warnings)
    # ranked by the mean over tasks of best / the task's best
    task_best = {t.task: t.best for t in report.tasks}
    means = [np.mean([c.tasks[t].best / task_best[t] for t in task_best]) for c in report.cells]
    assert means == sorted(means, reverse=True)


def test_min_metric_ratio_is_inverted(tmp_path, make_run):
    run = make_run(tmp_path / "ppl", cells=("gru", "lstm"), samples=2, seeds=1,
                   extra_failures=0)
    import json

    for path in (run / "trials").glob("*.json"):
        record = json.loads(path.read_text())
        if record["score"] is not None:
            record.update(score=1.0 / record["score"], score_metric="perplexity",
                          score_mode="min")
        else:
            record.update(score_metric="perplexity", score_mode="min")
        path.write_text(json.dumps(record))
    report = summarize(load_runs([run]))
    lstm, gru = report.cell("lstm"), report.cell("gru")
    for task, stats in lstm.tasks.items():
        assert stats.mode == "min" and stats.metric == "perplexity"
        assert stats.best == min(stats.best, lstm.tasks[task].median)
        assert stats.ratio == pytest.approx(gru.tasks[task].best / stats.best)


def test_stages_search_report_and_the_older_task_name(tmp_path, make_run):
    import json

    run = make_run(tmp_path / "r", cells=("gru", "lstm"), tasks=("arithmetic", "xml"),
                   samples=2, seeds=1, extra_failures=0)
    for path in (run / "trials").glob("*.json"):
        record = json.loads(path.read_text())
        record["stage"] = "report" if record["task"] == "xml" else "task"
        path.write_text(json.dumps(record))
    report = summarize(load_runs([run]))
    assert [(t.task, t.scored) for t in report.tasks] == [("arithmetic", True), ("xml", False)]
    lstm = report.cell("lstm")
    assert lstm.tasks["xml"].ratio is not None  # shown with its ratio ...
    assert lstm.score == pytest.approx(lstm.tasks["arithmetic"].ratio)  # ... but not scored
    assert lstm.complete
