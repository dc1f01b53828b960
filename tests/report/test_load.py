"""Reading run directories: typed records, warnings for bad files, errors for non-runs."""

import json
import shutil
from pathlib import Path

import pytest

from archsearch.report import ReportWarning, RunDirError, load_runs
from archsearch.report.store import open_store
from archsearch.rundir import CellRef, RunStore, TrialRecord, write_trial


def test_reads_every_trial_with_its_fields(fixture_runs, raw_trials):
    runs = load_runs([fixture_runs["ablation"], fixture_runs["evolution"]])
    raw = raw_trials(fixture_runs["ablation"], fixture_runs["evolution"])
    assert len(runs.trials) == len(raw)
    assert runs.warnings == ()
    assert [r.label for r in runs.runs] == ["ablation", "evolution"]
    assert [r.strategy for r in runs.runs] == ["fixed", "evolution"]
    assert runs.runs[0].tasks == ("arithmetic", "xml") and runs.runs[0].baseline == "gru"
    by_key = {(t.run, t.trial_id): t for t in runs.trials}
    first = raw[0]
    t = by_key[("ablation", first["trial_id"])]
    assert t.fingerprint == first["cell"]["fingerprint"]
    assert t.cell_name == first["cell"]["name"] and t.task == first["task"]
    assert t.score == first["score"] and t.hparams == first["hparams"]
    assert t.seconds == first["timings"]["total"] and t.node == "10.0.0.1"
    assert t.started_at is not None and t.finished_at > t.started_at
    assert t.curve == ()  # read from the index, which holds no curves (`curves=True` reads them)
    # records come back in finishing order within each run
    seqs = [t.sequence for t in runs.trials if t.run == "ablation"]
    assert seqs == sorted(seqs)
    assert set(runs.genomes) == {t.fingerprint for t in runs.trials}


def test_not_a_run_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RunDirError, match="not a run directory"):
        load_runs([tmp_path])
    with pytest.raises(RunDirError, match="no such directory"):
        load_runs([tmp_path / "missing"])
    with pytest.raises(RunDirError, match="not a directory"):
        load_runs([tmp_path / "notes.txt"])
    with pytest.raises(RunDirError, match="no run directory"):
        load_runs([])


def test_corrupt_records_warn_and_the_rest_is_read(tmp_path, make_run):
    run = make_run(tmp_path / "run", cells=("gru", "lstm"), samples=2, seeds=1)
    total = len(list((run / "trials").glob("*.json")))
    good = json.loads((run / "trials" / "00001.json").read_text())
    (run / "trials" / "90001.json").write_text("{not json")
    (run / "trials" / "90002.json").write_text(json.dumps({**good, "score": "high"}))
    (run / "trials" / "90003.json").write_text(json.dumps(
        {k: v for k, v in good.items() if k != "task"}))
    (run / "trials" / "90004.json").write_text(json.dumps({**good, "status": "exploded"}))
    (run / "trials" / "90005.json").write_text("[1, 2]")
    (run / "trials" / ".90006.json.tmp").write_text("partial")  # an atomic write in flight
    with pytest.warns(ReportWarning) as caught:
        runs = load_runs([run])
    assert len(runs.trials) == total
    text = "\n".join(runs.warnings)
    assert "90001.json: not valid JSON" in text
    assert "90002.json" in text and "'score' should be a valid number, got str 'high'" in text
    assert "90003.json" in text and "missing field 'task'" in text
    assert "90004.json" in text and \
        "'status' should be 'completed', 'failed' or 'stopped', got str 'exploded'" in text
    assert "90005.json" in text and "expected a JSON object" in text
    assert ".90006" not in text
    assert len(caught) == len(runs.warnings) == 5
    assert runs.runs[0].skipped == 5


def test_older_format_version_is_read_with_a_warning(tmp_path, make_run, raw_trials):
    run = make_run(tmp_path / "old", name="old", version=0, cells=("gru", "lstm"), samples=2,
                   seeds=1)
    with pytest.warns(ReportWarning):
        runs = load_runs([run])
    text = "\n".join(runs.warnings)
    assert "run.json: run format version 0, this archsearch reads version 1" in text
    assert "trial record(s) have format version 0" in text
    raw = raw_trials(run)
    assert len(runs.trials) == len(raw)
    completed = [t for t in runs.trials if t.status == "completed"]
    # the old records have no 'score': it comes from metrics.valid[score_metric]
    assert completed and all(t.score == t.metrics["valid"]["accuracy"] for t in completed)
    assert all(t.stage == "search" for t in runs.trials)  # no stage: read as search


