"""Search strategies x early stopping at an equal budget of training steps.

Runs evolution, regularized evolution and random search, each with the
scheduler `none`, `asha` and `curve_cut`, for several search seeds, on the
same space (default: search_spaces/early_stopping_cpu.yaml, 1,000-step
arithmetic trials). Every search gets the same TRAINING STEPS budget,
counted from its trial records (a stopped trial counts the steps it trained; a search is
resumed with more trials until it has spent the budget). For each (strategy,
scheduler) it prints the best valid accuracy of a completed trial of a cell
the search found (seed cells and the baseline excluded) after 25%,
50% and 100% of the budget, and the fraction of the budget the search needed
to reach the final best of the same strategy and seed without early stopping
(target of the early-stopping issue: <= 50%): medians over seeds with
bootstrap 95% intervals; and, against `none` of the same strategy, in how
many seeds the final best is higher, the median difference and a Wilcoxon
signed-rank p. Results also go to OUT/results.json.

    python benchmarks/strategy_comparison.py --seeds 5 --budget-trials 30 --out runs/compare
    python benchmarks/strategy_comparison.py --quick   # smoke run, no training, < 2 minutes

Measured (2-core CPU, search_spaces/early_stopping_cpu.yaml: 2-digit
arithmetic, 64 units, 1,000-step trials, where mutants separate; 16,000
training steps per search, ~45-80 s each): best valid accuracy of a
completed found cell (0 while there is none), the share of the budget spent
to reach none's final best (strictly, and within 0.02), medians [bootstrap
95%] over seeds, and the final bests against none's, seed by seed. Evolution:
15 seeds (`--seeds 15 --budget-trials 16 --strategies evolution --schedulers
none asha`); the other rows: 5 seeds.

    strategy        sched  best@25%              best@50%              best@100%
    evolution       none   0.416 [0.251, 0.434]  0.430 [0.388, 0.453]  0.463 [0.443, 0.486]
    evolution       asha   0.000 [0.000, 0.434]  0.466 [0.156, 0.522]  0.501 [0.466, 0.537]
    random          none   0.298 [0.200, 0.418]  0.363 [0.308, 0.543]  0.406 [0.331, 0.543]
    random          asha   0.000 [0.000, 0.418]  0.399 [0.000, 0.540]  0.399 [0.367, 0.540]
    regularized_ev  none   0.272 [0.263, 0.393]  0.306 [0.274, 0.393]  0.328 [0.277, 0.433]
    regularized_ev  asha   0.000 [0.000, 0.388]  0.198 [0.000, 0.388]  0.388 [0.321, 0.407]

    strategy        sched  to none's best      within 0.02       vs none, paired (final best)
    evolution       none   75% [56%, 94%]      50% [25%, 75%]    -
    evolution       asha   50% [38%, 92%]      42% [23%, 61%]    11/15 higher, median +0.006, p 0.12
    random          none   50% [19%, 100%]     50% [19%, 94%]    -
    random          asha   56% [16%, >100%]    48% [16%, 56%]    2/5 higher, median +0.000, p 0.62
    regularized_ev  none   56% [56%, 100%]     38% [19%, 56%]    -
    regularized_ev  asha   >100% [39%, >100%]  55% [23%, >100%]  2/5 higher, median -0.004, p 0.81

(p: Wilcoxon signed-rank on the per-seed differences.)

Evolution with ASHA reaches none's final best within 0.02 at a median 42%
of the steps (strictly: 50%), and its own final best is higher in 11 of 15
seeds, but by a median of only 0.006 (Wilcoxon p = 0.12): no winner is
established. Without early stopping, evolution is within 0.02 of its own
final best by 50% of the budget too, so "<= 50% of none's steps" is a weak
bar on this task. ASHA has no completed found cell at 25% of the budget in
most seeds (its first rungs stop them) and catches up by 50%. Random search
and regularized evolution gain nothing from ASHA at 5 seeds. curve_cut
(min_ratio 0.9 of the GRU's curve, 5 seeds; best@100% 0.466 [0.429, 0.507],
none's best reached at 50% [44%, >100%]) stopped every found cell in 2 of
5 seeds: mutants of the slower-starting LSTM fall below 90% of the GRU
early. An earlier run on evolution_cpu.yaml (400-step, 3-digit arithmetic)
was inconclusive: no cell rose above 0.22-0.26 there.

`--quick` checks the machinery (budget accounting, resumes, a scheduler,
the table) on random search with `none` and `asha`, one seed, a 4-trial
budget, one worker and `SyntheticTrainer` instead of TensorFlow: its numbers
say nothing about the strategies. (Each search starts its own Ray actors,
which import TensorFlow: 20-60 s per search on a busy 2-core machine.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archsearch  # noqa: E402
from archsearch.rundir import RunStore, read_trials  # noqa: E402
from archsearch.search.executor import _start_ray, run_search  # noqa: E402
from archsearch.space.schema import RandomSearch, RegularizedEvolution, Scheduler  # noqa: E402

STRATEGIES = {
    "evolution": lambda s: s.strategy,
    "regularized_evolution": lambda s: RegularizedEvolution(
        name="regularized_evolution", population=8, sample_size=3, hyperparameter_samples=1),
    "random": lambda s: RandomSearch(name="random", mutations=2, hyperparameter_samples=1),
}
SCHEDULERS = ("none", "asha", "curve_cut")
FRACTIONS = (0.25, 0.5, 1.0)


class SyntheticTrainer:
    """A stand-in for `run_trial` (`run_search(trainer=...)`) for `--quick`: no TensorFlow.

    Each cell's accuracy rises to a level drawn from a hash of its
    fingerprint, over 4 evaluations; picklable by value (defined in
    `__main__`), so Ray workers run it without importing this file.
    """

    def __call__(self, genome, hparams, task, budget=None, seed=0, data=None, on_eval=None):
        text = json.dumps(genome, sort_keys=True)
        level = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8
        curve, status = [], "completed"
        for k in range(1, 5):
            point = {"step": budget["steps"] * k // 4, "valid_accuracy": level * (0.4 + 0.15 * k)}
            curve.append(point)
            if on_eval is not None and on_eval(dict(point)):
                status = "stopped"
                break
        best = max(p["valid_accuracy"] for p in curve)
        return {"status": status, "score": best, "score_metric": "accuracy",
                "score_mode": "max", "curve": curve, "steps": curve[-1]["step"],
                "hparams": dict(hparams), "seed": seed, "metrics": {"valid": {"accuracy": best}}}


def step_curve(records, exclude=frozenset()) -> list[tuple[int, float | None]]:
    """(steps spent so far, best completed score so far) after each trial, in finishing order.

    Every trial's steps count; trials of cells in `exclude` (fingerprints)
    do not count towards the best.

    Example:
        >>> from types import SimpleNamespace as R
        >>> cell, seed = R(fingerprint="c"), R(fingerprint="s")
        >>> step_curve([R(trial_id="1", finished_at="b", steps=40, status="stopped", score=0.9,
        ...               cell=cell),
        ...             R(trial_id="0", finished_at="a", steps=100, status="completed", score=0.5,
        ...               cell=cell),
        ...             R(trial_id="2", finished_at="c", steps=100, status="completed", score=0.8,
        ...               cell=seed)], exclude={"s"})
        [(100, 0.5), (140, 0.5), (240, 0.5)]
    """
    ordered = sorted(records, key=lambda r: (r.finished_at or "", int(r.trial_id)))
    curve, spent, best = [], 0, None
    for record in ordered:
        spent += int(record.steps or 0)
        if record.status == "completed" and record.score is not None and \
                record.cell.fingerprint not in exclude:
            best = record.score if best is None else max(best, record.score)
        curve.append((spent, best))
    return curve


def best_at(curve, steps: float) -> float | None:
    """The best score after at most `steps` training steps.

    Example:
        >>> best_at([(100, 0.5), (200, 0.7)], 150), best_at([(100, 0.5)], 50)
        (0.5, None)
    """
    best = None
    for spent, value in curve:
        if spent > steps:
            break
        best = value
    return best


def steps_to_reach(curve, target: float | None) -> float:
    """Steps spent when the best first reached `target` (inf: never).

    Example:
        >>> steps_to_reach([(100, 0.5), (200, 0.7)], 0.6), steps_to_reach([(100, 0.5)], 0.6)
        (200, inf)
    """
    if target is None:
        return math.inf
    return next((spent for spent, best in curve if best is not None and best >= target),
                math.inf)


def median_interval(values, resamples: int = 2000, seed: int = 0):
    """Median of `values` and its percentile-bootstrap 95% interval (None values dropped).

    Example:
        >>> median_interval([0.3, 0.3, 0.3])
        (0.3, 0.3, 0.3)
        >>> median_interval([None])
        (None, None, None)
    """
    data = np.array([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return None, None, None
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(data, size=(resamples, data.size)), axis=1)
    lo, hi = np.percentile(medians, [2.5, 97.5])
    return float(np.median(data)), float(lo), float(hi)


def run_to_budget(space, run_dir, budget_steps, seed, workers, trainer=None) -> list:
    """Runs (and resumes with more trials) until the search's records hold `budget_steps`."""
    per_trial = space.tasks[0].budget.steps
    max_trials = math.ceil(budget_steps / per_trial)
    while True:
        summary = run_search(space, run_dir, max_trials=max_trials, seed=seed,
                             workers=workers, progress=False, trainer=trainer)
        records = read_trials(RunStore(run_dir))
        spent = sum(int(r.steps or 0) for r in records)
        if spent >= budget_steps or not summary.trials or len(records) < max_trials:
            return records
        mean = max(1.0, spent / len(records))
        max_trials += math.ceil((budget_steps - spent) / mean)


