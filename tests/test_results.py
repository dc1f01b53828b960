"""`archsearch.results`: a run's trials as a DataFrame, its best cells, their layers and export.

Run directories are written here record by record through `archsearch.rundir`
(no search, no training); expectations are computed from what was written.
"""

import csv
import doctest
import json
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import archsearch
from archsearch import results
from archsearch.genome import Genome, zoo
from archsearch.genome.mutate import Mutator
from archsearch.report import ReportWarning, build_report
from archsearch.results import BestCell, ResultsError, RunDirError, export_cell, open_run
from archsearch.rundir import CellRef, RunRecord, RunStore, TrialRecord, write_trial

QUALITY = {"gru": 0.80, "lstm": 0.78, "lstm_b": 0.86, "tanh_rnn": 0.40}
TASKS = ("xml", "arithmetic")


def _record(k, cell, task, score, *, seed=0, stage="search", hparams=None, failure=None):
    return TrialRecord(
        trial_id=f"{k:04d}", strategy="fixed", status="failed" if failure else "completed",
        failure=failure, cell=cell, task=task, stage=stage, seed=seed,
        hparams=hparams or {"learning_rate": 0.1 * (1 + k % 3), "num_layers": 1},
        score=None if failure else score, score_metric="accuracy", score_mode="max",
        metrics={} if failure else {"valid": {"accuracy": score, "loss": 1 - score},
                                    "test": {"accuracy": score - 0.01}},
        params=1000 + k, units=8, steps=10, timings={"total": 1.5 + k, "train": 1.0},
        worker={"node": "10.0.0.1"}, started_at=f"2026-01-01T00:00:{k % 60:02d}+00:00",
        finished_at=f"2026-01-01T01:{k // 60:02d}:{k % 60:02d}+00:00")


def _named(name):
    g = zoo.get(name)
    return CellRef(name=name, fingerprint=g.fingerprint(), genome=g.to_dict(), origin="fixed")


def write_run(root, *, cells=tuple(QUALITY), seeds=3, mutants=2, seed=0):
    """A run: named cells on two tasks, mutants (pre-filter trials too), one failed trial."""
    store, rng = RunStore(root), random.Random(seed)
    store.write_json("run.json", RunRecord(name="results", strategy="fixed", seed=seed,
                                           baseline="gru", tasks=list(TASKS))
                     .model_dump(mode="json"))
    refs = [(_named(name), QUALITY[name]) for name in cells]
    for k in range(mutants):
        child = Mutator().run(zoo.get("gru"), k).child
        refs.append((CellRef(fingerprint=child.fingerprint(), genome=child.to_dict(),
                             parent=zoo.get("gru").fingerprint(), origin="mutation"),
                     0.7 + 0.05 * k))
    records = []
    for ref, quality in refs:
        if ref.origin == "mutation":
            records.append((ref, "memorization", 0.99, 0, "prefilter"))
        records += [(ref, task, round(quality + rng.gauss(0, 0.01), 6), s, "search")
                    for task in TASKS for s in range(seeds)]
    for k, (ref, task, score, s, stage) in enumerate(records):
        write_trial(store, _record(k, ref, task, score, seed=s, stage=stage))
    write_trial(store, _record(len(records), refs[0][0], "xml", None,
                               failure="loss became nan at step 3"))
    return Path(root)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("results") / "run")


@pytest.fixture(scope="module")
def run(run_dir):
    return open_run(run_dir)


def _raw(run_dir):
    return {p.stem: json.loads(p.read_text()) for p in sorted((run_dir / "trials").glob("*"))}


def test_trials_has_one_row_per_record_with_flat_columns(run, run_dir):
    raw = _raw(run_dir)
    df = run.trials()
    assert len(df) == len(raw) == 4 * 2 * 3 + 2 * 7 + 1
    for column in ("trial_id", "cell", "fingerprint", "task", "stage", "phase", "status", "seed",
                   "hp_learning_rate", "hp_num_layers", "score", "valid_accuracy", "valid_loss",
                   "test_accuracy", "seconds", "started_at", "finished_at", "failure"):
        assert column in df.columns, column
    assert set(df.phase) == {"search"}
    by_id = df.set_index("trial_id")
    for trial_id, record in raw.items():
        row = by_id.loc[trial_id]
        assert row.fingerprint == record["cell"]["fingerprint"] and row.task == record["task"]
        assert row.stage == record["stage"] and row.status == record["status"]
        assert row.hp_learning_rate == record["hparams"]["learning_rate"]
        assert row.seconds == record["timings"]["total"]
        name = record["cell"]["name"] or f"mut-{record['cell']['fingerprint'][:8]}"
        assert row.cell == name
        if record["status"] == "completed":
            assert row.score == record["score"] == row.valid_accuracy
            assert row.test_accuracy == record["metrics"]["test"]["accuracy"]
        else:
            assert np.isnan(row.score) and np.isnan(row.valid_accuracy)
            assert row.failure == "loss became nan at step 3"
    assert list(df.sequence) == list(range(1, len(df) + 1))  # finishing order
    assert (df.finished_at.diff().dropna() >= np.timedelta64(0)).all()


