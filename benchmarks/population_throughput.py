"""Population trials vs one-by-one: trained samples per hour on the quickstart task.

For each hidden size and population size K, times training steps of K LSTMs
as one member-stacked model (`archsearch.training.stacked.StackedModel`, what
`run_population` runs, XLA-compiled unless --no-jit) against the same K
trained one after another through the compiled step `run_trial` uses
(`archsearch.training.compiled.CompiledModel`), interleaved repeat by repeat
so both see the same machine load. Reports, per CPU-second and per wall
second, the median and spread (min-max) over repeats of

    speedup = (K x seconds per solo step) / seconds per population step

and the samples per hour either way for a 2,000-step trial. Speedup > 1
means the population is faster. Compilation (the first steps) is excluded.

    python benchmarks/population_throughput.py            # full (quiet machine)

Against today's single trials (`--baseline today`, the default since
XLA and the fold for single trials: a population of one where the table
folds from 128 units, else the solo step with XLA up to 128 units), one
thread, 40 timed steps, 3 repeats, speedup per CPU-second, median [min-max];
what `auto_k` is set from:

    table             units  K=2               K=4               K=8
    arithmetic (40)   32     1.46 [1.21-1.47]  1.96 [1.82-1.99]  2.11 [1.82-2.48]
                      64     1.31 [1.26-1.50]  1.62 [1.25-1.77]  1.15 [1.00-1.57]
                      128    1.10 [1.00-1.24]  0.99 [0.98-1.13]  1.03 [0.91-1.14]
                      256    0.96 [0.94-1.02]  1.07 [0.91-1.11]  0.93 [0.91-0.98]
    trec (7,360)      32     0.97 [0.91-1.17]  0.99 [0.86-1.02]  1.03 [0.97-1.24]
                      64     1.00 [0.98-1.20]  0.92 [0.85-1.07]  1.01 [0.94-1.02]
                      128    0.94 [0.83-1.01]  0.88 [0.78-0.92]  0.78 [0.77-0.79]
                      256    1.04 [0.89-1.08]  0.97 [0.96-1.05]  0.82 [0.80-0.98]

Against the plain solo step (`--baseline plain`, how it was measured
before), at units 64 (median [min-max]; populations through the fused member
loop, a432231 and after):

    threads      K    speedup/cpu         speedup/wall
    1            4    1.85 [1.41-1.99]    1.96 [1.50-2.10]   (5 repeats; a 1-CPU worker)
    1            8    1.57 [1.50-1.70]    1.68 [1.62-1.85]   (3 repeats)
    default (2)  4    2.15 [2.09-2.21]    2.55 [2.55-2.62]   (3 repeats)
    default (2)  16   1.94 [1.89-2.17]    2.62 [2.58-2.97]   (3 repeats)

With the input projection folded into the embedding table (8f3c276), one
thread, 5 repeats, two runs: K=4 2.10 [1.98-2.27] and 1.98 [1.68-1.99];
K=8 1.89 [1.54-1.99] and 1.97 [1.71-2.11]. The fold alone, interleaved A/B:
1.13x [1.07-1.16] at K=4, 1.15x [1.07-1.31] at K=8.

`--ceiling` also times each population's step floor (`step_floor.py`: the
step's matmuls and gate rules alone, with TensorFlow's fastest kernels for
these shapes), unfolded and with the input projection folded into the
embedding table (as populations now train), and prints the most a population
step could gain over the solo step measured beside it. Units 64, one thread:
the folded floor is 0.59-0.70 ms per member-step against a solo step of
1.57-1.69 ms, so no population built from these kernels exceeds 2.42-2.70x
per CPU-second at this task's shapes (2.05-2.27x unfolded); the folded
population runs at 73-78% of its floor's speed (K = 4, 8; 3 runs of the floor).

Before the fused member loop (autodiff through tf.scan), one thread: K=8
1.09x, K=16 1.11x per CPU-second. `--threads 1` is what a search worker with
`resources.cpus: 1` runs, and what `auto_k` is measured with.
    python benchmarks/population_throughput.py --quick    # a smoke run, minutes
"""

from __future__ import annotations

import argparse
import statistics
import time

