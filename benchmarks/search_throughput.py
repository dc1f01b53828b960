"""Search throughput, per-trial overhead and worker memory of the Ray executor.

Runs real searches through `archsearch.search.executor.run_search` on one local
Ray (2 CPUs) with quickstart-size trials (search_spaces/quickstart.yaml: five
cells, arithmetic and XML; units and steps set here, default 32 and 300) and
measures:

1. Throughput with 1 and with 2 workers on the same trials: trials per minute
   over the whole `run_search` call (Tune setup and actor start included) and
   in steady state (first trial start to last trial end).
2. Per-trial overhead: the trial's wall time as the driver sees it (Ray Tune's
   trial start to trial complete) minus the seconds spent in training steps
   (`timings.train` of the record): data, model build, evaluation, imports,
   graph tracing, reporting. Also the same over the whole search:
   1 - sum(train) / (wall x workers).
3. Worker memory: resident memory (VmRSS) of the worker process after its 5th
   and its 50th consecutive trial (one worker, actors reused: the same process
   runs every trial), sampled from /proc by the driver right after each trial
   ends, and the peak resident memory during each trial (sampled at 20 Hz;
   VmHWM, the process's lifetime peak, is printed too).

Prints the figures against the targets: overhead <= 10% of trial wall time,
2 workers >= 1.7x the trials/minute of 1 worker, RSS(50)/RSS(5) <= 1.2, peak
<= 2 GiB per trial. Takes about 10 minutes on 2 cores. On a shared machine,
other people's load skews every figure: the load average is printed with them.

`--ceiling` also measures what the 2 CPUs allow with no Ray and no
archsearch: two Keras LSTM training processes (one thread each) against one.

Usage:
    python benchmarks/search_throughput.py
    python benchmarks/search_throughput.py --trials 8 --steps 300 --memory-trials 50
    python benchmarks/search_throughput.py --skip-memory --json out.json
    python benchmarks/search_throughput.py --skip-memory --trials 30 --steps 1000 --units 64 \
        --ceiling

Measured (quickstart size: 64 units, 1,000 steps, 2.0 s of training each; a
quiet machine). Before 20112b4 the training batches came from a tf.data
pipeline whose prefetch/map threads waited for a CPU when a worker had one:
2 workers gave 1.43-1.49x one over 16 trials (training 2.3-2.5 s per trial
against 1.9-2.0 s alone). With the batches gathered in the training thread:

    trials  2 workers / 1                          runs
    16      1.59 1.61 1.63 1.66  (steady 1.62-1.70) 4
    30      1.69 1.70 1.76       (steady 1.72-1.79) 3   (30 = the quickstart's trials)

The rest is start-up and the machine: a fresh worker spends ~4 s on its first
trial (3.1 s of it importing TensorFlow), paid once in either run, so it
weighs twice as much in the shorter 2-worker run; a worker waits 13-17 ms
between trials (timestamps in the worker); run_trial takes 2.01 s with two
workers against 1.89 s alone, and two Keras processes give 1.88-1.98x
(`--ceiling`), so the two cores lose a few percent to each other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 1024**3


def rss_kib(pid: int, field: str = "VmRSS") -> int | None:
    """A memory field of /proc/PID/status in KiB (None if the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()) + \
        f" on {os.cpu_count()} CPUs"


