"""Trial records in a run directory: read one, or create one exactly once.

A finished trial's record is created exclusively (`RunStore.create_exclusive`)
and never rewritten: the first writer wins. A second write of the same trial
(Ray retrying a trial whose record was already written, or a driver recording
a lost worker while the worker's own record lands) keeps the first record. A
trial id found holding a different trial is an error, never an overwrite.
"""

from __future__ import annotations

from pydantic import ValidationError

from archsearch.rundir import index
from archsearch.rundir.records import TrialRecord, explain, trial_path
from archsearch.rundir.store import RunDirError, RunStore

__all__ = ["read_trial", "write_trial"]


def read_trial(store: RunStore, trial_id: str) -> TrialRecord | None:
    """The record of trial `trial_id`, or None if none was written.

    Raises:
        RunDirError: the file exists but is not a valid trial record.
    """
    rel = trial_path(trial_id)
    data = store.read_json(rel)
    if data is None:
        return None
    try:
        return TrialRecord.model_validate(data)
    except ValidationError as err:
        raise RunDirError(f"{store.path(rel)}: not a valid trial record: {explain(err)}") \
            from None


def write_trial(store: RunStore, record: TrialRecord) -> TrialRecord:
    """Creates `record`'s file unless the trial was recorded already; returns the stored record.

    Raises:
        RunDirError: the trial id already holds a record of another trial (a
            different cell, task, stage, seed or hyperparameters), or an
            unreadable one.
    """
    if store.create_exclusive(record.path, record.to_json()):
        index.append(store, record)
        return record
    existing = read_trial(store, record.trial_id)
    if existing is None:  # removed between the two calls: nothing to protect
        if store.create_exclusive(record.path, record.to_json()):
            index.append(store, record)
        return record
    if not existing.same_trial(record):
        raise RunDirError(
            f"{store.path(record.path)}: trial id {record.trial_id!r} already records another "
            f"trial (cell {existing.cell.fingerprint}, task {existing.task!r}, seed "
            f"{existing.seed!r}); a trial id is never reused. Received: "
            f"cell={record.cell.fingerprint}, task={record.task!r}, seed={record.seed!r}")
    return existing
