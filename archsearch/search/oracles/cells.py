"""`CellState`: what an oracle knows about one cell, and `CellStatus`, where it is.

A cell (one genome, keyed by its fingerprint) moves through its stages (the
pre-filter, the search tasks, the report tasks) while `running`; it is
`waiting` when a cut needs the baseline's result first; `done` when it has
finished or been cut. `results` and `bests` are its objectives per task,
`score` the min-ratio score once it is done (both rebuilt from the trial
records on resume, so a snapshot leaves them out: `DERIVED`).

Example:
    >>> cell = CellState("f" * 32, name="lstm", origin="seed")
    >>> cell.status, cell.status == "done"
    (<CellStatus.DONE: 'done'>, True)
    >>> CellState.from_snapshot(cell.snapshot()) == cell
    True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["ACTIVE", "DERIVED", "CellState", "CellStatus"]


class CellStatus(StrEnum):
    """Where a cell is: its stages' trials in flight, waiting for the baseline, or done."""

    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"


#: Statuses of a cell still being evaluated.
ACTIVE = (CellStatus.RUNNING, CellStatus.WAITING)
#: Fields rebuilt from the trial records, left out of a snapshot.
DERIVED = ("results", "bests", "score")


@dataclass
class CellState:
    """One cell's bookkeeping in an oracle.

    Attributes:
        fingerprint: The genome's fingerprint (the key).
        name: Its name (zoo or space name), None for a mutant.
        parent: The parent's fingerprint, for a mutant.
        origin: How it entered the search (`seed`, `baseline`, `fixed`,
            `mutation`, `random`, `reevaluation`, `confirm`, ...).
        status: A `CellStatus`.
        stages: The tasks it is evaluated on, in order (None: read from
            records, never evaluated in this process).
        stage: Index of the stage in flight.
        pending: Trials of that stage not yet ended.
        cuts: Whether the strategy's cuts apply to it.
        cut: Why it stopped early, else None.
        results: Task -> every objective (None for a failed trial).
        bests: Task -> its best objective.
        score: The min-ratio score once done (None: unscored).
    """

    fingerprint: str
    name: str | None = None
    parent: str | None = None
    origin: str | None = None
    status: CellStatus = CellStatus.DONE
    stages: list[str] | None = None
    stage: int = 0
    pending: int = 0
    cuts: bool = True
    cut: str | None = None
    results: dict[str, list] = field(default_factory=dict)
    bests: dict[str, float] = field(default_factory=dict)
    score: float | None = None

    def snapshot(self) -> dict[str, Any]:
        """JSON data of the fields a snapshot keeps (all but `DERIVED`)."""
        return {f.name: (str(getattr(self, f.name)) if f.name == "status"
                         else getattr(self, f.name))
                for f in dataclasses.fields(self) if f.name not in DERIVED}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> CellState:
        """A cell from `snapshot()` data (unknown keys ignored, status validated)."""
        known = {f.name for f in dataclasses.fields(cls)} - set(DERIVED)
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = CellStatus(values.get("status", CellStatus.DONE))
        return cls(**values)

    def restore(self, data: dict[str, Any]) -> None:
        """Sets the snapshot fields `data` holds; the others (and the derived ones) stay."""
        saved = self.from_snapshot({"fingerprint": self.fingerprint, **data})
        for name in saved.snapshot():
            if name in data:
                setattr(self, name, getattr(saved, name))