class Probe:
    """Wraps `SearchProgress`: times each trial from the driver, samples worker memory."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.start: dict[str, float] = {}
        self.trials: list[dict] = []
        self.running: dict[int, list] = {}  # pid -> [peak KiB seen during current trial]
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _worker_pids(self) -> set[int]:
        """Trainable actor processes (ray::ImplicitFunc*) that are our children's children."""
        pids = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read().decode(errors="replace")
                if not title.startswith("ray::ImplicitFunc"):
                    continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    env = f.read()
            except OSError:
                continue
            # Only this benchmark's Ray: its workers inherit our marker.
            if f"ARCHSEARCH_BENCH={os.getpid()}".encode() in env:
                pids.add(int(entry))
        return pids

    def _sample(self) -> None:
        last_scan = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_scan > 1.0:
                self.pids |= self._worker_pids()
                last_scan = now
            with self._lock:
                for pid in self.pids:
                    kib = rss_kib(pid)
                    if kib is not None:
                        peak = self.running.setdefault(pid, [0])
                        peak[0] = max(peak[0], kib)
            time.sleep(0.05)

    def __getstate__(self):
        # Ray Tune pickles its callbacks (tuner.pkl, for restoring an
        # experiment); the copy needs none of the live state.
        return {"run_dir": self.run_dir}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def close(self) -> None:
        self._stop.set()
        self._sampler.join(timeout=2)

    def callback_class(self):
        from archsearch.search.progress import SearchProgress

        probe = self

        class _Timed(SearchProgress):
            def on_trial_start(self, iteration, trials, trial, **info):
                probe.start[trial.trial_id] = time.monotonic()
                super().on_trial_start(iteration, trials, trial, **info)

            def on_trial_complete(self, iteration, trials, trial, **info):
                end = time.monotonic()
                super().on_trial_complete(iteration, trials, trial, **info)
                probe.finished(trial, end)

            def on_trial_error(self, iteration, trials, trial, **info):
                end = time.monotonic()
                super().on_trial_error(iteration, trials, trial, **info)
                probe.finished(trial, end)

        return _Timed

    def finished(self, trial, end: float) -> None:
        path = self.run_dir / "trials" / f"{trial.config['trial_id']}.json"
        record = json.loads(path.read_text()) if path.exists() else {}
        pid = (record.get("worker") or {}).get("pid")
        with self._lock:
            peak = self.running.pop(pid, [None])[0] if pid else None
        self.trials.append({
            "trial_id": trial.config["trial_id"], "cell": trial.config.get("name"),
            "task": trial.config.get("task"), "status": record.get("status"),
            "start": self.start.get(trial.trial_id), "end": end,
            "wall": end - self.start.get(trial.trial_id, end),
            "timings": record.get("timings", {}), "steps": record.get("steps"),
            "pid": pid, "rss_kib": rss_kib(pid) if pid else None,
            "hwm_kib": rss_kib(pid, "VmHWM") if pid else None, "peak_kib": peak})


def quickstart(steps: int, samples: int = 1, max_trials: int | None = None,
               units: int | None = None):
    import archsearch

    space = archsearch.load_search_space(REPO / "search_spaces" / "quickstart.yaml")
    if units is not None:
        space = space.model_copy(update={"hyperparameters": space.hyperparameters.model_copy(
            update={"units": [units]})})
    # The arithmetic task only: the study these numbers were first measured on
    # (the quickstart later gained a continual Reber task).
    tasks = [t.model_copy(update={"budget": t.budget.model_copy(update={"steps": steps})})
             for t in space.tasks if t.name == "arithmetic"]
    strategy = space.strategy.model_copy(update={"hyperparameter_samples": samples})
    total = len(strategy.cells) * samples * len(tasks)
    return space.model_copy(update={"tasks": tasks, "strategy": strategy,
                                    "max_trials": max_trials or total})


def run(space, workers: int, label: str, root: Path) -> dict:
    from archsearch.search import executor

    run_dir = root / label
    probe = Probe(run_dir)
    original = executor.SearchProgress
    executor.SearchProgress = probe.callback_class()
    load_before = load_average()
    try:
        t0 = time.monotonic()
        summary = executor.run_search(space, str(run_dir), workers=workers, progress=False)
        wall = time.monotonic() - t0
    finally:
        executor.SearchProgress = original
        probe.close()
    trials = sorted(probe.trials, key=lambda t: t["end"])
    starts = [t["start"] for t in trials if t["start"] is not None]
    steady = max(t["end"] for t in trials) - min(starts)
    train = sum(t["timings"].get("train", 0.0) for t in trials)
    per_trial = []
    for t in trials:
        tm = t["timings"]
        known = sum(tm.get(k, 0.0) for k in ("data", "build", "train", "eval"))
        per_trial.append({"wall": t["wall"], "train": tm.get("train", 0.0),
                          "overhead": t["wall"] - tm.get("train", 0.0),
                          "data": tm.get("data", 0.0), "build": tm.get("build", 0.0),
                          "eval": tm.get("eval", 0.0),
                          # in the worker, outside the timed phases: imports, device
                          # setup, clear_session + gc after the trial
                          "worker_other": tm.get("total", known) - known,
                          # outside run_trial: Tune start/report, record write, callbacks
                          "outside": t["wall"] - tm.get("total", known)})
    return {"label": label, "workers": workers, "trials": len(trials),
            "failed": summary.failed, "wall": wall, "steady": steady,
            "per_minute": 60 * len(trials) / wall, "per_minute_steady": 60 * len(trials) / steady,
            "search_overhead": 1 - train / (wall * workers),
            "steady_overhead": 1 - train / (steady * workers),
            "per_trial": per_trial, "raw": trials, "pids": sorted({t["pid"] for t in trials}),
            "load_before": load_before, "load_after": load_average()}


