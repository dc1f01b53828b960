"""Stopping hopeless trials early: Ray Tune's ASHA and median stopping, and the paper's cut.

Every trial reports each evaluation to Ray Tune (`archsearch.search.worker`)
as `progress` (the fraction of its budget spent) and `score` (the oracle's
objective, higher is better, of its best evaluation so far), with the curve
point itself under `point`. `EarlyStopping` wraps one scheduler per task
(accuracies of different tasks are not comparable): Ray Tune's
`AsyncHyperBandScheduler` or `MedianStoppingRule`, or `CurveCut`, the paper's
staged 90%-of-GRU cut moved inside a trial against the baseline's learning
curve. The wrapper never stops a baseline trial or a trial at its last
evaluation, never pauses one (function trainables cannot resume), runs
waiting baseline trials first, and hands each decision to `on_stop` before
Tune acts on it, so the stopped trial's record is written by the driver
while the trial is still blocked in `tune.report`.

Example:
    >>> from types import SimpleNamespace
    >>> cut = CurveCut(baseline="b" * 32, min_ratio=0.9, grace_period=0.25)
    >>> def trial(tid, fp):
    ...     return SimpleNamespace(trial_id=tid, config={"fingerprint": fp, "task": "xml"})
    >>> def result(step, best):
    ...     return {"progress": step / 100, "score": best, "step": step, "score_mode": "max"}
    >>> cut.on_trial_result(None, trial("g", "b" * 32), result(50, 0.8))
    'CONTINUE'
    >>> cut.on_trial_result(None, trial("t", "c" * 32), result(50, 0.7))  # 0.7 < 0.9 x 0.8
    'STOP'
"""

from __future__ import annotations

import bisect
import contextlib
import math

from ray.tune.schedulers import AsyncHyperBandScheduler, MedianStoppingRule
from ray.tune.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

from archsearch import scoring

__all__ = ["CurveCut", "EarlyStopping", "TIME_ATTR", "METRIC", "baseline_curves", "make_scheduler",
           "stopped_result"]

#: Result key Tune's schedulers measure time by: the fraction of the budget spent.
TIME_ATTR = "progress"
#: Result key they compare: the objective (higher is better) of the best evaluation so far.
METRIC = "score"
CONTINUE, STOP, PAUSE = TrialScheduler.CONTINUE, TrialScheduler.STOP, TrialScheduler.PAUSE


def _objective_to_metric(value: float, mode: str) -> float:
    return value if mode == "max" else -value


class CurveCut(FIFOScheduler):
    """Stops a trial whose best-so-far is below `min_ratio` x the baseline's at the same step.

    The baseline's best-so-far at step s on a task is the best, over every
    baseline curve on that task (recorded ones passed as `curves`, and the
    baseline trials reporting now), of its values at steps <= s. Before a
    baseline curve reaches step s its latest value stands in; before there is
    any, trials continue.

    Args:
        baseline: Fingerprint of the baseline cell (its trials are never cut).
        min_ratio: The cut, e.g. the paper's 0.9.
        grace_period: Budget fraction before a trial may be stopped.
        curves: Recorded baseline curves: task -> list of curves, each a list
            of `(step, objective)`.
    """

    def __init__(self, baseline: str, min_ratio: float = 0.9, grace_period: float = 0.25,
                 curves: dict | None = None):
        super().__init__()
        self.baseline, self.min_ratio, self.grace_period = baseline, min_ratio, grace_period
        self._curves: dict[str, dict[str, list]] = {}  # task -> curve key -> [(step, obj)]
        for task, task_curves in (curves or {}).items():
            for k, curve in enumerate(task_curves):
                for step, value in curve:
                    self.add_point(task, f"recorded-{k}", step, value)
        self.last_reason: str | None = None

    def add_point(self, task: str, key: str, step: int, objective: float | None) -> None:
        """Adds a baseline evaluation (its objective; None or NaN is ignored)."""
        if objective is None or not math.isfinite(objective):
            return
        curve = self._curves.setdefault(task, {}).setdefault(key, [])
        best = max(objective, curve[-1][1]) if curve else objective
        if curve and step <= curve[-1][0]:  # a baseline never reports a step twice
            return
        curve.append((step, best))

    def reference(self, task: str, step: int) -> float | None:
        """The baseline's best-so-far objective at `step` on `task` (None: no curve yet)."""
        values = []
        for curve in self._curves.get(task, {}).values():
            k = bisect.bisect_right(curve, (step, math.inf))
            values.append(curve[k - 1][1] if k else curve[0][1])
        return max(values) if values else None

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        config, self.last_reason = trial.config, None
        if METRIC not in result or "step" not in result:
            return CONTINUE
        task, step, value = config["task"], int(result["step"]), result[METRIC]
        if config.get("fingerprint") == self.baseline:
            self.add_point(task, str(trial.trial_id), step, value)
            return CONTINUE
        if result.get(TIME_ATTR, 0.0) < self.grace_period:
            return CONTINUE
        ref = self.reference(task, step)
        mode = result.get("score_mode", "max")
        if ref is None or value is None or not math.isfinite(value):
            return CONTINUE
        mine, base = _objective_to_metric(value, mode), _objective_to_metric(ref, mode)
        ratio = scoring.ratio(mine, base, mode)
        if ratio is None or ratio >= self.min_ratio:
            return CONTINUE
        self.last_reason = (f"best {mine:.4g} at step {step} is {ratio:.3f} x the baseline's "
                            f"{base:.4g} there, below the cut {self.min_ratio:g}")
        return STOP

    def debug_string(self) -> str:
        return f"CurveCut(min_ratio={self.min_ratio}, grace_period={self.grace_period})"


