"""The oracle's saved state: a small snapshot; everything else comes from the records.

The trial records in the run directory are the source of truth. `oracle.json`
holds only what a strategy decided and cannot be read back from them: the
queue of trials not yet started, the trials started and not ended, the cells
still being evaluated, the strategy's own lists (top-N, population) and its
counters. Its size does not grow with the number of trials, so saving after
each trial costs the same at trial 10 and at trial 100,000.

On reload the ended trials are read back from their records (per-cell results,
scores, counts). A missing, empty or unreadable `oracle.json` (or one from an
older archsearch) is rebuilt from the records alone, with a warning: every
finished trial is kept and never rerun, trial ids continue after the highest
recorded one, cells being evaluated when the state was lost count as done.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, NonNegativeInt, ValidationError, field_validator

from archsearch import scoring
from archsearch.rundir import RunDirError, TrialRecord, read_trials
from archsearch.search.oracles.cells import CellState

__all__ = ["STATE_FILE", "OracleSnapshot", "RecordSummary", "read_records", "load_snapshot"]

STATE_FILE = "oracle.json"
STATE_FORMAT = "archsearch.oracle"
STATE_VERSION = 2
TRIALS_DIR = "trials"

log = logging.getLogger("archsearch.search")


class OracleSnapshot(BaseModel):
    """`oracle.json`: the strategy's decisions, no copy of any ended trial.

    Example:
        >>> snap = OracleSnapshot(strategy="fixed", next_trial=3, steps=0, seed_state=9)
        >>> OracleSnapshot.model_validate_json(snap.model_dump_json()) == snap
        True
    """

    model_config = ConfigDict(extra="forbid")

    format: Literal["archsearch.oracle"] = STATE_FORMAT
    version: Literal[2] = STATE_VERSION
    strategy: str
    next_trial: NonNegativeInt
    steps: int
    seed_state: int
    ended: NonNegativeInt = 0
    queue: list[dict[str, Any]] = []
    pending: dict[str, dict[str, Any]] = {}   # trial id -> values, started and not ended
    ongoing: dict[str, str] = {}              # tuner id -> trial id
    retry_queue: list[str] = []
    cells: dict[str, dict[str, Any]] = {}     # cells being evaluated (no results)
    genomes: dict[str, dict[str, Any]] = {}   # their genomes
    strategy_state: dict[str, Any] = {}

    @field_validator("cells")
    @classmethod
    def _cells_are_cell_states(cls, cells):
        for fp, data in cells.items():  # raises on an unknown status or field type
            CellState.from_snapshot({"fingerprint": fp, **data})
        return cells


class RecordSummary(NamedTuple):
    """What the oracle reads from one trial record (`archsearch.rundir.TrialRecord`)."""

    trial_id: str
    finished_at: str
    objective: float | None
    task: str
    stage: str | None
    seed: int | None
    fingerprint: str
    genome: dict | None
    name: str | None
    parent: str | None
    origin: str | None
    hparams: dict
    phase: str = "search"
    sample: int | None = None
    seconds: float | None = None

    @classmethod
    def of(cls, record: TrialRecord) -> RecordSummary:
        """The summary of a validated record; objective = -metric for "min" metrics.

        A `stopped` trial (ended early by a scheduler) is evaluated: its
        objective is its partial score, as when the driver ended it.
        """
        objective = None
        if record.status in ("completed", "stopped"):
            objective = scoring.objective(record.score, record.score_mode or "max")
        cell = record.cell
        return cls(record.trial_id, record.finished_at or "", objective, record.task,
                   record.stage, record.seed, cell.fingerprint, cell.genome, cell.name,
                   cell.parent, cell.origin, dict(record.hparams), record.phase, record.sample,
                   _seconds(record.timings.get("total")))

    def order(self) -> tuple:
        """Sort key: finishing time, then numeric trial id."""
        tid = self.trial_id
        return (self.finished_at, int(tid) if tid.isdigit() else -1, tid)


def _seconds(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def read_records(storage) -> list[RecordSummary]:
    """Every readable trial record, in finishing order, through the run's trial index.

    `archsearch.rundir.read_trials` reads the index and only the records it
    lacks (unreadable ones skipped with a warning naming the file).
    """
    records, seen = [], set()
    for record in sorted(map(RecordSummary.of, read_trials(storage)), key=RecordSummary.order):
        if record.trial_id in seen:  # a copied or hand-made file claiming a recorded id
            warnings.warn(f"{storage.path('trials')}: two records claim trial id "
                          f"{record.trial_id!r}; the one that finished first is used",
                          RuntimeWarning, stacklevel=2)
            continue
        seen.add(record.trial_id)
        records.append(record)
    return records


def load_snapshot(storage, strategy: str) -> tuple[OracleSnapshot | None, str | None]:
    """The saved snapshot, or (None, why it cannot be used)."""
    try:
        data = storage.read_json(STATE_FILE)
    except RunDirError as err:
        return None, str(err)
    if data is None:
        return None, f"{storage.path(STATE_FILE)}: missing"
    try:
        snapshot = OracleSnapshot.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        return None, (f"{storage.path(STATE_FILE)}: not an archsearch oracle state "
                      f"v{STATE_VERSION} ({where}: {first['msg']})")
    if snapshot.strategy != strategy:
        return None, (f"{storage.path(STATE_FILE)}: expected a {strategy!r} state. "
                      f"Received: strategy={snapshot.strategy!r}")
    return snapshot, None
