"""The floor of a recurrent train step: its unavoidable work alone, timed on this CPU.

A gated recurrent language model's train step (embedding -> cell -> dense
head -> loss) must at least do two things:

- its matmuls: the input projection, one recurrent matmul per time step, the
  head, and each of those again twice in the backward pass (the input
  gradient and the weight gradient). Timed with the step's shapes and the
  recurrence's data dependence (each step's matmul waits for the one before);
- its cell's elementwise rules (gate nonlinearities forward, their
  derivatives backward), timed both as one pass over every time step and
  step by step; the faster counts.

Nothing else counts: no loss, no optimizer, no embedding lookup; the glue
between the matmuls (slices, the token-order <-> time-order transposes a
real step also makes) is kept to a minimum. K members run batched on a
leading axis, as a population does. The fastest of the builds counts (with
and without XLA; the matmul loop also unrolled), so the floor is what
TensorFlow's own kernels reach on these shapes on this CPU, not a guess from
a peak. So

    most possible speedup = (measured step time) / floor

bounds what a step built from TensorFlow's kernels with these matmuls could
gain. It is not a bound on every algorithm: one that does fewer FLOPs can
go below it. `--folded V` times one such rewrite, open to a model whose
input is an embedding of V rows (a population's): the input projection
folded into the table (V rows projected instead of one per token).
`fused_rnn.py --ceiling` and `population_throughput.py --ceiling` print the
bound next to the measured ratios.

    python benchmarks/step_floor.py --units 64 --k 1 4 --threads 1
    python benchmarks/step_floor.py --units 64 --k 4 --threads 1 --folded 40
"""

from __future__ import annotations

import argparse
import statistics
import time

import tensorflow as tf


def step_flops(k, batch, steps, embed, units, gates, vocab, folded=None):
    """Matmul FLOPs of one train step for K members (see `_skeleton`).

    Without `folded`: forward x 3. With `folded` (the embedding's table size),
    the input projection is folded into the table (forward and weight
    gradient on `folded` rows instead of one per token).
    """
    tokens, width = batch * steps, gates * units
    rest = 3 * (units * width + units * vocab)
    projection = 3 * tokens * embed * width if folded is None \
        else (2 * folded + tokens) * embed * width
    return 2 * k * (tokens * rest + projection)


def _skeleton(k, batch, steps, embed, units, gates, vocab, *, unroll, folded=None):
    """A function doing the step's matmuls, chained as the step chains them.

    Forward: the input projection (every token at once), one recurrent matmul
    per step (each waits for the one before), the head; backward: each
    one's input and weight gradients, the recurrent ones again chained step
    by step. The glue between them (slices, the transposes between token
    order and time order that the real step also makes) is kept to a
    minimum. With `folded` (a table size), the input projection is the
    table's rows projected once and gathered per token, its weight gradient
    on the table's rows (summed per token id) - a rewrite open to a model
    whose input is an embedding - while the input gradient stays one per
    token, as Keras' sparse embedding update needs.
    """
    width, tokens = gates * units, batch * steps
    rnd = tf.random.stateless_normal
    w, u = rnd((k, embed, width), (0, 2)), rnd((k, units, width), (0, 3))
    head, target = rnd((k, units, vocab), (0, 4)), rnd((k, tokens, vocab), (0, 5))
    if folded is None:
        x = rnd((k, tokens, embed), (0, 1))
    else:
        table = rnd((k, folded, embed), (0, 1))
        ids = tf.random.stateless_uniform((k, tokens), (0, 6), maxval=folded, dtype="int32")
        flat_ids = tf.reshape(ids + tf.range(k)[:, None] * folded, (-1,))
    mm = tf.linalg.matmul

    def recur(h, xp_t):  # the forward's recurrent matmul for one time step
        return (xp_t + mm(h, u))[..., :units]

    def back(dz, dz_in_t):  # the backward's dh = dz U^T, broadcast into the step before's dz
        dh = mm(dz, u, transpose_b=True)
        return tf.reshape(dh[:, :, None, :] + tf.reshape(dz_in_t, (k, batch, gates, units)),
                          (k, batch, width))

    def scan(fn, init, seq):  # seq: (T, K, B, *)
        if unroll:
            out = []
            for t in range(steps):
                init = fn(init, seq[t])
                out.append(init)
            return tf.stack(out)
        return tf.scan(fn, seq, init)

    def run():
        xp = mm(x, w) if folded is None \
            else tf.gather(mm(table, w), ids, axis=1, batch_dims=1)      # (K, N, G)
        seq = tf.transpose(tf.reshape(xp, (k, batch, steps, width)), (2, 0, 1, 3))
        hs = scan(recur, tf.zeros((k, batch, units)), seq)               # (T, K, B, U)
        h = tf.reshape(tf.transpose(hs, (1, 2, 0, 3)), (k, tokens, units))
        dlogits = mm(h, head) - target                                   # logits, used
        dh = mm(dlogits, head, transpose_b=True)                          # (K, N, U)
        d_head = mm(h, dlogits, transpose_a=True)
        dz_in = tf.transpose(tf.reshape(dh, (k, batch, steps, units)), (2, 0, 1, 3))
        dz_in = tf.reshape(tf.broadcast_to(dz_in[..., None, :], (steps, k, batch, gates, units)),
                           (steps, k, batch, width))
        dzs = scan(back, tf.zeros((k, batch, width)), dz_in[::-1])
        dz = tf.reshape(tf.transpose(dzs, (1, 2, 0, 3)), (k, tokens, width))
        d_u = mm(h, dz, transpose_a=True)
        dx = mm(dz, w, transpose_b=True)                                  # per token
        if folded is None:
            d_w = mm(x, dz, transpose_a=True)
        else:
            rows = tf.math.unsorted_segment_sum(tf.reshape(dz, (-1, width)), flat_ids,
                                                k * folded)
            d_w = mm(table, tf.reshape(rows, (k, folded, width)), transpose_a=True)
        return (tf.reduce_sum(d_head) + tf.reduce_sum(d_u) + tf.reduce_sum(d_w)
                + tf.reduce_sum(dx))

    return run


