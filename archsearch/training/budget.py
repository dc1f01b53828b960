"""`Budget`: how long a trial may train and how often it is evaluated."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

__all__ = ["Budget"]


@dataclasses.dataclass(frozen=True)
class Budget:
    """A trial's training budget; training stops at whichever limit comes first.

    Args:
        steps: Most optimizer steps (`None`: no step limit).
        seconds: Most seconds of training, evaluation excluded (`None`: none).
        eval_every: Evaluate on validation data every this many steps.
        eval_batches: Validation batches per intermediate evaluation (`None`:
            all); the final evaluation always uses every batch.
        patience: Evaluations without improvement before the learning rate
            starts halving (the paper's schedule).
        decays: Halvings before the trial stops early.
        divergence_factor: Fail when the loss exceeds this times its first value.

    Example:
        >>> Budget(steps=100).exhausted(step=100, seconds=1.0)
        True
    """

    steps: int | None = 200
    seconds: float | None = None
    eval_every: int = 50
    eval_batches: int | None = 20
    patience: int = 3
    decays: int = 4
    divergence_factor: float = 100.0

    def __post_init__(self):
        if self.steps is None and self.seconds is None:
            raise ValueError("a budget needs steps or seconds (or both)")
        for name in ("steps", "eval_every", "eval_batches", "patience"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < (0 if name == "patience" else 1)):
                raise ValueError(f"budget {name} must be a positive integer. "
                                 f"Received: {name}={value!r}")
        if self.seconds is not None and not self.seconds > 0:
            raise ValueError(f"budget seconds must be > 0. Received: seconds={self.seconds!r}")

    def exhausted(self, step: int, seconds: float) -> bool:
        """Whether a trial at `step` after `seconds` of training must stop."""
        return (self.steps is not None and step >= self.steps) or (
            self.seconds is not None and seconds >= self.seconds)

    @classmethod
    def coerce(cls, value) -> Budget:
        """Accepts a `Budget`, a dict of its fields, or `None` (the default)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            return cls(**value)
        raise TypeError(f"expected a Budget or a dict. Received: {value!r}")
