"""The run directory: one store, one versioned schema, one driver at a time. No TensorFlow.

* `RunStore`: the files of a run directory on a local disk or behind an
  fsspec/pyarrow URI; atomic writes and exclusive creates.
* `RunRecord`, `TrialRecord`: the pydantic models of `run.json` and
  `trials/<id>.json`, written by the search and read by the report.
* `write_trial`, `read_trial`: a trial's record is created once and never
  rewritten.
* `Lease`: one search driver per run directory (`lease.json`, with a heartbeat).
* `index`: one summary line per trial record (`index/`), so a report or a
  resume reads 100k trials in a few requests: `scan`, `read_trials`, `compact`.

Example:
    >>> import tempfile
    >>> from archsearch.rundir import CellRef, RunStore, TrialRecord, read_trial, write_trial
    >>> store = RunStore(tempfile.mkdtemp())
    >>> record = TrialRecord(trial_id="7", strategy="fixed", status="failed", task="xml",
    ...                      cell=CellRef(fingerprint="ab" * 16), failure="worker died")
    >>> write_trial(store, record) == read_trial(store, "7") == record
    True
"""

from archsearch.rundir.index import compact, read_trials, scan
from archsearch.rundir.lease import (
    HEARTBEAT_SECONDS,
    LEASE_FILE,
    STALE_SECONDS,
    Lease,
    LeaseLost,
    LeaseWarning,
    check_token,
)
from archsearch.rundir.records import (
    RUN_FORMAT,
    RUN_VERSION,
    STATUSES,
    TRIAL_FORMAT,
    TRIAL_VERSION,
    CellRef,
    RunRecord,
    TrialRecord,
    explain,
    trial_path,
)
from archsearch.rundir.store import RunDirError, RunStore
from archsearch.rundir.trials import read_trial, write_trial

__all__ = ["HEARTBEAT_SECONDS", "LEASE_FILE", "RUN_FORMAT", "RUN_VERSION", "STALE_SECONDS",
           "STATUSES", "TRIAL_FORMAT", "TRIAL_VERSION", "CellRef", "Lease", "LeaseLost",
           "LeaseWarning", "RunDirError", "RunRecord", "RunStore", "TrialRecord", "check_token",
           "compact", "explain",
           "read_trial", "read_trials", "scan", "trial_path", "write_trial"]
