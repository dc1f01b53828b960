"""Training speed of GenomeRNN's fused path against its autodiff path and Keras' LSTM / GRU.

Model: Embedding(64, E) -> recurrent layer (return_sequences) -> Dense(64);
batch 64, sequence 100, sparse cross-entropy, Adam; `train_on_batch` steps.
All contenders of a pair are measured interleaved in one process (A B C D,
then D C B A, ...),
so load drift on a shared machine hits both sides alike, by wall clock and
per CPU-second of this process (`time.process_time()`). Printed: the median
ratio A / B of tokens per second with its spread (min..max over rounds).

Contenders: `fused` (GenomeRNN, hand-written backward), `fused_xla` (the same
with XLA-compiled loops), `autodiff` (GenomeRNN(fused=False)), `keras` (Keras'
LSTM, or GRU with reset_after for the `gru` pair).

With `--ceiling`, each contender's training FLOPs per CPU-second are printed
against the peak of the recurrent matmul alone (`matmul_peak`): with one
thread (`--threads 1`, what a 1-CPU search worker runs), Keras' layers
already run near it. Measured (units 256, 6 rounds, `--threads 1 --ceiling`,
median (min..max) per CPU-second; peak 218-230 GFLOP/CPU-s):

    pair          Keras % of peak  most possible  fused / Keras        fused_xla / Keras
    LSTM, E 64    60%              1.67x          1.04 (0.93..1.08)    1.01 (0.97..1.07)
    LSTM, E 256   70%              1.42x          1.06 (1.01..1.08)    1.08 (1.06..1.09)
    GRU, E 64     51%              1.97x          1.14 (1.00..1.16)    1.25 (1.18..1.26)
    GRU, E 256    62%              1.61x          1.11 (1.07..1.13)    1.17 (1.14..1.20)

The peak of one chained matmul flatters the ceiling: a train step also runs
wide-and-short matmuls (input projections, weight gradients) that are
slower. `--ceiling` therefore also times the step floor (`step_floor.py`:
this step's own matmuls with its shapes and the recurrence's chaining, plus
the gates' elementwise rules, fastest of XLA and not). Measured (units 256,
6 rounds, `--threads 1 --ceiling`; floor ratios against Keras' rate in the
same run):

    pair          matmuls alone  with gates  fused / Keras        fused_xla / Keras
    LSTM, E 64    1.32x          1.16x       1.11 (1.01..1.13)    1.12 (1.09..1.15)
    LSTM, E 256   1.27x          1.16x       1.12 (1.08..1.13)    1.14 (1.12..1.15)
    GRU, E 64     1.54x          1.38x       1.17 (1.00..1.20)    1.29 (1.26..1.32)
    GRU, E 256    1.43x          1.32x       1.16 (1.03..1.17)    1.23 (1.19..1.25)

So with one thread no layer built from TensorFlow's kernels reaches 1.5x
Keras per CPU-second on this CPU; even with free gates only the GRU at E 64
could, by 4%. (A layer receives its inputs embedded already, so folding the
input projection into an embedding table, `step_floor.py --folded`, is not
open to it.)

With TensorFlow's default pools (both cores), Keras' LSTM trains at 41k
tokens per CPU-second against 66k with one thread (units 256, E 64), and
fused / Keras was 1.07 (0.98..1.19) for the LSTM and 1.02 (0.83..1.05) for
the GRU (4 rounds); with the whole train step XLA-compiled for every
contender (`--jit-compile true`), 1.40 and 1.17.

Per cell (`--cells`): every zoo cell's fused training throughput in FLOP/s
(3 x the forward matmul FLOPs per token) against Keras' LSTM of the same
units and input width; the target is a ratio LSTM / cell within 1.2.

    python benchmarks/fused_rnn.py                 # the full comparison, 8 rounds
    python benchmarks/fused_rnn.py --quick         # a smoke run: small, 1 round
    python benchmarks/fused_rnn.py --cells all --units 256 --E 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from device_info import describe_device  # noqa: E402
from step_floor import step_floor  # noqa: E402

from archsearch import zoo  # noqa: E402
from archsearch.genome.layout import CellPlan  # noqa: E402
from archsearch.layers import GenomeRNN  # noqa: E402

VOCAB, BATCH = 64, 64
GENOME = {"lstm": "lstm_b", "gru": "gru_reset_after"}
# (A, B) comparisons per pair; A / B > 1 means A trains faster.
COMPARISONS = (("fused", "keras"), ("fused", "autodiff"), ("fused_xla", "keras"),
               ("fused_xla", "fused"))


def make_layer(pair, kind, units):
    if kind == "keras":
        return (keras.layers.LSTM if pair == "lstm" else keras.layers.GRU)(
            units, return_sequences=True)
    fused = {"fused": True, "fused_xla": "xla", "autodiff": False}[kind]
    return GenomeRNN(GENOME.get(pair, pair), units, return_sequences=True, fused=fused)


def make_model(layer, embed_dim, steps, jit_compile):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps,), batch_size=BATCH, dtype="int32")
    x = keras.layers.Embedding(VOCAB, embed_dim)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(VOCAB)(layer(x)))
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


def measure(model, data, steps):
    """(tokens per wall second, tokens per CPU-second) over `steps` train steps."""
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.train_on_batch(*data)
    tokens = data[0].size * steps
    return tokens / (time.perf_counter() - t), tokens / max(time.process_time() - c, 1e-9)


def interleaved(models, data, args):
    """Per model, per round: (wall, cpu) tokens/s; rounds run A B, then B A, ..."""
    for model in models.values():
        for _ in range(args.warmup):
            model.train_on_batch(*data)
    names, results = list(models), {k: [] for k in models}
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            results[name].append(measure(models[name], data, args.steps))
    return results


def ratio_line(label, a, b):
    out = []
    for k, kind in enumerate(("CPU-s", "wall")):
        ratios = [x[k] / y[k] for x, y in zip(a, b, strict=True)]
        out.append(f"{kind} {statistics.median(ratios):.3f} "
                   f"({min(ratios):.3f}..{max(ratios):.3f})")
    print(f"    {label:24s} " + "   ".join(out))


def data_for(steps):
    rng = np.random.default_rng(0)
    return (rng.integers(0, VOCAB, size=(BATCH, steps)).astype("int32"),
            rng.integers(0, VOCAB, size=(BATCH, steps)).astype("int32"))


def matmul_peak(units, steps=100, rounds=5):
    """GFLOP per CPU-second of the recurrent matmul alone: the most any path reaches.

    `(batch, units) @ (units, 4 units)` chained `steps` times in one
    `tf.while_loop`, on this process's thread pools; median of `rounds`.
    """
    h, w = tf.random.normal((BATCH, units)), tf.random.normal((units, 4 * units))
    loop = tf.function(lambda: tf.while_loop(
        lambda i, s: i < steps, lambda i, s: (i + 1, tf.matmul(s, w)[:, :units]), (0, h))[1])
    loop().numpy()
    rates = []
    for _ in range(rounds):
        c = time.process_time()
        for _ in range(10):
            loop().numpy()
        rates.append(10 * steps * 2 * BATCH * units * 4 * units / (time.process_time() - c))
    return statistics.median(rates) / 1e9


def run_pair(pair, units, embed_dim, args):
    """Every contender of `pair` in one interleaved series, then the ratios of COMPARISONS."""
    kinds = list(dict.fromkeys(k for c in COMPARISONS for k in c))
    models = {k: make_model(make_layer(pair, k, units), embed_dim, args.seq, args.jit)
              for k in kinds}
    results = interleaved(models, data_for(args.seq), args)
    # Training FLOPs per token: the cell's matmuls and the output layer's, forward x 3.
    flops = flops_per_token(GENOME.get(pair, pair), embed_dim, units) + 3 * 2 * units * VOCAB
    peak = matmul_peak(units) if args.ceiling else None
    floor = (step_floor(pair, 1, BATCH, args.seq, embed_dim, units, VOCAB)
             if args.ceiling and pair in ("lstm", "gru") else None)
    for kind in kinds:
        cpu = statistics.median(r[1] for r in results[kind])
        wall = statistics.median(r[0] for r in results[kind])
        line = f"    {kind:10s} {cpu:9.0f} tok/CPU-s {wall:9.0f} tok/s wall"
        if peak:
            line += f"   {cpu * flops / 1e9:6.1f} GFLOP/CPU-s = {cpu * flops / 1e9 / peak:4.0%} " \
                    "of the matmul peak"
        print(line)
    if peak:
        keras_rate = statistics.median(r[1] for r in results["keras"]) * flops / 1e9
        print(f"    matmul peak {peak:.1f} GFLOP/CPU-s: with every FLOP at the peak, a path "
              f"trains at most {peak / keras_rate:.2f}x Keras per CPU-second")
    if floor:
        keras_tokens = statistics.median(r[1] for r in results["keras"])
        floor_tokens = BATCH * args.seq / floor["total"]
        matmul_tokens = BATCH * args.seq / floor["matmul"]
        print(f"    step floor (step_floor.py; {floor['builds']}): its matmuls alone run "
              f"{floor['matmul'] * 1e3:.1f} ms, {matmul_tokens:.0f} tok/CPU-s, so a path trains "
              f"at most {matmul_tokens / keras_tokens:.2f}x Keras per CPU-second; with the "
              f"gates' rules (+{floor['elementwise'] * 1e3:.1f} ms) at most "
              f"{floor_tokens / keras_tokens:.2f}x")
    for a, b in COMPARISONS:
        ratio_line(f"{a} / {b}", results[a], results[b])


def flops_per_token(genome, input_dim, units):
    """Training FLOPs per token of the cell's matmuls (forward x 3)."""
    plan = CellPlan(zoo.get(genome) if isinstance(genome, str) else genome, input_dim, units)
    return 3 * 2 * sum(s.width * len(s.targets) * units for s in plan.sources)