class EarlyStopping(FIFOScheduler):
    """One scheduler per task, made by `make()`; writes each stop through `on_stop` first.

    Args:
        make: Returns a fresh Tune scheduler (metric `score`, mode `max`,
            time attribute `progress`) for a task.
        name: Shown in stop reasons (`asha`, `median`, `curve_cut`).
        baseline: Fingerprint of the baseline cell: never stopped, run first.
        on_stop: Called as `on_stop(trial_id, points, reason)` before a trial
            is stopped; `points` are the results the trial reported (curve
            point, `score_metric`, `score_mode`, Tune's worker fields).
    """

    def __init__(self, make, name: str, baseline: str | None = None, on_stop=None):
        super().__init__()
        self.make, self.name, self.baseline, self.on_stop = make, name, baseline, on_stop
        self.inner: dict[str, TrialScheduler] = {}
        self.points: dict[str, list[dict]] = {}
        self.last: dict[str, dict] = {}  # Tune trial id -> its last timed result
        self.stopped: dict[str, str] = {}  # Tune trial id -> reason

    def _for(self, trial) -> TrialScheduler:
        task = trial.config.get("task", "")
        if task not in self.inner:
            self.inner[task] = self.make()
        return self.inner[task]

    def on_trial_add(self, tune_controller, trial):
        self._for(trial).on_trial_add(tune_controller, trial)

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        if TIME_ATTR not in result:
            return CONTINUE  # the trial's closing report
        kept = self.last[trial.trial_id] = {
            k: result.get(k) for k in (TIME_ATTR, METRIC, "step", "score_mode")}
        points = self.points.setdefault(trial.trial_id, [])
        points.append({"point": _point(result), **{k: result.get(k) for k in (
            "score_metric", "score_mode", "hostname", "node_ip", "pid", "time_total_s")}})
        inner = self._for(trial)
        action = inner.on_trial_result(tune_controller, trial, kept)
        if action != STOP or trial.config.get("fingerprint") == self.baseline \
                or result[TIME_ATTR] >= 1.0:
            return CONTINUE  # never pause; never stop the baseline or a finished trial
        detail = getattr(inner, "last_reason", None) or (
            f"best {result.get('score_metric') or 'score'} "
            f"{_best_metric(points):.4g} at step {result.get('step')} "
            f"({result[TIME_ATTR]:.0%} of the budget) was among the worst on its task")
        reason = f"stopped early by {self.name}: {detail}"
        if self.on_stop is not None:
            self.on_stop(trial.trial_id, list(points), reason)
        self.stopped[trial.trial_id] = reason
        return STOP

    def _drop(self, trial) -> None:
        self.points.pop(trial.trial_id, None)
        self.last.pop(trial.trial_id, None)

    def on_trial_complete(self, tune_controller, trial, result):
        # Tune passes the trial's closing report, which has no progress: the
        # inner schedulers get its last evaluation instead (ASHA forgets a
        # trial only on a timed result; the median rule indexes by progress).
        last = self.last.get(trial.trial_id)
        if last is not None:
            self._for(trial).on_trial_complete(tune_controller, trial, last)
        else:  # ended before any evaluation: forgotten as if never run
            with contextlib.suppress(KeyError):
                self._for(trial).on_trial_remove(tune_controller, trial)
        self._drop(trial)

    def on_trial_error(self, tune_controller, trial):
        self._for(trial).on_trial_error(tune_controller, trial)
        self._drop(trial)

    def on_trial_remove(self, tune_controller, trial):
        self._for(trial).on_trial_remove(tune_controller, trial)
        self._drop(trial)

    def choose_trial_to_run(self, tune_controller):
        """Waiting baseline trials first (their curves are `curve_cut`'s reference)."""
        from ray.tune.experiment import Trial

        for trial in tune_controller.get_trials():
            if trial.status == Trial.PENDING and \
                    trial.config.get("fingerprint") == self.baseline:
                return trial
        return super().choose_trial_to_run(tune_controller)

    def debug_string(self) -> str:
        return f"EarlyStopping({self.name}): {len(self.stopped)} stopped"


