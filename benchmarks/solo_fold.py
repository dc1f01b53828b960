"""The fold for single trials: a population of one against the solo step, side by side.

For each setting (cell, units) on the quickstart's arithmetic task (a
40-row table against ~400 tokens a batch), the same model's train step is
built four ways and run on the same batches in interleaved rounds (the order
reversed every other round), timed by CPU seconds (`time.process_time`):

* `solo`: `CompiledModel`'s step without XLA (`xla: off`);
* `solo_xla`: the same step XLA-compiled;
* `fold_plain`: a `StackedModel` of one member (the input projection folded
  into the embedding table) without XLA;
* `fold`: the same XLA-compiled: what `run_trial` trains since the fold.

Printed per setting: steps per CPU-second of each (median over rounds, after
an uncounted warm-up), and the ratio of the fold to today's solo step (XLA
under `auto`'s rule: on up to 128 units) as median [min-max] over rounds.
With `--trials`, whole `run_trial` calls (LSTM, `--trial-units`, 600 steps,
compile and evaluations included), `fold=False` and `fold=True` interleaved.

One TensorFlow thread (what a 1-CPU worker runs).

Usage:
    python benchmarks/solo_fold.py                      # ~4 minutes
    python benchmarks/solo_fold.py --rounds 6 --trials 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SETTINGS = [("lstm", 64), ("gru", 64), ("lstm", 128), ("lstm", 256), ("lstm", 512)]
OPTIONS = {"max_digits": 2, "max_distractors": 1, "num_examples": 2000}
SIDES = ("solo", "solo_xla", "fold_plain", "fold")


def _steps_per_cpu_s(step, batches) -> float:
    import numpy as np

    c0 = time.process_time()
    for x, y, w in batches:
        out = step(x, y, w)
    np.asarray(out)
    return len(batches) / (time.process_time() - c0)


def _solo_step(compiled):
    return lambda x, y, w: compiled.step(x, y, w, 5.0)


def _member_step(fn):
    """A population-of-one step taking one batch (the member axis added here)."""
    import numpy as np
    import tensorflow as tf

    lr, on = tf.constant(np.full(1, 0.01, "float32")), tf.constant(np.ones(1, bool))
    return lambda x, y, w: fn(x[None], y[None], w[None], lr, on)


def _sides(cell, units, data):
    import tensorflow as tf

    from archsearch.training import build_model, resolve
    from archsearch.training.compiled import CompiledModel
    from archsearch.training.stacked import StackedModel

    hp = resolve({"units": units, "optimizer": "adam", "learning_rate": 0.01})
    steps = {}
    for jit in (False, True):
        compiled = CompiledModel(build_model(cell, hp, data, seed=0)[0], jit)
        steps["solo_xla" if jit else "solo"] = _solo_step(compiled)
        stacked = StackedModel([build_model(cell, hp, data, seed=0)[0]], data, "adam", [5.0])
        steps["fold" if jit else "fold_plain"] = _member_step(
            tf.function(stacked.train_step, reduce_retracing=True, jit_compile=jit))
    return steps


def step_setting(cell: str, units: int, rounds: int, n: int) -> dict:
    from archsearch import tasks
    from archsearch.training.xla import use_xla

    data = tasks.get("arithmetic").load(seed=0, batch_size=32, **OPTIONS)
    batches = []
    while len(batches) < n:
        batches.extend(data.train)
    batches = batches[:n]
    steps = _sides(cell, units, data)
    for step in steps.values():  # trace, compile and warm up; not counted
        _steps_per_cpu_s(step, batches[:5])
        _steps_per_cpu_s(step, batches)
    rates = {side: [] for side in SIDES}
    for k in range(rounds):
        for side in (SIDES if k % 2 == 0 else SIDES[::-1]):
            rates[side].append(_steps_per_cpu_s(steps[side], batches))
    today = "solo_xla" if use_xla("auto", units, 1000, "cpu") else "solo"
    ratios = [f / s for f, s in zip(rates["fold"], rates[today], strict=True)]
    return {"cell": cell, "units": units, "today": today,
            "rates": {side: statistics.median(v) for side, v in rates.items()},
            "ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios)}


def trial_ratio(trials: int, units: int) -> dict:
    """Whole trials, fold off and on interleaved: wall seconds and scores."""
    from archsearch.training import Budget, run_trial

    hp = {"units": units, "optimizer": "adam", "learning_rate": 0.01}
    out = {False: [], True: []}
    for k in range(trials):
        for fold in ((False, True) if k % 2 == 0 else (True, False)):
            w0 = time.perf_counter()
            r = run_trial("lstm", hp, "arithmetic", Budget(steps=600), seed=k, fold=fold,
                          task_options={**OPTIONS, "num_examples": 8000})
            out[fold].append((time.perf_counter() - w0, r.score))
    ratios = [a[0] / b[0] for a, b in zip(out[False], out[True], strict=True)]
    return {"wall": {k: [round(x[0], 2) for x in v] for k, v in out.items()},
            "scores": {k: [round(x[1], 4) for x in v] for k, v in out.items()},
            "ratio": statistics.median(ratios), "low": min(ratios), "high": max(ratios)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per setting")
    parser.add_argument("--steps", type=int, default=60, help="steps per round")
    parser.add_argument("--units", type=int, nargs="*", default=None,
                        help="only these sizes (default: 64, 128, 256, 512)")
    parser.add_argument("--trials", type=int, default=2,
                        help="whole trials per side (0: skip)")
    parser.add_argument("--trial-units", type=int, default=256,
                        help="units of the whole trials (default 256: `auto` folds from 128)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from device_info import describe_device

    print(describe_device(), flush=True)
    print(f"one thread; arithmetic {OPTIONS}, batch 32; {args.rounds} interleaved rounds of "
          f"{args.steps} steps; steps per CPU-second (median)")
    print(f"{'cell':5} {'units':>5} " + " ".join(f"{s:>10}" for s in SIDES)
          + "  fold / today's solo, median [min-max]")
    found = []
    for cell, units in SETTINGS:
        if args.units and units not in args.units:
            continue
        r = step_setting(cell, units, args.rounds, args.steps)
        found.append(r)
        print(f"{cell:5} {units:5} " + " ".join(f"{r['rates'][s]:10.0f}" for s in SIDES)
              + f"  {r['ratio']:.2f} [{r['low']:.2f}-{r['high']:.2f}] (today: {r['today']})",
              flush=True)
    line = ("fold vs today's solo step: "
            + ", ".join(f"{r['cell']} {r['units']} {r['ratio']:.2f}x" for r in found))
    if args.trials:
        t = trial_ratio(args.trials, args.trial_units)
        print(f"whole trials (lstm, {args.trial_units} units, 600 steps, compile included): wall s "
              f"fold off {t['wall'][False]}, on {t['wall'][True]}; scores off "
              f"{t['scores'][False]}, on {t['scores'][True]}")
        line += f"; whole trials {t['ratio']:.2f}x wall [{t['low']:.2f}-{t['high']:.2f}]"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
