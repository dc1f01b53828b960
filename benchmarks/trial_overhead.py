"""Where a quickstart-size trial spends its time: data, build, trace, train, eval, record.

Runs `run_trial` (LSTM, arithmetic with max_digits 2 and max_distractors 1,
batch 32, 2,000 steps, 64 units, Adam 0.01, the default evaluation every 50
steps) several times in one process on data loaded once, as a Ray worker does
(it caches the task data), then writes each record as JSON, atomically.
Prints the breakdown per trial and the share of the wall time spent outside
the training steps; the issue's target is <= 10%. "other" is what no part
covers (mostly the garbage collection after each trial). The first trial in
a process also traces the compiled steps that later trials reuse.

    python benchmarks/trial_overhead.py            # 3 trials of 2,000 steps
    python benchmarks/trial_overhead.py --quick    # 2 trials of 300 steps
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

TASK_OPTIONS = {"max_digits": 2, "max_distractors": 1, "batch_size": 32}
HPARAMS = {"units": 64, "optimizer": "adam", "learning_rate": 0.01}
PARTS = ("data", "build", "trace", "train", "eval", "record")


def _record(result, directory: Path, n: int) -> float:
    """Seconds to turn `result` into JSON and write it atomically."""
    t = time.perf_counter()
    path = directory / f"trial_{n}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict()))
    tmp.replace(path)
    return time.perf_counter() - t


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 trials of 300 steps")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=50)
    args = parser.parse_args(argv)
    steps = args.steps or (300 if args.quick else 2000)
    trials = args.trials or (2 if args.quick else 3)

    t = time.perf_counter()
    from archsearch import tasks
    from archsearch.training import Budget, run_trial

    import_seconds = time.perf_counter() - t
    t = time.perf_counter()
    data = tasks.get("arithmetic").load(seed=0, **TASK_OPTIONS)
    load_seconds = time.perf_counter() - t
    budget = Budget(steps=steps, eval_every=args.eval_every)
    print(f"LSTM, arithmetic {TASK_OPTIONS}, {HPARAMS}, {steps} steps, eval every "
          f"{args.eval_every}; import {import_seconds:.2f} s, data load (once per worker) "
          f"{load_seconds:.2f} s")
    print(f"{'trial':>5} " + " ".join(f"{p:>7}" for p in PARTS)
          + f" {'other':>7} {'total':>7} {'outside':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(trials):
            t = time.perf_counter()
            result = run_trial("lstm", HPARAMS, "arithmetic", budget, seed=n,
                               data=data)
            record = _record(result, Path(tmp), n)
            wall = time.perf_counter() - t
            if result.status != "completed":
                print(f"trial {n} {result.status}: {result.failure}")
            parts = {**{p: result.timings.get(p, 0.0) for p in PARTS[:-1]}, "record": record}
            other = wall - sum(parts.values())
            outside = 1.0 - parts["train"] / wall
            print(f"{n:>5} " + " ".join(f"{parts[p]:>7.2f}" for p in PARTS)
                  + f" {other:>7.2f} {wall:>7.2f} {outside:>8.1%}", flush=True)
    from device_info import describe_device  # after the timings: it imports TensorFlow

    print(describe_device())


if __name__ == "__main__":
    main()
