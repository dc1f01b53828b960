"""Driver cost per trial at paper scale: the simulated scorer, oracle alone and through Ray.

Trials are scored by `archsearch.search.simulate` (deterministic, instant), so
what is measured is the search machinery itself: the evolution oracle, its
saved state, record reading and writing, and (with `--executor`) Ray Tune.

1. Oracle alone (no Ray): the executor's own driver path one trial at a time
   (`OracleSearcher.suggest`, the simulated worker writing the record,
   `on_trial_complete` saving the oracle's state) for `--oracle-trials`.
2. Real executor (`--executor`): `run_search(..., simulate=True)` on a local
   Ray with `--workers` trials at once for `--trials`.

3. Reading (`--report-records N`): N synthetic records and their index lines
   written directly (`write_records`), then `archsearch report` (a child
   process: wall time and peak RSS) with the index as the writers leave it,
   after `compact`, and without an index (`--no-index-report`: every record
   read on its own, as before the index); `load_runs` alone on a local and a
   `memory://` run directory (seconds and store reads; locally also in a
   child process, for its peak RSS); and a resume: the
   evolution oracle's `reload()` from the N records, as it reads them today
   (one by one) and through the index (`read_trials`).

For 1-2: trials per second by decile (from the record files' modification
times), last decile's seconds per trial over the first's (flat: <= 1.5),
driver resident memory (peak, sampled at 5 Hz, from /proc) and `oracle.json`'s
largest size. The driver loads Keras as `archsearch search` does, with no
TensorFlow (`--tensorflow-in-driver`: as before, about 450 MB more).
Targets: >= 20 trials/s sustained through the executor, flat, saved state
<= 10 MB at any size; report on 100k records <= 2 min and <= 4 GiB, resume
of 100k trials <= 30 s.

Measured (2 cores, nothing else running, `--oracle-trials 0 --executor
--trials 100000 --dir /dev/shm/X`, the driver with no TensorFlow): 100,000
trials in 3,252 s, 30.7 trials/s; by decile 30 35 31 36 30 28 36 31 26 28;
last/first s per trial 1.07; driver peak RSS 1,394 MiB (by tenth: 677 754
772 785 812 850 892 934 935 1394, the last step being the index compaction
that ends the search); oracle.json at most 9.1 kB. Before the driver dropped
TensorFlow (and the compaction its row copies), the same run peaked at
2,259 MiB.

Usage:
    python benchmarks/driver_scale.py --oracle-trials 100000 --dir /dev/shm
    python benchmarks/driver_scale.py --executor --trials 3000 --workers 4 --oracle-trials 0
    python benchmarks/driver_scale.py --oracle-trials 0 --report-records 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
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
        self.series: list[tuple[float, float]] = []  # (seconds, RSS MiB)
        self.stop = threading.Event()

    def run(self):
        start = time.time()
        while not self.stop.wait(0.2):
            rss = _rss_mib()
            self.peak_rss = max(self.peak_rss, rss)
            self.series.append((time.time() - start, rss))
            with contextlib.suppress(FileNotFoundError):
                self.peak_state = max(self.peak_state, self.state.stat().st_size)


def deciles(run_dir: Path) -> list[float]:
    """Trials per second in each tenth of the trials after the first, from the records' mtimes."""
    times = sorted(p.stat().st_mtime for p in (run_dir / "trials").glob("*.json"))
    n = len(times) - 1
    edges = [round(k * n / 10) for k in range(11)]
    return [(edges[k + 1] - edges[k]) / max(1e-9, times[edges[k + 1]] - times[edges[k]])
            for k in range(10)]


def rss_deciles(series: list[tuple[float, float]]) -> list[float]:
    """Peak driver RSS (MiB) in each tenth of the run's wall time: growth, or a plateau."""
    if not series:
        return []
    end = series[-1][0] or 1.0
    peaks = [0.0] * 10
    for t, rss in series:
        k = min(9, int(10 * t / end))
        peaks[k] = max(peaks[k], rss)
    return [round(p) for p in peaks]


