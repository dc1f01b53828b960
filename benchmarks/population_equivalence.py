"""Do population trials change a search's results? One space run one-by-one and as populations.

Runs the same search space twice through the real executor on a local Ray:
`resources.population: none` (every trial trains alone) and `auto` (or
`--population K`: compatible samples, here the seeds of one cell, train as
one batched model). Each member sees the same initial weights and data order
as alone, so the two runs pair trial by trial on (cell, task, sample, seed);
floating-point differences still make the trajectories drift apart.

Prints, per cell and overall: the paired score differences (population minus
alone: median, min..max), the stratified rank test of `archsearch.report`
(strata = the pairs) and scipy's Wilcoxon signed-rank test on the
differences, plus both runs' wall time. The issue's target: scores
statistically indistinguishable (no test at 5%).

    python benchmarks/population_equivalence.py                    # quickstart, ~4 min

Measured (quickstart.yaml, 2 workers, one thread each): alone 36 s, population
(auto: K=4 at 64 units) 30 s, 1.19x (0.95x before populations kept their
traced functions and dropped AutoGraph, dec74d9); paired differences median
+0.0012 (-0.057..+0.040), stratified p 0.35, Wilcoxon p 0.69: no test rejects.
With the input projection folded into the embedding (8f3c276): 36 s against
29 s, 1.26x; overall stratified p 0.345 but Wilcoxon p 0.035, driven by
lstm_f (all 6 differences negative, p 0.031). The same check with 12 seeds
of lstm, lstm_f and lstm_b: overall p 0.24 / 0.14. Folded against unfolded
populations of lstm_f on 16 fresh seeds: median +0.004 [-0.026, +0.041],
Wilcoxon p 0.63, so the fold shifts nothing; the quickstart's 6 fixed seeds
happened to drift one way.
    python benchmarks/population_equivalence.py --population 6 --out runs/pop_eq
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archsearch  # noqa: E402
from archsearch.rundir import RunStore, read_trials  # noqa: E402
from archsearch.search.executor import _start_ray, run_search  # noqa: E402


def run(space, run_dir: str, workers: int) -> tuple[dict, float]:
    """Runs `space` into a fresh `run_dir`; (pair key -> score, seconds)."""
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.monotonic()
    run_search(space, run_dir, workers=workers, progress=False)
    seconds = time.monotonic() - start
    scores = {}
    for record in read_trials(RunStore(run_dir)):
        key = (record.cell.fingerprint, record.task, record.sample, record.seed)
        scores[key] = (record.cell.name or record.cell.fingerprint[:10],
                       record.score if record.status == "completed" else None)
    return scores, seconds


def compare(alone: dict, together: dict) -> list[tuple]:
    """Rows (cell, pairs, median diff, min diff, max diff, stratified p, Wilcoxon p)."""
    from scipy.stats import wilcoxon

    from archsearch.report.strata import stratified_test

    pairs = [(alone[k][0], k, alone[k][1], together[k][1]) for k in sorted(alone, key=str)
             if k in together and alone[k][1] is not None and together[k][1] is not None]
    rows = []
    for cell in [*sorted({p[0] for p in pairs}), "all"]:
        chosen = [p for p in pairs if cell in ("all", p[0])]
        a = np.array([p[2] for p in chosen])
        b = np.array([p[3] for p in chosen])
        strata = [str(p[1]) for p in chosen]
        p_strat, _ = stratified_test(b, strata, a, strata, "max", key=("population", cell))
        diff = b - a
        p_wil = float(wilcoxon(diff).pvalue) if np.any(diff != 0) else 1.0
        rows.append((cell, len(chosen), float(np.median(diff)), float(diff.min()),
                     float(diff.max()), p_strat, p_wil))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="search_spaces/quickstart.yaml")
    parser.add_argument("--population", default="auto", help="auto or K (members per trial)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/population_equivalence")
    args = parser.parse_args()
    base = archsearch.load_search_space(args.space)
    population = args.population if args.population == "auto" else int(args.population)
    spaces = {"alone": base.model_copy(update={"resources": base.resources.model_copy(
                  update={"population": "none"})}),
              "population": base.model_copy(update={"resources": base.resources.model_copy(
                  update={"population": population})})}
    owns_ray = _start_ray(None, args.workers, base.resources.cpus)
    try:
        results = {name: run(space, os.path.join(args.out, name), args.workers)
                   for name, space in spaces.items()}
    finally:
        if owns_ray:
            import ray
            ray.shutdown()
    (alone, t_alone), (together, t_together) = results["alone"], results["population"]
    print(f"{args.space}: alone {len(alone)} trials in {t_alone:.0f} s; population "
          f"({args.population}) {len(together)} trials in {t_together:.0f} s "
          f"({t_alone / t_together:.2f}x)")
    print(f"{'cell':<10} {'pairs':>5} {'median diff':>11} {'min':>8} {'max':>8} "
          f"{'stratified p':>12} {'Wilcoxon p':>10}")
    for cell, n, med, lo, hi, p_s, p_w in compare(alone, together):
        p_s = "-" if p_s is None else f"{p_s:.3f}"
        print(f"{cell:<10} {n:>5} {med:>+11.4f} {lo:>+8.4f} {hi:>+8.4f} {p_s:>12} {p_w:>10.3f}")


if __name__ == "__main__":
    main()
