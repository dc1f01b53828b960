"""Evolution vs regularized evolution vs random search at an equal trial budget.

Runs the same space (default: search_spaces/evolution_cpu.yaml) once per
strategy with the same seed and trial budget, each in its own run directory,
then prints, per strategy, the best score of a mutant (min ratio to the GRU's
best; seed cells excluded) and the
trial after which it was first reached, plus the best-so-far curve.

    python benchmarks/strategy_comparison.py --trials 30 --out runs/compare
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import archsearch  # noqa: E402
from archsearch.search.executor import run_search  # noqa: E402
from archsearch.search.storage import RunStorage  # noqa: E402
from archsearch.space.schema import RandomSearch, RegularizedEvolution  # noqa: E402

STRATEGIES = {
    "evolution": lambda s: s.strategy,
    "regularized_evolution": lambda s: RegularizedEvolution(
        name="regularized_evolution", population=8, sample_size=3, hyperparameter_samples=1),
    "random": lambda s: RandomSearch(name="random", mutations=2, hyperparameter_samples=1),
}


def best_so_far(run_dir: str, space) -> list[float | None]:
    """Best min-ratio to the baseline among mutants (not seeds), after each trial."""
    storage = RunStorage(run_dir)
    records = [storage.read_json(f"trials/{n}") for n in storage.list("trials")]
    records.sort(key=lambda r: r["sequence"] or 0)
    base = space.baseline_genome().fingerprint()
    tasks = [t.name for t in space.tasks if t.role == "search"]
    best_task: dict = {}
    mutants: set = set()
    curve, best = [], None
    for record in records:
        fp = record["cell"]["fingerprint"]
        if record["cell"].get("origin") == "mutation":
            mutants.add(fp)
        if record["status"] == "completed" and record["score"] is not None:
            key = (fp, record["task"])
            best_task[key] = max(best_task.get(key, 0.0), record["score"])
        for cell in mutants:
            if all((cell, t) in best_task and (base, t) in best_task for t in tasks):
                ratio = min(best_task[cell, t] / best_task[base, t] for t in tasks)
                best = ratio if best is None else max(best, ratio)
        curve.append(best)
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="search_spaces/evolution_cpu.yaml")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="runs/compare")
    args = parser.parse_args()
    base = archsearch.load_search_space(args.space)
    results = {}
    for name, make in STRATEGIES.items():
        space = base.model_copy(update={"strategy": make(base)})
        run_dir = os.path.join(args.out, name)
        summary = run_search(space, run_dir, max_trials=args.trials, workers=args.workers,
                             seed=args.seed, progress=False)
        curve = best_so_far(run_dir, space.model_copy(update={"seed": args.seed}))
        final = curve[-1] if curve else None
        first = next((k + 1 for k, v in enumerate(curve) if v == final), None)
        results[name] = {"best": final, "first_reached_at_trial": first, "curve": curve,
                         "seconds": round(summary.seconds), "failed": summary.failed}
        print(f"{name:22s} best min-ratio to GRU {final if final is None else round(final, 3)}"
              f" first reached at trial {first} of {len(curve)} ({summary.failed} failed, "
              f"{summary.seconds:.0f} s)", flush=True)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "curve"}
                      for k, v in results.items()}, indent=1))
    for name, r in results.items():
        print(name, " ".join("-" if v is None else f"{v:.2f}" for v in r["curve"]))


if __name__ == "__main__":
    main()
