"""The `hyperband` strategy's parameters: KerasTuner's Hyperband on one fixed cell.

Kept apart from the oracle (`archsearch.search.oracles.hyperband`) so that
reading a space imports no KerasTuner; `archsearch.space.schema` imports this
module, which registers the strategy.

Example:
    >>> from archsearch.space import schema  # noqa: F401
    >>> h = Hyperband.model_validate({"name": "hyperband", "cell": "lstm", "max_epochs": 9})
    >>> h.cells[0].label, h.max_epochs, h.factor, h.hyperband_iterations
    ('lstm', 9, 3, 1)
"""

from __future__ import annotations

from typing import ClassVar, Literal

from archsearch.space.cells import CellRef, Strict
from archsearch.space.limits import MAX_SAMPLES, Size
from archsearch.space.registry import register_strategy

__all__ = ["Hyperband"]


@register_strategy(oracle="archsearch.search.oracles.hyperband:HyperbandCellOracle")
class Hyperband(Strict):
    """KerasTuner's Hyperband tuning the hyperparameters of one cell (Li et al. 2018).

    Names and defaults follow `keras_tuner.Hyperband`, except `max_epochs`
    (27 rather than 100). An "epoch" is `1 / max_epochs` of the task's
    budget: a trial asked to train `tuner/epochs` epochs trains
    `budget.steps * epochs / max_epochs` steps (and seconds alike). The
    first `search` task of the space is used.

    Attributes:
        cell: The cell tuned (default: gru).
        max_epochs: Epochs of a full-budget trial; the least a trial trains is
            one epoch.
        factor: Reduction factor of trials and budget between rounds (>= 2).
        hyperband_iterations: Times the whole set of brackets is run.
    """

    searches: ClassVar[bool] = False
    staged_cut: ClassVar[float | None] = None
    name: Literal["hyperband"]
    cell: CellRef = CellRef.model_validate("gru")
    max_epochs: Size(10_000) = 27
    factor: Size(100, minimum=2) = 3
    hyperband_iterations: Size(MAX_SAMPLES) = 1

    @property
    def cells(self) -> list[CellRef]:
        """The one cell tuned, as the list `SearchSpace.cells()` reads."""
        return [self.cell]