def test_newer_version_and_foreign_format(tmp_path, make_run):
    run = make_run(tmp_path / "new", cells=("gru",), samples=1, seeds=1, extra_failures=0)
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "version": 7}))
    path = run / "trials" / "00001.json"
    (run / "trials" / "00002.json").write_text(
        json.dumps({**json.loads(path.read_text()), "format": "something.else"}))
    with pytest.warns(ReportWarning):
        runs = load_runs([run])
    text = "\n".join(runs.warnings)
    assert "run format version 7" in text
    assert "00002.json: skipped: format 'something.else'" in text
    assert len(runs.trials) == 1


def test_search_in_progress_without_run_json(tmp_path, make_run, raw_trials):
    run = make_run(tmp_path / "live", cells=("gru", "lstm"), samples=1, seeds=1)
    (run / "run.json").unlink()
    with pytest.warns(ReportWarning, match="run.json: missing"):
        runs = load_runs([run])
    assert runs.runs[0].name == "live" and runs.runs[0].strategy == "fixed"
    assert len(runs.trials) == len(raw_trials(run))
    shutil.rmtree(run / "trials")
    (run / "trials").mkdir()
    (run / "run.json").write_text(json.dumps({"format": "archsearch.run", "version": 1,
                                              "name": "live"}))
    assert load_runs([run]).trials == ()  # started, nothing finished yet


def test_same_run_name_twice_gets_unique_labels(tmp_path, make_run):
    first = make_run(tmp_path / "a", name="same", cells=("gru",), samples=1, seeds=1, seed=1)
    second = make_run(tmp_path / "b", name="same", cells=("gru",), samples=1, seeds=1, seed=2)
    runs = load_runs([first, second])
    assert [r.label for r in runs.runs] == ["same", "same#2"]
    assert runs.warnings == ()
    assert len(runs.trials) == 2 * len(list((first / "trials").glob("*.json")))


def test_the_same_run_given_twice_is_counted_once(fixture_runs, tmp_path):
    ablation = fixture_runs["ablation"]
    once = load_runs([ablation])
    with pytest.warns(ReportWarning, match="given again; read once"):
        twice = load_runs([ablation, str(ablation) + "/"])
    assert len(twice.runs) == 1 and twice.trials == once.trials
    # A copy of the run (synced from a cluster, say) with one more trial:
    # the shared trials count once, the new one is added.
    copy = tmp_path / "copy"
    shutil.copytree(ablation, copy)
    extra = json.loads((copy / "trials" / "00001.json").read_text())
    extra.update(trial_id="99999", finished_at="2025-03-02T00:00:00+00:00")
    (copy / "trials" / "99999.json").write_text(json.dumps(extra))
    with pytest.warns(ReportWarning, match=r"\d+ trial record\(s\) are the same trials as in "
                                           r"run 'ablation'"):
        both = load_runs([ablation, copy])
    assert len(both.trials) == len(once.trials) + 1
    assert [t.trial_id for t in both.trials if t.run == "ablation#2"] == ["99999"]
    assert both.runs[1].trials == 1


def test_fsspec_uri(fixture_runs, raw_trials):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    src = fixture_runs["evolution"]
    for path in [src / "run.json", *sorted((src / "trials").glob("*.json"))]:
        fs.pipe(f"/evo/{path.relative_to(src).as_posix()}", path.read_bytes())
    runs = load_runs(["memory://evo"])
    assert len(runs.trials) == len(raw_trials(src)) and runs.warnings == ()
    with pytest.raises(RunDirError, match="not a run directory"):
        fs.pipe("/empty/x.txt", b"x")
        load_runs(["memory://empty"])