def paired(curves: dict, baseline: dict, budget_steps: int) -> str:
    """Final bests against `baseline`'s, seed by seed: wins, median difference, Wilcoxon p.

    Example:
        >>> paired({0: [(10, 0.6)], 1: [(10, 0.5)]}, {0: [(10, 0.5)], 1: [(10, 0.5)]}, 10)
        '1/2 higher, 1 equal, median +0.050, Wilcoxon p 1.00'
    """
    from scipy.stats import wilcoxon

    seeds = [s for s in curves if s in baseline]
    diffs = [(best_at(curves[s], budget_steps) or 0.0) - (best_at(baseline[s], budget_steps)
                                                          or 0.0) for s in seeds]
    if not diffs:
        return "-"
    higher, equal = sum(d > 0 for d in diffs), sum(d == 0 for d in diffs)
    p = wilcoxon(diffs).pvalue if len(diffs) - equal >= 1 else 1.0
    return (f"{higher}/{len(diffs)} higher, {equal} equal, median {np.median(diffs):+.3f}, "
            f"Wilcoxon p {p:.2f}")


def _fmt(stats, percent=False) -> str:
    mid, lo, hi = stats
    if mid is None:
        return "-"
    if percent:
        show = [">100%" if not math.isfinite(v) else f"{100 * v:.0f}%" for v in (mid, lo, hi)]
        return f"{show[0]} [{show[1]}, {show[2]}]"
    return f"{mid:.3f} [{lo:.3f}, {hi:.3f}]"


