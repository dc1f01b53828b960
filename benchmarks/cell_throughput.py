"""Training throughput of GenomeRNN against Keras' own LSTM and GRU, side by side.

Model: Embedding(64, E) -> recurrent layer (units 256, return_sequences) ->
Dense(64); batch 64, sequence 100, sparse cross-entropy, Adam. For E = 64 and
E = 256, pairs are measured interleaved in one process (A B B A ...), so load
drift on a shared machine hits both sides alike. Prints tokens/s by wall clock
and per CPU-second of this process (`time.process_time()`), the median ratio
GenomeRNN / Keras with its spread (min..max over rounds), and the achieved
FLOP/s as a fraction of a large float32 matmul measured in the same run.

    python benchmarks/cell_throughput.py                 # both sizes, 8 rounds
    python benchmarks/cell_throughput.py --E 256 --rounds 4 --pairs lstm
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

from archsearch.layers import GenomeRNN  # noqa: E402

VOCAB, UNITS, BATCH, STEPS = 64, 256, 64, 100
PAIRS = {
    "lstm": (lambda: keras.layers.LSTM(UNITS, return_sequences=True),
             lambda: GenomeRNN("lstm_b", UNITS, return_sequences=True), 4),
    "gru": (lambda: keras.layers.GRU(UNITS, return_sequences=True),  # reset_after=True
            lambda: GenomeRNN("gru_reset_after", UNITS, return_sequences=True), 3),
}


def make_model(layer, embed_dim, jit_compile):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((STEPS,), batch_size=BATCH, dtype="int32")
    x = keras.layers.Embedding(VOCAB, embed_dim)(inputs)
    x = layer(x)
    model = keras.Model(inputs, keras.layers.Dense(VOCAB)(x))
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


def matmul_flops(n=2048, reps=5) -> float:
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    f = tf.function(tf.matmul)
    f(a, b).numpy()
    best = min(_timed(lambda: f(a, b).numpy()) for _ in range(reps))
    return 2 * n**3 / best


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def train_flops_per_token(embed_dim, gates) -> float:
    """Forward matmul FLOPs per token x 3 (forward + backward)."""
    return 3 * 2 * (UNITS * gates * UNITS + embed_dim * gates * UNITS + UNITS * VOCAB)


def measure(model, x, y, steps):
    t, c = time.perf_counter(), time.process_time()
    for _ in range(steps):
        model.train_on_batch(x, y)
    tokens = BATCH * STEPS * steps
    return tokens / (time.perf_counter() - t), tokens / (time.process_time() - c)


def run_pair(name, embed_dim, rounds, steps, warmup, jit_compile, peak):
    make_keras, make_genome, gates = PAIRS[name]
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, size=(BATCH, STEPS)).astype("int32")
    y = rng.integers(0, VOCAB, size=(BATCH, STEPS)).astype("int32")
    models = {"keras": make_model(make_keras(), embed_dim, jit_compile),
              "genome": make_model(make_genome(), embed_dim, jit_compile)}
    for model in models.values():
        for _ in range(warmup):
            model.train_on_batch(x, y)
    wall = {k: [] for k in models}
    cpu = {k: [] for k in models}
    for r in range(rounds):
        for side in (("keras", "genome") if r % 2 == 0 else ("genome", "keras")):
            w, c = measure(models[side], x, y, steps)
            wall[side].append(w)
            cpu[side].append(c)
    flops = train_flops_per_token(embed_dim, gates)
    resolved = {k: m.jit_compile for k, m in models.items()}
    print(f"\n{name.upper()}  E={embed_dim}  units={UNITS}  jit_compile={jit_compile} -> "
          f"{resolved}  "
          f"({rounds} interleaved rounds of {steps} steps)")
    for side, label in (("keras", f"keras.layers.{name.upper()}"),
                        ("genome", f"GenomeRNN({'lstm_b' if name == 'lstm' else 'gru_ra'})")):
        mw, mc = statistics.median(wall[side]), statistics.median(cpu[side])
        print(f"  {label:24s} {mw:8.0f} tok/s wall  {mc:8.0f} tok/CPU-s  "
              f"{flops * mw / 1e9:6.1f} GFLOP/s = {100 * flops * mw / peak:4.1f}% of matmul")
    for kind, series in (("wall", wall), ("CPU", cpu)):
        ratios = [g / k for g, k in zip(series["genome"], series["keras"], strict=True)]
        print(f"  ratio GenomeRNN / Keras ({kind:4s}): median {statistics.median(ratios):.3f}"
              f"  spread {min(ratios):.3f}..{max(ratios):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--E", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=["lstm", "gru"])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto")
    args = parser.parse_args()
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    peak = matmul_flops()
    print(f"float32 matmul 2048^3: {peak / 1e9:.1f} GFLOP/s (reference peak, this run)")
    for embed_dim in args.E:
        for name in args.pairs:
            run_pair(name, embed_dim, args.rounds, args.steps, args.warmup, jit, peak)


if __name__ == "__main__":
    main()
