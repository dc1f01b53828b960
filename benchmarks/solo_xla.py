"""A single trial's train step with and without XLA: steps per CPU-second, side by side.

For each setting (cell, task, units) two copies of the same model are built
and their train steps (`archsearch.training.compiled.CompiledModel`, the step
`run_trial` uses) traced, one plain and one XLA-compiled; then they run the
same batches in interleaved rounds (plain, XLA, XLA, plain, ...), each round
`--steps` steps, timed by CPU seconds (`time.process_time`) and wall
seconds. Printed per setting: the first step of each (trace, plus XLA's
compile: the cold-start cost a worker pays once per model shape), the
median steps per CPU-second of each (after one uncounted warm-up round),
and the ratio XLA / plain as median [min-max] over rounds. With `--trials`,
whole `run_trial` calls at the quickstart's size (arithmetic, 64 units,
1,000 steps), `xla="off"` and `xla="on"` interleaved: the end-to-end gain
with the compile included.

One TensorFlow thread (what a 1-CPU worker runs). This machine is shared:
interleaving keeps the comparison fair when the load changes, and the
spread says how much it did.

Usage:
    python benchmarks/solo_xla.py                 # the default settings, ~3 minutes
    python benchmarks/solo_xla.py --rounds 6 --trials 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SETTINGS = [("lstm", "arithmetic", 64), ("gru", "arithmetic", 64), ("lstm", "adding", 64),
            ("lstm", "reber", 64), ("lstm", "arithmetic", 128), ("lstm", "arithmetic", 256)]
OPTIONS = {"arithmetic": {"max_digits": 2, "max_distractors": 1, "num_examples": 8000},
           "adding": {"length": 100}, "reber": {"num_chunks": 60, "eval_chunks": 5}}


def _steps(cm, batches, n: int) -> tuple[float, float]:
    """(steps per CPU-second, steps per wall-second) over `n` steps."""
    c0, w0 = time.process_time(), time.perf_counter()
    for k in range(n):
        loss = cm.step(*batches[k % len(batches)], 5.0)
    float(loss)
    return n / (time.process_time() - c0), n / (time.perf_counter() - w0)


def step_setting(cell: str, task: str, units: int, rounds: int, steps: int) -> dict:
    import tensorflow as tf

    from archsearch import tasks
    from archsearch.training import build_model, resolve
    from archsearch.training.compiled import CompiledModel

    data = tasks.get(task).load(seed=0, batch_size=32, **OPTIONS[task])
    hp = resolve({"units": units, "optimizer": "adam", "learning_rate": 0.01})
    it = iter(data.train)
    batches = [next(it) for _ in range(min(40, sum(1 for _ in data.train_epoch(0))))]
    models, first = {}, {}
    for side, jit in (("plain", False), ("xla", True)):
        tf.keras.utils.set_random_seed(0)
        model, _ = build_model(cell, hp, data, seed=0)
        models[side] = CompiledModel(model, jit_compile=jit)
        t = time.perf_counter()
        float(models[side].step(*batches[0], 5.0))
        first[side] = time.perf_counter() - t
    for side in models:  # warm-up, not counted (the first calls after tracing are slower)
        _steps(models[side], batches, steps)
    rates = {"plain": [], "xla": []}
    ratios, wall_ratios = [], []
    for k in range(rounds):
        order = ("plain", "xla") if k % 2 == 0 else ("xla", "plain")
        got = {side: _steps(models[side], batches, steps) for side in order}
        for side in got:
            rates[side].append(got[side][0])
        ratios.append(got["xla"][0] / got["plain"][0])
        wall_ratios.append(got["xla"][1] / got["plain"][1])
    return {"cell": cell, "task": task, "units": units,
            "first_step_s": {k: round(v, 2) for k, v in first.items()},
            "steps_per_cpu_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
            "ratio": round(statistics.median(ratios), 2), "ratio_min": round(min(ratios), 2),
            "ratio_max": round(max(ratios), 2),
            "wall_ratio": round(statistics.median(wall_ratios), 2)}


def trial_ratio(trials: int) -> dict:
    """Whole quickstart-size trials, xla off and on interleaved: wall and CPU seconds."""
    from archsearch.training import Budget, run_trial

    hp = {"units": 64, "optimizer": "adam", "learning_rate": 0.01}
    out = {"off": [], "on": []}
    for k in range(trials):
        for mode in (("off", "on") if k % 2 == 0 else ("on", "off")):
            c0, w0 = time.process_time(), time.perf_counter()
            r = run_trial("lstm", hp, "arithmetic", Budget(steps=1000), seed=k, xla=mode,
                          task_options=OPTIONS["arithmetic"])
            out[mode].append((time.perf_counter() - w0, time.process_time() - c0, r.score))
    wall = [off[0] / on[0] for off, on in zip(out["off"], out["on"], strict=True)]
    cpu = [off[1] / on[1] for off, on in zip(out["off"], out["on"], strict=True)]
    return {"trials": trials, "wall_s": {m: [round(x[0], 1) for x in v] for m, v in out.items()},
            "scores": {m: [round(x[2], 4) for x in v] for m, v in out.items()},
            "speedup_wall": round(statistics.median(wall), 2),
            "speedup_wall_range": [round(min(wall), 2), round(max(wall), 2)],
            "speedup_cpu": round(statistics.median(cpu), 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per setting")
    parser.add_argument("--steps", type=int, default=100, help="steps per round")
    parser.add_argument("--trials", type=int, default=2,
                        help="whole quickstart-size trials per side (0: skip)")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from device_info import describe_device

    print(describe_device(), flush=True)
    print(f"one thread; {args.rounds} interleaved rounds of {args.steps} steps per setting")
    print(f"{'cell':6} {'task':11} {'units':>5} {'first step plain/xla':>21} "
          f"{'steps/CPU-s plain/xla':>22} {'xla/plain median [min-max]':>28}")
    results = {"settings": []}
    for cell, task, units in SETTINGS:
        r = step_setting(cell, task, units, args.rounds, args.steps)
        results["settings"].append(r)
        f, s = r["first_step_s"], r["steps_per_cpu_s"]
        print(f"{cell:6} {task:11} {units:5} {f['plain']:9.2f} / {f['xla']:.2f} s "
              f"{s['plain']:10.0f} / {s['xla']:.0f} {r['ratio']:14.2f} "
              f"[{r['ratio_min']:.2f}-{r['ratio_max']:.2f}]", flush=True)
    if args.trials:
        t = results["trials"] = trial_ratio(args.trials)
        print(f"whole trials (lstm, arithmetic, 64 units, 1,000 steps, compile included): "
              f"off {t['wall_s']['off']} s, on {t['wall_s']['on']} s; scores off "
              f"{t['scores']['off']} on {t['scores']['on']}")
    small = [r["ratio"] for r in results["settings"] if r["units"] <= 128]
    line = (f"xla vs plain step, units <= 128: {statistics.median(small):.2f}x "
            f"[{min(small):.2f}-{max(small):.2f}] per CPU-second (median of settings)")
    if args.trials:
        line += (f"; whole trials {results['trials']['speedup_wall']:.2f}x wall "
                 f"[{results['trials']['speedup_wall_range'][0]:.2f}-"
                 f"{results['trials']['speedup_wall_range'][1]:.2f}]")
    print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