#: Per task: a small table (arithmetic: 40 rows against ~400 tokens a batch, folded)
#: and a large one (trec: ~8,000 words against ~300 tokens, never folded).
TASKS = {"arithmetic": {"max_digits": 2, "max_distractors": 1, "batch_size": 32,
                        "num_examples": 2000},
         "trec": {"batch_size": 32}}
TASK_OPTIONS = TASKS["arithmetic"]
HP = {"optimizer": "adam", "learning_rate": 0.01, "clip_norm": 5.0}
TRIAL_STEPS = 2000


def _batches(data, n):
    out = []
    while len(out) < n:
        out.extend(data.train)
    return out[:n]


def _solo_step(data, units, member, baseline):
    """A single trial's train step `step(x, y, w)`: `run_trial`'s today, or the plain one.

    Today (`baseline="today"`): a population of one, XLA-compiled, where the
    fold applies (`archsearch.training.solo_fold.folds`), else the solo step
    with XLA by `auto`'s rule. `"plain"`: the solo step without XLA (what
    `auto_k` was measured against before single trials had XLA and the fold).
    """
    import numpy as np
    import tensorflow as tf

    from archsearch.training import build_model, resolve
    from archsearch.training.compiled import CompiledModel
    from archsearch.training.solo_fold import folds
    from archsearch.training.stacked import StackedModel
    from archsearch.training.xla import use_xla

    hp = resolve({**HP, "units": units})
    model, _ = build_model("lstm", hp, data, seed=member)
    clip = tf.constant(5.0)
    if baseline == "plain":
        compiled = CompiledModel(model)
        return lambda x, y, w: compiled.step(x, y, w, clip)
    if folds("lstm", hp, data, "auto", TRIAL_STEPS, "cpu"):
        stacked = StackedModel([model], data, "adam", [5.0])
        fn = tf.function(stacked.train_step, reduce_retracing=True, jit_compile=True)
        lr, on = tf.constant(np.full(1, 0.01, "float32")), tf.constant(np.ones(1, bool))
        return lambda x, y, w: fn(x[None], y[None], w[None], lr, on)
    compiled = CompiledModel(model, use_xla("auto", units, TRIAL_STEPS, "cpu"))
    return lambda x, y, w: compiled.step(x, y, w, clip)


def _solo(data, units, k, steps, warmup, baseline="today"):
    """(cpu, wall) seconds per step of K models trained one after another."""
    import keras
    import numpy as np

    batches = _batches(data, steps + warmup)
    cpu = wall = 0.0
    for member in range(k):
        step = _solo_step(data, units, member, baseline)
        for x, y, w in batches[:warmup]:
            step(x, y, w)
        c, t = time.process_time(), time.perf_counter()
        for x, y, w in batches[warmup:]:
            out = step(x, y, w)
        np.asarray(out)
        cpu, wall = cpu + time.process_time() - c, wall + time.perf_counter() - t
        del step
        keras.utils.clear_session()
    return cpu / steps / k, wall / steps / k


def _population(data, units, k, steps, warmup, jit_compile):
    """(cpu, wall) seconds per step of one K-member population."""
    import keras
    import numpy as np
    import tensorflow as tf

    from archsearch.training import build_model, resolve
    from archsearch.training.stacked import StackedModel

    models = [build_model("lstm", resolve({**HP, "units": units}), data, seed=m)[0]
              for m in range(k)]
    stacked = StackedModel(models, data, "adam", [5.0] * k)
    del models
    step = tf.function(stacked.train_step, reduce_retracing=True, jit_compile=jit_compile)
    lr, on = tf.constant(np.full(k, 0.01, "float32")), tf.constant(np.ones(k, bool))
    batches = [tuple(tf.stack([t] * k) for t in b) for b in _batches(data, steps + warmup)]
    for x, y, w in batches[:warmup]:
        step(x, y, w, lr, on)
    c, t = time.process_time(), time.perf_counter()
    for x, y, w in batches[warmup:]:
        step(x, y, w, lr, on).numpy()
    cpu, wall = time.process_time() - c, time.perf_counter() - t
    del stacked, step
    keras.utils.clear_session()
    return cpu / steps, wall / steps


