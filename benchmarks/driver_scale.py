"""Driver cost per trial at paper scale: the simulated scorer, oracle alone and through Ray.

Trials are scored by `archsearch.search.simulate` (deterministic, instant), so
what is measured is the search machinery itself: the evolution oracle, its
saved state, record reading and writing, and (with `--executor`) Ray Tune.

1. Oracle alone (no Ray): the executor's own driver path one trial at a time
   (`OracleSearcher.suggest`, the simulated worker writing the record,
   `on_trial_complete` saving the oracle's state) for `--oracle-trials`.
2. Real executor (`--executor`): `run_search(..., simulate=True)` on a local
   Ray with `--workers` trials at once for `--trials`.

For each: trials per second by decile (from the record files' modification
times), last decile's seconds per trial over the first's (flat: <= 1.5),
driver resident memory (peak, sampled at 5 Hz, from /proc) and `oracle.json`'s
largest size. Targets: >= 20 trials/s sustained through the executor, flat,
saved state <= 10 MB at any size.

Usage:
    python benchmarks/driver_scale.py --oracle-trials 100000 --dir /dev/shm
    python benchmarks/driver_scale.py --executor --trials 3000 --workers 4 --oracle-trials 0
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

SPACE = """
name: driver_scale
seed: 0
max_trials: {max_trials}
baseline: gru
seed_cells: [lstm, gru, lstm_b, tanh_rnn]
strategy: {{name: evolution, top_n: 100, hyperparameter_samples: 2, reevaluate_probability: 0.1}}
hyperparameters: {{units: [8, 16], learning_rate: [0.1, 0.5, 1.0], layers: [1]}}
tasks:
  - {{name: memorization, role: prefilter, budget: {{steps: 5}}, min_score: 0.9}}
  - {{name: arithmetic, budget: {{steps: 5}}}}
  - {{name: xml, budget: {{steps: 5}}}}
resources: {{cpus: {cpus}, gpu: 0}}
"""


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Samples the driver's RSS and oracle.json's size at 5 Hz."""

    def __init__(self, run_dir: Path):
        super().__init__(daemon=True)
        self.state = run_dir / "oracle.json"
        self.peak_rss = self.peak_state = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.2):
            self.peak_rss = max(self.peak_rss, _rss_mib())
            with contextlib.suppress(FileNotFoundError):
                self.peak_state = max(self.peak_state, self.state.stat().st_size)


def deciles(run_dir: Path) -> list[float]:
    """Trials per second in each tenth of the trials after the first, from the records' mtimes."""
    times = sorted(p.stat().st_mtime for p in (run_dir / "trials").glob("*.json"))
    n = len(times) - 1
    edges = [round(k * n / 10) for k in range(11)]
    return [(edges[k + 1] - edges[k]) / max(1e-9, times[edges[k + 1]] - times[edges[k]])
            for k in range(10)]


def report(name: str, trials: int, seconds: float, rates: list[float], sampler: Sampler,
           run_dir: Path) -> dict:
    flat = rates[0] / rates[-1] if rates[-1] else float("inf")
    state = max(sampler.peak_state, (run_dir / "oracle.json").stat().st_size)
    out = {"mode": name, "trials": trials, "seconds": round(seconds, 1),
           "trials_per_s": round(trials / seconds, 1),
           "deciles_trials_per_s": [round(r, 1) for r in rates],
           "last_over_first_s_per_trial": round(flat, 2),
           "peak_driver_rss_mib": round(sampler.peak_rss, 1),
           "oracle_json_max_bytes": int(state)}
    print(json.dumps(out))
    print(f"{name}: {trials} trials in {seconds:.1f} s = {trials / seconds:.1f} trials/s; "
          f"by decile {' '.join(f'{r:.0f}' for r in rates)}; last/first s per trial "
          f"{flat:.2f} (target <= 1.5); driver RSS {sampler.peak_rss:.0f} MiB; "
          f"oracle.json <= {state / 1e3:.1f} kB (target <= 10 MB)", flush=True)
    return out


def _space(work: Path, trials: int, cpus: float):
    import archsearch

    path = work / "space.yaml"
    path.write_text(SPACE.format(max_trials=trials, cpus=cpus))
    return archsearch.load_search_space(path)


def oracle_alone(trials: int, work: Path) -> dict:
    from archsearch.rundir import RunStore
    from archsearch.search.executor import OracleSearcher, make_oracle
    from archsearch.search.simulate import drive

    space = _space(work, trials, 1)
    run_dir = work / "oracle"
    store = RunStore(run_dir)
    store.makedirs("trials")
    oracle = make_oracle(space)
    oracle.storage = store
    sampler = Sampler(run_dir)
    sampler.start()
    start = time.time()
    done = drive(OracleSearcher(oracle, store))
    seconds = time.time() - start
    sampler.stop.set()
    return report("oracle alone", done, seconds, deciles(run_dir), sampler, run_dir)


def executor(trials: int, workers: int, cpus: float, work: Path) -> dict:
    import ray

    from archsearch.search.executor import run_search

    space = _space(work, trials, cpus)
    run_dir = work / "executor"
    ray.init(address="local", num_cpus=max(1, round(workers * cpus)), include_dashboard=False,
             log_to_driver=False)
    sampler = Sampler(run_dir)
    sampler.start()
    start = time.time()
    try:
        summary = run_search(space, str(run_dir), workers=workers, progress=False,
                             simulate=True)
    finally:
        ray.shutdown()
    seconds = time.time() - start
    sampler.stop.set()
    return report(f"executor ({workers} workers)", summary.trials, seconds,
                  deciles(run_dir), sampler, run_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--oracle-trials", type=int, default=10_000,
                        help="trials for the oracle alone (0: skip)")
    parser.add_argument("--executor", action="store_true", help="also run the real executor")
    parser.add_argument("--trials", type=int, default=2000, help="trials through the executor")
    parser.add_argument("--workers", type=int, default=4, help="executor: trials at once")
    parser.add_argument("--cpus", type=float, default=0.5, help="executor: CPUs per trial")
    parser.add_argument("--dir", default=None,
                        help="where the run directories go (default: a temp dir; /dev/shm "
                             "takes the disk's fsync out of the oracle-alone figure)")
    parser.add_argument("--no-tune-loggers", action="store_true",
                        help="executor: TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1 (no per-trial "
                             "result.json/progress.csv/params.json from Tune)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.no_tune_loggers:
        os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    results = []
    with tempfile.TemporaryDirectory(prefix="driver_scale", dir=args.dir) as tmp:
        if args.oracle_trials:
            results.append(oracle_alone(args.oracle_trials, Path(tmp)))
        if args.executor:
            results.append(executor(args.trials, args.workers, args.cpus, Path(tmp)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
