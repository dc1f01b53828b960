"""The trial index: written with each record, checked against the listing, compacted safely."""

import json
import logging
import multiprocessing
import shutil
import uuid
from pathlib import Path

import pytest

from archsearch.rundir import CellRef, RunStore, TrialRecord, index, write_trial
from archsearch.rundir.index import compact, read_trials, record_data, scan

FIXTURE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "rundir_v1"
GENOME = {"name": "toy", "nodes": [{"op": "tanh"}]}


@pytest.fixture(params=["local", "memory", "arrow"])
def store(request, tmp_path):
    if request.param == "local":
        return RunStore(tmp_path / "run")
    if request.param == "memory":
        return RunStore(f"memory://run-{uuid.uuid4().hex}")
    pytest.importorskip("pyarrow.fs")
    return RunStore(f"mock:///run-{uuid.uuid4().hex}")


def _record(k: int, **changes) -> TrialRecord:
    fields = dict(trial_id=str(k), strategy="evolution", status="completed", task="xml",
                  cell=CellRef(name="toy", fingerprint=f"{k % 3:032x}", genome=GENOME,
                               parent=None, origin="seed"),
                  stage="search", hparams={"learning_rate": 0.1 * (k + 1), "units": 8},
                  seed=k, sample=k // 2, score=0.5 + k / 100, score_metric="accuracy",
                  score_mode="max", metrics={"valid": {"accuracy": 0.5 + k / 100}},
                  curve=[{"step": 10, "valid_accuracy": 0.4}], params=1000, units=8,
                  steps=100, timings={"total": 2.5, "train": 2.0},
                  worker={"node": "10.0.0.1", "pid": 7},
                  started_at="2026-01-01T00:00:00+00:00",
                  finished_at=f"2026-01-01T00:{k // 60 % 60:02d}:{k % 60:02d}+00:00")
    return TrialRecord(**{**fields, **changes})


def _segments(store) -> list[str]:
    return [n for n in store.list("index") if n.endswith(".jsonl")]


def test_store_bytes_append_and_sizes(store):
    store.write_bytes("index/a.bin", b"\x00\x01")
    assert store.read_bytes("index/a.bin") == b"\x00\x01" and store.read_bytes("nope") is None
    store.append_text("index/s.jsonl", "one\n")
    store.append_text("index/s.jsonl", "two\n")
    assert store.read_text("index/s.jsonl") == "one\ntwo\n"
    assert store.list_sizes("index") == {"a.bin": 2, "s.jsonl": 8}
    assert store.list_sizes("missing") == {}


def test_each_record_written_gets_a_line_that_rebuilds_it(store):
    records = [_record(k) for k in range(5)]
    records.append(_record(5, status="failed", score=None, failure="worker died", seed=None,
                           timings={}, worker={}, simulated=True))
    for record in records:
        write_trial(store, record)
    write_trial(store, records[0])  # a repeated write keeps the record and adds no line
    found = scan(store)
    assert found.files == [f"{k}.json" for k in range(6)] and found.unindexed == []
    assert found.problems == [] and len(_segments(store)) == 1
    for record in records:
        rebuilt = TrialRecord.model_validate(record_data(found.rows[record.path[7:]]))
        expected = record.model_copy(update={
            "curve": [], "timings": {"total": 2.5} if record.timings else {},
            "worker": {"node": "10.0.0.1"} if record.worker else {}})
        assert rebuilt == expected
    assert read_trials(store)[0].hparams == records[0].hparams


def test_remote_segments_roll_over(monkeypatch):
    store = RunStore(f"memory://run-{uuid.uuid4().hex}")
    monkeypatch.setattr(index, "SEGMENT_LINES", 2)
    for k in range(5):
        write_trial(store, _record(k))
    segments = _segments(store)
    assert len(segments) == 3 and {s.rsplit("-", 1)[1] for s in segments} == \
        {"0.jsonl", "1.jsonl", "2.jsonl"}
    assert sorted(scan(store).rows) == [f"{k}.json" for k in range(5)]


def _write_many(location: str, start: int) -> None:
    store = RunStore(location)
    for k in range(start, start + 40):
        write_trial(store, _record(k))