def print_ceiling(data, units, k, solo_cpu, pop_cpu):
    """The K-member step's floor per member, and the most a population could gain.

    Twice: the step as it is built (every token's input projected), and with
    the input projection folded into the embedding table (see step_floor.py),
    a rewrite a population could make since it owns the whole model.
    """
    from step_floor import step_floor

    x, _, _ = next(iter(data.train))
    batch, steps = x.shape
    solo, pop = statistics.median(solo_cpu), statistics.median(pop_cpu)
    for label, folded in (("as built", None), ("folded", data.vocab_size)):
        floor = step_floor("lstm", k, batch, steps, units, units, data.num_outputs,
                           folded=folded)
        per_member = floor["total"] / k
        print(f"{'':>9} floor {label}: {per_member * 1e3:.3f} ms/member-step (matmuls "
              f"{floor['matmul'] / k * 1e3:.3f} + gates {floor['elementwise'] / k * 1e3:.3f});"
              f" solo {solo * 1e3:.3f}, population {pop * 1e3:.3f} ms/member-step (CPU): at "
              f"most {solo / per_member:.2f}x per CPU-second; the population runs at "
              f"{per_member / pop:.0%} of this floor's speed", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few sizes, steps and repeats")
    parser.add_argument("--units", type=int, nargs="*", default=None)
    parser.add_argument("--k", type=int, nargs="*", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--no-jit", action="store_true",
                        help="population step without XLA (run_population's jit_compile=False)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also time each population's step floor (step_floor.py: its "
                             "matmuls and gate rules alone) and print the most any population "
                             "step could gain over the measured solo step")
    parser.add_argument("--task", choices=sorted(TASKS), default="arithmetic",
                        help="arithmetic: a 40-row table (folded); trec: ~8,000 words "
                             "(not folded)")
    parser.add_argument("--baseline", choices=("today", "plain"), default="today",
                        help="the one-by-one side: run_trial's step today (XLA and the fold "
                             "by their rules) or the plain solo step")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra- and inter-op threads (a 1-CPU search worker "
                             "uses 1; default: TensorFlow's own, every core)")
    args = parser.parse_args(argv)
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    units_list = args.units or ([32, 128] if args.quick else [32, 64, 128, 256])
    ks = args.k or ([1, 4] if args.quick else [1, 4, 8, 16])
    steps = args.steps or (10 if args.quick else 50)
    repeats = args.repeats or (1 if args.quick else 5)
    warmup = 2

    from device_info import describe_device

    from archsearch import tasks

    data = tasks.get(args.task).load(seed=0, **TASKS[args.task])
    print(describe_device())
    print(f"LSTM on {args.task} {TASKS[args.task]} (table {data.vocab_size} rows), {steps} "
          f"timed steps, {repeats} repeat(s), population XLA={not args.no_jit}, one-by-one: "
          f"{args.baseline}")
    print(f"{'units':>5} {'K':>3} {'speedup/cpu':>18} {'speedup/wall':>18} "
          f"{'solo samples/h':>15} {'pop samples/h':>14}")
    for units in units_list:
        for k in ks:
            cpu_ratio, wall_ratio, solo_rate, pop_rate, solo_cpu, pop_cpu = ([] for _ in range(6))
            for _ in range(repeats):  # interleaved: solo then population, repeat by repeat
                s_cpu, s_wall = _solo(data, units, k, steps, warmup, args.baseline)
                p_cpu, p_wall = _population(data, units, k, steps, warmup, not args.no_jit)
                cpu_ratio.append(k * s_cpu / p_cpu)
                solo_cpu.append(s_cpu)
                pop_cpu.append(p_cpu / k)
                wall_ratio.append(k * s_wall / p_wall)
                solo_rate.append(3600 / (TRIAL_STEPS * s_wall))
                pop_rate.append(3600 * k / (TRIAL_STEPS * p_wall))

            def fmt(v):
                return f"{statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]"

            print(f"{units:>5} {k:>3} {fmt(cpu_ratio):>18} {fmt(wall_ratio):>18} "
                  f"{statistics.median(solo_rate):>15.1f} {statistics.median(pop_rate):>14.1f}",
                  flush=True)
            if args.ceiling:
                print_ceiling(data, units, k, solo_cpu, pop_cpu)


if __name__ == "__main__":
    main()
