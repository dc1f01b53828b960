"""TrialRecord / RunRecord: round trips, version, and fields that could smuggle a path."""

import json

import pytest
from pydantic import ValidationError

from archsearch.genome import zoo
from archsearch.rundir import (
    RUN_FORMAT,
    TRIAL_FORMAT,
    TRIAL_VERSION,
    CellRef,
    RunRecord,
    TrialRecord,
    explain,
    trial_path,
)


def _record(**changes) -> TrialRecord:
    gru = zoo.get("gru")
    fields = dict(
        trial_id="12", strategy="evolution", status="completed", task="xml", stage="search",
        cell=CellRef(name="gru", fingerprint=gru.fingerprint(), genome=gru.to_dict(),
                     origin="seed"),
        hparams={"learning_rate": 0.5, "units": 32}, seed=1, score=0.42,
        score_metric="accuracy", score_mode="max",
        metrics={"valid": {"accuracy": 0.42}}, curve=[{"step": 10, "train_loss": 1.5}],
        params=1234, units=32, steps=10, timings={"total": 2.5},
        worker={"node": "10.0.0.1", "pid": 7}, started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:03+00:00")
    fields.update(changes)
    return TrialRecord(**fields)


def test_trial_record_round_trips_through_its_json():
    record = _record()
    data = json.loads(record.to_json())
    assert data["format"] == TRIAL_FORMAT and data["version"] == TRIAL_VERSION == 2
    assert "sequence" not in data  # version 2: records are never renumbered
    assert TrialRecord.model_validate(data) == record
    assert TrialRecord.model_validate_json(record.to_json()) == record
    assert record.path == "trials/12.json"


def test_the_fingerprint_is_what_genome_fingerprint_makes():
    assert len(zoo.get("lstm").fingerprint()) == 32
    CellRef(fingerprint=zoo.get("lstm").fingerprint())  # accepted


@pytest.mark.parametrize("bad", ["../../x", "a/b", "ABCDEF" + "0" * 26, "0" * 31, "0" * 33,
                                 "0" * 31 + "g", ""])
def test_bad_fingerprints_are_rejected_with_a_clear_message(bad):
    data = json.loads(_record().to_json())
    data["cell"]["fingerprint"] = bad
    with pytest.raises(ValidationError) as caught:
        TrialRecord.model_validate(data)
    assert explain(caught.value) == (f"field 'cell.fingerprint' should be 32 lowercase hex "
                                     f"digits (a genome fingerprint), got str {bad!r}")


def test_a_bad_parent_fingerprint_is_rejected_too():
    with pytest.raises(ValidationError, match=r"parent\n.*should match pattern"):
        CellRef(fingerprint="0" * 32, parent="../escape")


@pytest.mark.parametrize("bad", ["../x", "a/b", ".hidden", "", "x" * 129])
def test_trial_ids_must_be_safe_file_names(bad):
    with pytest.raises(ValidationError, match="trial_id"):
        _record(trial_id=bad)
    with pytest.raises(ValueError, match=r"Received: trial_id="):
        trial_path(bad)


@pytest.mark.parametrize("status", ["completed", "failed", "stopped"])
def test_statuses(status):
    assert _record(status=status).status == status


@pytest.mark.parametrize("change, message", [
    ({"status": "exploded"}, "field 'status' should be 'completed', 'failed' or 'stopped', "
                             "got str 'exploded'"),
    ({"score": "0.5"}, "field 'score' should be a valid number, got str '0.5'"),
    ({"seed": True}, "field 'seed' should be a valid integer, got bool True"),
    ({"score_mode": "up"}, "field 'score_mode' should be 'max' or 'min', got str 'up'"),
])
def test_wrong_types_are_not_coerced(change, message):
    data = {**json.loads(_record().to_json()), **change}
    with pytest.raises(ValidationError) as caught:
        TrialRecord.model_validate(data)
    assert explain(caught.value) == message


def test_missing_field_is_named():
    data = json.loads(_record().to_json())
    del data["task"]
    with pytest.raises(ValidationError) as caught:
        TrialRecord.model_validate(data)
    assert explain(caught.value) == "missing field 'task'"


def test_same_trial_compares_what_identifies_a_trial():
    record = _record()
    # A driver's failed record of the same trial: fewer hyperparameters, no result.
    lost = _record(status="failed", score=None, hparams={"learning_rate": 0.5}, worker={})
    assert record.same_trial(lost) and lost.same_trial(record)
    assert not record.same_trial(_record(task="arithmetic"))
    assert not record.same_trial(_record(seed=2))
    assert not record.same_trial(_record(hparams={"learning_rate": 0.2, "units": 32}))
    assert not record.same_trial(_record(cell=CellRef(fingerprint="0" * 32)))


def test_run_record_round_trip():
    run = RunRecord(name="q", strategy="fixed", seed=0, baseline="gru", tasks=["xml"],
                    created_at="2026-01-01T00:00:00+00:00", space={"max_trials": 3})
    data = run.model_dump(mode="json")
    assert data["format"] == RUN_FORMAT and data["version"] == 1
    assert RunRecord.model_validate(data) == run
    with pytest.raises(ValidationError, match="strategy"):
        RunRecord.model_validate({**data, "strategy": 3})


def test_the_rundir_package_and_the_report_loader_import_no_tensorflow():
    import subprocess
    import sys

    code = ("import sys, archsearch.rundir, archsearch.report.load; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
