"""The run directory's file formats: `run.json` and one record per trial."""

from __future__ import annotations

import datetime as _dt
import os
import socket

__all__ = ["RUN_FORMAT", "TRIAL_FORMAT", "VERSION", "now", "worker_info", "trial_path",
           "trial_record", "failed_record"]

RUN_FORMAT = "archsearch.run"
TRIAL_FORMAT = "archsearch.trial"
VERSION = 1
TRIALS_DIR = "trials"


def now() -> str:
    """The current UTC time, ISO 8601."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def worker_info() -> dict:
    """Where this process runs: Ray node IP and node id when available, hostname, pid.

    The node id tells nodes apart where the IP cannot (several Ray nodes on one
    machine, as in `ray.cluster_utils.Cluster`).
    """
    node = node_id = None
    try:
        import ray

        if ray.is_initialized():
            node = ray.util.get_node_ip_address()
            node_id = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - the record is still useful without it
        pass
    return {"node": node, "node_id": node_id, "hostname": socket.gethostname(),
            "pid": os.getpid()}


def trial_path(trial_id: str) -> str:
    """Relative path of a trial's record."""
    return f"{TRIALS_DIR}/{trial_id}.json"


def trial_record(config: dict, result: dict, strategy: str, started_at: str,
                 worker: dict | None = None) -> dict:
    """The JSON record of a finished trial, from its config and `TrialResult.to_dict()`."""
    cell = {k: config.get(k) for k in ("name", "fingerprint", "genome", "parent", "origin")}
    return {
        "format": TRIAL_FORMAT, "version": VERSION,
        "trial_id": config["trial_id"], "sequence": None, "strategy": strategy,
        "status": result.get("status", "failed"), "failure": result.get("failure"),
        "cell": cell, "task": config["task"], "stage": config.get("stage"),
        "hparams": result.get("hparams") or config.get("hparams", {}),
        "seed": config.get("seed"),
        "score": result.get("score"), "score_metric": result.get("score_metric"),
        "score_mode": result.get("score_mode"), "metrics": result.get("metrics", {}),
        "curve": result.get("curve", []), "params": result.get("params"),
        "units": result.get("units"), "steps": result.get("steps", 0),
        "timings": result.get("timings", {}), "worker": worker or worker_info(),
        "started_at": started_at, "finished_at": now(),
    }


def failed_record(config: dict, strategy: str, reason: str) -> dict:
    """A record for a trial that produced no result (its worker died, say)."""
    return trial_record(config, {"status": "failed", "failure": reason}, strategy,
                        started_at=now(),
                        worker={"node": None, "node_id": None, "hostname": None, "pid": None})