def table(results: dict, budget_steps: int, tolerance: float = 0.0) -> str:
    """The comparison table: one row per (strategy, scheduler).

    "steps to none's best": the fraction of the budget spent when the
    search's best first reached the final best of the same strategy and seed
    without early stopping; with `tolerance` > 0 a second such column counts a
    best within `tolerance` of it as reached (the same top cell within noise).
    """
    tolerances = [0.0, *([tolerance] if tolerance > 0 else [])]
    head = ("strategy", "scheduler", *[f"best@{int(f * 100)}%" for f in FRACTIONS],
            *[f"steps to none's best{f' - {t:g}' if t else ''}" for t in tolerances],
            "vs none, paired")
    rows = [head]
    for (name, sched), per_seed in results.items():
        # A seed with no completed found cell yet counts as 0, not as missing:
        # dropping it would leave the median to the seeds that were lucky early.
        cells = [_fmt(median_interval([best_at(c, f * budget_steps) or 0.0
                                       for c in per_seed.values()]))
                 for f in FRACTIONS]
        for tol in tolerances:
            fractions = []
            for seed, curve in per_seed.items():
                target = best_at(results[name, "none"][seed], budget_steps)
                steps = steps_to_reach(curve, None if target is None else target - tol)
                fractions.append(steps / budget_steps if steps <= budget_steps else math.inf)
            cells.append(_fmt(median_interval(fractions), percent=True))
        cells.append(paired(per_seed, results.get((name, "none"), {}), budget_steps)
                     if sched != "none" else "-")
        rows.append((name, sched, *cells))
    widths = [max(len(str(r[k])) for r in rows) for k in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="search_spaces/early_stopping_cpu.yaml")
    parser.add_argument("--seeds", type=int, default=5, help="search seeds per variant")
    parser.add_argument("--budget-trials", type=int, default=30,
                        help="budget in full trials' worth of training steps")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/strategy_comparison")
    parser.add_argument("--strategies", nargs="+", choices=sorted(STRATEGIES),
                        default=list(STRATEGIES), help="strategies to compare (default: all)")
    parser.add_argument("--schedulers", nargs="+", choices=SCHEDULERS, default=list(SCHEDULERS),
                        help="schedulers to compare (default: all; `none` is always run)")
    parser.add_argument("--tolerance", type=float, default=0.02,
                        help="also count a best within this of none's best as reaching it "
                             "(the same top cell within noise); 0: the strict column only")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: random x (none, asha), 1 seed, synthetic trainer")
    args = parser.parse_args()
    base = archsearch.load_search_space(args.space)
    if args.quick:
        args.seeds, args.budget_trials, args.workers = 1, 4, 1
        args.out = args.out.rstrip("/") + "_quick"
    if not base.tasks[0].budget.steps:
        parser.error(f"expected a space whose first task has budget.steps. Received: "
                     f"{args.space}")
    budget_steps = args.budget_trials * base.tasks[0].budget.steps
    exclude = {g.fingerprint() for g in [*base.seed_genomes(), base.baseline_genome()]}
    owns_ray = _start_ray(None, args.workers, base.resources.cpus)
    results, start = {}, time.monotonic()
    if args.quick:
        args.strategies, args.schedulers = ["random"], ["none", "asha"]
    schedulers = ["none", *[s for s in SCHEDULERS if s in args.schedulers and s != "none"]]
    try:
        for name in args.strategies:
            make = STRATEGIES[name]
            for sched in schedulers:
                # The space's own scheduler keeps its parameters; others get defaults.
                scheduler = base.scheduler if base.scheduler.name == sched else \
                    Scheduler.model_validate({"name": sched})
                space = base.model_copy(update={"strategy": make(base), "scheduler": scheduler})
                per_seed = {}
                for seed in range(args.seeds):
                    run_dir = os.path.join(args.out, f"{name}-{sched}-seed{seed}")
                    t = time.monotonic()
                    records = run_to_budget(space, run_dir, budget_steps, seed, args.workers,
                                            SyntheticTrainer() if args.quick else None)
                    per_seed[seed] = step_curve(records, exclude)
                    stopped = sum(r.status == "stopped" for r in records)
                    print(f"{name} {sched} seed {seed}: {len(records)} trials ({stopped} stopped),"
                          f" {per_seed[seed][-1][0]} steps, best {per_seed[seed][-1][1]}, "
                          f"{time.monotonic() - t:.0f} s", flush=True)
                results[name, sched] = per_seed
    finally:
        if owns_ray:
            import ray
            ray.shutdown()
    text = table(results, budget_steps, args.tolerance)
    print(f"\nbudget {budget_steps} training steps per search ({args.budget_trials} full trials),"
          f" {args.seeds} seeds; medians [bootstrap 95%]; {time.monotonic() - start:.0f} s\n")
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as handle:
        json.dump({"budget_steps": budget_steps, "seeds": args.seeds, "table": text,
                   "curves": {f"{n}/{s}": c for (n, s), c in results.items()}}, handle, indent=1)


if __name__ == "__main__":
    main()
