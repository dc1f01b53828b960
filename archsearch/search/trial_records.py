"""A trial's record, built from what the search knows: its config and the trainer's result.

The schema itself (`TrialRecord`) lives in `archsearch.rundir`; this module
only fills it in for the search's worker and driver.
"""

from __future__ import annotations

import datetime as _dt
import os
import socket

from archsearch.rundir import CellRef, TrialRecord

__all__ = ["now", "worker_info", "trial_record", "failed_record"]


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


def trial_record(config: dict, result: dict, strategy: str, started_at: str,
                 worker: dict | None = None) -> TrialRecord:
    """The record of a finished trial, from its config and `TrialResult.to_dict()`.

    Raises:
        pydantic.ValidationError: a field has the wrong type (e.g. a fingerprint
            that is not 32 lowercase hex digits).
    """
    return TrialRecord(
        trial_id=str(config["trial_id"]), strategy=strategy,
        status=result.get("status", "failed"), failure=result.get("failure"),
        cell=CellRef(name=config.get("name"), fingerprint=config["fingerprint"],
                     genome=config.get("genome"), parent=config.get("parent"),
                     origin=config.get("origin")),
        task=config["task"], stage=config.get("stage"),
        hparams=result.get("hparams") or config.get("hparams", {}), seed=config.get("seed"),
        sample=config.get("sample"), score=result.get("score"),
        score_metric=result.get("score_metric"), score_mode=result.get("score_mode"),
        metrics=result.get("metrics", {}),
        curve=result.get("curve", []), params=result.get("params"), units=result.get("units"),
        steps=result.get("steps", 0), timings=result.get("timings", {}),
        worker=worker or worker_info(), started_at=started_at, finished_at=now(),
        phase=config.get("phase", "search"))


def failed_record(config: dict, strategy: str, reason: str) -> TrialRecord:
    """A record for a trial that produced no result (its worker died, say)."""
    return trial_record(config, {"status": "failed", "failure": reason}, strategy,
                        started_at=now(),
                        worker={"node": None, "node_id": None, "hostname": None, "pid": None})
