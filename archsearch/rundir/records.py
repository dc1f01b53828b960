"""The run directory's schema: `RunRecord` (`run.json`) and `TrialRecord` (`trials/<id>.json`).

Versioned pydantic models, written by the search and read by the report.
Trial record versions:

* 2 (this one): as 1 without `sequence` (a finished record is written once,
  by the trial's worker, and never renumbered; the finishing order is the
  order of `finished_at`); status `completed`, `failed` or `stopped`.
* 1: the driver numbered each record (`sequence`) by rewriting it.
* 0: no `format`, `score`, `score_mode`, `stage` or `sequence` fields.

Anything that becomes part of a file name is checked here: `cell.fingerprint`
(and `cell.parent`) is the 32 lowercase hex digits `Genome.fingerprint()`
makes, and `trial_id` is letters, digits, `.`, `_` and `-`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["RUN_FORMAT", "TRIAL_FORMAT", "RUN_VERSION", "TRIAL_VERSION", "STATUSES",
           "CellRef", "RunRecord", "TrialRecord", "Fingerprint", "TrialId", "explain"]

RUN_FORMAT = "archsearch.run"
TRIAL_FORMAT = "archsearch.trial"
RUN_VERSION = 1
TRIAL_VERSION = 2
STATUSES = ("completed", "failed", "stopped")

_TRIAL_ID = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
#: What `Genome.fingerprint()` returns: 32 lowercase hex digits.
Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
#: A trial id, safe as a file name.
TrialId = Annotated[str, Field(pattern=f"^{_TRIAL_ID}$")]


class _Record(BaseModel):
    # Strict: a string is not a number and a number is not a string; unknown
    # keys (from a newer minor change) are ignored when reading.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CellRef(_Record):
    """The cell a trial trained: its fingerprint, genome and lineage."""

    name: str | None = None
    fingerprint: Fingerprint
    genome: dict[str, Any] | None = None
    parent: Fingerprint | None = None
    origin: str | None = None


class TrialRecord(_Record):
    """One finished trial, as stored in `trials/<trial_id>.json`.

    Example:
        >>> r = TrialRecord(trial_id="0", strategy="fixed", status="failed",
        ...                 failure="worker died", task="xml",
        ...                 cell=CellRef(fingerprint="0" * 32))
        >>> TrialRecord.model_validate_json(r.model_dump_json()) == r
        True
        >>> r.path
        'trials/0.json'
    """

    format: Literal["archsearch.trial"] = TRIAL_FORMAT
    version: int = TRIAL_VERSION
    trial_id: TrialId
    strategy: str
    status: Literal["completed", "failed", "stopped"]
    failure: str | None = None
    cell: CellRef
    task: str
    stage: str | None = None
    hparams: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    #: Which hyperparameter sample of the cell on the task (its seeds share it).
    sample: int | None = None
    score: float | None = None
    score_metric: str | None = None
    score_mode: Literal["max", "min"] | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    curve: list[dict[str, Any]] = Field(default_factory=list)
    params: int | None = None
    units: int | None = None
    steps: int | None = 0
    timings: dict[str, Any] = Field(default_factory=dict)
    worker: dict[str, Any] = Field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None
    #: Scored by `archsearch.search.simulate` (no training): for sizing and scale tests.
    simulated: bool = False
    #: `search` (chose cells and hyperparameters on the validation split) or
    #: `confirm` (a chosen cell retrained on a fresh seed, reported on test).
    #: Records written before phases existed read as `search`.
    phase: Literal["search", "confirm"] = "search"

    @property
    def path(self) -> str:
        """The record's path relative to the run directory."""
        return trial_path(self.trial_id)

    def same_trial(self, other: TrialRecord) -> bool:
        """Whether `other` records the same trial: cell, task, stage, seed and hyperparameters.

        Hyperparameters are compared on the keys both hold (a worker records
        the resolved set, a driver only what it asked for).
        """
        if (self.cell.fingerprint, self.task, self.stage, self.seed, self.phase) != (
                other.cell.fingerprint, other.task, other.stage, other.seed, other.phase):
            return False
        shared = self.hparams.keys() & other.hparams.keys()
        return all(self.hparams[k] == other.hparams[k] for k in shared)

    def to_json(self) -> str:
        """The record as the JSON text of its file."""
        return self.model_dump_json(indent=1)


class RunRecord(_Record):
    """`run.json`: what was searched (the resolved space) and how.

    Example:
        >>> run = RunRecord(name="quick", strategy="fixed", seed=0, baseline="gru",
        ...                 tasks=["xml"], created_at="2026-01-01T00:00:00+00:00")
        >>> RunRecord.model_validate_json(run.model_dump_json()).tasks
        ['xml']
    """

    format: Literal["archsearch.run"] = RUN_FORMAT
    version: int = RUN_VERSION
    name: str | None = None
    strategy: str
    seed: int | None = None
    baseline: str | None = None
    tasks: list[str] = Field(default_factory=list)
    created_at: str | None = None
    space: dict[str, Any] = Field(default_factory=dict)


def trial_path(trial_id: str) -> str:
    """The path of trial `trial_id`'s record, relative to the run directory.

    Raises:
        ValueError: `trial_id` is not safe as a file name.
    """
    if not re.fullmatch(_TRIAL_ID, str(trial_id)):
        raise ValueError(f"expected a trial id of letters, digits, '.', '_' and '-'. "
                         f"Received: trial_id={trial_id!r}")
    return f"trials/{trial_id}.json"


_PATTERNS = {
    r"^[0-9a-f]{32}$": "32 lowercase hex digits (a genome fingerprint)",
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$": "a trial id of letters, digits, '.', '_' and '-'",
}


def explain(err: ValidationError) -> str:
    """The first problem of a validation error, as `field 'a.b' should be ..., got ...`."""
    first = err.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"])
    if first["type"] == "missing":
        return f"missing field {loc!r}"
    value = first.get("input")
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    if first["type"] == "string_pattern_mismatch":
        pattern = first["ctx"]["pattern"]
        expected = _PATTERNS.get(pattern, f"a string matching {pattern!r}")
    else:
        expected = first["msg"].removeprefix("Input should be ")
    return f"field {loc!r} should be {expected}, got {type(value).__name__} {shown}"