def test_odd_hyperparameters_and_metrics_get_their_own_columns(tmp_path):
    store = RunStore(tmp_path)
    record = _record(0, _named("gru"), "xml", 0.5, hparams={"layers": [1, 2], "lr": 0.1})
    write_trial(store, record.model_copy(update={"metrics": {
        "valid": {"accuracy": 0.5}, "epochs": 3, "trial": {"id": "clash"}}}))
    with pytest.warns(ReportWarning, match="run.json: missing"):
        row = open_run(tmp_path).trials().iloc[0]
    assert row.hp_layers == "[1, 2]" and row.hp_lr == 0.1 and row.valid_accuracy == 0.5
    assert row.metrics_epochs == 3 and row.metrics_trial_id == "clash" and row.trial_id == "0000"


def test_trials_of_a_run_without_records(tmp_path):
    RunStore(tmp_path).write_json("run.json", RunRecord(strategy="fixed").model_dump(mode="json"))
    run = open_run(tmp_path)
    df = run.trials()
    assert len(df) == 0 and {"trial_id", "cell", "phase", "score"} <= set(df.columns)
    assert run.best(k=3) == []


def test_best_is_the_report_leaderboard(run, run_dir, tmp_path):
    build_report([run_dir], tmp_path / "report", figures=False)
    with open(tmp_path / "report" / "leaderboard.csv") as f:
        board = list(csv.DictReader(f))
    best = run.best(k=len(board) + 5)
    assert [c.fingerprint for c in best] == [row["fingerprint"] for row in board]
    assert [c.name for c in best] == [row["cell"] for row in board]
    assert [c.rank for c in best] == list(range(1, len(board) + 1))
    assert [c.name for c in best[:3]] == ["lstm_b", "gru", "lstm"]  # the known answer
    assert best[1].score == 1.0 and best[0].score > 1.0
    raw = _raw(run_dir).values()
    for cell in best:
        assert cell.genome.fingerprint() == cell.fingerprint
        if cell.score is not None and cell.score_low is not None:
            assert cell.score_low <= cell.score <= cell.score_high
        # the hyperparameters of the cell's best trial on `task`
        top = max((r for r in raw if r["cell"]["fingerprint"] == cell.fingerprint
                   and r["task"] == cell.task and r["status"] == "completed"),
                  key=lambda r: r["score"])
        assert cell.hyperparameters == top["hparams"] and cell.units == top["units"]
    assert run.best() == best[:1]


def test_cell_by_rank_or_fingerprint_prefix(run):
    best = run.best(k=3)
    assert run.cell(2) == run.cell("2") == best[1]
    assert run.cell(best[2].fingerprint[:6]) == best[2]
    assert run.cell(best[2].fingerprint.upper()) == best[2]


@pytest.mark.parametrize("key, message", [
    (0, "expected a rank from 1 to 6. Received: rank=0"),
    (7, "expected a rank from 1 to 6. Received: rank=7"),
    ("abc", "fingerprint prefix of 6 to 32"),
    ("ghijkl", "fingerprint prefix of 6 to 32"),
    (True, "fingerprint prefix of 6 to 32"),
    (1.0, "fingerprint prefix of 6 to 32"),
    ("ffffff0", "matches no cell of this run"),
])
def test_a_bad_cell_key_is_refused_by_name(run, key, message):
    with pytest.raises(ResultsError, match=message):
        run.cell(key)


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "1"])
def test_best_wants_a_positive_integer(run, k):
    with pytest.raises(ResultsError, match=f"Received: k={k!r}"):
        run.best(k)