def _elementwise(kind, k, batch, steps, units, *, per_step):
    """The cell's forward gates and backward rules over every token.

    In one pass over all time steps (`per_step=False`), or step by step in a
    loop (`per_step=True`, slices that stay in cache); the faster counts.
    """
    rnd = tf.random.stateless_normal
    pre = rnd((steps, k, batch, (4 if kind == "lstm" else 3) * units), (1, 1))
    prev, dh, dnext = (rnd((steps, k, batch, units), (1, s)) for s in (2, 3, 4))

    def lstm(pre, prev, dh, dnext):
        i, f, g, o = tf.split(pre, 4, axis=-1)
        i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
        c = f * prev + i * g
        tc = tf.tanh(c)
        dc = dh * o * (1 - tc * tc) + dnext
        dz = tf.concat([dc * g * i * (1 - i), dc * prev * f * (1 - f), dc * i * (1 - g * g),
                        dh * tc * o * (1 - o)], axis=-1)
        return tf.reduce_sum(dz) + tf.reduce_sum(o * tc) + tf.reduce_sum(dc * f)

    def gru(pre, prev, dh, dnext):  # reset_after: `dnext` stands for the gated recurrent part
        z, r, x = tf.split(pre, 3, axis=-1)
        z, r = tf.sigmoid(z), tf.sigmoid(r)
        hh = tf.tanh(x + r * dnext)
        dhh = dh * (1 - z) * (1 - hh * hh)
        dz = tf.concat([dh * (prev - hh) * z * (1 - z), dhh * dnext * r * (1 - r), dhh], -1)
        return (tf.reduce_sum(dz) + tf.reduce_sum(z * prev + (1 - z) * hh)
                + tf.reduce_sum(dh * z + dhh * r))

    rules = {"lstm": lstm, "gru": gru}[kind]
    if not per_step:
        return lambda: rules(pre, prev, dh, dnext)
    return lambda: tf.foldl(lambda acc, t: acc + rules(*t), (pre, prev, dh, dnext),
                            initializer=tf.constant(0.0))