def run_cells(names, units, embed_dim, args):
    print(f"\nPer cell: fused GenomeRNN vs keras.layers.LSTM, units={units} E={embed_dim} "
          f"(ratio = LSTM FLOP/s / cell FLOP/s per CPU-s, target <= 1.2)")
    lstm_flops = flops_per_token("lstm_b", embed_dim, units)
    data = data_for(args.seq)
    for name in names:
        genome = zoo.get(name)
        if genome.needs_square_input and embed_dim != units:
            print(f"    {name:16s} skipped: needs input width == units")
            continue
        models = {"cell": make_model(make_layer(name, "fused", units), embed_dim, args.seq,
                                     args.jit),
                  "lstm": make_model(make_layer("lstm", "keras", units), embed_dim, args.seq,
                                     args.jit)}
        results = interleaved(models, data, args)
        cell_flops = flops_per_token(genome, embed_dim, units)
        ratios = [(lw * lstm_flops) / (cw * cell_flops)
                  for (_, cw), (_, lw) in zip(results["cell"], results["lstm"], strict=True)]
        verdict = "ok" if statistics.median(ratios) <= 1.2 else "SLOW"
        print(f"    {name:16s} FLOPs/token {cell_flops / lstm_flops:5.2f} x LSTM   "
              f"LSTM/cell per FLOP {statistics.median(ratios):.3f} "
              f"({min(ratios):.3f}..{max(ratios):.3f})  {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[256, 64])
    parser.add_argument("--E", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--pairs", nargs="+", default=["lstm", "gru"],
                        help="lstm, gru, or zoo cell names (compared with Keras' LSTM)")
    parser.add_argument("--cells", nargs="*", default=None,
                        help="zoo cells for the per-cell comparison ('all': every one)")
    parser.add_argument("--seq", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto",
                        help="XLA for the whole Keras train step (auto: off on CPU)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also measure the recurrent matmul's peak GFLOP/CPU-s and the "
                             "train step's floor (step_floor.py) and print the most any path "
                             "can gain over Keras")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra- and inter-op threads (a search worker uses "
                             "its Ray CPUs: 1 for a 1-CPU trial; default: TensorFlow's own)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: units 64, E 64, seq 20, 2 rounds of 1 step, 2 cells")
    args = parser.parse_args()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    args.jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    if args.quick:
        args.units, args.E, args.seq, args.rounds, args.steps, args.warmup = \
            [64], [64], 20, 2, 1, 1
        args.cells = args.cells if args.cells is not None else ["gru", "peephole_lstm"]
    cells = zoo.names() if args.cells == ["all"] else args.cells
    print(describe_device())
    print(f"batch {BATCH}, seq {args.seq}, {args.rounds} interleaved rounds of {args.steps} "
          f"train steps, {args.warmup} warm-up; ratios: median (min..max) of A/B tokens/s")
    for units in args.units:
        for embed_dim in args.E:
            for pair in args.pairs:
                print(f"\n{pair}  units={units}  E={embed_dim}")
                run_pair(pair, units, embed_dim, args)
    for units in args.units if cells else []:
        for embed_dim in args.E:
            run_cells(cells, units, embed_dim, args)


if __name__ == "__main__":
    main()