def test_an_ambiguous_prefix_and_a_cell_without_genome(tmp_path):
    store = RunStore(tmp_path)
    store.write_json("run.json", RunRecord(strategy="fixed", baseline="gru")
                     .model_dump(mode="json"))
    refs = [_named("gru"), CellRef(name="a", fingerprint="abcdef01" + "0" * 24),
            CellRef(name="b", fingerprint="abcdef02" + "0" * 24)]
    for k, ref in enumerate(refs):
        write_trial(store, _record(k, ref, "xml", 0.5 + 0.1 * k))
    run = open_run(tmp_path)
    with pytest.raises(ResultsError, match="prefix 'abcdef' matches 2 cells: abcdef02.*give "
                                           "more digits"):
        run.cell("abcdef")
    lonely = run.cell("abcdef02")
    assert lonely.genome is None and "no genome recorded" in lonely.problem
    with pytest.raises(ResultsError, match="no genome recorded"):
        lonely.layer(units=4)
    with pytest.raises(ResultsError, match="no genome recorded"):
        export_cell(tmp_path, "abcdef02", tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such directory"),
    (lambda p: (p / "file").write_text("x") and p / "file", "not a directory"),
    (lambda p: p, "not a run directory"),
    (lambda p: "", "expected a run directory path"),
])
def test_a_bad_path_is_a_run_dir_error_naming_it(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(RunDirError, match=message) as err:
        open_run(path)
    assert str(path) in str(err.value)


def test_a_damaged_record_is_a_warning_naming_the_file(tmp_path):
    write_run(tmp_path, cells=("gru", "lstm"), seeds=1, mutants=0)
    (tmp_path / "trials" / "0001.json").write_text('{"format": "archsearch.trial", "cell"')
    run = open_run(tmp_path)
    with pytest.warns(ReportWarning, match="0001.json"):
        assert [c.name for c in run.best(k=2)] == ["gru", "lstm"]
    df = run.trials()
    assert len(df) == 4 and "0001" not in set(df.trial_id)
    assert any("trials/0001.json" in w for w in run.warnings)


def test_layer_builds_a_working_genome_rnn(run):
    from archsearch.layers import GenomeRNN

    cell = run.best()[0]
    layer = cell.layer(units=6, return_sequences=True)
    assert isinstance(layer, GenomeRNN) and layer.genome == cell.genome and layer.units == 6
    assert tuple(layer(np.ones((2, 5, 3), "float32")).shape) == (2, 5, 6)
    assert cell.layer().units == cell.units == 8  # the best trial's


def test_export_cell_writes_genome_json_that_round_trips(run, run_dir, tmp_path):
    out = tmp_path / "deep" / "cell.json"
    cell = export_cell(run_dir, 1, out)
    assert cell == run.best()[0]
    genome = Genome.from_json(out.read_text())
    assert genome == cell.genome and genome.fingerprint() == cell.fingerprint
    third = run.best(k=3)[2]
    assert export_cell(run_dir, third.fingerprint[:8], out) == third  # a genome is replaced
    assert Genome.from_json(out.read_text()).fingerprint() == third.fingerprint
    assert sorted(p.name for p in out.parent.iterdir()) == ["cell.json"]  # no temp file left


def test_export_cell_refuses_to_replace_anything_else(run_dir, tmp_path):
    other = tmp_path / "notes.json"
    other.write_text('{"mine": true}')
    with pytest.raises(ResultsError, match="notes.json: exists and is not a genome JSON"):
        export_cell(run_dir, 1, other)
    assert other.read_text() == '{"mine": true}'
    with pytest.raises(ResultsError, match="is a folder"):
        export_cell(run_dir, 1, tmp_path)
    with pytest.raises(ResultsError, match="Received: rank=99"):
        export_cell(run_dir, 99, tmp_path / "x.json")
    with pytest.raises(RunDirError, match="no such directory"):
        export_cell(tmp_path / "nope", 1, tmp_path / "x.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.json"]


def test_a_failed_write_leaves_no_file(run_dir, tmp_path, monkeypatch):
    def broken(self, indent=2):
        raise MemoryError("simulated")

    monkeypatch.setattr(Genome, "to_json", broken)
    with pytest.raises(MemoryError):
        export_cell(run_dir, 1, tmp_path / "cell.json")
    assert list(tmp_path.iterdir()) == []


def test_best_cell_is_plain_data():
    cell = BestCell(rank=1, name="gru", fingerprint=zoo.get("gru").fingerprint(),
                    genome=zoo.get("gru"))
    assert cell.hyperparameters == {} and cell.score is None
    with pytest.raises(ResultsError, match="recorded no units"):
        cell.layer()


def test_reading_and_ranking_never_import_tensorflow(run_dir):
    code = ("import sys, warnings; warnings.simplefilter('error')\n"
            "import archsearch\n"
            f"run = archsearch.open_run({str(run_dir)!r})\n"
            "df = run.trials(); best = run.best(k=2)\n"
            "assert len(df) > 0 and best[0].genome is not None\n"
            "loaded = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') "
            "if m in sys.modules)\n"
            "assert not loaded, loaded\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_open_run_is_exported_lazily():
    assert archsearch.open_run is open_run and "open_run" in archsearch.__all__


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReportWarning)
        result = doctest.testmod(results, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result


def test_cells_export_on_the_command_line(run, run_dir, tmp_path, capsys):
    from archsearch.cli import main

    out = tmp_path / "cell.json"
    assert main(["cells", "export", str(run_dir), "1", "--out", str(out)]) == 0
    assert archsearch.Genome.from_json(out.read_text()).fingerprint() == run.best()[0].fingerprint
    assert "rank 1" in capsys.readouterr().out
    assert main(["cells", "export", str(run_dir), "999", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archsearch: error:") and "rank" in err and err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()
    assert main(["cells", "export", str(tmp_path / "nope"), "1", "--out", str(out)]) == 2
