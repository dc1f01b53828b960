"""A deterministic instant scorer: the whole search machinery without training.

`archsearch search --simulate` (and `run_search(..., simulate=True)`) runs the
oracle, the Ray executor, the run directory and the report as usual, but each
trial's worker calls `simulated_result` instead of training: a score drawn
from a hash of (fingerprint, task, hyperparameters, seed), around a
per-cell mean, so cells differ plausibly, re-evaluations and seeds vary a
little, and about 2% of trials fail. Use it to size a search, to test at
scale, and to measure the driver. Its records carry `simulated: true`.

Example:
    >>> import archsearch
    >>> config = {"fingerprint": archsearch.zoo.get("gru").fingerprint(), "task": "xml",
    ...           "hparams": {"learning_rate": 0.1}, "seed": 3}
    >>> a, b = simulated_result(config), simulated_result(config)
    >>> a == b and 0.0 <= a["score"] <= 1.0 and a["score_mode"] == "max"
    True
"""

from __future__ import annotations

import hashlib
import json

from archsearch.rundir import RunStore, check_token, write_trial
from archsearch.search.trial_records import now, trial_record

__all__ = ["simulated_result", "execute", "trainable", "drive", "FAILURE_RATE"]

#: Fraction of simulated trials that fail ("diverge").
FAILURE_RATE = 0.02


def _uniform(*parts) -> float:
    """A deterministic number in [0, 1) from `parts` (JSON-serialisable)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0**64


def simulated_result(config: dict) -> dict:
    """A `TrialResult.to_dict()`-like result for the trial `config`, without training.

    Accuracy = 0.6 + 0.38 x cell quality on the task (70% the cell's overall
    quality, 30% task-specific), +-0.04 for the hyperparameters, +-0.01 for
    the seed, clipped to [0, 1].

    Args:
        config: A worker config with at least `fingerprint`, `task`, `hparams`
            and `seed`.
    """
    fp, task = config["fingerprint"], config["task"]
    hparams, seed = config.get("hparams") or {}, config.get("seed")
    timings = {"data": 0.0, "build": 0.0, "train": 0.0, "eval": 0.0, "total": 0.0}
    base = {"hparams": dict(hparams), "seed": seed or 0, "units": hparams.get("units"),
            "steps": 0, "timings": timings, "params": None, "curve": [], "metrics": {},
            "score_metric": "accuracy", "score_mode": "max"}
    if _uniform("fail", fp, task, hparams, seed) < FAILURE_RATE:
        return {**base, "status": "failed", "failure": "simulated divergence (loss is NaN)",
                "score": None}
    quality = 0.7 * _uniform("cell", fp) + 0.3 * _uniform("task", fp, task)
    score = (0.6 + 0.38 * quality + 0.08 * (_uniform("hp", fp, task, hparams) - 0.5)
             + 0.02 * (_uniform("seed", fp, task, hparams, seed) - 0.5))
    score = min(1.0, max(0.0, score))
    test = min(1.0, max(0.0, score - 0.01 * _uniform("test", fp, task, hparams, seed)))
    return {**base, "status": "completed", "failure": None, "score": score,
            "metrics": {"valid": {"accuracy": score}, "test": {"accuracy": test}},
            "curve": [{"step": 0, "accuracy": score}]}


def execute(config: dict, plan: dict | None, run_dir: str, data_seed: int | None = None,
            cpus: float | None = None) -> dict:
    """The simulated worker: records the trial (`simulated: true`) once; returns its JSON.

    Same signature and contract as `archsearch.search.worker.execute`.
    """
    started = now()
    record = trial_record(config, simulated_result(config), config["strategy"], started)
    record = record.model_copy(update={"simulated": True})
    store = RunStore(run_dir)
    check_token(store, config.get("lease"))  # a driver that lost its lease records nothing
    return write_trial(store, record).model_dump(mode="json")


def trainable(config, plan, run_dir, data_seed, cpus):
    """Ray Tune function trainable: `execute`, then report the score."""
    from ray import tune

    record = execute(config, plan, run_dir, data_seed, cpus)
    score = record.get("score")
    tune.report({"score": float("nan") if score is None else float(score),
                 "failed": record["status"] != "completed"})


def drive(searcher, limit: int | None = None, on_trial=None) -> int:
    """Runs simulated trials one Tune trial at a time in this process, without Ray.

    The executor's own path minus Ray's scheduling: `searcher.suggest`, the
    simulated worker writes the record (of each member, for a searcher with a
    `Batcher`), `searcher.on_trial_complete` ends the trial(s) in the oracle
    (which saves its state).

    Args:
        searcher: An `archsearch.search.executor.OracleSearcher`.
        limit: Stop once this many trials ran (default: when the oracle stops);
            a batch is run whole.
        on_trial: Called with the number of trials run after each Tune trial.

    Returns:
        The number of trials run.
    """
    done = 0
    while limit is None or done < limit:
        tune_id = f"sim-{done}"  # unique: `done` grows with every Tune trial
        config = searcher.suggest(tune_id)
        if config is None or config == "FINISHED":  # waiting cannot happen sequentially
            break
        members = config.get("batch", [config])
        for member in members:
            execute(member, None, searcher.storage.uri)
        searcher.on_trial_complete(tune_id)
        done += len(members)
        if on_trial is not None:
            on_trial(done)
    return done
