"""A live view of a search: trials done / running / failed / stopped, best cell, ETA."""

from __future__ import annotations

import logging
import math
import sys
import time

from ray import tune

__all__ = ["SearchProgress", "TuneHintFilter", "stopped_early"]

#: The logger Ray Tune's end-of-run and Ctrl-C messages come from (ray/tune/tune.py).
TUNE_LOGGER = "ray.tune.tune"
#: Seconds between progress lines when stderr is not a terminal.
LOG_EVERY = 30.0


class TuneHintFilter(logging.Filter):
    """Replaces Ray Tune's Ctrl-C messages, which point at `Tuner.restore(...)`.

    An archsearch search resumes by rerunning the same `archsearch search`
    command (the run directory holds the state), not through Tune's
    experiment checkpoint, so Tune's resume hint is dropped and its
    stop-signal warning reworded.

    Example:
        >>> record = logging.makeLogRecord({"msg": "Resume experiment with: "
        ...                                        'Tuner.restore(path="/tmp/x", ...)'})
        >>> TuneHintFilter().filter(record)
        False
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Tuner.restore" in message or "resume=True" in message:
            return False
        if message.startswith("Stop signal received"):
            record.msg, record.args = ("archsearch: stopping: ending the running trials; "
                                       "finished trials are kept (Ctrl-C again to stop at "
                                       "once)"), ()
        return True


#: Tune's loggers that print a traceback when the run directory cannot be written.
STORAGE_LOGGERS = ("ray.tune.execution.experiment_state", "ray.tune.execution.tune_controller")


class StorageNoiseFilter(logging.Filter):
    """Drops Tune's tracebacks of storage failures (a full disk, permissions).

    The search stops on the first one and says so in one line naming the path
    and the cause (`archsearch.search.executor.StorageError`); Tune's own
    report of the same failure is a page of traceback per trial.

    Example:
        >>> err = OSError(28, "No space left on device")
        >>> record = logging.makeLogRecord({"msg": "saving failed", "levelno": 40,
        ...                                 "exc_info": (OSError, err, None)})
        >>> StorageNoiseFilter().filter(record)
        False
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        for _ in range(8):  # the chain: Tune's error, Ray's task error, the OSError
            if error is None:
                break
            if isinstance(error, OSError) and error.errno is not None:
                return False
            error = error.__cause__ or error.__context__ or getattr(error, "cause", None)
        return True


def stopped_early(trial) -> bool:
    """Whether a Tune trial that ended was stopped by the scheduler.

    A trial that runs to its end reports its record's outcome last (a result
    with `failed`); one the scheduler stops ends on an evaluation of its
    learning curve (a result with `progress`, from `archsearch.search.worker.LiveCurve`).

    Example:
        >>> from types import SimpleNamespace
        >>> stopped_early(SimpleNamespace(last_result={"progress": 0.25, "score": 0.1}))
        True
        >>> stopped_early(SimpleNamespace(last_result={"score": 0.9, "failed": False}))
        False
    """
    result = getattr(trial, "last_result", None) or {}
    return "progress" in result and "failed" not in result


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class SearchProgress(tune.Callback):
    """A Ray Tune callback that keeps a rich live status line up to date.

    The line reads `trials D/T (R running, F failed, S stopped)`: D trials
    ended (completed, stopped or failed) of at most T, S of them stopped
    early by the space's scheduler since this driver started (they count
    as evaluated, with their partial score; see `stopped_early`).

    Args:
        oracle: The search's oracle (for best cell and trial counts).
        total: Trials the search will run at most.
        enabled: Draw the live view (off: one line per finished trial). When
            stderr is not a terminal (a log file, CI, a RayJob's logs) the
            view is a line at most every `LOG_EVERY` seconds, and at the end.
    """

    def __init__(self, oracle, total: int, enabled: bool = True):
        self.oracle, self.total, self.enabled = oracle, total, enabled
        self.start = time.monotonic()
        self.done_before = len(oracle.end_order)
        self.running = 0
        self.stopped = 0
        self._live = None
        self._last_line = -math.inf
        self._filter = TuneHintFilter()
        self._storage_filter = StorageNoiseFilter()

    def __getstate__(self):
        # Tune pickles its callbacks with each run's experiment state, and a
        # search starts a Tune run while the live display is on: leave it out.
        return {**self.__dict__, "_live": None}

    def __enter__(self):
        logging.getLogger(TUNE_LOGGER).addFilter(self._filter)
        for name in STORAGE_LOGGERS:
            logging.getLogger(name).addFilter(self._storage_filter)
        if self.enabled:
            from rich.console import Console
            from rich.live import Live

            console = Console(stderr=True)
            if not console.is_terminal:  # a log (nohup, CI, a RayJob): a line now and then
                return self
            self._live = Live(self.render(), console=console, refresh_per_second=2,
                              transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc):
        logging.getLogger(TUNE_LOGGER).removeFilter(self._filter)
        for name in STORAGE_LOGGERS:
            logging.getLogger(name).removeFilter(self._storage_filter)
        if self._live is not None:
            self._live.update(self.render())
            self._live.__exit__(*exc)
        elif self.enabled:
            print(self.render().plain, file=sys.stderr, flush=True)  # the final count

    def counts(self) -> tuple[int, int]:
        """(finished trials, failed trials) in this run directory."""
        counts = getattr(self.oracle, "counts", None)
        if counts is not None:  # archsearch's oracles keep them incrementally
            return counts()
        trials = [self.oracle.trials[t] for t in self.oracle.end_order]
        return len(trials), sum(1 for t in trials if t.status == "FAILED")

    def best(self) -> tuple[str, float] | None:
        """Best scored cell so far: (name or fingerprint, score)."""
        leader = getattr(self.oracle, "leader", None)
        if leader is not None:
            cell = leader()
        else:
            scored = self.oracle.scored()
            cell = max(scored, key=lambda c: c.score) if scored else None
        if cell is None:
            return None
        return cell.name or cell.fingerprint[:10], cell.score

    def render(self):
        from rich.text import Text

        done, failed = self.counts()
        elapsed = time.monotonic() - self.start
        new = done - self.done_before
        eta = "?" if new <= 0 else _duration(elapsed / new * max(0, self.total - done))
        best = self.best()
        best_text = f"{best[0]} {best[1]:.3f}" if best else "-"
        return Text(f"trials {done}/{self.total} ({self.running} running, {failed} failed, "
                    f"{self.stopped} stopped)"
                    f" · best {best_text} · {_duration(elapsed)} · ETA {eta}")

    def _refresh(self):
        if self._live is not None:
            self._live.update(self.render())

    def on_trial_start(self, iteration, trials, trial, **info):
        self.running += 1
        self._refresh()

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._ended(trial, stopped=stopped_early(trial))

    def on_trial_error(self, iteration, trials, trial, **info):
        self._ended(trial, stopped=False)

    def _ended(self, trial, stopped: bool) -> None:
        self.running = max(0, self.running - 1)
        self.stopped += bool(stopped)
        if self._live is None and self.enabled is False:
            print(self.render().plain, file=sys.stderr, flush=True)  # one line per trial
            return
        if self._live is None and time.monotonic() - self._last_line >= LOG_EVERY:
            self._last_line = time.monotonic()
            print(self.render().plain, file=sys.stderr, flush=True)
        self._refresh()