def _mean(values):
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def report_throughput(result: dict) -> None:
    p = result["per_trial"]
    wall, over = _mean(x["wall"] for x in p), _mean(x["overhead"] for x in p)
    print(f"  {result['label']}: {result['trials']} trials ({result['failed']} failed) in "
          f"{result['wall']:.1f} s -> {result['per_minute']:.2f} trials/min "
          f"(steady state {result['per_minute_steady']:.2f}/min over {result['steady']:.1f} s); "
          f"worker pids {result['pids']}")
    print(f"    per trial (driver-measured): wall {wall:.1f} s, "
          f"train {_mean(x['train'] for x in p):.1f} s, "
          f"overhead {over:.1f} s = {over / wall:.0%} of wall "
          f"[data {_mean(x['data'] for x in p):.2f}, build {_mean(x['build'] for x in p):.2f}, "
          f"eval {_mean(x['eval'] for x in p):.2f}, rest of run_trial (device setup, "
          f"clear_session, gc) {_mean(x['worker_other'] for x in p):.2f}, outside run_trial "
          f"(Ray Tune start/report, record write) {_mean(x['outside'] for x in p):.2f} s]")
    first, rest = p[0], p[1:]
    if rest:
        print(f"    first trial (fresh worker process) overhead {first['overhead']:.1f} s of "
              f"{first['wall']:.1f} s; later trials {_mean(x['overhead'] for x in rest):.1f} s of "
              f"{_mean(x['wall'] for x in rest):.1f} s "
              f"({_mean(x['overhead'] for x in rest) / _mean(x['wall'] for x in rest):.0%})")
    print(f"    whole search: {result['search_overhead']:.0%} of worker-time not training "
          f"(steady state {result['steady_overhead']:.0%}); {result['load_before']} before, "
          f"{result['load_after']} after")


def report_memory(result: dict) -> dict:
    trials = [t for t in result["raw"] if t["pid"] is not None]
    pids = {t["pid"] for t in trials}
    n = len(trials)
    rss = [t["rss_kib"] for t in trials]
    peaks = [t["peak_kib"] for t in trials if t["peak_kib"]]
    out = {"trials": n, "pids": sorted(pids)}
    print(f"  {n} consecutive trials on {len(pids)} worker process(es) {sorted(pids)}; "
          f"{result['wall']:.0f} s; {result['load_after']}")
    if n >= 5 and rss[4]:
        out["rss5"] = rss[4] / 1024
        k = min(n, 50)
        out["rssN"], out["N"] = rss[k - 1] / 1024, k
        print(f"    RSS after trial 5: {out['rss5']:.0f} MiB; "
              f"after trial {k}: {out['rssN']:.0f} MiB; ratio {out['rssN'] / out['rss5']:.2f}")
        marks = [m for m in (1, 5, 10, 20, 30, 40, 50) if m <= n and rss[m - 1]]
        print("    RSS after trial " + ", ".join(f"{m}: {rss[m - 1] / 1024:.0f}" for m in marks)
              + " MiB")
    if peaks:
        out["peak"] = max(peaks) / 1024
        out["hwm"] = max(t["hwm_kib"] or 0 for t in trials) / 1024
        print(f"    peak RSS during a trial: max {out['peak']:.0f} MiB, median "
              f"{statistics.median(peaks) / 1024:.0f} MiB (20 Hz samples); VmHWM (lifetime peak "
              f"of the worker) {out['hwm']:.0f} MiB")
    return out


_CEILING = """
import os, sys, time
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras, numpy as np
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((20,), dtype="int32"), keras.layers.Embedding(20, 32),
                          keras.layers.LSTM(int(sys.argv[1]), return_sequences=True),
                          keras.layers.Dense(20)])
model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x, y = np.random.randint(0, 20, (32, 20)), np.random.randint(0, 20, (32, 20))
for _ in range(20):
    model.train_on_batch(x, y)
t = time.perf_counter()
for _ in range(int(sys.argv[2])):
    model.train_on_batch(x, y)
print(int(sys.argv[2]) / (time.perf_counter() - t))
"""


