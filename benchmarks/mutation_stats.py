"""Mutation statistics per seed cell: novelty, size drift, compile failures, speed.

For each seed cell this script measures, over N single mutations (seeds 0..N-1)
of the cell:
- how many children differ from the parent: among raw attempts (before the
  reject-and-retry loop) and among returned children (must be 100%);
- attempts per child and why attempts were rejected;
- how many distinct children N seeds give, and how many need input width ==
  units;
- mutation time per child (including retries and fingerprinting);
and, over CHAINS chains of GENERATIONS repeated mutations (child of child ...),
the node count per generation (growth or shrinkage of cells under the
paper's operators); finally it compiles a random subsample of the children
and chain members with `GenomeRNN(child, units=8)` on random input (batch 2,
5 steps, width 8) and counts failures and non-finite outputs.

Usage:
    python benchmarks/mutation_stats.py                 # lstm gru tanh_rnn mut3 peephole_lstm
    python benchmarks/mutation_stats.py --cells lstm gru --compile 0
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import statistics
import time

from archsearch.genome import zoo
from archsearch.genome.mutate import Mutator

DEFAULT_CELLS = ("lstm", "gru", "tanh_rnn", "mut3", "peephole_lstm")


def single_mutations(mutator, parent, n):
    parent_print = parent.fingerprint()
    children, times, attempts, reasons = [], [], [], collections.Counter()
    for seed in range(n):
        start = time.perf_counter()
        result = mutator.run(parent, seed)
        times.append(time.perf_counter() - start)
        children.append(result.child)
        attempts.append(result.attempts)
        for reason in result.rejected:
            reasons[reason.split(":")[0].split(" (")[0]] += 1
    total_attempts = sum(attempts)
    same = reasons["same fingerprint as the parent"]
    return {
        "children": children,
        "differ_returned": sum(c.fingerprint() != parent_print for c in children) / n,
        "differ_raw": 1 - same / total_attempts,
        "accepted_first": sum(a == 1 for a in attempts) / n,
        "attempts_mean": total_attempts / n,
        "reasons": reasons,
        "distinct": len({c.fingerprint() for c in children}),
        "square": sum(c.needs_square_input for c in children) / n,
        "nodes_mean": statistics.mean(len(c.nodes) for c in children),
        "ms_mean": 1000 * statistics.mean(times),
        "ms_p95": 1000 * sorted(times)[int(0.95 * len(times)) - 1],
    }


def chains(mutator, parent, n_chains, generations):
    sizes = [[len(parent.nodes)] * n_chains]
    members = []
    current = [parent] * n_chains
    for g in range(1, generations + 1):
        current = [mutator(genome, 100_000 * (k + 1) + g) for k, genome in enumerate(current)]
        sizes.append([len(c.nodes) for c in current])
        members.extend(current)
    return sizes, members


def compile_failures(genomes, k, seed):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from archsearch.layers import GenomeRNN

    rng = random.Random(seed)
    sample = rng.sample(genomes, min(k, len(genomes)))
    x = np.random.default_rng(seed).normal(size=(2, 5, 8)).astype("float32")
    failed, nonfinite, errors = 0, 0, []
    start = time.perf_counter()
    for i, genome in enumerate(sample):
        try:
            y = np.asarray(GenomeRNN(genome, units=8, return_sequences=True)(x))
        except Exception as err:  # noqa: BLE001 - counting every kind of failure
            failed += 1
            errors.append(f"{type(err).__name__}: {err}"[:200])
            continue
        if not np.all(np.isfinite(y)):
            nonfinite += 1
        if i % 25 == 24:
            keras.utils.clear_session()
    return failed, nonfinite, len(sample), time.perf_counter() - start, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS))
    parser.add_argument("-n", type=int, default=1000, help="single mutations per cell")
    parser.add_argument("--chains", type=int, default=20, help="chains per cell")
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--compile", type=int, default=100,
                        help="children compiled with GenomeRNN per cell (0: skip)")
    args = parser.parse_args()
    mutator = Mutator()
    rows = []
    for name in args.cells:
        parent = zoo.get(name)
        single = single_mutations(mutator, parent, args.n)
        sizes, members = chains(mutator, parent, args.chains, args.generations)
        row = {"cell": name, "nodes": len(parent.nodes), **single, "sizes": sizes}
        if args.compile:
            pool = single["children"] + members
            row["compile"] = compile_failures(pool, args.compile, seed=len(rows))
        rows.append(row)
        print(f"{name}: done", flush=True)

    print(f"\n## {args.n} single mutations per cell (seeds 0..{args.n - 1}), default Mutator\n")
    print("| cell | nodes | child nodes (mean) | differ: raw attempts | differ: returned | "
          "attempts/child | distinct | square input | ms/child (mean, p95) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['cell']} | {r['nodes']} | {r['nodes_mean']:.1f} | {r['differ_raw']:.1%} | "
              f"{r['differ_returned']:.0%} | {r['attempts_mean']:.2f} | {r['distinct']} | "
              f"{r['square']:.0%} | {r['ms_mean']:.2f}, {r['ms_p95']:.2f} |")
    print("\nRejected attempts by reason:")
    for r in rows:
        print(f"  {r['cell']}: " + ", ".join(f"{k} {v}" for k, v in r["reasons"].most_common()))

    marks = [g for g in (0, 1, 5, 10, 25, 50) if g <= args.generations]
    print(f"\n## Node count over {args.generations} generations ({args.chains} chains per cell; "
          f"mean [min-max])\n")
    print("| cell | " + " | ".join(f"gen {g}" for g in marks) + " |")
    print("|---|" + "---:|" * len(marks))
    for r in rows:
        cells = [f"{statistics.mean(r['sizes'][g]):.1f} [{min(r['sizes'][g])}-"
                 f"{max(r['sizes'][g])}]" for g in marks]
        print(f"| {r['cell']} | " + " | ".join(cells) + " |")

    if args.compile:
        print("\n## GenomeRNN(child, units=8) on random (2, 5, 8) input\n")
        print("| cell | compiled | failed | non-finite | s/child |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            failed, nonfinite, k, seconds, errors = r["compile"]
            print(f"| {r['cell']} | {k} | {failed} ({failed / k:.0%}) | {nonfinite} | "
                  f"{seconds / k:.2f} |")
            for error in errors[:3]:
                print(f"    {error}")


if __name__ == "__main__":
    main()
