"""Simulated trials per second through the real executor: one per Tune trial vs batches.

Runs `run_search(..., simulate=True)` on one local Ray (started once, not
timed) alternately with batching off (`SIMULATED_BATCH = 1`: one oracle
trial per Tune trial, as before batching) and on (the default batch), so
both modes see the same machine load. Sustained trials per second: from the
record files' modification times, over the trials after the first quarter
(Ray starting the workers, which import TensorFlow, is not the executor's
steady cost); and whole-run trials per second (trials / the search's
seconds, worker start-up included). Prints, per strategy and mode, the median
and the range over the repeats, and the speedup of the medians.

* `fixed`: 4 cells x 20 hyperparameter samples x 3 tasks: the oracle queues
  a whole stage of a cell at once, so batches fill up.
* `evolution`: `benchmarks/driver_scale.py`'s space (2 samples per stage):
  a batch only holds the trials the oracle has queued (a cell's stage), so
  batches stay small; the oracle itself costs ~30 ms per trial here.

Measured (2026-11-29, the shared 2-core machine at load average 6-30, 2
workers, batch 32; medians of 2 interleaved runs, range in brackets):
fixed, sustained: alone 12.9 [10.1-15.6], batched 68.6 [49.5-87.8] trials/s
(5.3x); evolution, sustained: alone 14.7 [9.4-20.0], batched 28.9
[24.9-32.9] (2.0x; another pair of runs gave 0.8x: batches of ~1.4 trials).
Whole runs of 24 / 96 trials are dominated by Ray starting the workers
(~15 s): 1.0 vs 6.1 (fixed), 1.6 vs 5.8 (evolution) trials/s.

Usage:
    python benchmarks/executor_batches.py --repeats 3 --strategies fixed evolution
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

SPACE = """
name: executor_batches
seed: {seed}
max_trials: {max_trials}
baseline: gru
seed_cells: [lstm, gru, lstm_b, tanh_rnn]
strategy: {strategy}
hyperparameters: {{units: [8, 16], learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: memorization, role: prefilter, budget: {{steps: 5}}, min_score: 0.9}}
  - {{name: arithmetic, budget: {{steps: 5}}}}
  - {{name: xml, budget: {{steps: 5}}}}
resources: {{cpus: 1, gpu: 0}}
"""
STRATEGIES = {
    "fixed": "{name: fixed, cells: [lstm, gru, lstm_b, tanh_rnn], hyperparameter_samples: 20}",
    "evolution": "{name: evolution, top_n: 100, hyperparameter_samples: 2, "
                 "reevaluate_probability: 0.1}",
}


def sustained_rate(run_dir: Path) -> float:
    """Trials per second between the end of the first quarter and the last record."""
    times = sorted(p.stat().st_mtime for p in (run_dir / "trials").rglob("*.json"))
    rest = times[len(times) // 4:]
    return (len(rest) - 1) / (rest[-1] - rest[0])


def one_run(work: Path, strategy: str, trials: int, batched: bool, seed: int,
            workers: int) -> tuple[float, float]:
    """(Sustained, whole-run) trials per second of one simulated search."""
    import archsearch
    from archsearch.search import batches
    from archsearch.search.executor import run_search

    path = work / f"{strategy}-{batched}-{seed}.yaml"
    path.write_text(SPACE.format(seed=seed, max_trials=trials, strategy=STRATEGIES[strategy]))
    space = archsearch.load_search_space(path)
    default = batches.SIMULATED_BATCH
    batches.SIMULATED_BATCH = default if batched else 1
    try:
        summary = run_search(space, str(work / path.stem), workers=workers, progress=False,
                             simulate=True)
    finally:
        batches.SIMULATED_BATCH = default
    return sustained_rate(work / path.stem), summary.trials / summary.seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--strategies", nargs="+", default=["fixed", "evolution"],
                        choices=sorted(STRATEGIES))
    parser.add_argument("--trials-alone", type=int, default=16,
                        help="trials per run without batching (2-8 per second)")
    parser.add_argument("--trials-batched", type=int, default=160)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    import ray

    ray.init(address="local", num_cpus=args.workers, include_dashboard=False,
             log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for strategy in args.strategies:
                rates = {False: [], True: []}
                for rep in range(args.repeats):  # interleaved: both modes see the same load
                    for batched in (False, True):
                        trials = args.trials_batched if batched else args.trials_alone
                        rates[batched].append(one_run(Path(tmp), strategy, trials, batched,
                                                      rep, args.workers))
                for k, kind in enumerate(("sustained", "whole-run")):
                    medians = {}
                    for batched, runs in rates.items():
                        values = [run[k] for run in runs]
                        medians[batched] = statistics.median(values)
                        print(f"{strategy:9s} {'batched' if batched else 'alone':7s} {kind:9s} "
                              f"trials/s: median {medians[batched]:6.1f}  range "
                              f"{min(values):.1f}-{max(values):.1f}  runs "
                              + " ".join(f"{v:.1f}" for v in values))
                    print(f"{strategy:9s} {kind} speedup of the medians: "
                          f"{medians[True] / medians[False]:.1f}x")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