def _fastest(builds, calls, rounds):
    """(median CPU-seconds per call, name, jit) of the fastest of `builds`: name -> (fn, jit)."""
    best = None
    for name, (fn, jit) in builds.items():
        compiled = tf.function(fn, jit_compile=jit, autograph=False)
        compiled().numpy()
        times = []
        for _ in range(rounds):
            c = time.process_time()
            for _ in range(calls):
                compiled().numpy()
            times.append((time.process_time() - c) / calls)
        if best is None or statistics.median(times) < best[0]:
            best = (statistics.median(times), name, jit)
    return best


def step_floor(kind, k, batch, steps, embed, units, vocab, calls=20, rounds=5, folded=None):
    """CPU-seconds per train step of its matmuls and of its elementwise rules.

    A floor for train steps built from TensorFlow's kernels (with or without
    XLA) that do these matmuls in this data layout: a step that did less
    (another algorithm, hand-written kernels) could go below it.

    Args:
        kind: "lstm" (4 gates) or "gru" (3 gates, reset_after).
        k: members batched on a leading axis (1: a single model).
        batch: sequences per batch.
        steps: time steps per sequence.
        embed: the cell's input width.
        units: the cell's width.
        vocab: the head's output width.
        calls: calls per timing.
        rounds: timings; the median counts.
        folded: the embedding table's size, to fold the input projection
            into it (see `_skeleton`), or None.

    Returns:
        dict with `matmul` and `elementwise` seconds (each the fastest build's
        median; the fixed cost of one call, timed on an empty function built
        as the fastest elementwise build is, with or without XLA, is taken off
        `elementwise` so that it counts once), their sum `total`, and the
        fastest builds' names.

    Example:
        >>> floor = step_floor("gru", 1, 4, 3, 8, 8, 10, calls=2, rounds=1, folded=5)
        >>> floor["builds"].split(", ")[0] in ("while", "while+xla", "unrolled+xla")
        True
    """
    gates = 4 if kind == "lstm" else 3
    shape = (k, batch, steps, embed, units, gates, vocab)
    matmul, matmul_build, _ = _fastest(
        {"while": (_skeleton(*shape, unroll=False, folded=folded), False),
         "while+xla": (_skeleton(*shape, unroll=False, folded=folded), True),
         "unrolled+xla": (_skeleton(*shape, unroll=True, folded=folded), True)}, calls, rounds)
    whole, per_step = (_elementwise(kind, k, batch, steps, units, per_step=p)
                       for p in (False, True))
    elementwise, elementwise_build, jit = _fastest(
        {"one pass": (whole, False), "one pass+xla": (whole, True),
         "per step": (per_step, False), "per step+xla": (per_step, True)}, calls, rounds)
    empty = tf.zeros((4,))
    call, _, _ = _fastest({"empty": (lambda: tf.reduce_sum(empty), jit)}, calls, rounds)
    elementwise = max(elementwise - call, 0.0)
    return {"matmul": matmul, "elementwise": elementwise, "total": matmul + elementwise,
            "builds": f"{matmul_build}, {elementwise_build}"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[64])
    parser.add_argument("--k", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=13, help="time steps per sequence")
    parser.add_argument("--embed", type=int, default=64)
    parser.add_argument("--kind", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--vocab", type=int, default=40, help="the head's output width")
    parser.add_argument("--folded", type=int, default=None,
                        help="fold the input projection into an embedding table of this size")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow intra- and inter-op threads (default: every core)")
    args = parser.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from device_info import describe_device

    print(describe_device())
    print(f"{args.kind} step floor: batch {args.batch}, {args.steps} steps, embed {args.embed}, "
          f"vocab {args.vocab}, threads {args.threads or 'default'}; ms per member-step")
    gates = 4 if args.kind == "lstm" else 3
    for units in args.units:
        for k in args.k:
            floor = step_floor(args.kind, k, args.batch, args.steps, args.embed, units,
                               args.vocab, folded=args.folded)
            flops = step_flops(k, args.batch, args.steps, args.embed, units, gates, args.vocab,
                               args.folded)
            print(f"  units {units:4d} K {k:3d}: matmuls {floor['matmul'] / k * 1e3:7.3f} "
                  f"({flops / floor['matmul'] / 1e9:5.1f} GFLOP/CPU-s) + elementwise "
                  f"{floor['elementwise'] / k * 1e3:7.3f} = {floor['total'] / k * 1e3:7.3f} "
                  f"({floor['builds']})", flush=True)


if __name__ == "__main__":
    main()