def test_sparse_records_as_the_search_writes_for_a_lost_worker(tmp_path, make_run):
    from archsearch.genome import zoo
    from archsearch.report import summarize

    run = make_run(tmp_path / "run", cells=("gru", "lstm"), samples=2, seeds=1,
                   extra_failures=0)
    gru = zoo.get("gru")
    lost = TrialRecord(
        trial_id="zz-lost", strategy="fixed", status="failed",
        failure="worker on 10.0.0.7 died", task="xml",
        cell=CellRef(name="gru", fingerprint=gru.fingerprint(), genome=gru.to_dict(),
                     origin="fixed"),
        worker={"node": None, "node_id": None, "hostname": None, "pid": None},
        started_at="2025-03-01T13:00:00+00:00", finished_at="2025-03-01T13:00:00+00:00")
    write_trial(RunStore(run), lost)
    runs = load_runs([run])
    assert runs.warnings == ()
    t = next(t for t in runs.trials if t.trial_id == "zz-lost")
    assert t.stage == "search" and t.score_mode is None and t.node is None and t.seconds is None
    assert runs.trials[-1] is t  # finished last
    assert [t.sequence for t in runs.trials] == list(range(1, len(runs.trials) + 1))
    report = summarize(runs)
    assert report.cell("gru").tasks["xml"].failed == 1
    assert report.tasks[1].mode == "max"
    assert [g.reason for g in report.failures] == ["worker on N died"]


def test_pyarrow_only_uri_reads_like_the_local_one(fixture_runs, raw_trials):
    # fsspec knows no "mock" protocol: the store falls back to pyarrow's mock filesystem.
    pytest.importorskip("pyarrow.fs")
    src = fixture_runs["evolution"]
    store = open_store(src)
    arrow = RunStore("mock:///evo")
    assert type(arrow._fs).__name__ == "ArrowFSWrapper"
    for name in ["run.json", *(f"trials/{n}" for n in store.list_json("trials"))]:
        arrow.write_text(name, store.read_text(name))
    assert arrow.list_json("trials") == store.list_json("trials") != []
    assert arrow.read_text("run.json") == store.read_text("run.json")
    assert arrow.list_json("missing") == [] and not arrow.exists("nope.json")


def test_fingerprints_from_another_version_are_recomputed(tmp_path, make_run):
    run = make_run(tmp_path / "old", cells=("gru", "lstm_b"), samples=1, seeds=1, mutants=2,
                   mutant_parents=("gru",), extra_failures=0)
    real = {}
    for path in (run / "trials").glob("*.json"):
        record = json.loads(path.read_text())
        cell = record["cell"]
        fake = "0" * 24 + cell["fingerprint"][:8]  # well-formed, not this version's
        real[fake] = cell["fingerprint"]
        cell["fingerprint"] = fake
        if cell["parent"]:
            cell["parent"] = "0" * 24 + cell["parent"][:8]
        path.write_text(json.dumps(record))
    with pytest.warns(ReportWarning, match="fingerprint"):
        runs = load_runs([run])
    assert {t.fingerprint for t in runs.trials} == set(real.values())
    assert set(runs.genomes) == set(real.values())
    mutants = [t for t in runs.trials if t.origin == "mutation"]
    from archsearch.genome import zoo

    assert mutants and {t.parent for t in mutants} == {zoo.get("gru").fingerprint()}


FIXTURE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "rundir_v1"


def test_a_run_written_by_format_version_1_is_still_reported(tmp_path):
    from archsearch.report import build_report

    with pytest.warns(ReportWarning, match="6 trial record.s. have format version 1"):
        report = build_report([FIXTURE_V1], tmp_path / "out", figures=False)
    assert len(report.trials) == 6
    assert sorted(report.trials.sequence) == [1, 2, 3, 4, 5, 6]  # the driver's numbers
    assert int((report.trials.status == "failed").sum()) == 2
    assert {c.label for c in report.cells} >= {"gru", "lstm", "lstm_b"}
    assert (tmp_path / "out" / "index.html").exists()


def test_cli_reports_a_version_1_run(tmp_path, capsys):
    from archsearch.cli import main

    code = main(["report", str(FIXTURE_V1), str(FIXTURE_V1), "--out", str(tmp_path / "r"),
                 "--no-figures"])
    err = capsys.readouterr()
    assert code == 0, err
    assert "6 trials" in err.out  # given twice, counted once
    assert "given again; read once" in err.err