def report(name: str, trials: int, seconds: float, rates: list[float], sampler: Sampler,
           run_dir: Path) -> dict:
    flat = rates[0] / rates[-1] if rates[-1] else float("inf")
    state = max(sampler.peak_state, (run_dir / "oracle.json").stat().st_size)
    out = {"mode": name, "trials": trials, "seconds": round(seconds, 1),
           "trials_per_s": round(trials / seconds, 1),
           "deciles_trials_per_s": [round(r, 1) for r in rates],
           "last_over_first_s_per_trial": round(flat, 2),
           "peak_driver_rss_mib": round(sampler.peak_rss, 1),
           "peak_rss_mib_by_decile": rss_deciles(sampler.series),
           "oracle_json_max_bytes": int(state)}
    print(json.dumps(out))
    print(f"{name}: {trials} trials in {seconds:.1f} s = {trials / seconds:.1f} trials/s; "
          f"by decile {' '.join(f'{r:.0f}' for r in rates)}; last/first s per trial "
          f"{flat:.2f} (target <= 1.5); driver RSS {sampler.peak_rss:.0f} MiB (peak by tenth of "
          f"the run: {' '.join(str(r) for r in rss_deciles(sampler.series))}); "
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


TASKS = (("memorization", "prefilter"), ("arithmetic", "search"), ("xml", "search"))


def write_records(location: str, n: int, *, unindexed: int = 0, seed: int = 0) -> None:
    """`n` synthetic trial records and their index lines, written directly (no search).

    Cells: gru, lstm, lstm_b, tanh_rnn and mutants of them, about 48 trials a
    cell (3 tasks x 4 samples x 4 seeds), 5% failed, finishing in shuffled
    order. Files and lines are what `write_trial` writes, in segments of
    `index.SEGMENT_LINES` lines; the last `unindexed` records have no line.
    """
    from archsearch.genome import zoo
    from archsearch.genome.mutate import Mutator
    from archsearch.rundir import CellRef, RunRecord, RunStore, TrialRecord, index

    store, rng = RunStore(location), random.Random(seed)
    store.write_json("run.json", RunRecord(
        name="driver_scale", strategy="evolution", seed=seed, baseline="gru",
        tasks=[t for t, _ in TASKS], created_at="2026-01-01T00:00:00+00:00")
        .model_dump(mode="json"))
    named = {name: zoo.get(name) for name in ("gru", "lstm", "lstm_b", "tanh_rnn")}
    genomes = [(g, name, None, "seed") for name, g in named.items()]
    mutator = Mutator()
    for k in range(max(0, -(-n // 48) - len(genomes))):
        parent = named[list(named)[k % len(named)]]
        genomes.append((mutator.run(parent, seed * 100_000 + k).child, None,
                        parent.fingerprint(), "mutation"))
    cells = [CellRef(name=name, fingerprint=g.fingerprint(), genome=g.to_dict(), parent=parent,
                     origin=origin) for g, name, parent, origin in genomes]
    jobs = [(c, t, s) for c in range(len(cells)) for t in range(3) for s in range(16)][:n]
    rng.shuffle(jobs)
    lines, files = [], {}  # remote: written in one bulk `pipe` (a memory:// ls is O(files))
    store.makedirs("trials")
    for k, (c, t, s) in enumerate(jobs):
        failed = rng.random() < 0.05
        score = None if failed else round(0.3 + 0.6 * rng.random(), 6)
        record = TrialRecord(
            trial_id=f"{k:06d}", strategy="evolution", status="failed" if failed else
            "completed", failure="loss became nan" if failed else None,
            cell=cells[c], task=TASKS[t][0], stage=TASKS[t][1], seed=s, sample=s // 4,
            hparams={"units": 8, "learning_rate": rng.choice([0.1, 0.5, 1.0]), "num_layers": 1},
            score=score, score_metric="accuracy", score_mode="max",
            metrics={} if failed else {"valid": {"accuracy": score}},
            curve=[{"step": 5, "valid_accuracy": score}], params=1000, units=8, steps=5,
            timings={"total": 0.01}, worker={"node": "10.0.0.1"},
            started_at=f"2026-01-01T00:00:00.{k % 1_000_000:06d}+00:00",
            finished_at=f"2026-01-{2 + k // 86400:02d}T{k // 3600 % 24:02d}:{k // 60 % 60:02d}:"
                        f"{k % 60:02d}+00:00")
        text, fname = record.to_json(), f"{record.trial_id}.json"
        if store.is_local:
            Path(store.path(f"trials/{fname}")).write_text(text)
        else:
            files[store.path(f"trials/{fname}")] = text.encode()
        if k < n - unindexed:
            lines.append(json.dumps(index.summary(record.model_dump(mode="json"), fname,
                                                  len(text.encode())), separators=(",", ":")))
    if files:
        import fsspec

        fsspec.core.url_to_fs(location)[0].pipe(files)
    for k in range(0, len(lines), index.SEGMENT_LINES):
        store.write_text(f"index/gen-{k // index.SEGMENT_LINES}-0.jsonl",
                         "\n".join(lines[k:k + index.SEGMENT_LINES]) + "\n")


class CountingReads:
    """Counts `RunStore` reads and listings while active (a context manager)."""

    def __enter__(self):
        from archsearch.rundir import RunStore

        self.reads = self.listings = 0
        self._saved = {m: getattr(RunStore, m) for m in ("read_bytes", "list", "list_sizes")}

        def counted(method, attr):
            def wrapper(store, *args, **kwargs):
                setattr(self, attr, getattr(self, attr) + 1)
                return method(store, *args, **kwargs)
            return wrapper

        for name, method in self._saved.items():
            setattr(RunStore, name, counted(method, "reads" if name == "read_bytes"
                                            else "listings"))
        return self

    def __exit__(self, *exc):
        from archsearch.rundir import RunStore

        for name, method in self._saved.items():
            setattr(RunStore, name, method)


def _child(args: list[str]) -> tuple[float, float]:
    """`python ARGS` in a child process: (seconds, peak RSS in MiB)."""
    start = time.time()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.time() - start
    if status != 0:
        raise RuntimeError(f"{args} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def _load(location: str) -> dict:
    from archsearch.report import load_runs

    with CountingReads() as counted:
        start = time.time()
        runs = load_runs([location])
        seconds = time.time() - start
    return {"trials": len(runs.trials), "seconds": round(seconds, 2), "reads": counted.reads,
            "listings": counted.listings}


def _resume(location: str, work: Path, n: int, indexed: bool) -> dict:
    import warnings
    from unittest import mock

    from archsearch.rundir import RunStore, read_trials
    from archsearch.search.executor import make_oracle
    from archsearch.search.oracles import persist, state

    def via_index(storage):
        return sorted(map(state.RecordSummary.of, read_trials(storage)),
                      key=state.RecordSummary.order)

    oracle = make_oracle(_space(work, n, 1))
    oracle.storage = RunStore(location)
    patch = mock.patch.object(persist, "read_records", via_index) if indexed \
        else contextlib.nullcontext()
    with patch, CountingReads() as counted, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no oracle.json: "rebuilding from N records"
        start = time.time()
        oracle.reload()
        seconds = time.time() - start
    return {"seconds": round(seconds, 2), "reads": counted.reads,
            "ended": len(oracle.end_order) if hasattr(oracle, "end_order") else None}


def _report_figures(run_dir: str, out: Path | None, run: bool = True) -> dict:
    """`archsearch report` (`load_runs` alone if `out` is None) in a child: seconds, peak RSS."""
    if not run:
        return {}
    load = ["-c", "import sys; from archsearch.report import load_runs; load_runs(sys.argv[1:])"]
    seconds, rss = _child([*load, run_dir] if out is None else
                          ["-m", "archsearch", "report", run_dir, "--out", str(out),
                           "--no-figures"])
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(rss, 1)}


def reading(n: int, work: Path, no_index: bool, command: bool = True) -> dict:
    """Report, load and resume on `n` generated records (see the module docstring, 3.)."""
    from archsearch.rundir import RunStore, compact

    run_dir = str(work / "records")
    start = time.time()
    write_records(run_dir, n)
    out = _Shown(mode="reading", records=n)
    out["generate_s"] = round(time.time() - start, 1)
    segments = len(RunStore(run_dir).list("index"))
    out["report_segments"] = {**_report_figures(run_dir, work / "report1", command),
                              "index_files": segments}
    out["load_segments"] = _load(run_dir)
    start = time.time()
    compact(RunStore(run_dir))
    out["compact_s"] = round(time.time() - start, 1)
    out["report_compacted"] = _report_figures(run_dir, work / "report2", command)
    out["load_compacted"] = _load(run_dir)
    out["load_compacted_child"] = _report_figures(run_dir, None)
    out["resume_index"] = _resume(run_dir, work, n, indexed=True)
    out["resume_records"] = _resume(run_dir, work, n, indexed=False)
    memory = f"memory://driver-scale-{os.getpid()}"
    write_records(memory, n, unindexed=n // 100)
    out["load_memory_1pct_unindexed"] = _load(memory)
    if no_index:
        for name in RunStore(run_dir).list("index"):
            RunStore(run_dir).delete(f"index/{name}")
        out["load_no_index"] = _load(run_dir)
    print(json.dumps(out), flush=True)
    return out


class _Shown(dict):
    """A dict that prints each figure as it is set (a long run shows its progress)."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        print(f"  {key}: {value}", file=sys.stderr, flush=True)


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
    parser.add_argument("--report-records", type=int, default=0, metavar="N",
                        help="report, load and resume on N generated records (0: skip)")
    parser.add_argument("--no-index-report", action="store_true",
                        help="with --report-records: also load with no index (N reads)")
    parser.add_argument("--no-report-command", action="store_true",
                        help="with --report-records: skip `archsearch report` (its analysis "
                             "dominates at large N), measure loading and resuming only")
    parser.add_argument("--tensorflow-in-driver", action="store_true",
                        help="load Keras with TensorFlow in the driver, as before "
                             "(default: as `archsearch search` does, with no TensorFlow)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.tensorflow_in_driver:
        import keras  # noqa: F401 - with its configured backend, TensorFlow
    from archsearch.compat.driver_keras import load_keras_for_driver

    print(f"driver's Keras backend: {load_keras_for_driver()}", flush=True)
    if args.no_tune_loggers:
        os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    results = []
    with tempfile.TemporaryDirectory(prefix="driver_scale", dir=args.dir) as tmp:
        if args.oracle_trials:
            results.append(oracle_alone(args.oracle_trials, Path(tmp)))
        if args.executor:
            results.append(executor(args.trials, args.workers, args.cpus, Path(tmp)))
        if args.report_records:
            results.append(reading(args.report_records, Path(tmp), args.no_index_report,
                                   command=not args.no_report_command))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