def ceiling(units: int, steps: int = 600, rounds: int = 3) -> list[float]:
    """What 2 CPUs allow with no Ray and no archsearch: 2 training processes vs 1.

    Each process trains Keras' LSTM (one thread, as a 1-CPU worker) for
    `steps` steps; returns, per round (one alone, then two at once), the two
    processes' summed steps/s over the one's.
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-c", _CEILING, str(units), str(steps)]

    def rates(n):
        procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
                 for _ in range(n)]
        return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]

    ratios = []
    for k in range(rounds):  # interleaved: two then one, one then two, ...
        if k % 2 == 0:
            two, one = rates(2), rates(1)
        else:
            one, two = rates(1), rates(2)
        ratios.append(sum(two) / one[0])
    return ratios


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8,
                        help="trials per throughput run (default 8, the same for 1 and 2 workers)")
    parser.add_argument("--steps", type=int, default=300,
                        help="training steps of a throughput trial (default 300)")
    parser.add_argument("--units", type=int, default=32,
                        help="hidden units of every trial (default 32; the quickstart's own "
                             "units if 0)")
    parser.add_argument("--memory-trials", type=int, default=50)
    parser.add_argument("--memory-steps", type=int, default=30,
                        help="training steps of a memory-run trial (default 30)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--ceiling", action="store_true",
                        help="also measure what 2 CPUs allow without Ray or archsearch: two "
                             "Keras LSTM training processes at once against one")
    parser.add_argument("--json", default=None, help="also write the raw figures here")
    args = parser.parse_args(argv)

    os.environ["ARCHSEARCH_BENCH"] = str(os.getpid())  # marks this benchmark's Ray workers
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import ray

    t0 = time.monotonic()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"ARCHSEARCH_BENCH": str(os.getpid()),
                                       "TF_CPP_MIN_LOG_LEVEL": "3"}})
    from device_info import describe_device

    # The driver never loads TensorFlow (as `archsearch search`): accelerators as Ray sees them.
    print(f"{describe_device(tensorflow=False)}; Ray GPUs "
          f"{ray.cluster_resources().get('GPU', 0):g}")
    print(f"search throughput benchmark: Ray {ray.__version__}, local Ray with 2 CPUs "
          f"(started in {time.monotonic() - t0:.1f} s); {load_average()}")
    print("note: this machine is shared; other people's jobs compete for the same cores, so "
          "absolute times (and the 2-worker speedup) depend on their load at the time.")
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="archsearch-bench-") as root:
        root = Path(root)
        if not args.skip_throughput:
            space = quickstart(args.steps, samples=2, max_trials=args.trials,
                               units=args.units or None)
            print(f"\nthroughput: quickstart-size trials (units {space.hyperparameters.units[0]}, "
                  f"{args.steps} steps, "
                  f"arithmetic/xml), the same {args.trials} trials with 1 then 2 workers")
            for workers in (1, 2):
                results[f"w{workers}"] = run(space, workers, f"workers{workers}", root)
                report_throughput(results[f"w{workers}"])
        if not args.skip_memory:
            samples = -(-args.memory_trials // 10)
            space = quickstart(args.memory_steps, samples=samples, max_trials=args.memory_trials,
                               units=args.units or None)
            print(f"\nmemory: {args.memory_trials} consecutive quickstart-size trials (units "
                  f"{space.hyperparameters.units[0]}, {args.memory_steps} steps) on one worker")
            results["memory_run"] = run(space, 1, "memory", root)
            results["memory"] = report_memory(results["memory_run"])
    ray.shutdown()
    if args.ceiling:
        units = args.units or 64
        results["ceiling"] = ceiling(units)
        print(f"\nceiling (no Ray, no archsearch): 2 Keras LSTM processes ({units} units, one "
              f"thread each) train {statistics.median(results['ceiling']):.2f}x the steps/s of "
              f"one (median of {len(results['ceiling'])} rounds: "
              f"{' '.join(f'{r:.2f}' for r in results['ceiling'])})")

    print("\ntargets:")
    checks = []
    if "w1" in results:
        rest = [x for x in results["w1"]["per_trial"][1:] + results["w2"]["per_trial"][2:]] or \
            results["w1"]["per_trial"]
        frac = _mean(x["overhead"] for x in rest) / _mean(x["wall"] for x in rest)
        checks.append(("overhead per trial (warm worker) <= 10% of trial wall time",
                       f"{frac:.0%}", frac <= 0.10))
        whole = results["w1"]["search_overhead"]
        checks.append(("  same over a whole 1-worker search (start-up included)",
                       f"{whole:.0%}", whole <= 0.10))
        speedup = results["w2"]["per_minute"] / results["w1"]["per_minute"]
        steady = results["w2"]["per_minute_steady"] / results["w1"]["per_minute_steady"]
        checks.append(("2 workers >= 1.7x the trials/min of 1 worker",
                       f"{speedup:.2f}x (steady state {steady:.2f}x)", speedup >= 1.7))
    mem = results.get("memory", {})
    if "rss5" in mem:
        ratio = mem["rssN"] / mem["rss5"]
        checks.append((f"RSS after {mem['N']} / after 5 trials <= 1.2", f"{ratio:.2f}",
                       ratio <= 1.2 and mem["N"] >= 50))
    if "peak" in mem:
        checks.append(("peak RSS per trial <= 2 GiB", f"{mem['peak']:.0f} MiB",
                       mem["peak"] * 1024**2 <= 2 * GIB))
    for name, value, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'} {name}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
