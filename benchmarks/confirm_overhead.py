"""Confirmation costs what the same trials cost as a search: driver seconds per trial, side by side.

Confirmation trials are ordinary trials through the same Tune loop, batches
and populations as the search's; what could differ is the driver's work per
trial (planning, the confirmation oracle). This runs simulated searches with
`confirm:` (evolution_cpu.yaml, instant simulated trials, so the driver is
all there is) and times the two phases of each run: seconds per trial of the
search phase and of the confirmation phase, their ratio per repeat, and the
median [min-max] over repeats. Real training adds the same trainer seconds to
both phases (the same `run_trial`, the same populations).

Usage:
    python benchmarks/confirm_overhead.py [--trials 400] [--top 10] [--seeds 10] [--repeats 3]

Measured (2 shared cores, another job running; 400 search trials, then 10
top cells + controls x 10 seeds; 3 repeats): search 53-61 ms per trial,
confirmation 29-35 ms per trial: 0.58x [0.54-0.59]. Confirmation costs no more
than the same trials as a search (its oracle plans once; no mutation, no cuts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(trials: int, top: int, seeds: int, workdir: Path) -> tuple[float, float]:
    """(search seconds per trial, confirmation seconds per trial) of one simulated run."""
    import archsearch
    from archsearch.search.executor import run_search

    space_file = workdir / "space.yaml"
    space_file.write_text((REPO / "search_spaces" / "evolution_cpu.yaml").read_text()
                          + f"\nconfirm: {{top: {top}, seeds: {seeds}}}\n")
    space = archsearch.load_search_space(space_file)
    marks = {}

    def say(line: str) -> None:
        if line.startswith("confirmation:"):
            marks["confirm"] = time.perf_counter()

    start = time.perf_counter()
    summary = run_search(space, workdir / "run", max_trials=trials, simulate=True,
                         progress=False, say=say)
    end = time.perf_counter()
    search_rate = (marks["confirm"] - start) / trials
    confirm_rate = (end - marks["confirm"]) / max(1, summary.confirmed)
    return search_rate, confirm_rate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ratios = []
    try:
        for k in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                search, confirm = one_run(args.trials, args.top, args.seeds, Path(tmp))
            ratios.append(confirm / search)
            print(f"repeat {k + 1}: search {1000 * search:.1f} ms/trial, confirmation "
                  f"{1000 * confirm:.1f} ms/trial, ratio {confirm / search:.2f}", flush=True)
    finally:
        ray.shutdown()
    print(f"confirmation vs search, driver seconds per trial: {statistics.median(ratios):.2f}x "
          f"[{min(ratios):.2f}-{max(ratios):.2f}] over {len(ratios)} repeats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