def test_concurrent_processes_write_their_own_segments(tmp_path):
    location = str(tmp_path / "run")
    _write_many(location, 0)  # the parent's writer exists before the fork
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(location, 40 * k)) for k in range(1, 5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    store = RunStore(location)
    found = scan(store)
    assert len(found.rows) == len(found.files) == 200 and found.problems == []
    assert len(_segments(store)) == 5  # one writer per process, none shared


def test_records_without_a_line_are_read_and_indexed_by_the_next_compaction(store):
    for k in range(4):
        write_trial(store, _record(k))
    store.create_exclusive("trials/9.json", _record(9).to_json())  # writer died before its line
    found = scan(store)
    assert found.unindexed == ["9.json"]
    assert sorted(r.trial_id for r in read_trials(store)) == ["0", "1", "2", "3", "9"]
    assert compact(store) == 5
    names = store.list("index")
    assert len(names) == 1 and names[0].endswith(".parquet")
    after = scan(store)
    assert after.unindexed == [] and after.rows["9.json"]["score"] == pytest.approx(0.59)
    assert compact(store) is None  # already compact
    write_trial(store, _record(10))
    assert compact(store) == 6 and len(store.list("index")) == 1


def test_lines_without_records_and_corrupt_lines_are_skipped_with_a_warning(store, caplog):
    for k in range(4):
        write_trial(store, _record(k))
    store.delete("trials/2.json")
    segment = f"index/{_segments(store)[0]}"
    store.write_text(segment, store.read_text(segment) + '{"file": "7.json", "tri\n[1]\n')
    found = scan(store)
    assert sorted(found.rows) == ["0.json", "1.json", "3.json"] and found.unindexed == []
    text = "\n".join(found.problems)
    assert f"{segment} line 5: corrupt or truncated index line" in text
    assert f"{segment} line 6: corrupt or truncated index line" in text
    assert "1 index line(s) name trial records that do not exist (e.g. trials/2.json)" in text
    with caplog.at_level(logging.WARNING, "archsearch.rundir"):
        assert [r.trial_id for r in read_trials(store)] == ["0", "1", "3"]
    assert "line 5: corrupt" in caplog.text


def test_a_line_that_does_not_match_its_record_defers_to_the_record(store):
    write_trial(store, _record(0))
    write_trial(store, _record(1))
    store.write_text("trials/1.json", _record(1, score=0.125).to_json())  # rewritten in place
    found = scan(store)
    assert found.unindexed == ["1.json"]
    assert {r.trial_id: r.score for r in read_trials(store)} == {"0": 0.5, "1": 0.125}
    segment = f"index/{_segments(store)[0]}"
    store.write_text(segment, store.read_text(segment).replace('"status":"completed"',
                                                               '"status":"exploded"'))
    assert {r.trial_id: r.score for r in read_trials(store)} == {"0": 0.5, "1": 0.125}


def test_an_unreadable_compaction_falls_back_to_the_records(store):
    for k in range(3):
        write_trial(store, _record(k))
    compact(store)
    name = store.list("index")[0]
    store.write_bytes(f"index/{name}", b"PAR1 not parquet")
    found = scan(store)
    assert found.unindexed == ["0.json", "1.json", "2.json"]
    assert f"index/{name}: unreadable index file" in found.problems[0]
    assert len(read_trials(store)) == 3


def test_a_line_appended_while_compacting_is_never_lost(store):
    for k in range(3):
        write_trial(store, _record(k))
    delete = store.delete

    def racing_delete(rel):  # another worker finishes a trial between the read and the delete
        if rel.endswith(".jsonl") and not store.exists("trials/3.json"):
            write_trial(store, _record(3))
        delete(rel)

    store.delete = racing_delete
    assert compact(store) == 3
    store.delete = delete
    found = scan(store)
    assert found.unindexed == ["3.json"]  # its line went with the segment; its record did not
    assert [r.trial_id for r in read_trials(store)] == ["0", "1", "2", "3"]
    assert compact(store) == 4 and scan(store).unindexed == []


def test_concurrent_compactions_keep_every_row(store):
    for k in range(3):
        write_trial(store, _record(k))
    first = scan(store)
    store.write_bytes("index/compact-other.parquet", index._table(list(first.rows.values())))
    write_trial(store, _record(3))
    assert compact(store) == 4
    assert len(scan(store).rows) == 4 and len(store.list("index")) == 1


def test_an_index_write_failure_never_fails_the_record(tmp_path, monkeypatch, caplog):
    store = RunStore(tmp_path / "run")

    def broken(*_):
        raise OSError("disk full")

    monkeypatch.setattr(RunStore, "append_text", broken)
    with caplog.at_level(logging.WARNING, "archsearch.rundir"):
        write_trial(store, _record(0))
    assert "index line not written (disk full)" in caplog.text
    assert scan(store).unindexed == ["0.json"] and len(read_trials(store)) == 1


def test_a_run_directory_without_an_index_reads_and_compacts(tmp_path):
    run = tmp_path / "v1"
    shutil.copytree(FIXTURE_V1, run)
    store = RunStore(run)
    files = store.list_json("trials")
    assert scan(store).unindexed == files and len(read_trials(store)) == len(files)
    assert compact(store) == len(files)
    rows = scan(store).rows
    raw = {f: json.loads((run / "trials" / f).read_text()) for f in files}
    assert all(rows[f]["sequence"] == raw[f]["sequence"] for f in files)
    assert all(rows[f]["version"] == 1 for f in files)


@pytest.mark.parametrize("count", [0, 4, 5, 11])
def test_compaction_in_row_groups_keeps_every_row(tmp_path, monkeypatch, count):
    monkeypatch.setattr(index, "ROW_GROUP", 4)  # 0, 1, 2 (one empty) and 3 groups
    store = RunStore(tmp_path / "run")
    records = [_record(k) for k in range(count)]
    for record in records:
        write_trial(store, record)
    store.makedirs("index")
    before = scan(store).rows
    assert compact(store, min_files=0 if count == 0 else 1) in (count, None)
    after = scan(store)
    assert after.rows == before and after.problems == []
    assert sorted(r.trial_id for r in read_trials(store)) == sorted(r.trial_id for r in records)


def test_a_scan_shares_repeated_keys_and_values_between_rows(store):
    for k in range(3):
        write_trial(store, _record(k * 3))  # one cell (k * 3 % 3 == 0): equal fingerprints
    rows = list(scan(store).rows.values())
    keys = [next(k for k in row if k == "fingerprint") for row in rows]
    assert all(k is keys[0] for k in keys)
    assert all(row["fingerprint"] is rows[0]["fingerprint"] for row in rows)
    assert all(row["task"] is rows[0]["task"] for row in rows)


def test_records_of_an_older_format_version_are_read_with_a_warning(tmp_path, caplog):
    import shutil
    from pathlib import Path

    from archsearch.rundir import RunStore, read_trials

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "rundir_v1"
    shutil.copytree(fixture, tmp_path / "run")
    with caplog.at_level(logging.WARNING, "archsearch.rundir"):
        records = read_trials(RunStore(str(tmp_path / "run")))
    assert records and all(r.version == 1 for r in records)
    assert f"{len(records)} trial record(s) have format version 1" in caplog.text