def _point(result: dict) -> dict:
    """The curve point of a result: Tune flattens the reported `point` to `point/<key>`."""
    if isinstance(result.get("point"), dict):
        return dict(result["point"])
    return {k[len("point/"):]: v for k, v in result.items() if k.startswith("point/")}


def _best_metric(points: list[dict]) -> float:
    mode = points[-1].get("score_mode") or "max"
    metric = points[-1].get("score_metric")
    values = [p["point"].get(f"valid_{metric}") for p in points]
    found = scoring.best(values, mode)
    return math.nan if found is None else found


def make_scheduler(spec, baseline: str | None = None, on_stop=None,
                   curves: dict | None = None) -> EarlyStopping | None:
    """The Tune scheduler of a space's `scheduler:` spec (None for `none`).

    Args:
        spec: An `archsearch.space.schema.Scheduler`.
        baseline: The baseline cell's fingerprint.
        on_stop: See `EarlyStopping`.
        curves: Recorded baseline curves for `curve_cut` (see `CurveCut`).
    """
    grace = getattr(spec, "grace_period", None)
    if spec.name == "none":
        return None
    if spec.name == "asha":
        def make():
            return AsyncHyperBandScheduler(
                time_attr=TIME_ATTR, metric=METRIC, mode="max", max_t=1.0, grace_period=grace,
                reduction_factor=spec.reduction_factor, stop_last_trials=False)
    elif spec.name == "median":
        def make():
            # No min_time_slice: a function trainable cannot be paused and resumed.
            return MedianStoppingRule(
                time_attr=TIME_ATTR, metric=METRIC, mode="max", grace_period=grace,
                min_samples_required=spec.min_samples_required, min_time_slice=math.inf)
    elif spec.name == "curve_cut":
        shared = CurveCut(baseline, spec.min_ratio, grace, curves)

        def make():
            return shared  # keys its curves by task itself
    else:
        raise ValueError(f"Expected a scheduler name, one of: none, asha, median, curve_cut. "
                         f"Received: name={spec.name!r}")
    return EarlyStopping(make, spec.name, baseline, on_stop)


def stopped_result(points: list[dict], reason: str) -> dict:
    """A `TrialResult.to_dict()`-like result of a trial stopped after `points` (`EarlyStopping`).

    Its score and validation metrics are those of its best evaluation so far
    (a partial score); it has no test metrics.
    """
    last = points[-1]
    metric, mode = last.get("score_metric") or "accuracy", last.get("score_mode") or "max"
    curve = [dict(p["point"]) for p in points]
    values = [p.get(f"valid_{metric}") for p in curve]
    score = scoring.best(values, mode)
    best = curve[values.index(score)] if score is not None else {}
    valid = {k[len("valid_"):]: v for k, v in best.items() if k.startswith("valid_")}
    return {"status": "stopped", "failure": reason, "score": score, "score_metric": metric,
            "score_mode": mode, "metrics": {"valid": valid} if valid else {}, "curve": curve,
            "steps": int(curve[-1].get("step", 0)),
            "timings": {"train": curve[-1].get("seconds"), "total": last.get("time_total_s")}}


def baseline_curves(storage, baseline: str) -> dict:
    """Recorded curves of the baseline cell: task -> list of `[(step, objective), ...]`.

    Read from the run directory's trial records (completed or stopped ones):
    the trial index names the baseline's records, so only those (and any the
    index lacks) are read; unreadable records are skipped.
    """
    from archsearch.rundir import TrialRecord, scan

    found = scan(storage)
    names = [f for f, row in found.rows.items() if row.get("fingerprint") == baseline
             and row.get("status") != "failed"] + found.unindexed
    curves: dict[str, list] = {}
    for name in sorted(names):
        try:
            record = TrialRecord.model_validate(storage.read_json(f"trials/{name}"))
        except Exception:  # noqa: BLE001 - the oracle reports unreadable records
            continue
        if record.cell.fingerprint != baseline or record.status == "failed":
            continue
        metric, mode = record.score_metric or "accuracy", record.score_mode or "max"
        points = [(int(p.get("step", 0)), scoring.objective(p.get(f"valid_{metric}"), mode))
                  for p in record.curve]
        curves.setdefault(record.task, []).append([p for p in points if p[1] is not None])
    return curves
