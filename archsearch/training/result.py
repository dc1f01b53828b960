"""`TrialResult`: what one trial produced, as a JSON-ready record.

Example:
    >>> result = TrialResult(status=COMPLETED, task="arithmetic", score=float("nan"))
    >>> result.to_dict()["score"] is None
    True
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["COMPLETED", "FAILED", "STOPPED", "TrialResult", "failure_text"]

COMPLETED, FAILED, STOPPED = "completed", "failed", "stopped"


@dataclasses.dataclass
class TrialResult:
    """What one trial produced.

    Attributes:
        status: `"completed"`, `"failed"` or `"stopped"` (an `on_eval` callback
            ended it early; its metrics are those of the best evaluation so far).
        failure: why it failed or was stopped (`None` when completed).
        task: task name.
        score: the validation value of `score_metric` at the best evaluation.
        score_metric: metric the search ranks by; `score_mode` `"max"`/`"min"`.
        metrics: `{"valid": {...}, "test": {...}}` at the best validation point.
        curve: one dict per evaluation: step, seconds, train_loss, valid metrics.
        params: trainable parameters of the whole model; `units` the hidden size.
        steps: training steps run.
        hparams: the resolved hyperparameters.
        timings: seconds spent in data, build, trace (the first training step,
            which compiles), train (the other steps), eval, and total.
    """

    status: str
    task: str
    failure: str | None = None
    score: float | None = None
    score_metric: str = "accuracy"
    score_mode: str = "max"
    metrics: dict = dataclasses.field(default_factory=dict)
    curve: list = dataclasses.field(default_factory=list)
    params: int | None = None
    units: int | None = None
    steps: int = 0
    hparams: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    timings: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dict (non-finite floats become `None`)."""
        return _clean(dataclasses.asdict(self))


def _clean(value):
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def failure_text(err: BaseException, limit: int = 500) -> str:
    r"""`Type: message` of an exception in one line, for a trial record's `failure`.

    TensorFlow's errors from a traced function open with "in user code:" and
    a stack; the line that says what went wrong is the last one.

    Example:
        >>> failure_text(ValueError("in user code:\n\n  File x.py\n\n  ValueError: None values"))
        'ValueError: None values'
        >>> failure_text(KeyError("cell"))
        "KeyError: 'cell'"
    """
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if text == "in user code:" and len(lines) > 1:
        last = lines[-1]
        text = last.split(": ", 1)[1] if last.startswith(f"{type(err).__name__}: ") else last
    return f"{type(err).__name__}: {text}"[:limit]
