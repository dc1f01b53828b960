"""Simulated trials per second through the real executor: one per Tune trial vs batches.

Runs `run_search(..., simulate=True)` on one local Ray (started once, not
timed) alternately with batching off (`SIMULATED_BATCH = 1`: one oracle
trial per Tune trial, as before batching) and on (the default batch), so
both modes see the same machine load. Sustained trials per second: from the
record files' modification times, over the trials after the first quarter
(Ray starting the workers, which import TensorFlow, is not the executor's
steady cost). Prints, per strategy and mode, the median and the range over
the repeats, and the speedup of the medians.

* `fixed`: 4 cells x 20 hyperparameter samples x 3 tasks: the oracle queues
  a whole stage of a cell at once, so batches fill up.
* `evolution`: `benchmarks/driver_scale.py`'s space (2 samples per stage):
  a batch only holds the trials the oracle has queued (a cell's stage), so
  batches stay small; the oracle itself costs ~30 ms per trial here.

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
            workers: int) -> float:
    """Sustained trials per second of one simulated search (`batched` or one per Tune trial)."""
    import archsearch
    from archsearch.search import batches
    from archsearch.search.executor import run_search

    path = work / f"{strategy}-{batched}-{seed}.yaml"
    path.write_text(SPACE.format(seed=seed, max_trials=trials, strategy=STRATEGIES[strategy]))
    space = archsearch.load_search_space(path)
    default = batches.SIMULATED_BATCH
    batches.SIMULATED_BATCH = default if batched else 1
    try:
        run_search(space, str(work / path.stem), workers=workers, progress=False,
                   simulate=True)
    finally:
        batches.SIMULATED_BATCH = default
    return sustained_rate(work / path.stem)


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
                for batched, values in rates.items():
                    print(f"{strategy:9s} {'batched' if batched else 'alone':7s} trials/s: "
                          f"median {statistics.median(values):6.1f}  range "
                          f"{min(values):.1f}-{max(values):.1f}  runs "
                          + " ".join(f"{v:.1f}" for v in values))
                print(f"{strategy:9s} speedup of the medians: "
                      f"{statistics.median(rates[True]) / statistics.median(rates[False]):.1f}x")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
