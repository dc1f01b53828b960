"""write_trial / read_trial: a record is created once, never overwritten, never reused."""

import json

import pytest

from archsearch.rundir import CellRef, RunDirError, RunStore, TrialRecord, read_trial, write_trial


def _record(**changes) -> TrialRecord:
    fields = dict(trial_id="3", strategy="fixed", status="completed", task="xml", seed=0,
                  cell=CellRef(fingerprint="ab" * 16), hparams={"learning_rate": 0.1},
                  score=0.5, finished_at="2026-01-01T00:00:00+00:00")
    fields.update(changes)
    return TrialRecord(**fields)


def test_written_once_then_read_back(tmp_path):
    store = RunStore(tmp_path)
    assert read_trial(store, "3") is None
    record = _record()
    assert write_trial(store, record) == record
    assert read_trial(store, "3") == record
    assert json.loads((tmp_path / "trials" / "3.json").read_text())["score"] == 0.5


def test_a_second_write_of_the_same_trial_keeps_the_first_record(tmp_path):
    store = RunStore(tmp_path)
    first = write_trial(store, _record())
    before = (tmp_path / "trials" / "3.json").read_bytes()
    # The driver records a lost worker after the worker's own record landed.
    lost = _record(status="failed", score=None, failure="worker died", hparams={})
    assert write_trial(store, lost) == first
    assert (tmp_path / "trials" / "3.json").read_bytes() == before


def test_a_trial_id_is_never_reused_for_another_trial(tmp_path):
    store = RunStore(tmp_path)
    write_trial(store, _record())
    before = (tmp_path / "trials" / "3.json").read_bytes()
    other = _record(task="arithmetic")
    with pytest.raises(RunDirError, match=r"trial id '3' already records another trial .*"
                                          r"Received: cell=abab.*task='arithmetic'"):
        write_trial(store, other)
    with pytest.raises(RunDirError, match="never reused"):
        write_trial(store, _record(hparams={"learning_rate": 0.2}))
    assert (tmp_path / "trials" / "3.json").read_bytes() == before


def test_an_invalid_record_file_is_named(tmp_path):
    store = RunStore(tmp_path)
    store.write_json("trials/4.json", {**_record().model_dump(mode="json"), "trial_id": "../4"})
    with pytest.raises(RunDirError, match=r"trials/4\.json: not a valid trial record: "
                                          r"field 'trial_id'"):
        read_trial(store, "4")
